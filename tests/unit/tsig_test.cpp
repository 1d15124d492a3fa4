// TSIG for a server (RFC 8945 §5.2, §5.3): requests signed by dnspython, replies verified by
// dnspython, and what tampering, unknown keys, clock skew and truncation get.
#include "tsig_test_util.hpp"

namespace anamed::test {
namespace {

// The reply to a verified (or failed) request, signed by anamed.
Bytes signed_reply(const Bytes& query, const TsigRequest& req, uint64_t at = now()) {
    Bytes stripped = query;
    const size_t len = strip_tsig(stripped.data(), req.tsig_offset);
    Bytes r = make_reply(stripped, len, 1);
    const size_t body = r.size();
    r.resize(4096);
    r.resize(sign_tsig_reply(r.data(), body, r.size(), req, at));
    return r;
}

Bytes error_reply(const Bytes& query, const TsigRequest& req, uint64_t at = now()) {
    Bytes r(4096);
    r.resize(write_tsig_error_reply(query.data(), query.size(), req, r.data(), r.size(), at));
    return r;
}

// Where the TSIG RR's MAC Size field sits.
size_t mac_size_at(const Bytes& m, size_t tsig_offset) {
    const size_t rdata = skip_name(m.data(), m.size(), tsig_offset) + 10;
    return skip_name(m.data(), m.size(), rdata) + 8;
}

// The message with its TSIG MAC cut to n octets (RDLENGTH adjusted).
Bytes truncate_mac(const Bytes& m, size_t tsig_offset, size_t n) {
    const size_t at = mac_size_at(m, tsig_offset), full = load16(m.data() + at);
    Bytes t(m.begin(), m.begin() + long(at + 2 + n));
    t.insert(t.end(), m.begin() + long(at + 2 + full), m.end());
    store16(t.data() + at, uint16_t(n));
    const size_t rdlen_at = skip_name(m.data(), m.size(), tsig_offset) + 8;
    store16(t.data() + rdlen_at, uint16_t(load16(t.data() + rdlen_at) - (full - n)));
    return t;
}

struct TsigServer : ::testing::Test {
    TempDir dir;
};

TEST_F(TsigServer, DnspythonRequestsVerifyAndAnamedRepliesVerifyInDnspython) {
    for (TsigAlgorithm alg : all_tsig_algorithms) {
        SCOPED_TRACE(std::string(tsig_algorithm_name(alg)));
        TsigKeyring keys;
        ASSERT_TRUE(keys.add(random_key("xfr.example.", alg)));
        Dnspython py(dir, "xfr.example.", *keys.find(text_to_wire("xfr.example."), alg));
        // The key name shares "example." with the question, so dnspython compresses it.
        const Bytes q = py.sign_query("example.", "SOA");
        TsigRequest req = verify_tsig_request(q.data(), q.size(), keys, now());
        ASSERT_EQ(req.status, TsigStatus::ok) << tsig_status_name(req.status);
        EXPECT_EQ(req.key, keys.find(text_to_wire("xfr.example."), alg));
        EXPECT_EQ(req.mac.size, tsig_digest_size(alg));
        Bytes stripped = q;
        EXPECT_EQ(strip_tsig(stripped.data(), req.tsig_offset), req.tsig_offset);
        EXPECT_EQ(load16(stripped.data() + 10), 0);
        EXPECT_EQ(py.verify_reply(q, signed_reply(q, req)), "ok rcode=0");
    }
}

TEST_F(TsigServer, OriginalIdReplacesTheHeaderIdInTheMac) {
    TsigKeyring keys;
    keys.add(random_key("k.", TsigAlgorithm::hmac_sha256));
    Dnspython py(dir, "k.", *keys.find(text_to_wire("k."), TsigAlgorithm::hmac_sha256));
    Bytes q = py.sign_query("example.", "SOA", 4242);
    TsigRequest req = verify_tsig_request(q.data(), q.size(), keys, now());
    ASSERT_EQ(req.status, TsigStatus::ok);
    EXPECT_EQ(req.original_id, 4242);
    // A forwarder may change the header ID: the MAC does not cover it.
    store16(q.data(), uint16_t(load16(q.data()) ^ 0x5555));
    EXPECT_EQ(verify_tsig_request(q.data(), q.size(), keys, now()).status, TsigStatus::ok);
}

TEST_F(TsigServer, EveryTamperedByteFailsAndNothingCrashes) {
    TsigKeyring keys;
    keys.add(random_key("xfr.example.", TsigAlgorithm::hmac_sha1));
    Dnspython py(dir, "xfr.example.",
                 *keys.find(text_to_wire("xfr.example."), TsigAlgorithm::hmac_sha1));
    const Bytes q = py.sign_query("www.example.", "A");
    for (size_t i = 2; i < q.size(); ++i) {  // the ID (0-1) is not covered, see above
        Bytes t = q;
        t[i] ^= 0xFF;
        EXPECT_NE(verify_tsig_request(t.data(), t.size(), keys, now()).status, TsigStatus::ok)
            << "byte " << i;
    }
    for (size_t n = 0; n < q.size(); ++n) {  // every prefix, in a buffer of exactly that size
        Bytes t(q.begin(), q.begin() + long(n));
        EXPECT_NE(verify_tsig_request(t.data(), t.size(), keys, now()).status, TsigStatus::ok);
    }
    Bytes t = q;
    t[12 + 1] ^= 0x01;  // a letter of the question
    const TsigRequest bad = verify_tsig_request(t.data(), t.size(), keys, now());
    ASSERT_EQ(bad.status, TsigStatus::badsig);
    const Bytes r = error_reply(t, bad);
    EXPECT_EQ(r[3] & 0x0F, rcode_notauth);
    const size_t tsig_at = skip_name(r.data(), r.size(), header_size) + 4;  // after the question
    EXPECT_EQ(load16(r.data() + mac_size_at(r, tsig_at)), 0);               // unsigned: empty MAC
    EXPECT_EQ(py.verify_error(q, r).substr(0, 26), "ok mac=empty error=16 rcod");
    EXPECT_EQ(py.verify_reply(q, r), "PeerBadSignature");
}

TEST_F(TsigServer, UnknownKeyOrAlgorithmIsBadkey) {
    const TsigKey theirs = random_key("theirs.example.", TsigAlgorithm::hmac_sha256);
    TsigKeyring keys;
    keys.add(random_key("ours.example.", TsigAlgorithm::hmac_sha256));
    TsigKey same_name_other_alg = theirs;
    same_name_other_alg.algorithm = TsigAlgorithm::hmac_sha512;
    keys.add(same_name_other_alg);
    Dnspython py(dir, "theirs.example.", theirs);
    const Bytes q = py.sign_query("example.", "SOA");
    const TsigRequest req = verify_tsig_request(q.data(), q.size(), keys, now());
    ASSERT_EQ(req.status, TsigStatus::badkey);
    EXPECT_EQ(req.error, tsig_error::BADKEY);
    EXPECT_EQ(req.key, nullptr);
    const Bytes r = error_reply(q, req);
    EXPECT_EQ(r[3] & 0x0F, rcode_notauth);
    EXPECT_EQ(py.verify_reply(q, r), "PeerBadKey");
    EXPECT_EQ(py.verify_error(q, r).substr(0, 26), "ok mac=empty error=17 rcod");
}

TEST_F(TsigServer, ClockSkewBeyondFudgeIsBadtimeAndTheReplyIsSigned) {
    TsigKeyring keys;
    keys.add(random_key("k.example.", TsigAlgorithm::hmac_sha384));
    Dnspython py(dir, "k.example.",
                 *keys.find(text_to_wire("k.example."), TsigAlgorithm::hmac_sha384));
    const Bytes q = py.sign_query("example.", "SOA");
    const TsigRequest ok = verify_tsig_request(q.data(), q.size(), keys, now());
    ASSERT_EQ(ok.status, TsigStatus::ok);
    const uint64_t t = ok.time_signed;
    EXPECT_EQ(verify_tsig_request(q.data(), q.size(), keys, t + 300).status, TsigStatus::ok);
    EXPECT_EQ(verify_tsig_request(q.data(), q.size(), keys, t - 300).status, TsigStatus::ok);
    EXPECT_EQ(verify_tsig_request(q.data(), q.size(), keys, t - 301).status, TsigStatus::badtime);
    const uint64_t server_time = t + 1000;
    const TsigRequest late = verify_tsig_request(q.data(), q.size(), keys, server_time);
    ASSERT_EQ(late.status, TsigStatus::badtime);
    EXPECT_EQ(late.error, tsig_error::BADTIME);
    const Bytes r = error_reply(q, late, server_time);
    Bytes other(6);
    store16(other.data(), 0);
    store32(other.data() + 2, uint32_t(server_time));
    // dnspython verifies the MAC over the request MAC; Time Signed is the client's own time.
    EXPECT_EQ(py.verify_error(q, r), "ok mac=verified error=18 rcode=9 time=" + std::to_string(t) +
                                         " other=" + hex(other.data(), 6));
    EXPECT_EQ(py.verify_reply(q, r), "PeerBadTime");
}

TEST_F(TsigServer, TruncatedMacsFollowTheRfcAndTheKeysPolicy) {
    TsigKey key = random_key("k.", TsigAlgorithm::hmac_sha256);
    TsigKeyring strict, lenient;
    strict.add(key);
    key.min_mac_size = 16;
    lenient.add(key);
    Dnspython py(dir, "k.", key);
    const Bytes q = py.sign_query("example.", "SOA");
    const size_t at = verify_tsig_request(q.data(), q.size(), strict, now()).tsig_offset;
    const Bytes t16 = truncate_mac(q, at, 16);
    const TsigRequest req16 = verify_tsig_request(t16.data(), t16.size(), lenient, now());
    ASSERT_EQ(req16.status, TsigStatus::ok);
    EXPECT_EQ(req16.mac.size, 16);
    // The reply's MAC covers the truncated request MAC (§5.2.2.1).
    EXPECT_EQ(py.verify_reply(q, signed_reply(t16, req16), hex(req16.mac.bytes, 16)), "ok rcode=0");
    // Allowed by the RFC but not by the key: BADTRUNC, answered signed.
    const TsigRequest trunc = verify_tsig_request(t16.data(), t16.size(), strict, now());
    ASSERT_EQ(trunc.status, TsigStatus::badtrunc);
    const Bytes r = error_reply(t16, trunc);
    EXPECT_EQ(py.verify_reply(q, r, hex(trunc.mac.bytes, 16)), "PeerBadTruncation");
    EXPECT_EQ(py.verify_error(q, r, hex(trunc.mac.bytes, 16)).substr(0, 35),
              "ok mac=verified error=22 rcode=9 ti");
    // Shorter than max(10, half) or longer than the digest: FORMERR, whatever the key says.
    const Bytes t15 = truncate_mac(q, at, 15);
    EXPECT_EQ(verify_tsig_request(t15.data(), t15.size(), lenient, now()).status,
              TsigStatus::formerr);
    Bytes longer = q;
    longer.push_back(0);
    const size_t size_at = mac_size_at(longer, at);
    std::rotate(longer.begin() + long(size_at + 2 + 32), longer.end() - 1, longer.end());
    store16(longer.data() + size_at, 33);
    const size_t rdlen_at = skip_name(longer.data(), longer.size(), at) + 8;
    store16(longer.data() + rdlen_at, uint16_t(load16(longer.data() + rdlen_at) + 1));
    EXPECT_EQ(verify_tsig_request(longer.data(), longer.size(), lenient, now()).status,
              TsigStatus::formerr);
    const Bytes t0 = truncate_mac(q, at, 0);
    EXPECT_EQ(verify_tsig_request(t0.data(), t0.size(), lenient, now()).status,
              TsigStatus::formerr);
}

TEST_F(TsigServer, TsigMustBeTheLastAdditionalRecordAndAlone) {
    TsigKeyring keys;
    keys.add(random_key("k.", TsigAlgorithm::hmac_sha256));
    Dnspython py(dir, "k.", *keys.find(text_to_wire("k."), TsigAlgorithm::hmac_sha256));
    const Bytes q = py.sign_query("example.", "SOA");
    const size_t at = verify_tsig_request(q.data(), q.size(), keys, now()).tsig_offset;
    const Bytes tsig(q.begin() + long(at), q.end());
    Bytes two = q;  // a second TSIG RR after the first
    two.insert(two.end(), tsig.begin(), tsig.end());
    store16(two.data() + 10, 2);
    EXPECT_EQ(verify_tsig_request(two.data(), two.size(), keys, now()).status, TsigStatus::formerr);
    Bytes answer = q;  // the TSIG RR counted as an answer
    store16(answer.data() + 6, 1);
    store16(answer.data() + 10, 0);
    EXPECT_EQ(verify_tsig_request(answer.data(), answer.size(), keys, now()).status,
              TsigStatus::formerr);
    Bytes trailing = q;  // bytes after it
    trailing.push_back(0);
    EXPECT_EQ(verify_tsig_request(trailing.data(), trailing.size(), keys, now()).status,
              TsigStatus::formerr);
    Bytes plain(q.begin(), q.begin() + long(at));  // no TSIG at all
    strip_tsig(plain.data(), at);
    const TsigRequest none = verify_tsig_request(plain.data(), plain.size(), keys, now());
    EXPECT_EQ(none.status, TsigStatus::unsigned_message);
    EXPECT_FALSE(none.is_signed());
    Bytes out(512);
    EXPECT_EQ(sign_tsig_reply(out.data(), 12, out.size(), none, now()), 0u);
}

TEST(TsigKeyring, FindsByNameInAnyCaseAndAlgorithm) {
    TsigKeyring keys;
    EXPECT_TRUE(keys.add(random_key("Xfr.Example.", TsigAlgorithm::hmac_sha256)));
    EXPECT_FALSE(keys.add(random_key("xfr.example.", TsigAlgorithm::hmac_sha256)));
    EXPECT_TRUE(keys.add(random_key("xfr.example.", TsigAlgorithm::hmac_md5)));
    EXPECT_FALSE(keys.add(TsigKey{"\x05short", TsigAlgorithm::hmac_sha1, {1}}));
    EXPECT_EQ(keys.size(), 2u);
    const TsigKey* k = keys.find(text_to_wire("XFR.example."), TsigAlgorithm::hmac_sha256);
    ASSERT_NE(k, nullptr);
    EXPECT_EQ(k->name, text_to_wire("xfr.example."));
    EXPECT_EQ(keys.find(text_to_wire("xfr.example."), TsigAlgorithm::hmac_sha1), nullptr);
}

TEST(TsigAlgorithm, NamesParseBothWays) {
    TsigAlgorithm a;
    EXPECT_TRUE(parse_tsig_algorithm("HMAC-MD5.SIG-ALG.REG.INT.", a));
    EXPECT_EQ(a, TsigAlgorithm::hmac_md5);
    EXPECT_TRUE(parse_tsig_algorithm("hmac-md5", a));
    EXPECT_EQ(a, TsigAlgorithm::hmac_md5);
    EXPECT_TRUE(parse_tsig_algorithm("HMAC-SHA384", a));
    EXPECT_EQ(a, TsigAlgorithm::hmac_sha384);
    EXPECT_FALSE(parse_tsig_algorithm("hmac-sha256-128", a));
    EXPECT_FALSE(parse_tsig_algorithm("", a));
    for (TsigAlgorithm x : all_tsig_algorithms) {
        EXPECT_TRUE(parse_tsig_algorithm(tsig_algorithm_name(x), a));
        EXPECT_EQ(a, x);
        EXPECT_EQ(tsig_algorithm_wire(x), lower_key(tsig_algorithm_wire(x)));
    }
}

}  // namespace
}  // namespace anamed::test
