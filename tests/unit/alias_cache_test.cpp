// The ALIAS cache (its value format, the LMDB file, the resolver's restore) and require-ad
// (DO=1 asked, replies without AD refused) against a local UDP socket.
#include "alias_cache.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>

#include "alias_resolver.hpp"
#include "anamed/wire.hpp"
#include "config.hpp"
#include "test_util.hpp"
#include "upstream.hpp"

namespace anamed::test {
namespace {

std::string v4(uint8_t last) {
    return std::string{char(192), char(0), char(2), char(last)};
}

CachedAddresses sample() {
    CachedAddresses c;
    c.a = {v4(1), v4(2)};
    c.aaaa = {std::string(16, '\x20')};
    c.ttl_a = 60;
    c.ttl_aaaa = 30;
    c.fetched = 1700000000;
    return c;
}

TEST(AliasCache, ValuesRoundTripAndBadOnesAreRefused) {
    const CachedAddresses c = sample();
    const std::string v = encode_cached(c);
    CachedAddresses back;
    ASSERT_TRUE(decode_cached(v, back));
    EXPECT_EQ(back, c);
    CachedAddresses empty;
    ASSERT_TRUE(decode_cached(encode_cached(CachedAddresses{}), empty));
    EXPECT_TRUE(empty.a.empty() && empty.aaaa.empty());
    EXPECT_FALSE(decode_cached(v.substr(0, v.size() - 1), back));  // short
    EXPECT_FALSE(decode_cached(v + "x", back));                    // long
    EXPECT_FALSE(decode_cached("", back));
    std::string other = v;
    other[0] = 2;  // another format version
    EXPECT_FALSE(decode_cached(other, back));
}

TEST(AliasCache, EntriesSurviveReopeningAndUnservedTargetsGo) {
    const TempDir tmp;
    const std::string path = tmp.file("journal.mdb-alias");
    const std::string t1 = text_to_wire("lb.one."), t2 = text_to_wire("lb.two.");
    {
        AliasCache cache(path);
        EXPECT_TRUE(cache.load().empty());
        cache.put(t1, sample());
        cache.put(t2, CachedAddresses{{v4(9)}, {}, 5, 5, 1});
        EXPECT_EQ(cache.pending(), 2u);
        EXPECT_TRUE(cache.load().empty());  // nothing before the flush
        EXPECT_EQ(cache.flush(), "");
        EXPECT_EQ(cache.pending(), 0u);
        EXPECT_EQ(cache.sync(), "");
    }
    AliasCache cache(path);
    auto saved = cache.load();
    ASSERT_EQ(saved.size(), 2u);
    EXPECT_EQ(saved[t1], sample());
    EXPECT_EQ(saved[t2].a, std::vector<std::string>{v4(9)});
    cache.retain_only({t1});
    EXPECT_EQ(cache.flush(), "");
    saved = cache.load();
    ASSERT_EQ(saved.size(), 1u);
    EXPECT_TRUE(saved.count(t1));
}

TEST(AliasCache, AnUnusablePathThrowsNamingIt) {
    const TempDir tmp;
    const std::string path = tmp.file("no/such/dir/cache");
    try {
        AliasCache cache(path);
        FAIL() << "opened " << path;
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
}

TEST(AliasCache, AFileThatIsNotACacheIsRefusedNamingIt) {
    const TempDir tmp;
    const std::string path = tmp.write("garbage", std::string(8192, 'x'));
    try {
        AliasCache cache(path);
        FAIL() << "opened " << path;
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
}

TEST(AliasConfig, RequireAdAndCacheAreReadAndCheckedWithTheirLine) {
    const TempDir tmp;
    const std::string zone = "zones: [{name: a.test, file: a.zone}]\n";
    Config c = load_config(tmp.write(
        "ok.yaml", zone + "journal: j.mdb\nalias:\n  require-ad: true\n  cache: c.mdb\n"));
    EXPECT_TRUE(c.alias_require_ad);
    EXPECT_EQ(c.alias_cache, tmp.file("c.mdb"));
    EXPECT_EQ(load_config(tmp.write("none.yaml", zone + "alias: {cache: none}\n")).alias_cache,
              "none");
    EXPECT_FALSE(load_config(tmp.write("default.yaml", zone)).alias_require_ad);
    try {
        load_config(tmp.write("bad.yaml", zone + "alias:\n  require-ad: maybe\n"));
        FAIL() << "require-ad: maybe accepted";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("bad.yaml:3: require-ad must be true or false"),
                  std::string::npos)
            << e.what();
    }
}

AliasOptions options_with_upstream() {
    AliasOptions o;
    ListenAddr a;
    EXPECT_EQ(parse_listen_addr("127.0.0.1:9", a), "");
    o.upstreams.push_back(a);
    o.stale_limit = std::chrono::seconds(100);
    return o;
}

TEST(AliasCache, RestoreServesSavedAddressesWithinTtlPlusStaleLimit) {
    AliasResolver r(options_with_upstream());
    const std::string fresh = text_to_wire("fresh.example."), old = text_to_wire("old.example.");
    const std::string missing = text_to_wire("missing.example.");
    r.set_targets({fresh, old, missing}, {});
    const int64_t now = 1700001000;
    CachedAddresses c = sample();  // TTLs 60 and 30: 30 + 100 s of use
    c.fetched = now - 129;
    CachedAddresses o = sample();
    o.fetched = now - 130;
    EXPECT_EQ(r.restore({{fresh, c}, {old, o}}, now), 1u);
    const auto a = r.answer(fresh);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->state, AliasAnswer::resolved);
    EXPECT_EQ(a->a_count, 2);
    EXPECT_EQ(a->aaaa_count, 1);
    EXPECT_EQ(r.answer(old)->state, AliasAnswer::unresolved);
    EXPECT_EQ(r.answer(missing)->state, AliasAnswer::unresolved);
    EXPECT_TRUE(r.take_fresh().empty());  // restoring is not a lookup
}

TEST(AliasCache, NothingIsRestoredWithoutUpstreams) {
    AliasResolver r(AliasOptions{});
    const std::string t = text_to_wire("lb.example.");
    r.set_targets({t}, {});
    CachedAddresses c = sample();
    c.fetched = 1700000000;
    EXPECT_EQ(r.restore({{t, c}}, c.fetched), 0u);
    EXPECT_EQ(r.answer(t)->state, AliasAnswer::unresolved);
}

// A UDP "upstream" on loopback that the test answers by hand.
class FakeUpstream {
public:
    FakeUpstream() {
        fd_ = socket(AF_INET, SOCK_DGRAM, 0);
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof sa;
        EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&sa), len), 0);
        getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len);
        EXPECT_EQ(parse_listen_addr("127.0.0.1:" + std::to_string(ntohs(sa.sin_port)), addr), "");
    }
    ~FakeUpstream() { close(fd_); }
    // Reads one query; answers it with one A record, AD as asked.
    std::vector<uint8_t> answer(bool ad) {
        pollfd p{fd_, POLLIN, 0};
        EXPECT_EQ(poll(&p, 1, 2000), 1);
        uint8_t q[512];
        sockaddr_storage from{};
        socklen_t flen = sizeof from;
        const ssize_t n = recvfrom(fd_, q, sizeof q, 0, reinterpret_cast<sockaddr*>(&from), &flen);
        EXPECT_GT(n, ssize_t(header_size + opt_rr_size));
        std::vector<uint8_t> query(q, q + n);
        // Reply: the question as asked (without the OPT), one A record pointing at it.
        const size_t qend = size_t(n) - opt_rr_size;
        std::vector<uint8_t> r(q, q + qend);
        store16(&r[2], uint16_t(flag_qr | flag_rd | flag_ra | (ad ? flag_ad : 0)));
        store16(&r[6], 1);
        store16(&r[10], 0);
        const uint8_t rr[] = {0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 7};
        r.insert(r.end(), rr, rr + sizeof rr);
        sendto(fd_, r.data(), r.size(), 0, reinterpret_cast<sockaddr*>(&from), flen);
        return query;
    }
    ListenAddr addr;

