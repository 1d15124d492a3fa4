// The zone signer, checked by ldns as an independent validator: every RRSIG it writes must
// verify against the zone's DNSKEY RRset, over exactly the RRsets RFC 4035 §2.2 says.
#include "dnssec_test_util.hpp"

namespace anamed {
namespace {

using namespace test;

std::string key_of(const char* text) {
    return text_to_wire(text);
}

struct SignCase {
    uint8_t alg;
    bool split;  // KSK + ZSK, else one CSK
};

class SignZone : public ::testing::TestWithParam<SignCase> {};

TEST_P(SignZone, EveryAuthoritativeRRsetVerifiesWithLdns) {
    std::unique_ptr<Zone> z = load_test_zone("example.test", data_path("test.zone"));
    std::vector<DnssecKey> keys;
    if (GetParam().split) {
        keys.push_back(make_key(*z, GetParam().alg, KeyRole::ksk));
        keys.push_back(make_key(*z, GetParam().alg, KeyRole::zsk));
    } else {
        keys.push_back(make_key(*z, GetParam().alg, KeyRole::csk));
    }
    const ZoneSigner signer(z->apex, keys, SignPolicy{}, sign_time);
    ASSERT_EQ(signer.sign_zone(*z), "");

    const Verified v = verify_with_ldns(*z, time_t(sign_time));
    EXPECT_TRUE(v.bad.empty()) << v.bad.front();
    EXPECT_GT(v.good, 40u);

    // The apex: its RRsets, DNSKEY and NSEC signed.
    const std::vector<uint16_t> apex = covered_types(*z, z->apex);
    for (uint16_t t : {2, 6, 15, 16, 47, 48})
        EXPECT_NE(std::find(apex.begin(), apex.end(), t), apex.end()) << t;
    // A delegation: its DS and NSEC only, never its NS; without DS, only the NSEC.
    EXPECT_EQ(covered_types(*z, key_of("sub.example.test.")), (std::vector<uint16_t>{43, 47}));
    EXPECT_EQ(covered_types(*z, key_of("sub2.example.test.")), (std::vector<uint16_t>{47}));
    // Glue and names below a cut: nothing.
    EXPECT_TRUE(covered_types(*z, key_of("ns.sub.example.test.")).empty());
    EXPECT_TRUE(covered_types(*z, key_of("*.sub.example.test.")).empty());
    EXPECT_FALSE(z->find(key_of("ns.sub.example.test."))->has(47));
    // With a KSK and a ZSK, the KSK signs DNSKEY only and the ZSK everything else.
    if (GetParam().split) {
        const RdataSpan apex_sigs = z->find(z->apex)->find(46)->rdata;
        for (std::string_view rd : apex_sigs) {
            const uint16_t covered = load16(reinterpret_cast<const uint8_t*>(rd.data()));
            const uint16_t tag = load16(reinterpret_cast<const uint8_t*>(rd.data() + 16));
            EXPECT_EQ(tag, covered == 48 ? keys[0].tag : keys[1].tag) << covered;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Keys, SignZone,
                         ::testing::Values(SignCase{13, false}, SignCase{13, true},
                                           SignCase{15, false}, SignCase{8, true}),
                         [](const auto& info) {
                             return "alg" + std::to_string(info.param.alg) +
                                    (info.param.split ? "_ksk_zsk" : "_csk");
                         });

TEST(SignZone, WildcardLabelsCanonicalNamesAndTheValidityWindow) {
    const TempDir dir;
    const std::string file = dir.write("z.zone",
                                       "$ORIGIN Example.Test.\n$TTL 300\n"
                                       "@ SOA NS1.Example.Test. Host.Example.Test. 1 2 3 4 60\n"
                                       "@ NS NS1\nNS1 A 192.0.2.1\n"
                                       "Upper MX 10 MAIL.Example.TEST.\n"
                                       "*.W TXT \"wild\"\n");
    std::unique_ptr<Zone> z = load_test_zone("example.test", file);
    SignPolicy policy;
    policy.validity = 10 * 86400;
    policy.jitter = 86400;
    const ZoneSigner signer(z->apex, {make_key(*z, 13, KeyRole::csk)}, policy, sign_time);
    ASSERT_EQ(signer.sign_zone(*z), "");
    const Verified v = verify_with_ldns(*z, time_t(sign_time));
    EXPECT_TRUE(v.bad.empty()) << v.bad.front();
    // *.w.example.test: three labels, the wildcard's not counted (RFC 4034 §3.1.3).
    const std::string_view wild = z->find(key_of("*.w.example.test."))->find(46)->rdata[0];
    EXPECT_EQ(uint8_t(wild[3]), 3);
    // Expirations lie in [now + validity - jitter, now + validity] and are not all equal;
    // inceptions an hour back.
    std::set<uint32_t> expirations;
    for (const auto& [key, node] : z->nodes)
        if (const std::optional<RRset> sigs = node.find(46))
            for (std::string_view rd : sigs->rdata) {
                const uint32_t exp = load32(reinterpret_cast<const uint8_t*>(rd.data() + 8));
                const uint32_t inc = load32(reinterpret_cast<const uint8_t*>(rd.data() + 12));
                EXPECT_LE(exp, uint32_t(sign_time + policy.validity));
                EXPECT_GE(exp, uint32_t(sign_time + policy.validity - policy.jitter));
                EXPECT_EQ(inc, uint32_t(sign_time - 3600));
                expirations.insert(exp);
            }
    EXPECT_GT(expirations.size(), 3u);
    // A validator past the window refuses them.
    const Verified late = verify_with_ldns(*z, time_t(sign_time + policy.validity + 1));
    EXPECT_EQ(late.good, 0u);
    EXPECT_FALSE(late.bad.empty());
}

TEST(SignZone, ResigningAnAliasOwnersAddressesReplacesTheirSignatures) {
    std::unique_ptr<Zone> z = load_test_zone("example.test", data_path("test.zone"));
    const std::vector<DnssecKey> keys{make_key(*z, 13, KeyRole::ksk),
                                      make_key(*z, 13, KeyRole::zsk)};
    ZoneSigner signer(z->apex, keys, SignPolicy{}, sign_time);
    ASSERT_EQ(signer.sign_zone(*z), "");
    const std::string both = key_of("both.example.test.");
    ZoneNode& node = z->nodes.find(both)->second;
    // New addresses, as the ALIAS resolver would write them.
    node.erase(1, nullptr);
    node.add(1, 60, std::string("\xC0\x00\x02\x63", 4));
    node.add(1, 60, std::string("\xC0\x00\x02\x64", 4));
    node.add(28, 60, std::string(16, '\x20'));
    EXPECT_FALSE(verify_with_ldns(*z, time_t(sign_time)).bad.empty());

    const ZoneSigner later(z->apex, keys, SignPolicy{}, sign_time + 600);
    ASSERT_EQ(later.resign_addresses(*z, both), "");
    const Verified v = verify_with_ldns(*z, time_t(sign_time + 600));
    EXPECT_TRUE(v.bad.empty()) << v.bad.front();
    size_t a_sigs = 0;
    const RdataSpan both_sigs = z->find(both)->find(46)->rdata;
    for (std::string_view rd : both_sigs)
        if (load16(reinterpret_cast<const uint8_t*>(rd.data())) == 1) ++a_sigs;
    EXPECT_EQ(a_sigs, 1u);  // the ZSK's new one; the old one is gone
    // A removed RRset loses its signatures.
    z->nodes.find(both)->second.erase(28, nullptr);
    ASSERT_EQ(later.resign(*z, both, 28), "");
    EXPECT_EQ(covered_types(*z, both), (std::vector<uint16_t>{1, 15, 16, 47}));
}

TEST(SignZone, ResigningReplacesAnOldSignatureSet) {
    std::unique_ptr<Zone> z = load_test_zone("example.test", data_path("test.zone"));
    const std::vector<DnssecKey> keys{make_key(*z, 15, KeyRole::csk)};
    ASSERT_EQ(ZoneSigner(z->apex, keys, SignPolicy{}, sign_time).sign_zone(*z), "");
    const size_t first = verify_with_ldns(*z, time_t(sign_time)).good;
    // Signing a signed zone again replaces its DNSSEC records instead of adding to them.
    ASSERT_EQ(ZoneSigner(z->apex, keys, SignPolicy{}, sign_time + 10).sign_zone(*z), "");
    const Verified v = verify_with_ldns(*z, time_t(sign_time + 10));
    EXPECT_TRUE(v.bad.empty());
    EXPECT_EQ(v.good, first);
    EXPECT_EQ(z->find(z->apex)->find(48)->rdata.size(), 1u);
}

TEST(SignZone, RefusesWithoutKeysOrForAnotherZone) {
    std::unique_ptr<Zone> z = load_test_zone("example.test", data_path("test.zone"));
    EXPECT_NE(ZoneSigner(z->apex, {}, SignPolicy{}, sign_time).sign_zone(*z), "");
    DnssecKey other;
    ASSERT_EQ(generate_key(text_to_wire("other.test."), 13, KeyRole::csk, 0, other), "");
    EXPECT_NE(ZoneSigner(z->apex, {other}, SignPolicy{}, sign_time).sign_zone(*z), "");
    // A key not active yet does not sign.
    DnssecKey future = make_key(*z, 13, KeyRole::csk);
    future.activate = sign_time + 100;
    EXPECT_NE(ZoneSigner(z->apex, {future}, SignPolicy{}, sign_time).sign_zone(*z), "");
    EXPECT_FALSE(z->find(z->apex)->has(46));
}

}  // namespace
}  // namespace anamed
