// ALIAS at the answer path (respond) and upstream-reply chain following.
#include <gtest/gtest.h>

#include <array>
#include <fstream>

#include "alias_resolver.hpp"
#include "test_util.hpp"
#include "upstream.hpp"

namespace anamed::test {
namespace {

const char* alias_zone =
    "$ORIGIN alias.test.\n$TTL 300\n"
    "@ SOA ns hm 1 2 3 4 60\n@ NS ns\nns A 192.0.2.1\n"
    "@ 30 ALIAS lb.offsite.example.\n@ MX 10 mail.example.\n"
    "customer 100 ALIAS lb.offsite.example.\ncustomer MX 10 mail.example.\ncustomer TXT \"v\"\n"
    "fallback ALIAS down.offsite.example.\nfallback A 192.0.2.50\n"
    "nofallback ALIAS down.offsite.example.\nnofallback MX 10 mail.example.\n"
    "*.wild ALIAS lb.offsite.example.\n"
    "www CNAME customer\n"
    "* TXT \"apex wildcard\"\n";

std::string ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    return std::string{char(a), char(b), char(c), char(d)};
}

class Alias : public ::testing::Test {
protected:
    void SetUp() override {
        const TempDir tmp;
        const std::string path = tmp.file("alias.zone");
        std::ofstream(path) << alias_zone;
        LoadResult r = load_zone_file("alias.test", path);
        for (const auto& d : r.diags) ADD_FAILURE() << d.str();
        zone_ = std::move(r.zone);
    }
    void build(std::map<std::string, std::shared_ptr<const AliasAnswer>> answers) {
        snap_ = compile({zone_.get()}, 1, [&](const std::string& t) {
            auto it = answers.find(name_to_text(t));
            return it == answers.end() ? nullptr : it->second;
        });
    }
    Pkt q(const std::string& name, ldns_rr_type t) { return ask(*snap_, name, t); }

