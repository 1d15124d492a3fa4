// The truth's data structures: ZoneNode's packed RRsets, the node map and its keys.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "test_util.hpp"
#include "zone_edit.hpp"

namespace anamed::test {
namespace {

std::vector<std::string> types_and_rdatas(const ZoneNode& n) {
    std::vector<std::string> out;
    for (const RRset rs : n.rrsets())
        for (std::string_view rd : rs.rdata)
            out.push_back(std::to_string(rs.type) + "/" + std::to_string(rs.ttl) + "/" +
                          std::string(rd));
    return out;
}

// reserve() (the loader's room for an owner's run of records) changes nothing but where
// the bytes live: random runs of adds, with and without it, exact or short, on empty nodes
// and on nodes that already hold records, read back the same.
TEST(ZoneNode, ReservedOrNotHoldsTheSameRecords) {
    std::mt19937 rng(7);
    const uint16_t types[] = {rrtype::A,   rrtype::AAAA, rrtype::MX,
                              rrtype::TXT, rrtype::NS,   rrtype::SOA};
    for (int round = 0; round < 2000; ++round) {
        ZoneNode plain, reserved;
        if (rng() % 3 == 0) {
            plain.set_owner(std::string("\1X\0", 4));
            reserved.set_owner(std::string("\1X\0", 4));
        }
        for (int run = 0, runs = 1 + int(rng() % 3); run < runs; ++run) {
            std::vector<std::pair<uint16_t, std::string>> recs;
            size_t need = 0;
            for (int k = 0, n = int(rng() % 6); k < n; ++k) {
                recs.emplace_back(types[rng() % 6], std::string(rng() % 40, char('a' + k)));
                need += ZoneNode::record_bytes(recs.back().second.size());
            }
            reserved.reserve(rng() % 4 == 0 ? need / 2
                                            : need);  // a short reserve only means a realloc later
            for (const auto& [t, rd] : recs) {
                plain.add(t, 60, rd);
                reserved.add(t, 60, rd);
            }
        }
        ASSERT_EQ(types_and_rdatas(reserved), types_and_rdatas(plain)) << round;
        ASSERT_EQ(reserved.owner("k"), plain.owner("k")) << round;
    }
}

TEST(ZoneNode, PacksRRsetsInTypeOrderThroughEdits) {
    ZoneNode n;
    EXPECT_TRUE(n.empty());
    EXPECT_FALSE(n.find(rrtype::A));
    n.set_owner(std::string("\3WwW\0", 6));
    EXPECT_TRUE(n.empty());  // an owner alone is no data
    n.add(rrtype::TXT, 60, std::string(300, 'x'));
    n.add(rrtype::A, 30, "a1");
    n.add(rrtype::MX, 10, "");   // an empty RDATA is one too
    n.add(rrtype::A, 20, "a2");  // appends and sets the RRset's TTL
    EXPECT_EQ(types_and_rdatas(n), (std::vector<std::string>{"1/20/a1", "1/20/a2", "15/10/",
                                                             "16/60/" + std::string(300, 'x')}));
    EXPECT_EQ(n.owner("www"), std::string("\3WwW\0", 6));
    ASSERT_TRUE(n.find(rrtype::MX));
    EXPECT_EQ(n.find(rrtype::MX)->rdata.size(), 1u);
    EXPECT_TRUE(n.find(rrtype::A)->rdata.contains("a2"));
    EXPECT_FALSE(n.find(rrtype::AAAA));

    EXPECT_FALSE(n.has(rrtype::CNAME));  // a marked type, answered without the block
    EXPECT_TRUE(n.has(rrtype::MX));
    n.add(rrtype::NS, 60, "ns");
    EXPECT_TRUE(n.has(rrtype::NS));
    const std::string_view ns = "ns";
    EXPECT_EQ(n.erase(rrtype::NS, &ns), 1u);
    EXPECT_FALSE(n.has(rrtype::NS));  // the mark goes with the RRset
    EXPECT_FALSE(n.find(rrtype::NS));

    ZoneNode copy = n;
    const std::string_view a1 = "a1";
    EXPECT_EQ(n.erase(rrtype::A, &a1), 1u);
    EXPECT_EQ(n.erase(rrtype::A, &a1), 0u);
    EXPECT_EQ(types_and_rdatas(copy).size(), 4u);  // the copy is its own
    EXPECT_EQ(n.erase(rrtype::TXT, nullptr), 1u);
    EXPECT_EQ(types_and_rdatas(n), (std::vector<std::string>{"1/20/a2", "15/10/"}));
    EXPECT_EQ(n.owner("www"), std::string("\3WwW\0", 6));  // kept through erases
    EXPECT_EQ(n.erase(0, nullptr), 2u);
    EXPECT_TRUE(n.empty());
    n.set_owner(std::string("\3www\0", 6));
    EXPECT_EQ(n.owner("key"), "key");

    EXPECT_THROW(n.add(rrtype::TXT, 1, std::string(70000, 'x')), std::length_error);  // never wraps
    ParsedRecord p{std::string("\3www\0", 6), rrtype::TXT, 1, 60, std::string(70000, 'x')};
    EXPECT_NE(add_record(n, p, nullptr).find("more than a DNS message holds"), std::string::npos);
    p.rdata.resize(65530);  // fits RDLENGTH, but not a message with its header
    EXPECT_NE(add_record(n, p, nullptr).find("more than a DNS message holds"), std::string::npos);
    EXPECT_TRUE(n.empty());

    ZoneNode alias;
    alias.add(rrtype::ALIAS, 60, "target");
    ZoneNode alias_copy = alias;
    EXPECT_TRUE(alias_copy.has(rrtype::ALIAS));  // marks travel with copies and moves
    ZoneNode alias_moved = std::move(alias_copy);
    EXPECT_TRUE(alias_moved.has(rrtype::ALIAS) && alias_moved.find(rrtype::ALIAS));
    EXPECT_FALSE(
        alias_copy.has(rrtype::ALIAS));  // NOLINT(bugprone-use-after-move): moved-from is empty

    ZoneNode moved = std::move(copy);
    EXPECT_EQ(types_and_rdatas(moved).size(), 4u);
    const std::string_view a2 = "a2";
    EXPECT_EQ(moved.erase(0, &a2), 1u);  // type 0: that RDATA under any type
    EXPECT_EQ(types_and_rdatas(moved),
              (std::vector<std::string>{"1/20/a1", "15/10/", "16/60/" + std::string(300, 'x')}));
}

TEST(NameKey, ShortAndLongNamesKeepTheirBytesThroughCopies) {
    const std::string short_name = text_to_wire("c0000001.mywebservice.com.");  // 27 bytes: inline
    const std::string edge =
        std::string(1, char(29)) + std::string(29, 'a') + '\0';  // 31 bytes: inline
    const std::string long_name =
        text_to_wire(std::string(60, 'x') + ".mywebservice.com.");  // on the heap
    ASSERT_EQ(edge.size(), 31u);
    for (const std::string& n : {short_name, edge, long_name, std::string()}) {
        NameKey k(n);
        EXPECT_EQ(k.view(), n);
        NameKey copy = k;
        EXPECT_EQ(copy.view(), n);
        NameKey other(std::string("\1z\0", 3));
        other = copy;
        EXPECT_EQ(other.view(), n);
        const NameKey& same = other;
        other = same;  // self-assignment keeps the name
        EXPECT_EQ(other.view(), n);
        NameKey moved(std::move(other));
        EXPECT_EQ(moved.view(), n);
        NameKey target(long_name);
        target = std::move(moved);
        EXPECT_EQ(target.view(), n);
    }
    Zone z;
    z.nodes[long_name].add(rrtype::A, 60, "\xc0\x00\x02\x01");
    z.nodes[short_name];
    EXPECT_NE(z.find(long_name), nullptr);
    EXPECT_NE(z.find(std::string_view(short_name)), nullptr);
    EXPECT_EQ(z.find(edge), nullptr);
}

// NodeMap against std::map through random adds and erases (small tables, so that probe runs
// wrap around the end and erases pull slots back over it), then a check of every name.
TEST(NodeMap, AgreesWithAStdMapThroughAddsAndErases) {
    std::mt19937 rng(7);
    for (size_t universe : {5u, 40u, 3000u}) {
        NodeMap m;
        std::map<std::string, uint32_t> ref;  // name -> the TTL of its one A record
        auto name = [&](size_t i) {
            return i % 3 == 0 ? text_to_wire("n" + std::to_string(i) + "." + std::string(40, 'l') +
                                             ".example.")
                              : text_to_wire("n" + std::to_string(i) + ".example.");
        };
        for (int step = 0; step < 20000; ++step) {
            const std::string k = name(rng() % universe);
            if (rng() % 3 == 0) {
                EXPECT_EQ(m.erase(k), ref.erase(k) == 1) << step;
            } else {
                const uint32_t ttl = uint32_t(step);
                ZoneNode& n = m[k];
                n.erase(0, nullptr);
                n.add(rrtype::A, ttl, "\xc0\x00\x02\x01");
                ref[k] = ttl;
            }
            ASSERT_EQ(m.size(), ref.size());
        }
        for (size_t i = 0; i < universe; ++i) {
            const std::string k = name(i);
            const auto* e = m.find(k);
            const auto it = ref.find(k);
            ASSERT_EQ(e != nullptr, it != ref.end()) << i;
            if (e == nullptr) continue;
            EXPECT_EQ(e->first.view(), k);
            EXPECT_EQ(e->second.find(rrtype::A)->ttl, it->second);
        }
        size_t walked = 0;
        for (const auto& [key, node] : m) walked += ref.count(key.str());
        EXPECT_EQ(walked, ref.size());
    }
}

TEST(NodeMap, WalksNamesInTheOrderTheyWereAdded) {
    NodeMap m;
    m.reserve(1000);
    std::vector<std::string> added;
    for (int i = 999; i >= 0; --i) {
        added.push_back(text_to_wire("c" + std::to_string(i) + ".example."));
        m[added.back()];
    }
    m[added[10]];  // already there: no second entry
    ASSERT_EQ(m.size(), added.size());
    size_t i = 0;
    for (const auto& entry : m) EXPECT_EQ(entry.first.view(), added[i++]);
}

}  // namespace
}  // namespace anamed::test
