// respond() case by case on the test zones: RFC 1034 §4.3.2, RFC 2308, 4592, 6672, 8482.
#include <gtest/gtest.h>

#include "test_util.hpp"

namespace anamed::test {
namespace {

class Respond : public ::testing::Test {
protected:
    static void SetUpTestSuite() { served_ = new Served(); }
    static void TearDownTestSuite() { delete served_; }
    static const Snapshot& snap() { return served_->snap(); }
    static Pkt q(const std::string& name, ldns_rr_type t, QueryOpts o = {}) {
        return ask(snap(), name, t, o);
    }
    static Served* served_;
};
Served* Respond::served_ = nullptr;

const std::string soa_300 =
    "example.test.\t300\tIN\tSOA\tns1.example.test. hostmaster.example.test. 2026112601 7200 3600 "
    "1209600 300";

TEST_F(Respond, ExactMatchIsAuthoritativeWithoutAuthoritySection) {
    auto p = q("both.example.test.", LDNS_RR_TYPE_A);
    ASSERT_TRUE(p);
    EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
    EXPECT_TRUE(ldns_pkt_aa(p.get()));
    EXPECT_TRUE(ldns_pkt_qr(p.get()));
    EXPECT_FALSE(ldns_pkt_ra(p.get()));
    EXPECT_EQ(ldns_pkt_id(p.get()), 0x1234);
    EXPECT_EQ(answer(p), V{"both.example.test.\t3600\tIN\tA\t192.0.2.10"});
    EXPECT_TRUE(authority(p).empty());
}

TEST_F(Respond, MxAnswerCarriesTargetAddressesInAdditional) {
    auto p = q("example.test.", LDNS_RR_TYPE_MX);
    EXPECT_EQ(answer(p), V{"example.test.\t3600\tIN\tMX\t10 mail.example.test."});
    EXPECT_EQ(additional(p), (V{"mail.example.test.\t7200\tIN\tA\t192.0.2.25",
                                "mail.example.test.\t7200\tIN\tAAAA\t2001:db8::25"}));
}

TEST_F(Respond, NsAndSrvAnswersCarryAddressesInAdditional) {
    auto ns = q("example.test.", LDNS_RR_TYPE_NS);
    EXPECT_EQ(answer(ns).size(), 2u);
    EXPECT_EQ(additional(ns).size(), 4u);
    auto srv = q("_sip._tcp.example.test.", LDNS_RR_TYPE_SRV);
    EXPECT_EQ(answer(srv),
              V{"_sip._tcp.example.test.\t3600\tIN\tSRV\t10 5 5060 both.example.test."});
    EXPECT_EQ(additional(srv), V{"both.example.test.\t3600\tIN\tA\t192.0.2.10"});
}

TEST_F(Respond, NodataHasSoaWithNegativeTtl) {
    auto p = q("both.example.test.", LDNS_RR_TYPE_AAAA);
    EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
    EXPECT_TRUE(ldns_pkt_aa(p.get()));
    EXPECT_TRUE(answer(p).empty());
    EXPECT_EQ(authority(p), V{soa_300});
}

TEST_F(Respond, NxdomainHasSoa) {
    auto p = q("nothere.example.test.", LDNS_RR_TYPE_A);
    EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NXDOMAIN);
    EXPECT_TRUE(ldns_pkt_aa(p.get()));
    EXPECT_EQ(authority(p), V{soa_300});
}

TEST_F(Respond, EmptyNonTerminalIsNodataNotNxdomain) {
    for (const char* n : {"b.ent.example.test.", "ent.example.test."}) {
        auto p = q(n, LDNS_RR_TYPE_A);
        EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR) << n;
        EXPECT_EQ(authority(p), V{soa_300}) << n;
    }
    EXPECT_EQ(answer(q("a.b.ent.example.test.", LDNS_RR_TYPE_A)).size(), 1u);
}

TEST_F(Respond, CnameIsFollowedInsideTheZone) {
    auto p = q("www.example.test.", LDNS_RR_TYPE_A);
    EXPECT_EQ(answer(p), (V{"www.example.test.\t3600\tIN\tCNAME\tboth.example.test.",
                            "both.example.test.\t3600\tIN\tA\t192.0.2.10"}));
    auto chain = q("c1.example.test.", LDNS_RR_TYPE_A);
    EXPECT_EQ(answer(chain).size(), 4u);
    EXPECT_EQ(answer(chain).back(), "both.example.test.\t3600\tIN\tA\t192.0.2.10");
}

TEST_F(Respond, CnameQueryReturnsOnlyTheCname) {
    EXPECT_EQ(answer(q("www.example.test.", LDNS_RR_TYPE_CNAME)),
              V{"www.example.test.\t3600\tIN\tCNAME\tboth.example.test."});
    auto dangling = q("dangling.example.test.", LDNS_RR_TYPE_CNAME);
    EXPECT_EQ(ldns_pkt_get_rcode(dangling.get()), LDNS_RCODE_NOERROR);
    EXPECT_EQ(answer(dangling).size(), 1u);
    EXPECT_TRUE(authority(dangling).empty());
}

