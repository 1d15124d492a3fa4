// respond() at the edges: case echo, EDNS (RFC 6891), truncation, malformed input.
#include <gtest/gtest.h>

#include <array>
#include <random>

#include "anamed/dispatch.hpp"
#include "test_util.hpp"

namespace anamed::test {
namespace {

class RespondEdge : public ::testing::Test {
protected:
    static void SetUpTestSuite() { served_ = new Served(); }
    static void TearDownTestSuite() { delete served_; }
    static const Snapshot& snap() { return served_->snap(); }
    // Raw respond(): the bytes, or empty for "no reply".
    static std::vector<uint8_t> raw(const std::vector<uint8_t>& q, Transport t = Transport::udp,
                                    size_t cap = 65536) {
        std::vector<uint8_t> out(cap);
        const size_t n = respond(&snap(), q.data(), q.size(), out.data(), cap, ClientInfo{t});
        out.resize(n);
        return out;
    }
    static Served* served_;
};
Served* RespondEdge::served_ = nullptr;

std::vector<uint8_t> header(uint16_t flags, uint16_t qd, uint16_t an = 0, uint16_t ns = 0,
                            uint16_t ar = 0) {
    std::vector<uint8_t> h(12);
    store16(&h[0], 0xBEEF);
    store16(&h[2], flags);
    store16(&h[4], qd);
    store16(&h[6], an);
    store16(&h[8], ns);
    store16(&h[10], ar);
    return h;
}
void append_question(std::vector<uint8_t>& p, const std::vector<uint8_t>& name, uint16_t type,
                     uint16_t klass = 1) {
    p.insert(p.end(), name.begin(), name.end());
    p.push_back(uint8_t(type >> 8));
    p.push_back(uint8_t(type));
    p.push_back(uint8_t(klass >> 8));
    p.push_back(uint8_t(klass));
}
const std::vector<uint8_t> both_name = {4,   'b', 'o', 't', 'h', 7,   'e', 'x', 'a', 'm',
                                        'p', 'l', 'e', 4,   't', 'e', 's', 't', 0};
uint8_t rcode_of(const std::vector<uint8_t>& r) {
    return r[3] & 0xF;
}

TEST_F(RespondEdge, QuestionCaseIsEchoedAndOwnerPointsAtIt) {
    auto q = make_query("BoTh.ExAmPlE.TeSt.", LDNS_RR_TYPE_A);
    auto r = raw(q);
    const size_t question = 19 + 4;  // name + type + class
    ASSERT_GT(r.size(), 12u + question);
    EXPECT_TRUE(std::equal(q.begin() + 12, q.begin() + 12 + question, r.begin() + 12));
    auto p = ask(snap(), q);
    EXPECT_EQ(answer(p), V{"BoTh.ExAmPlE.TeSt.\t3600\tIN\tA\t192.0.2.10"});
}

// Where each label of the question sits is set 16 labels at once below 16 labels and one by
// one above: on both sides, the negative answer's SOA points at the apex inside the question
// and a wildcard's answer at the question itself.
TEST_F(RespondEdge, OwnersPointIntoQuestionsOfEveryDepth) {
    const V soa = authority(ask(snap(), "x.example.test.", LDNS_RR_TYPE_A));
    ASSERT_EQ(soa.size(), 1u);
    std::string below;
    for (int labels = 1; labels <= 24; ++labels) {
        below = "L" + std::to_string(labels) + "." + below;
        auto nx = ask(snap(), below + "example.test.", LDNS_RR_TYPE_A);
        EXPECT_EQ(ldns_pkt_get_rcode(nx.get()), LDNS_RCODE_NXDOMAIN) << below;
        EXPECT_EQ(authority(nx), soa) << below;
        const std::string wild = below + "wild.example.test.";
        const V got = answer(ask(snap(), wild, LDNS_RR_TYPE_A));
        ASSERT_EQ(got.size(), 1u) << wild;
        EXPECT_EQ(got[0].substr(0, got[0].find('\t')), wild);
    }
}

TEST_F(RespondEdge, EdnsReplyHasOptWithOurPayloadAndDoEcho) {
    auto p = ask(snap(), "both.example.test.", LDNS_RR_TYPE_A, QueryOpts{true, 4096, true});
    EXPECT_EQ(ldns_pkt_edns_udp_size(p.get()), 1232);
    EXPECT_TRUE(ldns_pkt_edns_do(p.get()));
    auto no_do = ask(snap(), "both.example.test.", LDNS_RR_TYPE_A, QueryOpts{true, 4096, false});
    EXPECT_FALSE(ldns_pkt_edns_do(no_do.get()));
    auto plain = ask(snap(), "both.example.test.", LDNS_RR_TYPE_A, QueryOpts{false});
    EXPECT_FALSE(ldns_pkt_edns(plain.get()));
}

std::vector<uint8_t> edns_query(uint8_t version, std::vector<uint8_t> rdata = {}) {
    auto p = header(0, 1, 0, 0, 1);
    append_question(p, both_name, 1);
    const uint8_t opt[] = {0, 0, 41, 0x10, 0, 0, version, 0, 0};
    p.insert(p.end(), opt, opt + sizeof opt);
    p.push_back(uint8_t(rdata.size() >> 8));
    p.push_back(uint8_t(rdata.size()));
    p.insert(p.end(), rdata.begin(), rdata.end());
    return p;
}

TEST_F(RespondEdge, EdnsVersionAboveZeroIsBadvers) {
    auto p = ask(snap(), edns_query(1));
    ASSERT_TRUE(p);
    EXPECT_EQ(ldns_pkt_get_rcode(p.get()), 0);  // low bits; BADVERS travels in OPT
    EXPECT_EQ(ldns_pkt_edns_extended_rcode(p.get()), 1);
    EXPECT_TRUE(answer(p).empty());
}

TEST_F(RespondEdge, UnknownEdnsOptionsAreIgnored) {
    auto p = ask(snap(), edns_query(0, {0xFD, 0xE8, 0, 2, 0xAB, 0xCD}));
    EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
    EXPECT_EQ(answer(p).size(), 1u);
}

TEST_F(RespondEdge, TwoOptRecordsAreFormerr) {
    auto q = edns_query(0);
    store16(&q[10], 2);
    const uint8_t opt[] = {0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0};
    q.insert(q.end(), opt, opt + sizeof opt);
    EXPECT_EQ(rcode_of(raw(q)), LDNS_RCODE_FORMERR);
}

TEST_F(RespondEdge, OversizedUdpAnswerIsTruncatedAndTcpIsComplete) {
    size_t n = 0;
    auto udp = ask(snap(), make_query("big.example.test.", LDNS_RR_TYPE_TXT), Transport::udp, &n);
    EXPECT_TRUE(ldns_pkt_tc(udp.get()));
    EXPECT_LE(n, 1232u);
    EXPECT_TRUE(answer(udp).empty());
    EXPECT_TRUE(ldns_pkt_edns(udp.get()));
    auto plain = ask(snap(), make_query("big.example.test.", LDNS_RR_TYPE_TXT, QueryOpts{false}),
                     Transport::udp, &n);
    EXPECT_TRUE(ldns_pkt_tc(plain.get()));
    EXPECT_LE(n, 512u);
    auto tcp = ask(snap(), make_query("big.example.test.", LDNS_RR_TYPE_TXT), Transport::tcp, &n);
    EXPECT_FALSE(ldns_pkt_tc(tcp.get()));
    EXPECT_EQ(answer(tcp).size(), 40u);
}

TEST_F(RespondEdge, SmallClientPayloadIsRaisedTo512) {
    size_t n = 0;
    auto p = ask(snap(), make_query("example.test.", LDNS_RR_TYPE_NS, QueryOpts{true, 100}),
                 Transport::udp, &n);
    EXPECT_FALSE(ldns_pkt_tc(p.get()));
    EXPECT_LE(n, 512u);
}

TEST_F(RespondEdge, ResponsesAreNeverSentForResponses) {
    auto q = make_query("both.example.test.", LDNS_RR_TYPE_A);
    q[2] |= 0x80;
    EXPECT_TRUE(raw(q).empty());
    EXPECT_TRUE(raw({1, 2, 3}).empty());
}

TEST_F(RespondEdge, MalformedQuestionsAreFormerr) {
    auto two = header(0, 2);
    append_question(two, both_name, 1);
    append_question(two, both_name, 1);
    EXPECT_EQ(rcode_of(raw(two)), LDNS_RCODE_FORMERR);

    auto none = header(0, 0);
    EXPECT_EQ(rcode_of(raw(none)), LDNS_RCODE_FORMERR);

    auto cut = header(0, 1);
    cut.insert(cut.end(), both_name.begin(), both_name.begin() + 8);
    EXPECT_EQ(rcode_of(raw(cut)), LDNS_RCODE_FORMERR);

    auto ptr = header(0, 1);
    append_question(ptr, {0xC0, 0x0C}, 1);
    EXPECT_EQ(rcode_of(raw(ptr)), LDNS_RCODE_FORMERR);

    auto answers = header(0, 1, 1);
    append_question(answers, both_name, 1);
    EXPECT_EQ(rcode_of(raw(answers)), LDNS_RCODE_FORMERR);

    auto meta = header(0, 1);
    append_question(meta, both_name, 41);
    EXPECT_EQ(rcode_of(raw(meta)), LDNS_RCODE_FORMERR);
}

// respond() with the ResponseInfo it reports.
ResponseInfo info_of(const Snapshot& snap, const std::vector<uint8_t>& q, Transport t,
                     size_t* len) {
    std::vector<uint8_t> out(65536);
    ResponseInfo info;
    *len = respond(&snap, q.data(), q.size(), out.data(), out.size(), ClientInfo{t}, &info);
    return info;
}

TEST_F(RespondEdge, UnknownOpcodeIsNotimp) {
    auto q = make_query("both.example.test.", LDNS_RR_TYPE_A);
    q[2] = uint8_t((q[2] & 0x87) | (2 << 3));  // STATUS
    auto r = raw(q);
    ASSERT_FALSE(r.empty());
    EXPECT_EQ(rcode_of(r), LDNS_RCODE_NOTIMPL);
    EXPECT_EQ((r[2] >> 3) & 0xF, 2);
}

// The dispatch seam: what is not a plain query gets no reply from respond(), only the
// handoff mark, and classify() names where it goes.
TEST_F(RespondEdge, NotifyUpdateTransfersAndTsigAreHandedOff) {
    auto notify = make_query("example.test.", LDNS_RR_TYPE_SOA);
    notify[2] = uint8_t((notify[2] & 0x87) | (4 << 3));
    auto update = make_query("example.test.", LDNS_RR_TYPE_SOA);
    update[2] = uint8_t((update[2] & 0x87) | (5 << 3));
    auto axfr = header(0, 1);
    append_question(axfr, {7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 4, 't', 'e', 's', 't', 0}, 252);
    auto ixfr = header(0, 1);
    append_question(ixfr, {7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 4, 't', 'e', 's', 't', 0}, 251);
    auto tsig = header(0, 1, 0, 0, 1);  // a query whose one additional record is a TSIG
    append_question(tsig, both_name, 1);
    const std::vector<uint8_t> key = {3, 'k', 'e', 'y', 0, 0, 250, 0, 255, 0, 0, 0, 0, 0, 0};
    tsig.insert(tsig.end(), key.begin(), key.end());
    const std::pair<const std::vector<uint8_t>*, MessageClass> cases[] = {
        {&notify, MessageClass::notify},
        {&update, MessageClass::update},
        {&axfr, MessageClass::transfer},
        {&ixfr, MessageClass::transfer},
        {&tsig, MessageClass::signed_query}};
    for (const auto& [msg, cls] : cases) {
        for (Transport t : {Transport::udp, Transport::tcp}) {
            size_t len = 1;
            const ResponseInfo info = info_of(snap(), *msg, t, &len);
            EXPECT_EQ(len, 0u) << class_name(cls);
            EXPECT_TRUE(info.handoff) << class_name(cls);
        }
        EXPECT_EQ(classify(msg->data(), msg->size()), cls);
    }
    auto plain = make_query("both.example.test.", LDNS_RR_TYPE_A);
    size_t len = 0;
    EXPECT_FALSE(info_of(snap(), plain, Transport::udp, &len).handoff);
    EXPECT_GT(len, 0u);
    EXPECT_EQ(classify(plain.data(), plain.size()), MessageClass::query);
}

// RFC 8945 §5.1: a TSIG anywhere but last makes the message malformed.
TEST_F(RespondEdge, TsigNotLastIsFormerr) {
    auto q = header(0, 1, 0, 0, 2);
    append_question(q, both_name, 1);
    const std::vector<uint8_t> key = {3, 'k', 'e', 'y', 0, 0, 250, 0, 255, 0, 0, 0, 0, 0, 0};
    const std::vector<uint8_t> opt = {0, 0, 41, 4, 0xD0, 0, 0, 0, 0, 0, 0};
    q.insert(q.end(), key.begin(), key.end());
    q.insert(q.end(), opt.begin(), opt.end());
    auto r = raw(q);
    ASSERT_FALSE(r.empty());
    EXPECT_EQ(rcode_of(r), LDNS_RCODE_FORMERR);
}

TEST_F(RespondEdge, ErrorReplyEchoesTheQuestionAndOpt) {
    auto q = make_query("Both.Example.Test.", LDNS_RR_TYPE_SOA);
    q[2] = uint8_t((q[2] & 0x87) | (4 << 3));
    std::vector<uint8_t> out(512);
    const size_t n = error_reply(q.data(), q.size(), LDNS_RCODE_NOTIMPL, out.data(), out.size());
    ASSERT_GT(n, 12u);
    out.resize(n);
    EXPECT_EQ(rcode_of(out), LDNS_RCODE_NOTIMPL);
    EXPECT_EQ((out[2] >> 3) & 0xF, 4);
    EXPECT_TRUE(out[2] & 0x80);  // QR
    ldns_pkt* p = nullptr;
    ASSERT_EQ(ldns_wire2pkt(&p, out.data(), out.size()), LDNS_STATUS_OK);
    EXPECT_EQ(ldns_pkt_qdcount(p), 1);
    EXPECT_TRUE(ldns_pkt_edns(p));
    ldns_pkt_free(p);
    EXPECT_EQ(std::vector<uint8_t>(out.begin() + 12, out.begin() + 12 + 23),
              std::vector<uint8_t>(q.begin() + 12, q.begin() + 12 + 23));
}

TEST_F(RespondEdge, OtherClassesAreRefused) {
    auto ch = header(0, 1);
    append_question(ch, both_name, 16, 3);
    EXPECT_EQ(rcode_of(raw(ch)), LDNS_RCODE_REFUSED);
}

TEST_F(RespondEdge, NoSnapshotMeansRefused) {
    auto q = make_query("both.example.test.", LDNS_RR_TYPE_A);
    std::vector<uint8_t> out(512);
    const size_t n = respond(nullptr, q.data(), q.size(), out.data(), out.size(), ClientInfo{});
    ASSERT_GT(n, 0u);
    EXPECT_EQ(out[3] & 0xF, LDNS_RCODE_REFUSED);
}

TEST_F(RespondEdge, RepliesNeverExceedTheBufferGiven) {
    auto q = make_query("big.example.test.", LDNS_RR_TYPE_TXT);
    for (size_t cap : {0u, 11u, 40u, 100u, 600u}) {
        auto r = raw(q, Transport::tcp, cap);
        EXPECT_LE(r.size(), cap);
    }
}

TEST_F(RespondEdge, RandomMutationsNeverBreakLimits) {
    std::mt19937 rng(42);
    const std::vector<std::vector<uint8_t>> seeds = {
        make_query("x.dname.example.test.", LDNS_RR_TYPE_A),
        make_query("c1.example.test.", LDNS_RR_TYPE_A),
        make_query("foo.sub.example.test.", LDNS_RR_TYPE_A),
        edns_query(0, {0, 8, 0, 4, 1, 2, 3, 4})};
    for (int i = 0; i < 20000; ++i) {
        auto q = seeds[i % seeds.size()];
        for (int m = 0; m < 1 + int(rng() % 4); ++m) q[rng() % q.size()] = uint8_t(rng());
        if (rng() % 4 == 0) q.resize(rng() % q.size());
        auto r = raw(q, Transport::udp, 1232);
        EXPECT_LE(r.size(), 1232u);
        if (!r.empty()) {
            ldns_pkt* p = nullptr;
            EXPECT_EQ(ldns_wire2pkt(&p, r.data(), r.size()), LDNS_STATUS_OK);
            ldns_pkt_free(p);
        }
    }
}

// respond_burst answers the common cases (the RRset asked for, NODATA, NXDOMAIN below the
// apex, the same after one in-zone CNAME) on a path of its own and everything else like
// respond(): the same bytes and the same report either way, over names, types and EDNS
// options that take each path and each way out of the short one (upper case where a pointer
// would land, a cut, a CNAME chain, loop or dangling target, a reply too big).
TEST_F(RespondEdge, BurstAnswersExactlyLikeOneByOne) {
    std::vector<std::vector<uint8_t>> qs;
    const std::vector<QueryOpts> opts = {
        {}, {.edns = false}, {.edns = true, .payload = 512, .dnssec_ok = true}};
    for (const char* n : {"both.example.test.",
                          "x.dname.example.test.",
                          "nothere.example.test.",
                          "foo.sub.example.test.",
                          "c1.example.test.",
                          "a.wild.example.test.",
                          "example.org.",
                          "BoTh.example.TEST.",
                          "example.test.",
                          "EXAMPLE.TEST.",
                          "Example.test.",
                          "mail.example.test.",
                          "b.ent.example.test.",
                          "_sip._tcp.example.test.",
                          "_SIP._tcp.example.test.",
                          "host.wild.example.test.",
                          "sub.example.test.",
                          "big.example.test.",
                          "www.example.test.",
                          "MixedCase.example.test.",
                          "nothere.EXAMPLE.test.",
                          "NotHere.example.test.",
                          "zz.other.test.",
                          "c3.example.test.",
                          "WWW.example.test.",
                          "www.EXAMPLE.test.",
                          "loop1.example.test.",
                          "dangling.example.test.",
                          "ext.example.test.",
                          "x.wc.example.test.",
                          "nothere.dname.example.test."})
        for (ldns_rr_type t : {LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA, LDNS_RR_TYPE_MX, LDNS_RR_TYPE_TXT,
                               LDNS_RR_TYPE_NS, LDNS_RR_TYPE_SOA, LDNS_RR_TYPE_SRV, LDNS_RR_TYPE_DS,
                               LDNS_RR_TYPE_CNAME, LDNS_RR_TYPE_ANY})
            for (const QueryOpts& o : opts) qs.push_back(make_query(n, t, o));
    qs.push_back({1, 2, 3});  // runt: no reply
    expect_burst_like_respond(snap(), qs);
}

}  // namespace
}  // namespace anamed::test
