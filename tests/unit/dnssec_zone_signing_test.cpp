// Signed copies for the compiler: signed once, kept current by patches that equal a fresh
// sign of the changed zone, checked by ldns.
#include "dnssec_zone_signing.hpp"

#include "dnssec_test_util.hpp"
#include "zone_edit.hpp"

namespace anamed {
namespace {

using namespace test;

std::map<std::string, std::vector<std::string>> dnssec_records(const Zone& z) {
    std::map<std::string, std::vector<std::string>> out;
    for (const auto& [key, node] : z.nodes)
        for (uint16_t t : {47, 48, 50, 51})
            if (const std::optional<RRset> rs = node.find(t))
                for (std::string_view rd : rs->rdata) out[key.str()].emplace_back(rd);
    return out;
}

class ZoneSigningTest : public ::testing::TestWithParam<bool> {};

TEST_P(ZoneSigningTest, SignedOncePatchedLikeAFreshSign) {
    const TempDir keys;
    std::unique_ptr<Zone> truth = load_test_zone("example.test", data_path("test.zone"));
    for (KeyRole role : {KeyRole::ksk, KeyRole::zsk}) {
        DnssecKey k = make_key(*truth, 13, role);
        ASSERT_EQ(write_key_pair(keys.path(), k, sign_time - 86400), "");
    }
    const ZoneConfig zc = signing_config("example.test", keys.path(), GetParam());
    ZoneConfig plain;
    plain.name = "other.test";
    std::unique_ptr<Zone> other = load_test_zone("other.test", data_path("second.zone"));
    ZoneSigning signing;
    signing.configure({zc, plain});

    std::vector<std::string> errors;
    const std::vector<const Zone*> view =
        signing.view({truth.get(), other.get()}, sign_time, errors);
    EXPECT_TRUE(errors.empty()) << errors.front();
    ASSERT_NE(view[0], truth.get());
    EXPECT_EQ(view[1], other.get());  // no dnssec: served as it is
    EXPECT_TRUE(verify_with_ldns(*view[0], time_t(sign_time)).bad.empty());
    // Nothing changed: the same signed copy.
    EXPECT_EQ(signing.view({truth.get()}, sign_time + 60, errors)[0], view[0]);

    // Runtime changes: a new name, new addresses at an old one, the serial bumped.
    const std::string fresh_name = text_to_wire("fresh.example.test.");
    const std::string both = text_to_wire("both.example.test.");
    truth->nodes[fresh_name].add(1, 300, std::string("\xC0\x00\x02\x05", 4));
    truth->nodes.find(both)->second.erase(1, nullptr);
    truth->nodes.find(both)->second.add(1, 300, std::string("\xC0\x00\x02\x06", 4));
    bump_serial(truth->nodes.find(truth->apex)->second);
    ASSERT_EQ(signing.patch(*truth, {fresh_name, both}, sign_time + 120), "");
    const Zone& patched = *signing.signed_zone(truth->apex);
    EXPECT_EQ(patched.serial(), truth->serial());
    const Verified v = verify_with_ldns(patched, time_t(sign_time + 120));
    EXPECT_TRUE(v.bad.empty()) << v.bad.front();

    // The same as signing the changed zone from scratch (RRSIGs aside: times differ).
    ZoneSigning again;
    again.configure({zc});
    const Zone* fresh = again.view({truth.get()}, sign_time + 120, errors)[0];
    EXPECT_EQ(dnssec_records(patched), dnssec_records(*fresh));

    // A new delegation: the zone is signed whole, the names below the cut leave the chain.
    const std::string cut = text_to_wire("fresh.example.test.");
    truth->nodes.find(cut)->second.add(2, 300, text_to_wire("ns.elsewhere.example."));
    truth->nodes[text_to_wire("below.fresh.example.test.")].add(1, 300, std::string(4, '\x01'));
    bump_serial(truth->nodes.find(truth->apex)->second);
    ASSERT_EQ(
        signing.patch(*truth, {cut, text_to_wire("below.fresh.example.test.")}, sign_time + 180),
        "");
    const Zone& recut = *signing.signed_zone(truth->apex);
    EXPECT_TRUE(verify_with_ldns(recut, time_t(sign_time + 180)).bad.empty());
    EXPECT_FALSE(recut.find(text_to_wire("below.fresh.example.test."))->has(46));
}

INSTANTIATE_TEST_SUITE_P(Chains, ZoneSigningTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "nsec3" : "nsec"; });

TEST(ZoneSigningTest, WithoutKeysTheZoneIsServedUnsignedAndTheErrorSaysSo) {
    const TempDir empty;
    std::unique_ptr<Zone> truth = load_test_zone("example.test", data_path("test.zone"));
    ZoneConfig zc;
    zc.name = "example.test.";
    zc.dnssec.mode = DnssecMode::sign;
    zc.dnssec.key_dir = empty.path();
    ZoneSigning signing;
    signing.configure({zc});
    std::vector<std::string> errors;
    EXPECT_EQ(signing.view({truth.get()}, sign_time, errors)[0], truth.get());
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_NE(errors[0].find("example.test."), std::string::npos) << errors[0];
    EXPECT_NE(errors[0].find("anamectl zone key generate"), std::string::npos) << errors[0];
}

}  // namespace
}  // namespace anamed