// Below a DNAME, the synthesised CNAME is the answer to a CNAME query: its target (which
// does not exist for "nothere") is not looked at.
TEST_F(Respond, CnameQueryBelowDnameReturnsTheDnameAndTheSynthesisedCname) {
    const std::string target = "a-much-longer-target-name-for-the-dname-test.example.test.";
    for (const std::string label : {"x", "nothere"}) {
        auto p = q(label + ".dname.example.test.", LDNS_RR_TYPE_CNAME);
        EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR) << label;
        EXPECT_TRUE(ldns_pkt_aa(p.get())) << label;
        EXPECT_EQ(answer(p),
                  (V{"dname.example.test.\t3600\tIN\tDNAME\t" + target,
                     label + ".dname.example.test.\t3600\tIN\tCNAME\t" + label + "." + target}))
            << label;
        EXPECT_TRUE(authority(p).empty()) << label;
    }
}

TEST_F(Respond, CnameLoopStopsWithBothRecords) {
    auto p = q("loop1.example.test.", LDNS_RR_TYPE_A);
    EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
    EXPECT_EQ(answer(p), (V{"loop1.example.test.\t3600\tIN\tCNAME\tloop2.example.test.",
                            "loop2.example.test.\t3600\tIN\tCNAME\tloop1.example.test."}));
}

TEST_F(Respond, CnameToMissingNameIsNxdomainWithTheCname) {
    auto p = q("dangling.example.test.", LDNS_RR_TYPE_A);
    EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NXDOMAIN);
    EXPECT_EQ(answer(p).size(), 1u);
    EXPECT_EQ(authority(p), V{soa_300});
}

TEST_F(Respond, CnameOutOfZoneIsNotChased) {
    auto p = q("ext.example.test.", LDNS_RR_TYPE_A);
    EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
    EXPECT_EQ(answer(p), V{"ext.example.test.\t3600\tIN\tCNAME\twww.example.org."});
    EXPECT_TRUE(authority(p).empty());
}

TEST_F(Respond, DelegationGivesReferralWithGlue) {
    for (const char* n : {"sub.example.test.", "foo.sub.example.test.", "zzz.sub.example.test.",
                          "ns.sub.example.test."}) {
        auto p = q(n, LDNS_RR_TYPE_A);
        EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR) << n;
        EXPECT_FALSE(ldns_pkt_aa(p.get())) << n;
        EXPECT_TRUE(answer(p).empty()) << n;
        EXPECT_EQ(authority(p), (V{"sub.example.test.\t3600\tIN\tNS\tns.sub.example.test.",
                                   "sub.example.test.\t3600\tIN\tNS\tns.other.test."}))
            << n;
        EXPECT_EQ(additional(p), (V{"ns.sub.example.test.\t3600\tIN\tA\t192.0.2.53",
                                    "ns.sub.example.test.\t3600\tIN\tAAAA\t2001:db8::53"}))
            << n;
    }
}

TEST_F(Respond, DsAtDelegationIsAnsweredByTheParent) {
    auto p = q("sub.example.test.", LDNS_RR_TYPE_DS);
    EXPECT_TRUE(ldns_pkt_aa(p.get()));
    ASSERT_EQ(answer(p).size(), 1u);
    EXPECT_NE(answer(p)[0].find("\tDS\t12345 13 2 "), std::string::npos);
}

TEST_F(Respond, DsAtAServedChildApexComesFromTheParent) {
    // sub2 is both a delegation in example.test and a zone of its own: the parent has no DS
    // there, so the answer is the parent's NODATA (its SOA), not the child's.
    auto p = q("sub2.example.test.", LDNS_RR_TYPE_DS);
    EXPECT_TRUE(answer(p).empty());
    EXPECT_EQ(authority(p), V{soa_300});
    auto soa = q("sub2.example.test.", LDNS_RR_TYPE_SOA);
    EXPECT_EQ(answer(soa).size(), 1u);  // other types still come from the child
}

TEST_F(Respond, WildcardSynthesisUsesTheQueryName) {
    auto p = q("anything.wild.example.test.", LDNS_RR_TYPE_A);
    EXPECT_TRUE(ldns_pkt_aa(p.get()));
    EXPECT_EQ(answer(p), V{"anything.wild.example.test.\t3600\tIN\tA\t192.0.2.40"});
    EXPECT_EQ(answer(q("deeper.name.wild.example.test.", LDNS_RR_TYPE_A)),
              V{"deeper.name.wild.example.test.\t3600\tIN\tA\t192.0.2.40"});
    auto nodata = q("anything.wild.example.test.", LDNS_RR_TYPE_MX);
    EXPECT_EQ(ldns_pkt_get_rcode(nodata.get()), LDNS_RCODE_NOERROR);
    EXPECT_EQ(authority(nodata), V{soa_300});
}

