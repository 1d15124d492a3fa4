// CNAME and DNAME chains on reference.zone (ref.test): what a CNAME query is answered with,
// and a chain whose target lies below a delegation (RFC 1034 §4.3.2, RFC 6672). The same
// zone and cases are compared with Knot and NSD in test_reference_answers.py.
#include <gtest/gtest.h>

#include "test_util.hpp"

namespace anamed::test {
namespace {

class RespondChain : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        LoadResult r = load_zone_file("ref.test", data_path("reference.zone"));
        for (const auto& d : r.diags) ADD_FAILURE() << d.str();
        zone_ = r.zone.release();
        snap_ = compile({zone_}, 1).release();
    }
    static void TearDownTestSuite() {
        delete snap_;
        delete zone_;
    }
    static Pkt q(const std::string& name, ldns_rr_type t) { return ask(*snap_, name, t); }
    static Zone* zone_;
    static Snapshot* snap_;
};
Zone* RespondChain::zone_ = nullptr;
Snapshot* RespondChain::snap_ = nullptr;

const std::string soa_300 =
    "ref.test.\t300\tIN\tSOA\tns1.ref.test. hostmaster.ref.test. 2026112701 7200 3600 1209600 300";
const std::string dname = "dname.ref.test.\t1200\tIN\tDNAME\ttarget.ref.test.";
const V referral = {"sub.ref.test.\t700\tIN\tNS\tns.sub.ref.test.",
                    "sub.ref.test.\t700\tIN\tNS\tns.other.test."};
const V glue = {"ns.sub.ref.test.\t600\tIN\tA\t192.0.2.53",
                "ns.sub.ref.test.\t500\tIN\tAAAA\t2001:db8::53"};

// Only the records asked for: NOERROR, authoritative, nothing in the other sections.
void expect_only(const Pkt& p, const V& records, const std::string& what) {
    ASSERT_TRUE(p) << what;
    EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR) << what;
    EXPECT_TRUE(ldns_pkt_aa(p.get())) << what;
    EXPECT_EQ(answer(p), records) << what;
    EXPECT_TRUE(authority(p).empty()) << what;
    EXPECT_TRUE(additional(p).empty()) << what;
}

TEST_F(RespondChain, CnameQueryBelowADnameIsTheDnameAndTheSynthesisedCname) {
    // y.target does not exist, x.target has an A record only: neither is looked at.
    for (const char* label : {"y", "x"}) {
        const std::string name = std::string(label) + ".dname.ref.test.";
        expect_only(q(name, LDNS_RR_TYPE_CNAME),
                    V{dname, name + "\t1200\tIN\tCNAME\t" + label + ".target.ref.test."}, name);
    }
}

TEST_F(RespondChain, OtherTypesBelowADnameFollowTheSynthesisedCname) {
    auto nx = q("y.dname.ref.test.", LDNS_RR_TYPE_A);
    EXPECT_EQ(ldns_pkt_get_rcode(nx.get()), LDNS_RCODE_NXDOMAIN);
    EXPECT_EQ(answer(nx), (V{dname, "y.dname.ref.test.\t1200\tIN\tCNAME\ty.target.ref.test."}));
    EXPECT_EQ(authority(nx), V{soa_300});
    // ANY matches the DNAME's CNAME too, yet Knot and NSD both chase it: so does anamed.
    auto any = q("y.dname.ref.test.", LDNS_RR_TYPE_ANY);
    EXPECT_EQ(ldns_pkt_get_rcode(any.get()), LDNS_RCODE_NXDOMAIN);
    EXPECT_EQ(answer(any).size(), 2u);
    expect_only(q("x.dname.ref.test.", LDNS_RR_TYPE_A),
                V{dname, "x.dname.ref.test.\t1200\tIN\tCNAME\tx.target.ref.test.",
                  "x.target.ref.test.\t1100\tIN\tA\t192.0.2.77"},
                "x.dname A");
}

TEST_F(RespondChain, CnameQueryAtACnameIsTheCnameAlone) {
    expect_only(q("www.ref.test.", LDNS_RR_TYPE_CNAME),
                V{"www.ref.test.\t1800\tIN\tCNAME\thost.ref.test."}, "www");
    expect_only(q("dangling.ref.test.", LDNS_RR_TYPE_CNAME),
                V{"dangling.ref.test.\t1500\tIN\tCNAME\tnothere.ref.test."}, "dangling");
    expect_only(q("into-sub.ref.test.", LDNS_RR_TYPE_CNAME),
                V{"into-sub.ref.test.\t400\tIN\tCNAME\tdeep.sub.ref.test."}, "into-sub");
}

