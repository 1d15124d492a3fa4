// Identity: CH TXT id.server and friends, and NSID (RFC 5001), from the snapshot's
// precompiled records; off unless configured; respond_burst gives the same bytes.
#include <gtest/gtest.h>

#include "test_util.hpp"

namespace anamed::test {
namespace {

// A query in class `cls`, with an EDNS NSID option when `nsid`, without EDNS otherwise.
std::vector<uint8_t> query(const std::string& name, ldns_rr_type type, ldns_rr_class cls,
                           bool nsid) {
    QueryOpts o;
    o.cls = cls;
    o.edns = nsid;
    o.edns_options = std::string("\0\3\0\0", 4);
    return make_query(name, type, o);
}

std::string edns_data(const Pkt& p) {
    const ldns_rdf* d = ldns_pkt_edns_data(p.get());
    return d ? std::string(reinterpret_cast<const char*>(ldns_rdf_data(d)), ldns_rdf_size(d)) : "";
}

class Identity : public ::testing::Test {
protected:
    void SetUp() override {
        LoadResult r = load_zone_file("example.test", data_path("test.zone"));
        ASSERT_TRUE(r.ok());
        zone_ = std::move(r.zone);
        snap_ = compile({zone_.get()}, 1);
    }
    void configure(const IdentityConfig& c) { snap_->identity = make_identity(c); }
    Pkt ask(const std::vector<uint8_t>& q, Transport t = Transport::udp) {
        return test::ask(*snap_, q, t);
    }
    std::unique_ptr<Zone> zone_;
    std::unique_ptr<Snapshot> snap_;
};

TEST_F(Identity, OffByDefault) {
    for (const char* name : {"id.server.", "hostname.bind.", "version.server.", "version.bind."}) {
        Pkt p = ask(query(name, LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH, false));
        ASSERT_TRUE(p);
        EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_REFUSED) << name;
    }
    Pkt p = ask(query("www.example.test.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, true));
    EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
    EXPECT_EQ(edns_data(p), "");
}

TEST_F(Identity, ChaosRecordsAsConfigured) {
    configure({"", "node-1", "", "anamed 1"});
    Pkt p = ask(query("ID.server.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH, false));
    EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
    EXPECT_TRUE(ldns_pkt_aa(p.get()));
    EXPECT_EQ(answer(p), std::vector<std::string>{"ID.server.\t0\tCH\tTXT\t\"node-1\""});
    p = ask(query("version.bind.", LDNS_RR_TYPE_ANY, LDNS_RR_CLASS_CH, false), Transport::tcp);
    EXPECT_EQ(answer(p), std::vector<std::string>{"version.bind.\t0\tCH\tTXT\t\"anamed 1\""});
    p = ask(query("id.server.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_CH, false));
    EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);  // NODATA
    EXPECT_TRUE(answer(p).empty());
    p = ask(query("hostname.bind.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH, false));
    EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_REFUSED);  // not configured
    p = ask(query("www.example.test.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH, false));
    EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_REFUSED);
}

TEST_F(Identity, NsidOnlyWhenAskedFor) {
    configure({"ns-a", "", "", ""});
    Pkt p = ask(query("www.example.test.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, true));
    EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
    EXPECT_FALSE(answer(p).empty());
    EXPECT_EQ(edns_data(p), std::string("\0\3\0\4ns-a", 8));
    p = ask(query("nothere.example.test.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, true));
    EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NXDOMAIN);
    EXPECT_EQ(edns_data(p), std::string("\0\3\0\4ns-a", 8));
    p = test::ask(*snap_, "www.example.test.", LDNS_RR_TYPE_A);  // EDNS without the option
    EXPECT_EQ(edns_data(p), "");
}

TEST_F(Identity, BurstAnswersAsRespondDoes) {
    configure({"ns-b", "id-b", "host-b", "v-b"});
    expect_burst_like_respond(*snap_,
                              {query("www.example.test.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, true),
                               query("www.example.test.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, false),
                               query("id.server.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH, true),
                               query("hostname.bind.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH, false),
                               query("other.bind.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH, false)});
}

TEST(IdentityConfig, LongStringsAreCutToOneTxtString) {
    const anamed::Identity id =
        make_identity({std::string(300, 'n'), std::string(300, 'i'), "", ""});
    EXPECT_EQ(id.nsid_option.size(), 4u + 255u);
    EXPECT_EQ(id.chaos_txt[0].size(), 12u + 1u + 255u);
    EXPECT_TRUE(id.chaos_txt[1].empty());
}

}  // namespace
}  // namespace anamed::test
