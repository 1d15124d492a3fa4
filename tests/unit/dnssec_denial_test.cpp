// Canonical forms and the NSEC/NSEC3 chains, against the RFCs' own examples.
#include "dnssec_canonical.hpp"
#include "dnssec_chain.hpp"
#include "dnssec_test_util.hpp"

namespace anamed {
namespace {

using namespace test;

std::string w(const char* text) {
    return text_to_wire(text);
}

TEST(DnssecCanonical, NameOrderOfRfc4034Section61) {
    // RFC 4034 §6.1's example, in its order (lower case; "\001" and "\200" as bytes).
    const std::vector<std::string> ordered{w("example."),
                                           w("a.example."),
                                           w("yljkjljk.a.example."),
                                           w("z.a.example."),
                                           w("zabc.a.example."),
                                           w("z.example."),
                                           std::string("\x01\x01\x01z\x07"
                                                       "example",
                                                       12) +
                                               '\0',
                                           w("*.z.example."),
                                           std::string("\x01\xC8\x01z\x07"
                                                       "example",
                                                       12) +
                                               '\0'};
    for (size_t i = 0; i + 1 < ordered.size(); ++i) {
        EXPECT_LT(canonical_compare(ordered[i], ordered[i + 1]), 0) << i;
        EXPECT_GT(canonical_compare(ordered[i + 1], ordered[i]), 0) << i;
        EXPECT_LT(canonical_sort_key(ordered[i]), canonical_sort_key(ordered[i + 1])) << i;
    }
    EXPECT_EQ(canonical_compare(ordered[3], ordered[3]), 0);
}

TEST(DnssecCanonical, RdataNamesLowercasedOnlyForListedTypes) {
    const std::string mx = std::string("\x00\x0A", 2) + w("MAIL.Example.");
    EXPECT_EQ(canonical_rdata(15, mx), std::string("\x00\x0A", 2) + lower_key(w("mail.example.")));
    const std::string txt = "\x05HeLLo";
    EXPECT_EQ(canonical_rdata(16, txt), txt);
    const std::string nsec = w("Next.Example.") + std::string("\x00\x01\x40", 3);
    EXPECT_EQ(canonical_rdata(47, nsec), nsec);  // RFC 6840 §5.1
}

TEST(DnssecCanonical, TypeBitmapOfRfc4034Section43) {
    // "A MX RRSIG NSEC TYPE1234"
    std::string expected("\x00\x06\x40\x01\x00\x00\x00\x03\x04\x1b", 10);
    expected += std::string(27, '\0');
    expected.back() = '\x20';
    const std::string b = type_bitmap({1234, 47, 15, 46, 1, 15});
    EXPECT_EQ(b, expected);
    std::vector<uint16_t> back;
    ASSERT_TRUE(bitmap_types(b, back));
    EXPECT_EQ(back, (std::vector<uint16_t>{1, 15, 46, 47, 1234}));
    EXPECT_FALSE(bitmap_types(std::string("\x00\x21", 2) + std::string(33, '\x01'), back));
}

TEST(DnssecCanonical, Nsec3HashOfRfc5155AppendixA) {
    // salt aabbccdd, 12 iterations.
    const std::string salt("\xAA\xBB\xCC\xDD", 4);
    EXPECT_EQ(base32hex(nsec3_hash(w("example."), salt, 12)), "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom");
    EXPECT_EQ(base32hex(nsec3_hash(w("a.example."), salt, 12)), "35mthgpgcu1qg68fab165klnsnk3dpvl");
    std::string raw;
    ASSERT_TRUE(base32hex_decode("0P9MHAVEQVM6T7VBL5LOP2U3T2RP3TOM", raw));
    EXPECT_EQ(raw, nsec3_hash(w("example."), salt, 12));
}

TEST(DnssecNsec, ChainLinksAuthoritativeNamesInCanonicalOrder) {
    std::unique_ptr<Zone> z = load_test_zone("example.test", data_path("test.zone"));
    const ZoneSigner signer(z->apex, {make_key(*z, 13, KeyRole::csk)}, SignPolicy{}, sign_time);
    ASSERT_EQ(signer.sign_zone(*z), "");
    const std::vector<std::string> names = nsec_names(*z);
    // Glue and the names below a cut are not in it; delegations are.
    EXPECT_EQ(std::count(names.begin(), names.end(), w("ns.sub.example.test.")), 0);
    EXPECT_EQ(std::count(names.begin(), names.end(), w("sub.example.test.")), 1);
    ASSERT_EQ(names.front(), z->apex);
    for (size_t i = 0; i < names.size(); ++i) {
        const std::optional<RRset> nsec = z->find(names[i])->find(47);
        ASSERT_TRUE(nsec) << name_to_text(names[i]);
        ASSERT_EQ(nsec->rdata.size(), 1u);
        const std::string_view rd = nsec->rdata[0];
        const std::string& next = names[(i + 1) % names.size()];
        EXPECT_EQ(rd.substr(0, next.size()), next);
        if (i + 1 < names.size()) {
            EXPECT_LT(canonical_compare(names[i], next), 0);
        }
        EXPECT_EQ(nsec->ttl, 300u);  // min(SOA TTL 3600, MINIMUM 300)
    }
    // An insecure delegation's bitmap: NS, RRSIG, NSEC; the apex's has DNSKEY and SOA.
    std::vector<uint16_t> types;
    const std::string_view sub2 = z->find(w("sub2.example.test."))->find(47)->rdata[0];
    ASSERT_TRUE(bitmap_types(sub2.substr(sub2.find('\0') + 1), types));
    EXPECT_EQ(types, (std::vector<uint16_t>{2, 46, 47}));
}

TEST(DnssecNsec3, ChainHasEveryNameEntAndOptOutLeavesInsecureDelegations) {
    for (bool opt_out : {false, true}) {
        std::unique_ptr<Zone> z = load_test_zone("example.test", data_path("test.zone"));
        const size_t names = nsec_names(*z).size();
        SignPolicy policy;
        policy.nsec3 = true;
        policy.nsec3_opt_out = opt_out;
        const ZoneSigner signer(z->apex, {make_key(*z, 13, KeyRole::csk)}, policy, sign_time);
        ASSERT_EQ(signer.sign_zone(*z), "");
        const Nsec3Params p{opt_out, 0, {}};
        // Empty non-terminals: ancestors of the chain's names with no records of their own.
        std::set<std::string> ents;
        for (const std::string& n : nsec_names(*z))
            for (std::string_view up = n; up.size() > z->apex.size();) {
                up = parent_of(up);
                if (up.size() > z->apex.size() && !z->find(up)) ents.emplace(up);
            }
        for (const char* ent : {"b.ent.example.test.", "ent.example.test.", "wild.example.test.",
                                "wc.example.test.", "_tcp.example.test."})
            EXPECT_EQ(ents.count(w(ent)), 1u) << ent;
        const size_t expected = names + ents.size() - (opt_out ? 1 : 0);  // sub2 has no DS
        size_t count = 0;
        for (const auto& [key, node] : z->nodes)
            if (const std::optional<RRset> n3 = node.find(50)) {
                ++count;
                const std::string_view rd = n3->rdata[0];
                EXPECT_EQ(uint8_t(rd[1]), opt_out ? 1 : 0);
                EXPECT_EQ(rd.substr(2, 3), std::string(3, '\0'));  // 0 iterations, no salt
            }
        EXPECT_EQ(count, expected) << "opt-out " << opt_out;
        for (const std::string& ent : ents) EXPECT_TRUE(z->find(nsec3_owner(ent, z->apex, p)));
        EXPECT_EQ(z->find(nsec3_owner(w("sub2.example.test."), z->apex, p)) != nullptr, !opt_out);
        EXPECT_FALSE(z->find(nsec3_owner(w("ns.sub.example.test."), z->apex, p)));
        EXPECT_TRUE(z->find(z->apex)->has(51));
        EXPECT_FALSE(z->find(z->apex)->has(47));
        const Verified v = verify_with_ldns(*z, time_t(sign_time));
        EXPECT_TRUE(v.bad.empty()) << v.bad.front();
    }
}

}  // namespace
}  // namespace anamed