private:
    int fd_ = -1;
};

LookupResult lookup(FakeUpstream& up, bool require_ad, bool ad, std::vector<uint8_t>* sent) {
    UpstreamQuery q(text_to_wire("lb.example."), rrtype::A, up.addr, std::chrono::seconds(2),
                    require_ad);
    *sent = up.answer(ad);
    for (int i = 0; i < 100 && !q.done(); ++i) {
        pollfd p{q.fd(), q.events(), 0};
        poll(&p, 1, 20);
        q.on_readable();
    }
    EXPECT_TRUE(q.done());
    return q.result();
}

TEST(RequireAd, AsksWithDoAndTakesOnlyAuthenticatedReplies) {
    FakeUpstream up;
    std::vector<uint8_t> sent;
    LookupResult r = lookup(up, true, true, &sent);
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.rdata, std::vector<std::string>{v4(7)});
    const uint8_t* opt = sent.data() + sent.size() - opt_rr_size;
    EXPECT_EQ(load16(opt + 1), rrtype::OPT);
    EXPECT_TRUE(opt[7] & 0x80) << "DO not set";
    EXPECT_TRUE(load16(sent.data() + 2) & flag_ad);

    r = lookup(up, true, false, &sent);
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("without AD"), std::string::npos) << r.error;
}

TEST(RequireAd, OffAsksWithoutDoAndTakesAnyReply) {
    FakeUpstream up;
    std::vector<uint8_t> sent;
    const LookupResult r = lookup(up, false, false, &sent);
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_FALSE(sent[sent.size() - opt_rr_size + 7] & 0x80);
    EXPECT_FALSE(load16(sent.data() + 2) & flag_ad);
}

}  // namespace
}  // namespace anamed::test
