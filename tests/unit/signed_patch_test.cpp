// Runtime changes to a signed zone patched into a live snapshot: after names join and leave
// its NSEC or NSEC3 chain, the chain respond() searches is the one a fresh compile of the
// signed copy builds.
#include <gtest/gtest.h>

#include "compiler.hpp"
#include "dnssec_test_util.hpp"
#include "dnssec_zone_signing.hpp"
#include "patcher.hpp"
#include "zone_edit.hpp"

namespace anamed {
namespace {

using namespace test;

// The chain's owners in its order (NSEC3: the hashed owner names, in hash order).
std::vector<std::string> chain_keys(const ZoneTable& zt) {
    std::vector<std::string> out;
    const DenialChain* c = zt.denial_chain();
    if (c == nullptr) return out;
    for (const Node* n : c->nsec) out.emplace_back(n->key());
    for (const DenialChain::Hashed& h : c->nsec3) out.emplace_back(h.node->key());
    return out;
}

class SignedPatchTest : public ::testing::TestWithParam<bool> {};

TEST_P(SignedPatchTest, ChainEqualsAFreshCompileAfterNamesJoinAndLeave) {
    const TempDir keys;
    std::unique_ptr<Zone> truth = load_test_zone("example.test", data_path("test.zone"));
    DnssecKey k = make_key(*truth, 13, KeyRole::csk);
    ASSERT_EQ(write_key_pair(keys.path(), k, sign_time - 86400), "");
    const ZoneConfig zc = signing_config("example.test", keys.path(), GetParam());
    ZoneSigning signing;
    signing.configure({zc});
    std::vector<std::string> errors;
    const Zone* copy = signing.view({truth.get()}, sign_time, errors)[0];
    ASSERT_NE(copy, truth.get());
    std::unique_ptr<LiveSnapshot> live = compile({copy}, 1);
    const std::unordered_map<std::string, uint32_t> no_aliases;
    const ZoneTable& zt = *live->zones[0];
    const std::vector<std::string> at_start = chain_keys(zt);
    ASSERT_FALSE(at_start.empty());

    int64_t now = sign_time;
    auto change = [&](const std::vector<std::string>& names) {
        bump_serial(truth->nodes.find(truth->apex)->second);
        ZoneSigning::Change c;
        ASSERT_EQ(signing.patch(*truth, names, now += 60, &c), "");
        ASSERT_FALSE(c.whole);
        ChangeOutcome out;
        out.changed[truth->apex] = c.names;
        Patcher patcher(
            *live, [&](const std::string&) { return signing.signed_zone(truth->apex); },
            no_aliases);
        ASSERT_EQ(patcher.plan(out), "");
        Patcher::Retired retired;
        patcher.apply(retired);
    };
    std::vector<std::string> added;
    for (int i = 0; i < 40; ++i) {
        const std::string name =
            text_to_wire("n" + std::to_string(i * 7919 % 1000) + ".example.test.");
        truth->nodes[name].add(1, 300, std::string("\xC0\x00\x02", 3) + char(i));
        added.push_back(name);
        change({name});
    }
    for (size_t i = 0; i < added.size(); i += 3) {
        truth->nodes.erase(added[i]);
        change({added[i]});
    }
    truth->nodes[added[0]].add(16, 300, std::string("\x01x", 2));  // back, as a new node
    change({added[0]});

    std::unique_ptr<LiveSnapshot> fresh = compile({signing.signed_zone(truth->apex)}, 2);
    EXPECT_EQ(chain_keys(zt), chain_keys(*fresh->zones[0]));
    EXPECT_NE(chain_keys(zt), at_start);
    // Every node in the chain is the one the index serves under its name.
    const DenialChain* c = zt.denial_chain();
    for (const Node* n : c->nsec) EXPECT_EQ(zt.index.find(n->key()), n);
    for (const DenialChain::Hashed& h : c->nsec3) EXPECT_EQ(zt.index.find(h.node->key()), h.node);
}

INSTANTIATE_TEST_SUITE_P(Chains, SignedPatchTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "nsec3" : "nsec"; });

}  // namespace
}  // namespace anamed