TEST_F(RespondChain, CnameQueryAtAWildcardCnameIsTheSynthesisedCname) {
    expect_only(q("foo.wc.ref.test.", LDNS_RR_TYPE_CNAME),
                V{"foo.wc.ref.test.\t900\tIN\tCNAME\thost.ref.test."}, "foo.wc");
    expect_only(q("foo.wcx.ref.test.", LDNS_RR_TYPE_CNAME),
                V{"foo.wcx.ref.test.\t800\tIN\tCNAME\tnothere.ref.test."}, "foo.wcx");
    auto nx = q("foo.wcx.ref.test.", LDNS_RR_TYPE_A);
    EXPECT_EQ(ldns_pkt_get_rcode(nx.get()), LDNS_RCODE_NXDOMAIN);
    EXPECT_EQ(authority(nx), V{soa_300});
}

// The chain, then the referral for its last name, AA kept for the authoritative chain.
TEST_F(RespondChain, ChainIntoADelegationEndsInItsReferral) {
    const std::vector<std::pair<const char*, V>> cases = {
        {"into-sub.ref.test.", {"into-sub.ref.test.\t400\tIN\tCNAME\tdeep.sub.ref.test."}},
        {"at-sub.ref.test.", {"at-sub.ref.test.\t450\tIN\tCNAME\tsub.ref.test."}},
        {"chain-sub.ref.test.",
         {"chain-sub.ref.test.\t350\tIN\tCNAME\tinto-sub.ref.test.",
          "into-sub.ref.test.\t400\tIN\tCNAME\tdeep.sub.ref.test."}},
        {"x.dname-sub.ref.test.",
         {"dname-sub.ref.test.\t1000\tIN\tDNAME\tsub.ref.test.",
          "x.dname-sub.ref.test.\t1000\tIN\tCNAME\tx.sub.ref.test."}},
    };
    for (const auto& [name, chain] : cases) {
        for (ldns_rr_type t : {LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA, LDNS_RR_TYPE_MX}) {
            auto p = q(name, t);
            ASSERT_TRUE(p) << name;
            EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR) << name;
            EXPECT_TRUE(ldns_pkt_aa(p.get())) << name;
            EXPECT_EQ(answer(p), chain) << name;
            EXPECT_EQ(authority(p), referral) << name;
            EXPECT_EQ(additional(p), glue) << name;
        }
    }
    // The delegation itself is still a plain referral: not authoritative.
    auto direct = q("deep.sub.ref.test.", LDNS_RR_TYPE_A);
    EXPECT_FALSE(ldns_pkt_aa(direct.get()));
    EXPECT_TRUE(answer(direct).empty());
    EXPECT_EQ(authority(direct), referral);
    EXPECT_EQ(additional(direct), glue);
}

TEST_F(RespondChain, BurstAnswersExactlyLikeOneByOne) {
    std::vector<std::vector<uint8_t>> qs;
    const std::vector<QueryOpts> opts = {
        {}, {.edns = false}, {.edns = true, .payload = 512, .dnssec_ok = true}};
    for (const char* n :
         {"www.ref.test.", "WWW.ref.test.", "c1.ref.test.", "dangling.ref.test.",
          "x.dname.ref.test.", "y.dname.ref.test.", "Y.DNAME.ref.test.", "foo.wc.ref.test.",
          "foo.wcx.ref.test.", "into-sub.ref.test.", "INTO-SUB.ref.test.", "at-sub.ref.test.",
          "chain-sub.ref.test.", "x.dname-sub.ref.test.", "deep.sub.ref.test.", "host.ref.test.",
          "nothere.ref.test."})
        for (ldns_rr_type t :
             {LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA, LDNS_RR_TYPE_CNAME, LDNS_RR_TYPE_DNAME,
              LDNS_RR_TYPE_NS, LDNS_RR_TYPE_DS, LDNS_RR_TYPE_ANY})
            for (const QueryOpts& o : opts) qs.push_back(make_query(n, t, o));
    expect_burst_like_respond(*snap_, qs);
}

}  // namespace
}  // namespace anamed::test
