// The counter registry: blocks bumped as the frontends do, summed by read_counters(), and
// formatted by the control socket's reader.
#include <gtest/gtest.h>

#include <memory>
#include <set>

#include "anamed/stats.hpp"
#include "counters_json.hpp"

namespace anamed {
namespace {

TEST(Counters, DefinitionsHaveUniqueNamesAndLabelValues) {
    std::set<std::string> names;
    for (const CounterDef& d : counter_defs) {
        EXPECT_TRUE(names.insert(d.name).second) << d.name;
        EXPECT_NE(std::string(d.help), "") << d.name;
        EXPECT_EQ(d.width > 1, d.label != Label::none) << d.name;
        std::set<std::string> values;
        for (size_t i = 0; i < d.width; ++i)
            EXPECT_TRUE(values.insert(label_value(d.label, i)).second) << d.name;
    }
    EXPECT_EQ(find_counter("dropped").label, Label::reason);
    EXPECT_THROW(find_counter("nope"), std::invalid_argument);
}

TEST(Counters, BucketsNameTheirValues) {
    const CounterDef& rcode = find_counter("answered");
    EXPECT_STREQ(label_value(rcode.label, rcode_bucket(3)), "NXDOMAIN");
    EXPECT_STREQ(label_value(rcode.label, rcode_bucket(16)), "BADVERS");
    EXPECT_STREQ(label_value(rcode.label, rcode_bucket(4000)), "other");
    const CounterDef& qtype = find_counter("answered_qtype");
    EXPECT_STREQ(label_value(qtype.label, qtype_bucket(28)), "AAAA");
    EXPECT_STREQ(label_value(qtype.label, qtype_bucket(99)), "other");
    EXPECT_STREQ(label_value(Label::reason, size_t(Drop::tx_full)), "tx_full");
}

TEST(Counters, ReadCountersSumsEveryBlock) {
    auto udp = std::make_unique<CounterBlock>(), tcp = std::make_unique<CounterBlock>();
    for (int i = 0; i < 3; ++i) udp->bump(slot::queries);
    udp->answer(0, 1, false);
    udp->answer(3, 28, true);
    udp->drop(Drop::no_reply);
    tcp->bump(slot::queries, 5);
    tcp->answer(5, 15, false);
    const CounterSnapshot s =
        read_counters({{"kernel", "tcp", "", 0, tcp.get()}, {"kernel", "udp", "", 0, udp.get()}});
    ASSERT_EQ(s.values.size(), 2u);
    EXPECT_EQ(s.values[0].total(find_counter("queries")), 5u);
    EXPECT_EQ(s.values[1].total(find_counter("queries")), 3u);
    EXPECT_EQ(s.total.total(find_counter("queries")), 8u);
    EXPECT_EQ(s.total.total(find_counter("answered")), 3u);
    EXPECT_EQ(s.total.total(find_counter("answered_qtype")), 3u);
    EXPECT_EQ(s.total.total(find_counter("truncated")), 1u);
    EXPECT_EQ(s.total.v[slot::answered + 3], 1u);
    EXPECT_EQ(s.total.v[slot::answered_qtype + qtype_bucket(15)], 1u);
    EXPECT_EQ(s.total.v[slot::dropped + size_t(Drop::no_reply)], 1u);
    EXPECT_STREQ(s.sources[1].transport, "udp");

    // what anamectl stats shows
    const nlohmann::json j = counters_json(s);
    EXPECT_EQ(j["queries"], 8);
    EXPECT_EQ(j["responses"], 3);
    EXPECT_EQ(j["truncated"], 1);
    EXPECT_EQ(j["rcode"], (nlohmann::json{{"NOERROR", 1}, {"NXDOMAIN", 1}, {"REFUSED", 1}}));
    EXPECT_EQ(j["qtype"], (nlohmann::json{{"A", 1}, {"AAAA", 1}, {"MX", 1}}));
    EXPECT_EQ(j["dropped"], (nlohmann::json{{"no_reply", 1}}));
    EXPECT_EQ(j["transport"]["udp"]["queries"], 3);
    EXPECT_EQ(j["transport"]["tcp"]["responses"], 1);
    ASSERT_EQ(j["frontends"].size(), 2u);
    EXPECT_EQ(j["frontends"][1]["dropped"], 1);
    EXPECT_TRUE(j["dpdk"].is_null());
}

TEST(Counters, DpdkBlocksAreReportedOnTheirOwnToo) {
    auto b = std::make_unique<CounterBlock>();
    b->bump(slot::rx, 10);
    b->bump(slot::arp_replies);
    b->drop(Drop::vlan, 2);
    const nlohmann::json j =
        counters_json(read_counters({{"dpdk", "udp", "net_tap0", 1, b.get()}}));
    EXPECT_EQ(j["frontends"][0]["port"], "net_tap0");
    EXPECT_EQ(j["frontends"][0]["worker"], 1);
    EXPECT_EQ(j["dpdk"]["rx"], 10);
    EXPECT_EQ(j["dpdk"]["arp_replies"], 1);
    EXPECT_EQ(j["dpdk"]["tx"], 0);  // every scalar, zero or not
    EXPECT_EQ(j["dpdk"]["dropped"], (nlohmann::json{{"vlan", 2}}));
}

}  // namespace
}  // namespace anamed