    std::unique_ptr<Zone> zone_;
    std::unique_ptr<LiveSnapshot> snap_;
};

TEST_F(Alias, AddressesAreServedAtTheAliasNameBesideMx) {
    build({{"lb.offsite.example.",
            make_alias_answer(AliasAnswer::resolved, {ipv4(203, 0, 113, 10)}, {}, 60)}});
    auto a = q("customer.alias.test.", LDNS_RR_TYPE_A);
    EXPECT_TRUE(ldns_pkt_aa(a.get()));
    EXPECT_EQ(answer(a), V{"customer.alias.test.\t60\tIN\tA\t203.0.113.10"});
    EXPECT_EQ(answer(q("customer.alias.test.", LDNS_RR_TYPE_MX)),
              V{"customer.alias.test.\t300\tIN\tMX\t10 mail.example."});
    auto aaaa = q("customer.alias.test.", LDNS_RR_TYPE_AAAA);  // target has no AAAA: NODATA
    EXPECT_EQ(ldns_pkt_get_rcode(aaaa.get()), LDNS_RCODE_NOERROR);
    EXPECT_TRUE(answer(aaaa).empty());
    EXPECT_EQ(authority(aaaa).size(), 1u);
}

TEST_F(Alias, TtlIsTheMinimumOfAliasAndChain) {
    build({{"lb.offsite.example.",
            make_alias_answer(AliasAnswer::resolved, {ipv4(203, 0, 113, 10)}, {}, 3600)}});
    EXPECT_EQ(answer(q("customer.alias.test.", LDNS_RR_TYPE_A)),
              V{"customer.alias.test.\t100\tIN\tA\t203.0.113.10"});
    EXPECT_EQ(answer(q("alias.test.", LDNS_RR_TYPE_A)), V{"alias.test.\t30\tIN\tA\t203.0.113.10"});
}

TEST_F(Alias, WildcardAliasAndCnameToAliasWork) {
    build({{"lb.offsite.example.",
            make_alias_answer(AliasAnswer::resolved, {ipv4(203, 0, 113, 10)}, {}, 60)}});
    EXPECT_EQ(answer(q("Any.Wild.alias.test.", LDNS_RR_TYPE_A)),
              V{"Any.Wild.alias.test.\t60\tIN\tA\t203.0.113.10"});
    EXPECT_EQ(answer(q("www.alias.test.", LDNS_RR_TYPE_A)),
              (V{"www.alias.test.\t300\tIN\tCNAME\tcustomer.alias.test.",
                 "customer.alias.test.\t60\tIN\tA\t203.0.113.10"}));
}

TEST_F(Alias, AliasTypeReturnsTheRecord) {
    build({});
    auto p = q("customer.alias.test.", ldns_rr_type(rrtype::ALIAS));
    ASSERT_EQ(answer(p).size(), 1u);
    EXPECT_NE(answer(p)[0].find("TYPE65401"), std::string::npos);
}

TEST_F(Alias, NeverResolvedServesFallbackOrServfail) {
    build({});
    EXPECT_EQ(answer(q("fallback.alias.test.", LDNS_RR_TYPE_A)),
              V{"fallback.alias.test.\t300\tIN\tA\t192.0.2.50"});
    EXPECT_EQ(ldns_pkt_get_rcode(q("fallback.alias.test.", LDNS_RR_TYPE_AAAA).get()),
              LDNS_RCODE_NOERROR);
    EXPECT_EQ(ldns_pkt_get_rcode(q("nofallback.alias.test.", LDNS_RR_TYPE_A).get()),
              LDNS_RCODE_SERVFAIL);
    EXPECT_EQ(ldns_pkt_get_rcode(q("nofallback.alias.test.", LDNS_RR_TYPE_MX).get()),
              LDNS_RCODE_NOERROR);
}

TEST_F(Alias, ResolvedAnswerReplacesTheFallback) {
    build({{"down.offsite.example.",
            make_alias_answer(AliasAnswer::resolved, {ipv4(198, 51, 100, 1)}, {}, 60)}});
    EXPECT_EQ(answer(q("fallback.alias.test.", LDNS_RR_TYPE_A)),
              V{"fallback.alias.test.\t60\tIN\tA\t198.51.100.1"});
}

TEST_F(Alias, FailedPastStaleLimitIsServfailForAddressesOnly) {
    build({{"lb.offsite.example.", make_alias_answer(AliasAnswer::failed, {}, {}, 0)}});
    EXPECT_EQ(ldns_pkt_get_rcode(q("customer.alias.test.", LDNS_RR_TYPE_A).get()),
              LDNS_RCODE_SERVFAIL);
    EXPECT_EQ(ldns_pkt_get_rcode(q("customer.alias.test.", LDNS_RR_TYPE_AAAA).get()),
              LDNS_RCODE_SERVFAIL);
    EXPECT_EQ(ldns_pkt_get_rcode(q("customer.alias.test.", LDNS_RR_TYPE_TXT).get()),
              LDNS_RCODE_NOERROR);
}

TEST_F(Alias, SlotSwapChangesEveryNameOnTheTarget) {
    build({{"lb.offsite.example.",
            make_alias_answer(AliasAnswer::resolved, {ipv4(203, 0, 113, 10)}, {}, 60)}});
    ASSERT_EQ(snap_->alias_targets.size(), 2u);
    auto next = make_alias_answer(AliasAnswer::resolved,
                                  {ipv4(203, 0, 113, 20), ipv4(203, 0, 113, 21)}, {}, 60);
    for (size_t i = 0; i < snap_->alias_targets.size(); ++i)
        if (name_to_text(snap_->alias_targets[i]) == "lb.offsite.example.")
            snap_->aliases[i].store(next.get());
    EXPECT_EQ(answer(q("customer.alias.test.", LDNS_RR_TYPE_A)).size(), 2u);
    EXPECT_EQ(answer(q("x.wild.alias.test.", LDNS_RR_TYPE_A)).size(), 2u);
}

// respond_burst serves resolved ALIAS addresses on a short path of its own and every other
// state through the general one: either way the bytes and the report are respond()'s.
TEST_F(Alias, BurstAnswersLikeRespondInEveryState) {
    build({{"lb.offsite.example.",
            make_alias_answer(AliasAnswer::resolved, {ipv4(203, 0, 113, 10), ipv4(203, 0, 113, 11)},
                              {std::string(15, '\0') + '\1'}, 3600, 20)},
           {"down.offsite.example.", make_alias_answer(AliasAnswer::failed, {}, {}, 0)}});
    std::vector<std::vector<uint8_t>> qs;
    for (const char* n :
         {"alias.test.", "customer.alias.test.", "CUSTOMER.alias.test.", "fallback.alias.test.",
          "nofallback.alias.test.", "x.wild.alias.test.", "www.alias.test.", "WWW.alias.test.",
          "ns.alias.test.", "nothere.alias.test."})
        for (ldns_rr_type t : {LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA, LDNS_RR_TYPE_MX, LDNS_RR_TYPE_TXT,
                               ldns_rr_type(rrtype::ALIAS)})
            for (bool edns : {true, false}) qs.push_back(make_query(n, t, QueryOpts{.edns = edns}));
    expect_burst_like_respond(*snap_, qs);
    // The capped TTLs themselves: 100 from the ALIAS record over the target's 3600, 20 under it.
    EXPECT_EQ(answer(q("customer.alias.test.", LDNS_RR_TYPE_A)),
              (V{"customer.alias.test.\t100\tIN\tA\t203.0.113.10",
                 "customer.alias.test.\t100\tIN\tA\t203.0.113.11"}));
    EXPECT_EQ(answer(q("customer.alias.test.", LDNS_RR_TYPE_AAAA)),
              V{"customer.alias.test.\t20\tIN\tAAAA\t::1"});
}

// Upstream replies, built with ldns, through follow_chain().
std::vector<uint8_t> reply(ldns_pkt_rcode rc, const std::vector<std::string>& rrs) {
    ldns_pkt* p = ldns_pkt_new();
    ldns_pkt_set_qr(p, true);
    ldns_pkt_set_rcode(p, rc);
    for (const auto& s : rrs) {
        ldns_rr* rr = nullptr;
        EXPECT_EQ(ldns_rr_new_frm_str(&rr, s.c_str(), 0, nullptr, nullptr), LDNS_STATUS_OK) << s;
        ldns_pkt_push_rr(
            p, s.find("SOA") != std::string::npos ? LDNS_SECTION_AUTHORITY : LDNS_SECTION_ANSWER,
            rr);
    }
    uint8_t* wire = nullptr;
    size_t len = 0;
    ldns_pkt2wire(&wire, p, &len);
    std::vector<uint8_t> out(wire, wire + len);
    free(wire);
    ldns_pkt_free(p);
    return out;
}

TEST(FollowChain, CnameAndDnameChainsReachTheAddressesWithMinimumTtl) {
    auto r =
        reply(LDNS_RCODE_NOERROR,
              {"Target.example. 300 IN CNAME a.b.example.", "b.example. 100 IN DNAME c.example.",
               "a.c.example. 200 IN A 192.0.2.1", "a.c.example. 200 IN A 192.0.2.2"});
    LookupResult res = follow_chain(r.data(), r.size(), text_to_wire("target.EXAMPLE."), rrtype::A);
    ASSERT_TRUE(res.ok) << res.error;
    EXPECT_EQ(res.rdata.size(), 2u);
    EXPECT_EQ(res.ttl, 100u);
}

TEST(FollowChain, LoopsAndLongChainsFail) {
    auto loop = reply(LDNS_RCODE_NOERROR,
                      {"a.example. 60 IN CNAME b.example.", "b.example. 60 IN CNAME a.example."});
    EXPECT_FALSE(follow_chain(loop.data(), loop.size(), text_to_wire("a.example."), rrtype::A).ok);
    std::vector<std::string> chain;
    for (int i = 0; i < 12; ++i)
        chain.push_back("c" + std::to_string(i) + ".example. 60 IN CNAME c" +
                        std::to_string(i + 1) + ".example.");
    chain.push_back("c12.example. 60 IN A 192.0.2.1");
    auto longc = reply(LDNS_RCODE_NOERROR, chain);
    EXPECT_FALSE(
        follow_chain(longc.data(), longc.size(), text_to_wire("c0.example."), rrtype::A).ok);
}

TEST(FollowChain, NxdomainIsAnEmptySuccessWithTheNegativeTtl) {
    auto r = reply(LDNS_RCODE_NXDOMAIN, {"example. 900 IN SOA ns.example. hm.example. 1 2 3 4 45"});
    LookupResult res = follow_chain(r.data(), r.size(), text_to_wire("nx.example."), rrtype::A);
    ASSERT_TRUE(res.ok);
    EXPECT_TRUE(res.nxdomain);
    EXPECT_TRUE(res.rdata.empty());
    EXPECT_EQ(res.ttl, 45u);
}

TEST(FollowChain, ServfailIsAFailure) {
    auto r = reply(LDNS_RCODE_SERVFAIL, {});
    LookupResult res = follow_chain(r.data(), r.size(), text_to_wire("x.example."), rrtype::A);
    EXPECT_FALSE(res.ok);
    EXPECT_NE(res.error.find("SERVFAIL"), std::string::npos);
}

}  // namespace
}  // namespace anamed::test

