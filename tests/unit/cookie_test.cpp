// SipHash-2-4, RFC 9018 server cookies, and respond()'s cookie echo with the frontend's
// completion of it (finish_cookie, BADCOOKIE, the slip's TC=1).
#include "anamed/cookie.hpp"

#include <gtest/gtest.h>

#include "anamed/siphash.hpp"
#include "test_util.hpp"

namespace anamed::test {
namespace {

std::vector<uint8_t> hex(const std::string& s) {
    std::vector<uint8_t> out;
    for (size_t i = 0; i + 1 < s.size(); i += 2)
        out.push_back(uint8_t(std::stoi(s.substr(i, 2), nullptr, 16)));
    return out;
}

ClientAddr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    ClientAddr x;
    x.len = 4;
    x.bytes[0] = a, x.bytes[1] = b, x.bytes[2] = c, x.bytes[3] = d;
    return x;
}

CookieSecrets rfc9018_secret() {
    CookieSecrets s;
    s.enabled = true;
    const auto k = hex("e5e973e5a6b2a43f48e7dc849e37bfcf");
    std::copy(k.begin(), k.end(), s.current);
    return s;
}

TEST(SipHash, ReferenceVectors) {
    uint8_t key[16], msg[64];
    for (int i = 0; i < 16; ++i) key[i] = uint8_t(i);
    for (int i = 0; i < 64; ++i) msg[i] = uint8_t(i);
    // From the reference implementation's vectors.h (the output's bytes, little-endian).
    EXPECT_EQ(siphash24(key, msg, 0), 0x726fdb47dd0e0e31ULL);
    EXPECT_EQ(siphash24(key, msg, 1), 0x74f839c593dc67fdULL);
    EXPECT_EQ(siphash24(key, msg, 8), 0x93f5f5799a932462ULL);
    EXPECT_EQ(siphash24(key, msg, 15), 0xa129ca6149be45e5ULL);  // the paper's example
    EXPECT_EQ(siphash24(key, msg, 63), 0x958a324ceb064572ULL);
}

TEST(Cookie, Rfc9018Vectors) {
    const CookieSecrets s = rfc9018_secret();
    const auto client_cookie = hex("2464c4abcf10c957");
    uint8_t server[16];
    // Appendix A.1 and A.2: 198.51.100.100 at two times.
    make_server_cookie(s.current, client_cookie.data(), 1559731985, v4(198, 51, 100, 100), server);
    EXPECT_EQ(std::vector<uint8_t>(server, server + 16), hex("010000005cf79f111f8130c3eee29480"));
    make_server_cookie(s.current, client_cookie.data(), 1559734385, v4(198, 51, 100, 100), server);
    EXPECT_EQ(std::vector<uint8_t>(server, server + 16), hex("010000005cf7a871d4a564a1442aca77"));
}

TEST(Cookie, ValidityChecksSecretAddressAndAge) {
    CookieSecrets s = rfc9018_secret();
    auto cookie = hex("2464c4abcf10c957010000005cf79f111f8130c3eee29480");
    const ClientAddr client = v4(198, 51, 100, 100);
    const uint32_t made = 1559731985;
    EXPECT_TRUE(server_cookie_valid(s, cookie.data(), cookie.size(), made + 10, client));
    EXPECT_TRUE(server_cookie_valid(s, cookie.data(), cookie.size(), made - 200, client));
    EXPECT_FALSE(server_cookie_valid(s, cookie.data(), cookie.size(), made - 400, client));
    EXPECT_FALSE(server_cookie_valid(s, cookie.data(), cookie.size(), made + 3601, client));
    EXPECT_FALSE(server_cookie_valid(s, cookie.data(), cookie.size(), made, v4(198, 51, 100, 101)));
    cookie[2] ^= 1;  // another client cookie
    EXPECT_FALSE(server_cookie_valid(s, cookie.data(), cookie.size(), made, client));
    cookie[2] ^= 1;
    // Rotation: a new secret; the old one still accepted as the previous secret only.
    CookieSecrets rotated;
    rotated.enabled = true;
    rotated.current[0] = 0x42;
    EXPECT_FALSE(server_cookie_valid(rotated, cookie.data(), cookie.size(), made, client));
    std::copy(s.current, s.current + 16, rotated.previous);
    rotated.has_previous = true;
    EXPECT_TRUE(server_cookie_valid(rotated, cookie.data(), cookie.size(), made, client));
}

// A query with a COOKIE option of these bytes.
std::vector<uint8_t> cookie_query(const std::string& name, const std::vector<uint8_t>& cookie) {
    auto q = make_query(name, LDNS_RR_TYPE_A);
    // make_query ends with an empty OPT: give it the option.
    q.push_back(0);
    q.push_back(10);
    q.push_back(0);
    q.push_back(uint8_t(cookie.size()));
    q.insert(q.end(), cookie.begin(), cookie.end());
    store16(&q[q.size() - cookie.size() - 4 - 2], uint16_t(4 + cookie.size()));
    return q;
}

class RespondCookies : public ::testing::Test {
protected:
    static void SetUpTestSuite() { served_ = new Served(); }
    static void TearDownTestSuite() { delete served_; }
    static const Snapshot& snap() { return served_->snap(); }
    static std::vector<uint8_t> reply(const std::vector<uint8_t>& q, ResponseInfo& info,
                                      bool cookies = true, Transport t = Transport::udp) {
        std::vector<uint8_t> out(4096);
        out.resize(respond(&snap(), q.data(), q.size(), out.data(), out.size(),
                           ClientInfo{t, cookies}, &info));
        return out;
    }
    static Served* served_;
};
Served* RespondCookies::served_ = nullptr;

// The COOKIE option at the reply's end, as ldns sees it (the whole reply must parse).
std::vector<uint8_t> cookie_of(const std::vector<uint8_t>& r) {
    ldns_pkt* p = nullptr;
    EXPECT_EQ(ldns_wire2pkt(&p, r.data(), r.size()), LDNS_STATUS_OK);
    std::vector<uint8_t> out;
    if (p == nullptr) return out;
    if (ldns_rdf* d = ldns_pkt_edns_data(p)) {
        const uint8_t* b = ldns_rdf_data(d);
        const size_t n = ldns_rdf_size(d);
        if (n >= 4 && load16(b) == 10) out.assign(b + 4, b + n);
    }
    ldns_pkt_free(p);
    return out;
}

TEST_F(RespondCookies, ClientCookieIsEchoedAndCompletedThenAccepted) {
    const CookieSecrets s = rfc9018_secret();
    const ClientAddr client = v4(192, 0, 2, 7);
    const auto cc = hex("0102030405060708");
    ResponseInfo info;
    auto r = reply(cookie_query("www.example.test.", cc), info);
    ASSERT_EQ(info.cookie, 24);
    size_t len = r.size();
    EXPECT_EQ(finish_cookie(s, r.data(), len, info.cookie, 1700000000, client),
              CookieState::client_only);
    r.resize(len);
    const auto echoed = cookie_of(r);
    ASSERT_EQ(echoed.size(), 24u);
    EXPECT_TRUE(std::equal(cc.begin(), cc.end(), echoed.begin()));
    ldns_pkt* parsed = nullptr;
    ASSERT_EQ(ldns_wire2pkt(&parsed, r.data(), r.size()), LDNS_STATUS_OK);
    EXPECT_EQ(answer(Pkt(parsed)), answer(ask(snap(), "www.example.test.", LDNS_RR_TYPE_A)));
    // The next query presents the server cookie: valid, and a fresh one comes back.
    auto r2 = reply(cookie_query("www.example.test.", echoed), info);
    len = r2.size();
    EXPECT_EQ(finish_cookie(s, r2.data(), len, info.cookie, 1700000100, client),
              CookieState::valid);
    // From another address, or after an hour, it is not.
    auto r3 = reply(cookie_query("www.example.test.", echoed), info);
    len = r3.size();
    EXPECT_EQ(finish_cookie(s, r3.data(), len, info.cookie, 1700000100, v4(192, 0, 2, 8)),
              CookieState::client_only);
    auto r4 = reply(cookie_query("www.example.test.", echoed), info);
    len = r4.size();
    EXPECT_EQ(finish_cookie(s, r4.data(), len, info.cookie, 1700003700, client),
              CookieState::client_only);
}

TEST_F(RespondCookies, LongServerCookieIsReplacedByA16ByteOne) {
    std::vector<uint8_t> c = hex("0102030405060708");
    c.resize(8 + 32, 0xAB);
    ResponseInfo info;
    auto r = reply(cookie_query("www.example.test.", c), info);
    ASSERT_EQ(info.cookie, 40);
    size_t len = r.size();
    finish_cookie(rfc9018_secret(), r.data(), len, info.cookie, 1700000000, v4(192, 0, 2, 7));
    r.resize(len);
    EXPECT_EQ(cookie_of(r).size(), 24u);
}

TEST_F(RespondCookies, WithoutCookiesOnNothingIsEchoed) {
    ResponseInfo info;
    const auto q = cookie_query("www.example.test.", hex("0102030405060708"));
    auto r = reply(q, info, false);
    EXPECT_EQ(info.cookie, 0);
    EXPECT_TRUE(cookie_of(r).empty());
}

TEST_F(RespondCookies, MalformedCookieIsFormerrWithOpt) {
    ResponseInfo info;
    auto r = reply(cookie_query("www.example.test.", hex("01020304050607")), info);  // 7 bytes
    EXPECT_EQ(info.rcode, rcode::FORMERR);
    EXPECT_EQ(load16(&r[10]), 1);  // the OPT
    // Not an error when cookies are off: the option is not ours to judge.
    reply(cookie_query("www.example.test.", hex("01020304050607")), info, false);
    EXPECT_EQ(info.rcode, rcode::NOERROR);
}

TEST_F(RespondCookies, OptionRunningPastTheOptIsFormerrWithOpt) {
    auto q = make_query("www.example.test.", LDNS_RR_TYPE_A);
    q.insert(q.end(), {0, 10, 0, 20, 1, 2, 3, 4});  // says 20 bytes, has 4
    store16(&q[q.size() - 8 - 2], 8);
    ResponseInfo info;
    auto r = reply(q, info, false);
    EXPECT_EQ(info.rcode, rcode::FORMERR);
    ASSERT_GE(r.size(), 12u + opt_rr_size);
    EXPECT_EQ(load16(&r[10]), 1);
    EXPECT_EQ(load16(&r[r.size() - opt_rr_size + 1]), rrtype::OPT);
}

TEST_F(RespondCookies, BadcookieAndTruncatedSlips) {
    ResponseInfo info;
    auto r = reply(cookie_query("www.example.test.", hex("0102030405060708")), info);
    size_t len = r.size();
    finish_cookie(rfc9018_secret(), r.data(), len, info.cookie, 1700000000, v4(192, 0, 2, 7));
    std::vector<uint8_t> bad(r.begin(), r.begin() + ptrdiff_t(len));
    bad.resize(make_badcookie(bad.data(), bad.size()));
    ldns_pkt* p = nullptr;
    ASSERT_EQ(ldns_wire2pkt(&p, bad.data(), bad.size()), LDNS_STATUS_OK);
    EXPECT_EQ(ldns_pkt_ancount(p), 0);
    EXPECT_EQ((bad[3] & 0xF) | (ldns_pkt_edns_extended_rcode(p) << 4), rcode_badcookie);
    ldns_pkt_free(p);
    EXPECT_EQ(cookie_of(bad).size(), 24u);

    std::vector<uint8_t> tc(r.begin(), r.begin() + ptrdiff_t(len));
    tc.resize(make_truncated(tc.data(), tc.size()));
    ASSERT_EQ(ldns_wire2pkt(&p, tc.data(), tc.size()), LDNS_STATUS_OK);
    EXPECT_TRUE(ldns_pkt_tc(p));
    EXPECT_EQ(ldns_pkt_ancount(p) + ldns_pkt_nscount(p) + ldns_pkt_arcount(p), 0);
    EXPECT_EQ(ldns_pkt_qdcount(p), 1);
    ldns_pkt_free(p);
}

TEST_F(RespondCookies, BurstAnswersLikeRespondWithCookies) {
    std::vector<std::vector<uint8_t>> qs;
    for (const char* n : {"www.example.test.", "nothere.example.test.", "both.example.test.",
                          "a.b.c.example.test.", "www.sub2.example.test.", "other.test."})
        qs.push_back(cookie_query(n, hex("0102030405060708")));
    std::vector<uint8_t> long_cookie = hex("0102030405060708");
    long_cookie.resize(40, 0x11);
    qs.push_back(cookie_query("www.example.test.", long_cookie));
    qs.push_back(make_query("www.example.test.", LDNS_RR_TYPE_A));
    expect_burst_like_respond(snap(), qs, ClientInfo{Transport::udp, true});
    expect_burst_like_respond(snap(), qs, ClientInfo{Transport::udp, false});
}

}  // namespace
}  // namespace anamed::test