TEST_F(Respond, ExistingNameBlocksTheWildcard) {
    auto p = q("host.wild.example.test.", LDNS_RR_TYPE_A);
    EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
    EXPECT_TRUE(answer(p).empty());
}

TEST_F(Respond, WildcardCnameIsFollowed) {
    auto p = q("x.wc.example.test.", LDNS_RR_TYPE_A);
    EXPECT_EQ(answer(p), (V{"x.wc.example.test.\t3600\tIN\tCNAME\tboth.example.test.",
                            "both.example.test.\t3600\tIN\tA\t192.0.2.10"}));
    EXPECT_EQ(answer(q("x.wc.example.test.", LDNS_RR_TYPE_CNAME)),
              V{"x.wc.example.test.\t3600\tIN\tCNAME\tboth.example.test."});
}

TEST_F(Respond, DnameSynthesisesACnameAndFollowsIt) {
    const std::string target = "a-much-longer-target-name-for-the-dname-test.example.test.";
    auto p = q("x.dname.example.test.", LDNS_RR_TYPE_A);
    EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
    EXPECT_EQ(answer(p), (V{"dname.example.test.\t3600\tIN\tDNAME\t" + target,
                            "x.dname.example.test.\t3600\tIN\tCNAME\tx." + target,
                            "x." + target + "\t3600\tIN\tA\t192.0.2.77"}));
}

TEST_F(Respond, DnameOverflowIsYxdomain) {
    // 3 x 64 + 11 octets of prefix: the query name is 223 octets, its substitute 262.
    const std::string label(63, 'a');
    const std::string name = label + "." + label + "." + label + ".abcdefghij.dname.example.test.";
    auto p = q(name, LDNS_RR_TYPE_A);
    ASSERT_TRUE(p);
    EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_YXDOMAIN);
    EXPECT_EQ(answer(p).size(), 1u);  // the DNAME itself
}

TEST_F(Respond, AnyIsAnsweredMinimally) {
    auto p = q("both.example.test.", LDNS_RR_TYPE_ANY);
    EXPECT_TRUE(ldns_pkt_aa(p.get()));
    ASSERT_FALSE(answer(p).empty());
    EXPECT_EQ(ldns_rr_list_type(ldns_pkt_answer(p.get())), LDNS_RR_TYPE_A);  // one RRset
    auto ent = q("ent.example.test.", LDNS_RR_TYPE_ANY);
    EXPECT_TRUE(answer(ent).empty());
    EXPECT_EQ(authority(ent), V{soa_300});
}

TEST_F(Respond, NamesOutsideEveryZoneAreRefused) {
    auto p = q("example.org.", LDNS_RR_TYPE_A);
    EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_REFUSED);
    EXPECT_FALSE(ldns_pkt_aa(p.get()));
    EXPECT_TRUE(answer(p).empty());
}

TEST_F(Respond, LongestMatchingZoneAnswers) {
    auto p = q("www.sub2.example.test.", LDNS_RR_TYPE_A);
    EXPECT_TRUE(ldns_pkt_aa(p.get()));
    ASSERT_EQ(answer(p).size(), 1u);
    auto soa = q("sub2.example.test.", LDNS_RR_TYPE_SOA);
    ASSERT_EQ(answer(soa).size(), 1u);
    EXPECT_EQ(answer(soa)[0].rfind("sub2.example.test.", 0), 0u);
}

TEST_F(Respond, OtherTypesAnswerAsWritten) {
    EXPECT_EQ(answer(q("unknown.example.test.", ldns_rr_type(65300))),
              V{"unknown.example.test.\t3600\tIN\tTYPE65300\t\\# 4 0a000001"});
    EXPECT_EQ(answer(q("generic.example.test.", LDNS_RR_TYPE_A)),
              V{"generic.example.test.\t3600\tIN\tA\t192.0.2.9"});
    EXPECT_EQ(answer(q("caa.example.test.", LDNS_RR_TYPE_CAA)).size(), 2u);
    EXPECT_EQ(answer(q("naptr.example.test.", LDNS_RR_TYPE_NAPTR)).size(), 2u);
    EXPECT_EQ(answer(q("svc.example.test.", LDNS_RR_TYPE_HTTPS)).size(), 1u);
    EXPECT_EQ(answer(q("svcb.example.test.", LDNS_RR_TYPE_SVCB)).size(), 1u);
    EXPECT_EQ(answer(q("ptr.example.test.", LDNS_RR_TYPE_PTR)),
              V{"ptr.example.test.\t3600\tIN\tPTR\tboth.example.test."});
    EXPECT_EQ(answer(q("after-include.example.test.", LDNS_RR_TYPE_A)).size(), 1u);
    EXPECT_EQ(answer(q("host.inc.example.test.", LDNS_RR_TYPE_A)).size(), 1u);
}

}  // namespace
}  // namespace anamed::test