namespace anamed::test {
namespace {

// Targets inside served zones are resolved from the zone data, like respond() answers them.
TEST(AliasLocal, WildcardsChainsAndLoopsInsideTheServedZones) {
    const TempDir tmp;
    const std::string path = tmp.file("local.zone");
    std::ofstream(path)
        << "$ORIGIN p.test.\n$TTL 300\n@ SOA ns hm 1 2 3 4 60\n@ NS ns\nns A 192.0.2.1\n"
           "*.wild 100 A 192.0.2.77\nhost 50 CNAME x.wild\nl1 CNAME l2\nl2 CNAME l1\n"
           "a1 ALIAS a2\na2 ALIAS ns\nv4 A 192.0.2.4\nsub NS ns.elsewhere.\n";
    LoadResult r = load_zone_file("p.test", path);
    ASSERT_TRUE(r.ok());
    AliasResolver res(AliasOptions{});
    auto key = [](const char* n) { return lower_key(text_to_wire(n)); };
    res.set_targets({key("x.wild.p.test."), key("host.p.test."), key("l1.p.test."),
                     key("a1.p.test."), key("v4.p.test."), key("in.sub.p.test.")},
                    {r.zone.get()});
    auto wild = res.answer(key("x.wild.p.test."));
    EXPECT_EQ(wild->state, AliasAnswer::resolved);
    EXPECT_EQ(wild->a_count, 1);
    auto host = res.answer(key("host.p.test."));
    ASSERT_EQ(host->a_count, 1);
    EXPECT_EQ(load32(reinterpret_cast<const uint8_t*>(host->a.data()) + 6),
              50u);  // min along the chain
    EXPECT_EQ(res.answer(key("l1.p.test."))->state, AliasAnswer::unresolved);  // loop: a failure
    EXPECT_EQ(res.answer(key("a1.p.test."))->a_count, 1);  // ALIAS -> ALIAS -> ns
    auto v4 = res.answer(key("v4.p.test."));
    EXPECT_EQ(v4->a_count, 1);
    EXPECT_EQ(v4->aaaa_count, 0);
    EXPECT_EQ(load32(reinterpret_cast<const uint8_t*>(v4->a.data()) + 6),
              300u);  // not the AAAA's negative TTL
    for (const auto& s : res.status())
        if (s.target == "in.sub.p.test.") {
            EXPECT_FALSE(s.local);  // below a delegation: upstream
        }
}

}  // namespace
}  // namespace anamed::test
