// The per-zone counters' slots: stable per apex, bounded, a removed zone's slot reused only
// after a compile in between and zeroed first; the counters themselves per zone and RCODE.
#include "anamed/zone_slots.hpp"

#include <gtest/gtest.h>

#include <set>

#include "anamed/stats.hpp"

namespace anamed::test {
namespace {

TEST(ZoneSlots, StableWhileServedAndNamedForTheExporters) {
    ZoneSlots s;
    std::vector<uint16_t> reset;
    auto on_reset = [&](uint16_t slot) { reset.push_back(slot); };
    const auto first = s.assign({"a.test.", "b.test."}, on_reset);
    ASSERT_EQ(first.size(), 2u);
    EXPECT_NE(first[0], 0);
    EXPECT_NE(first[1], 0);
    EXPECT_NE(first[0], first[1]);
    EXPECT_EQ(reset, first);
    reset.clear();
    const auto again = s.assign({"b.test.", "c.test.", "a.test."}, on_reset);
    EXPECT_EQ(again[0], first[1]);
    EXPECT_EQ(again[2], first[0]);
    EXPECT_EQ(reset, std::vector<uint16_t>{again[1]});  // only the new zone's slot
    const auto names = s.names();
    ASSERT_EQ(names.size(), 3u);
    EXPECT_EQ(names[0], (std::pair<uint16_t, std::string>{first[0], "a.test."}));
}

TEST(ZoneSlots, BoundedAndReusedOnlyAfterACompileInBetween) {
    ZoneSlots s;
    std::vector<std::string> zones;
    for (size_t i = 0; i < max_zone_slots + 9; ++i) zones.push_back("z" + std::to_string(i) + ".");
    const auto all = s.assign(zones, nullptr);
    std::set<uint16_t> used;
    for (size_t i = 0; i < max_zone_slots - 1; ++i) used.insert(all[i]);
    EXPECT_EQ(used.size(), max_zone_slots - 1);  // every zone under the bound its own slot
    EXPECT_EQ(used.count(0), 0u);
    for (size_t i = max_zone_slots - 1; i < zones.size(); ++i) EXPECT_EQ(all[i], 0) << i;
    EXPECT_EQ(s.names().size(), max_zone_slots - 1);

    // z0 goes and "new." comes in the same compile: z0's slot is still mapped by the
    // snapshot being replaced, so "new." gets none yet.
    std::vector<std::string> next(zones.begin() + 1, zones.begin() + (max_zone_slots - 1));
    next.push_back("new.");
    auto got = s.assign(next, nullptr);
    EXPECT_EQ(got.back(), 0);
    // At the next compile the slot is free: zeroed, then handed to "new.".
    std::vector<uint16_t> reset;
    got = s.assign(next, [&](uint16_t slot) { reset.push_back(slot); });
    EXPECT_EQ(got.back(), all[0]);
    EXPECT_EQ(reset, std::vector<uint16_t>{all[0]});
}

TEST(ZoneCounters, CountedPerZoneAndRcodeClassZeroedOnReset) {
    CounterBlock b;
    b.answer(0, 1, false, 7);
    b.answer(0, 1, false, 7);
    b.answer(3, 1, false, 7);
    b.answer(2, 1, false, 8);
    b.answer(5, 1, false, 8);                         // REFUSED: "other"
    b.answer(0, 1, false, 0);                         // no zone: not counted per zone
    b.answer(0, 1, false, uint16_t(max_zone_slots));  // out of range: ignored
    CounterValues v;
    v.add(b);
    v.add(b);  // two workers alike
    EXPECT_EQ(v.zone_value(7, 0), 4u);
    EXPECT_EQ(v.zone_value(7, 1), 2u);
    EXPECT_EQ(v.zone_total(7), 6u);
    EXPECT_EQ(v.zone_value(8, 2), 2u);
    EXPECT_EQ(v.zone_value(8, 3), 2u);
    EXPECT_EQ(v.zone_total(0), 0u);
    EXPECT_EQ(v.total(find_counter("answered")), 14u);
    b.reset_zone(7);
    CounterValues after;
    after.add(b);
    EXPECT_EQ(after.zone_total(7), 0u);
    EXPECT_EQ(after.zone_total(8), 2u);
}

}  // namespace
}  // namespace anamed::test
