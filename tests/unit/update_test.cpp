// Dynamic updates: the update-policy's matching, wire-form changes (names read from messages,
// RDATA checked by type, comparison without case, their journal JSON) and
// ZoneStore::apply_wire's RFC 2136 §3.4.2 semantics.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "anamed/wire.hpp"
#include "config.hpp"
#include "test_util.hpp"
#include "update_policy.hpp"
#include "wire_change.hpp"
#include "zone_store.hpp"

namespace anamed {
namespace {

using test::TempDir;

std::string wire(const std::string& text) {
    return text_to_wire(text);
}

sockaddr_storage v4(const char* a) {
    sockaddr_storage s{};
    auto& in = reinterpret_cast<sockaddr_in&>(s);
    in.sin_family = AF_INET;
    inet_pton(AF_INET, a, &in.sin_addr);
    return s;
}

UpdatePolicy example_policy() {
    std::vector<UpdateRuleConfig> rules(3);
    rules[0].key = "acme";
    rules[0].types = {"TXT"};
    rules[0].name = "_acme-challenge";
    rules[0].match = "first-label";
    rules[1].key = "provisioner";
    rules[1].types = {"ALIAS", "A", "AAAA", "MX", "TXT"};
    rules[1].match = "below";
    rules[2].addresses = {"192.0.2.0/24"};
    rules[2].types = {"A"};
    rules[2].name = "dyn";
    rules[2].match = "exact";
    return UpdatePolicy::build(rules, "mywebservice.com", "test.yaml");
}

TEST(UpdatePolicy, AcmeOnlyTxtAtAcmeChallengeNames) {
    const UpdatePolicy p = example_policy();
    const std::string acme = lower_key(wire("acme."));
    const auto peer = v4("203.0.113.1");
    for (const char* ok :
         {"_acme-challenge.mywebservice.com.", "_acme-challenge.a.mywebservice.com.",
          "_ACME-challenge.a.b.c.mywebservice.com."})
        EXPECT_TRUE(p.allows(acme, peer, lower_key(wire(ok)), rrtype::TXT)) << ok;
    EXPECT_FALSE(
        p.allows(acme, peer, lower_key(wire("_acme-challenge.mywebservice.com.")), rrtype::A));
    for (const char* no :
         {"mywebservice.com.", "www.mywebservice.com.", "x._acme-challenge.mywebservice.com.",
          "_acme-challenge.example.com.", "_acme-challengex.mywebservice.com."})
        EXPECT_FALSE(p.allows(acme, peer, lower_key(wire(no)), rrtype::TXT)) << no;
}

TEST(UpdatePolicy, ProvisionerBelowTheApexOnlyItsTypes) {
    const UpdatePolicy p = example_policy();
    const std::string key = lower_key(wire("provisioner."));
    const auto peer = v4("203.0.113.1");
    const std::string cust = lower_key(wire("cust.mywebservice.com."));
    const std::string apex = lower_key(wire("mywebservice.com."));
    for (uint16_t t : {rrtype::ALIAS, rrtype::A, rrtype::AAAA, rrtype::MX, rrtype::TXT})
        EXPECT_TRUE(p.allows(key, peer, cust, t));
    EXPECT_FALSE(p.allows(key, peer, cust, rrtype::NS));
    EXPECT_FALSE(p.allows(key, peer, cust, rrtype::CNAME));
    for (uint16_t t : {rrtype::SOA, rrtype::NS, rrtype::A, rrtype::MX})
        EXPECT_FALSE(p.allows(key, peer, apex, t));
    EXPECT_FALSE(p.allows(lower_key(wire("acme.")), peer, cust, rrtype::A));
    EXPECT_FALSE(p.allows("", peer, cust, rrtype::A)) << "unsigned";
}

TEST(UpdatePolicy, AddressRulesTakeUnsignedUpdatesFromThere) {
    const UpdatePolicy p = example_policy();
    const std::string dyn = lower_key(wire("dyn.mywebservice.com."));
    EXPECT_TRUE(p.allows("", v4("192.0.2.77"), dyn, rrtype::A));
    EXPECT_FALSE(p.allows("", v4("192.0.3.77"), dyn, rrtype::A));
    EXPECT_FALSE(p.allows("", v4("192.0.2.77"), dyn, rrtype::AAAA));
    EXPECT_TRUE(p.knows("", v4("192.0.2.1")));
    EXPECT_FALSE(p.knows("", v4("10.0.0.1")));
    EXPECT_EQ(p.unsigned_rules().size(), 1u);
}

TEST(UpdatePolicy, BadRulesNameTheLine) {
    std::vector<UpdateRuleConfig> rules(1);
    rules[0].key = "k";
    rules[0].types = {"A"};
    rules[0].line = 7;
    rules[0].match = "everything";
    EXPECT_THROW(UpdatePolicy::build(rules, "z.test", "c.yaml"), ConfigError);
    rules[0].match = "first-label";  // needs a label below the apex
    EXPECT_THROW(UpdatePolicy::build(rules, "z.test", "c.yaml"), ConfigError);
    rules[0].match = "subdomain";
    rules[0].name = "elsewhere.example.";
    EXPECT_THROW(UpdatePolicy::build(rules, "z.test", "c.yaml"), ConfigError);
    rules[0].name = "@";
    rules[0].types = {"NOSUCHTYPE"};
    try {
        UpdatePolicy::build(rules, "z.test", "c.yaml");
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("c.yaml:7"), std::string::npos) << e.what();
    }
}

TEST(UpdatePolicy, ConfigSyntax) {
    TempDir dir;
    const std::string base =
        "keys:\n  - {name: acme, algorithm: hmac-sha256, secret: \"YWJj\"}\n"
        "zones:\n  - name: z.test\n    file: z.zone\n    update-policy:\n";
    const Config c = load_config(dir.write(
        "ok.yaml", base +
                       "      - {key: acme, types: [TXT], name: _acme-challenge, match: "
                       "first-label}\n      - {address: [192.0.2.1, 10.0.0.0/8], types: [ANY]}\n"));
    ASSERT_EQ(c.zones[0].update_policy.size(), 2u);
    EXPECT_EQ(c.zones[0].update_policy[0].match, "first-label");
    EXPECT_EQ(c.zones[0].update_policy[1].addresses.size(), 2u);
    for (const char* bad : {"      - {key: nokey, types: [TXT]}\n",  // undefined key
                            "      - {types: [TXT]}\n",              // neither key nor address
                            "      - {key: acme}\n",                 // no types
                            "      - {key: acme, types: [A], colour: red}\n"}) {
        EXPECT_THROW(load_config(dir.write("bad.yaml", base + bad)), ConfigError) << bad;
    }
}

TEST(WireChange, MessageNamesDecompressedLoopsRefused) {
    // "a.b." at 0, then "x" + pointer to it at 5
    const uint8_t msg[] = {1, 'a', 1, 'b', 0, 1, 'x', 0xC0, 0, 0xC0, 9};
    std::string out;
    EXPECT_EQ(read_message_name(msg, sizeof msg, 5, out), 9u);
    EXPECT_EQ(out, wire("x.a.b."));
    EXPECT_EQ(read_message_name(msg, sizeof msg, 9, out), 0u) << "a pointer to itself";
    const uint8_t fwd[] = {0xC0, 2, 0};
    EXPECT_EQ(read_message_name(fwd, sizeof fwd, 0, out), 0u) << "a forward pointer";
}

TEST(WireChange, RdataCheckedByItsTypesFields) {
    // An MX whose exchange is compressed against a name earlier in the message.
    std::string m = wire("mx.example.");
    const size_t rd = m.size();
    m += std::string("\x00\x0a\xc0\x00", 4);
    std::string out;
    const auto* p = reinterpret_cast<const uint8_t*>(m.data());
    EXPECT_EQ(read_rdata(p, m.size(), rd, 4, rrtype::MX, out), "");
    EXPECT_EQ(out, std::string("\x00\x0a", 2) + wire("mx.example."));
    const uint8_t a3[] = {192, 0, 2};
    EXPECT_NE(read_rdata(a3, 3, 0, 3, rrtype::A, out), "");
    const uint8_t txt[] = {5, 'a', 'b'};
    EXPECT_NE(read_rdata(txt, 3, 0, 3, rrtype::TXT, out), "");
    const uint8_t ds_short[] = {0, 1};
    EXPECT_NE(read_rdata(ds_short, 2, 0, 2, rrtype::DS, out), "") << "ldns checks DS";
    EXPECT_NE(read_rdata(ds_short, 2, 0, 0, rrtype::DS, out), "") << "an empty DS";
    EXPECT_EQ(read_rdata(ds_short, 2, 0, 2, 65280, out), "") << "an unknown type is opaque";
    const std::string alias = wire("www.example.");
    EXPECT_EQ(read_rdata(reinterpret_cast<const uint8_t*>(alias.data()), alias.size(), 0,
                         alias.size(), rrtype::ALIAS, out),
              "");
}

TEST(WireChange, SameRdataIgnoresCaseInNamesOnly) {
    EXPECT_TRUE(same_rdata(rrtype::NS, wire("NS1.Example."), wire("ns1.example.")));
    EXPECT_FALSE(same_rdata(rrtype::TXT,
                            "\x02"
                            "Ab",
                            "\x02"
                            "ab"));
}

TEST(WireChange, JsonRoundTrip) {
    WireChange c{WireChange::Op::add, "z.test.", wire("Www.z.test."),
                 rrtype::A,           60,        std::string("\xc0\x00\x02\x01", 4)};
    const WireChange back = wire_change_from_json(wire_change_to_json(c));
    EXPECT_EQ(back.op, c.op);
    EXPECT_EQ(back.owner, c.owner);
    EXPECT_EQ(back.rdata, c.rdata);
    EXPECT_EQ(back.ttl, 60u);
    EXPECT_TRUE(is_wire_change_json(wire_change_to_json(c)));
    EXPECT_THROW(wire_change_from_json({{"update", "add"}, {"zone", "z.test."}, {"owner", "zz"}}),
                 std::invalid_argument);
}

class ApplyWire : public ::testing::Test {
protected:
    void SetUp() override {
        const std::string f = dir_.write("z.zone", R"($ORIGIN z.test.
$TTL 300
@ SOA ns1 host 10 7200 3600 1209600 300
@ NS ns1
ns1 A 192.0.2.1
old CNAME ns1
)");
        ASSERT_EQ(store_.load({ZoneConfig{"z.test", f}}), 0u);
    }
    ChangeOutcome apply(std::vector<WireChange> changes) {
        for (auto& c : changes) c.zone = "z.test.";
        return store_.apply_wire(changes, [this] { return ++commits_, std::string(); });
    }
    uint32_t serial() { return store_.find("z.test")->serial(); }
    TempDir dir_;
    ZoneStore store_;
    int commits_ = 0;
};

TEST_F(ApplyWire, NothingChangedNoCommitNoSerial) {
    const auto out =
        apply({{WireChange::Op::del_rrset, "", wire("nothing.z.test."), rrtype::A},
               {WireChange::Op::del_name, "", wire("z.test."), 0},
               {WireChange::Op::del_rr, "", wire("z.test."), rrtype::NS, 0, wire("ns1.z.test.")}});
    EXPECT_EQ(out.error, "");
    EXPECT_TRUE(out.serials.empty());
    EXPECT_EQ(commits_, 0);
    EXPECT_EQ(serial(), 10u);
    EXPECT_TRUE(store_.find("z.test")->find(lower_key(wire("z.test.")))->has(rrtype::NS));
}

TEST_F(ApplyWire, OneSerialStepPerBatchAndSoaOnlyUpwards) {
    const std::string a(4, '\x01');
    auto out = apply({{WireChange::Op::add, "", wire("a.z.test."), rrtype::A, 60, a},
                      {WireChange::Op::add, "", wire("b.z.test."), rrtype::A, 60, a}});
    EXPECT_EQ(out.error, "");
    EXPECT_EQ(serial(), 11u);
    std::string soa = wire("ns1.z.test.") + wire("host.z.test.") + std::string(20, '\0');
    soa[soa.size() - 20 + 3] = 5;  // serial 5: lower, ignored
    out = apply({{WireChange::Op::add, "", wire("z.test."), rrtype::SOA, 300, soa}});
    EXPECT_EQ(serial(), 11u);
    soa[soa.size() - 20 + 3] = 50;  // serial 50: replaces, not bumped again
    out = apply({{WireChange::Op::add, "", wire("z.test."), rrtype::SOA, 300, soa}});
    EXPECT_EQ(out.error, "");
    EXPECT_EQ(serial(), 50u);
}

TEST_F(ApplyWire, ZoneRulesHoldAndNothingOfAFailedBatchApplies) {
    const std::string a(4, '\x01');
    const auto out =
        apply({{WireChange::Op::add, "", wire("c.z.test."), rrtype::A, 60, a},
               {WireChange::Op::add, "", wire("old.z.test."), rrtype::TXT, 60, "\x01x"}});
    EXPECT_NE(out.error.find("CNAME"), std::string::npos) << out.error;
    EXPECT_EQ(store_.find("z.test")->find(lower_key(wire("c.z.test."))), nullptr);
    EXPECT_EQ(commits_, 0);
    // A CNAME added where one is replaces it (§3.4.2.2).
    const auto replaced =
        apply({{WireChange::Op::add, "", wire("old.z.test."), rrtype::CNAME, 60, wire("x.test.")}});
    EXPECT_EQ(replaced.error, "");
    const auto cname =
        store_.find("z.test")->find(lower_key(wire("old.z.test.")))->find(rrtype::CNAME);
    ASSERT_TRUE(cname);
    EXPECT_EQ(cname->rdata.size(), 1u);
    EXPECT_EQ(std::string(cname->rdata[0]), wire("x.test."));
}

}  // namespace
}  // namespace anamed
