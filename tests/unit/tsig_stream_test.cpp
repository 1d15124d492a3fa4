// Multi-message TSIG (RFC 8945 §5.3.1) both ways with dnspython, and a client's request and
// reply: anamed signs a request, dnspython answers, anamed verifies.
#include "tsig_test_util.hpp"

namespace anamed::test {
namespace {

const std::string key_name = "xfr.example.";

// A query for example./qtype with ID 0x1234, signed by anamed as a client.
Bytes client_request(const TsigKey& key, uint16_t qtype, TsigMac& mac) {
    Bytes q = {0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    const std::string name = text_to_wire("example.");
    q.insert(q.end(), name.begin(), name.end());
    q.insert(q.end(), {uint8_t(qtype >> 8), uint8_t(qtype), 0, 1});
    const size_t len = q.size();
    q.resize(1024);
    q.resize(sign_tsig_request(q.data(), len, q.size(), key, now(), mac));
    return q;
}

struct TsigStream : ::testing::Test {
    TempDir dir;

    std::vector<Bytes> read_stream(size_t n) {
        std::vector<Bytes> out;
        for (size_t i = 0; i < n; ++i)
            out.push_back(read_bytes(dir.file("s." + std::to_string(i))));
        return out;
    }
    std::string write_stream(const std::vector<Bytes>& msgs) {
        std::string paths;
        for (size_t i = 0; i < msgs.size(); ++i) {
            write_bytes(dir.file("a." + std::to_string(i)), msgs[i]);
            paths += " " + dir.file("a." + std::to_string(i));
        }
        return paths;
    }
};

TEST_F(TsigStream, ThreeMessagesSignedByAnamedVerifyInDnspython) {
    for (TsigAlgorithm alg : all_tsig_algorithms) {
        SCOPED_TRACE(std::string(tsig_algorithm_name(alg)));
        TsigKeyring keys;
        keys.add(random_key(key_name, alg));
        Dnspython py(dir, key_name, *keys.find(text_to_wire(key_name), alg));
        const Bytes q = py.sign_query("example.", "AXFR");
        const TsigRequest req = verify_tsig_request(q.data(), q.size(), keys, now());
        ASSERT_EQ(req.status, TsigStatus::ok);
        Bytes stripped = q;
        const size_t qlen = strip_tsig(stripped.data(), req.tsig_offset);
        TsigStreamSigner signer(req);
        std::vector<Bytes> msgs;
        for (uint8_t i = 0; i < 3; ++i) {
            Bytes m = make_reply(stripped, qlen, i);
            const size_t body = m.size();
            m.resize(body + 200);
            m.resize(signer.sign(m.data(), body, m.size(), now()));
            ASSERT_GT(m.size(), body);
            msgs.push_back(m);
        }
        write_bytes(dir.file("q"), q);
        EXPECT_EQ(py.cmd("verify-stream", dir.file("q") + write_stream(msgs)), "ok last-signed=1");
        // Each MAC covers the one before: the same messages out of order do not verify.
        std::swap(msgs[1], msgs[2]);
        EXPECT_EQ(py.cmd("verify-stream", dir.file("q") + write_stream(msgs)), "BadSignature");
    }
}

TEST_F(TsigStream, ThreeMessagesSignedByDnspythonVerifyInAnamed) {
    for (TsigAlgorithm alg : all_tsig_algorithms) {
        SCOPED_TRACE(std::string(tsig_algorithm_name(alg)));
        const TsigKey key = random_key(key_name, alg);
        Dnspython py(dir, key_name, key);
        TsigMac mac;
        const Bytes q = client_request(key, rrtype::AXFR, mac);
        write_bytes(dir.file("q"), q);
        EXPECT_EQ(py.cmd("verify-query", dir.file("q")), "ok mac=" + hex(mac.bytes, mac.size));
        py.cmd("sign-stream", dir.file("q") + " " + dir.file("s") + " 3");
        TsigStreamVerifier v(key, mac);
        for (Bytes& m : read_stream(3)) {
            const TsigReplyCheck c = v.verify(m.data(), m.size(), now());
            ASSERT_EQ(c.status, TsigStatus::ok) << tsig_status_name(c.status);
            EXPECT_EQ(load16(m.data() + 10), 1);
            strip_tsig(m.data(), c.tsig_offset);
            EXPECT_EQ(load16(m.data() + 10), 0);
        }
        EXPECT_TRUE(v.at_signed_boundary());
    }
}

TEST_F(TsigStream, UnsignedMessagesBetweenSignedOnesCountInTheNextMac) {
    const TsigKey key = random_key(key_name, TsigAlgorithm::hmac_sha256);
    Dnspython py(dir, key_name, key);
    TsigMac mac;
    write_bytes(dir.file("q"), client_request(key, rrtype::AXFR, mac));
    py.cmd("sign-stream", dir.file("q") + " " + dir.file("s") + " 4 1,2");
    const std::vector<Bytes> msgs = read_stream(4);
    {
        TsigStreamVerifier v(key, mac);
        const TsigStatus want[] = {TsigStatus::ok, TsigStatus::unsigned_pending,
                                   TsigStatus::unsigned_pending, TsigStatus::ok};
        for (size_t i = 0; i < 4; ++i) {
            EXPECT_EQ(v.verify(msgs[i].data(), msgs[i].size(), now()).status, want[i]) << i;
            EXPECT_EQ(v.at_signed_boundary(), i == 0 || i == 3) << i;
        }
    }
    {  // a changed unsigned message fails the next signed one
        TsigStreamVerifier v(key, mac);
        Bytes bad = msgs[2];
        bad.back() ^= 1;
        EXPECT_EQ(v.verify(msgs[0].data(), msgs[0].size(), now()).status, TsigStatus::ok);
        EXPECT_EQ(v.verify(msgs[1].data(), msgs[1].size(), now()).status,
                  TsigStatus::unsigned_pending);
        EXPECT_EQ(v.verify(bad.data(), bad.size(), now()).status, TsigStatus::unsigned_pending);
        EXPECT_EQ(v.verify(msgs[3].data(), msgs[3].size(), now()).status, TsigStatus::badsig);
        EXPECT_FALSE(v.at_signed_boundary());
    }
    {  // a stream may not start unsigned
        TsigStreamVerifier v(key, mac);
        EXPECT_EQ(v.verify(msgs[1].data(), msgs[1].size(), now()).status,
                  TsigStatus::unsigned_message);
        EXPECT_EQ(v.verify(msgs[0].data(), msgs[0].size(), now()).status, TsigStatus::formerr);
    }
}

TEST_F(TsigStream, AtMost99UnsignedMessagesInARow) {
    TsigKeyring keys;
    keys.add(random_key(key_name, TsigAlgorithm::hmac_sha1));
    const TsigKey& key = *keys.find(text_to_wire(key_name), TsigAlgorithm::hmac_sha1);
    TsigMac mac;
    const Bytes q = client_request(key, rrtype::AXFR, mac);
    const TsigRequest req = verify_tsig_request(q.data(), q.size(), keys, now());
    ASSERT_EQ(req.status, TsigStatus::ok);
    Bytes stripped = q;
    const size_t qlen = strip_tsig(stripped.data(), req.tsig_offset);
    Bytes first = make_reply(stripped, qlen, 0);
    const size_t body = first.size();
    first.resize(body + 200);
    first.resize(TsigStreamSigner(req).sign(first.data(), body, first.size(), now()));
    TsigStreamVerifier v(key, mac);
    ASSERT_EQ(v.verify(first.data(), first.size(), now()).status, TsigStatus::ok);
    const Bytes plain = make_reply(stripped, qlen, 1);
    for (int i = 0; i < 99; ++i)
        ASSERT_EQ(v.verify(plain.data(), plain.size(), now()).status, TsigStatus::unsigned_pending);
    EXPECT_EQ(v.verify(plain.data(), plain.size(), now()).status, TsigStatus::unsigned_message);
}

TEST_F(TsigStream, ClientRequestAndDnspythonReply) {
    const TsigKey key = random_key(key_name, TsigAlgorithm::hmac_sha512);
    Dnspython py(dir, key_name, key);
    TsigMac mac;
    write_bytes(dir.file("q"), client_request(key, rrtype::SOA, mac));
    py.cmd("reply", dir.file("q") + " " + dir.file("r"));
    const Bytes r = read_bytes(dir.file("r"));
    const TsigReplyCheck ok = verify_tsig_reply(r.data(), r.size(), key, mac, now());
    EXPECT_EQ(ok.status, TsigStatus::ok);
    EXPECT_EQ(verify_tsig_reply(r.data(), r.size(), key, mac, now() + 1000).status,
              TsigStatus::badtime);
    TsigMac other = mac;
    other.bytes[0] ^= 1;
    EXPECT_EQ(verify_tsig_reply(r.data(), r.size(), key, other, now()).status, TsigStatus::badsig);
    TsigKey renamed = key;
    renamed.name = text_to_wire("other.example.");
    EXPECT_EQ(verify_tsig_reply(r.data(), r.size(), renamed, mac, now()).status,
              TsigStatus::badkey);
    // A signed reply carrying a TSIG error: the error is the peer's, proven by the MAC.
    py.cmd("reply", dir.file("q") + " " + dir.file("e") + " 18");
    const Bytes e = read_bytes(dir.file("e"));
    const TsigReplyCheck peer = verify_tsig_reply(e.data(), e.size(), key, mac, now());
    EXPECT_EQ(peer.status, TsigStatus::peer_error);
    EXPECT_EQ(peer.peer_error, tsig_error::BADTIME);
}

TEST_F(TsigStream, UnsignedErrorRepliesReachTheClient) {
    const TsigKey key = random_key(key_name, TsigAlgorithm::hmac_sha224);
    TsigMac mac;
    const Bytes q = client_request(key, rrtype::SOA, mac);
    const TsigKeyring no_keys;
    const TsigRequest req = verify_tsig_request(q.data(), q.size(), no_keys, now());
    ASSERT_EQ(req.status, TsigStatus::badkey);
    Bytes r(512);
    r.resize(write_tsig_error_reply(q.data(), q.size(), req, r.data(), r.size(), now()));
    ASSERT_GT(r.size(), q.size() - req.mac.size - 1);
    const TsigReplyCheck c = verify_tsig_reply(r.data(), r.size(), key, mac, now());
    EXPECT_EQ(c.status, TsigStatus::peer_error);
    EXPECT_EQ(c.peer_error, tsig_error::BADKEY);
}

}  // namespace
}  // namespace anamed::test