namespace anamed {
namespace {

using namespace test;

// Every NSEC and NSEC3 record of a zone: owner -> RDATAs.
std::map<std::string, std::vector<std::string>> denial_records(const Zone& z) {
    std::map<std::string, std::vector<std::string>> out;
    for (const auto& [key, node] : z.nodes)
        for (uint16_t t : {47, 50})
            if (const std::optional<RRset> rs = node.find(t))
                for (std::string_view rd : rs->rdata) out[key.str()].emplace_back(rd);
    return out;
}

class ChainUpdate : public ::testing::TestWithParam<bool> {};

// Names added and removed at runtime: the chain patched in place must equal the chain of the
// same zone signed from scratch, and every signature must still verify.
TEST_P(ChainUpdate, PatchedChainEqualsAFreshOne) {
    std::unique_ptr<Zone> z = load_test_zone("example.test", data_path("test.zone"));
    SignPolicy policy;
    policy.nsec3 = GetParam();
    const std::vector<DnssecKey> keys{make_key(*z, 13, KeyRole::csk)};
    const ZoneSigner signer(z->apex, keys, policy, sign_time);
    ASSERT_EQ(signer.sign_zone(*z), "");
    DenialRecords chain(*z, policy);
    const size_t before = chain.size();

    auto fresh = [&] {
        Zone copy;
        copy.apex = z->apex;
        copy.apex_text = z->apex_text;
        for (const auto& [key, node] : z->nodes) copy.nodes[key] = node;
        EXPECT_EQ(signer.sign_zone(copy), "");
        return denial_records(copy);
    };
    auto change = [&](const char* name, bool add) {
        const std::string key = w(name);
        if (add) {
            z->nodes[key].add(1, 300, std::string("\xC0\x00\x02\x07", 4));
            ASSERT_EQ(signer.resign(*z, key, 1), "");
        } else {
            z->nodes.erase(key);
        }
        ASSERT_EQ(chain.update(*z, signer, key), "") << name;
        EXPECT_EQ(denial_records(*z), fresh()) << name << (add ? " added" : " removed");
        const Verified v = verify_with_ldns(*z, time_t(sign_time));
        EXPECT_TRUE(v.bad.empty()) << name << ": " << v.bad.front();
    };
    change("new.example.test.", true);           // a name in the middle of the chain
    change("zzzz.example.test.", true);          // the chain's last name (NSEC)
    change("x.y.new-ent.example.test.", true);   // two empty non-terminals with it
    change("x.y.new-ent.example.test.", false);  // and gone again
    change("a.b.ent.example.test.", false);      // the old empty non-terminals go too
    change("new.example.test.", false);
    change("zzzz.example.test.", false);
    EXPECT_EQ(chain.size(), before - (GetParam() ? 3 : 1));
}

INSTANTIATE_TEST_SUITE_P(Chains, ChainUpdate, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "nsec3" : "nsec"; });

}  // namespace
}  // namespace anamed
