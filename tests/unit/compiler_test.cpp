#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "test_util.hpp"

namespace anamed::test {
namespace {

const Node* node(const Snapshot& s, const std::string& name) {
    const std::string w = text_to_wire(name);
    Name n;
    parse_name(reinterpret_cast<const uint8_t*>(w.data()), w.size(), n);
    const ZoneTable* z = s.find_zone(n);
    return z ? z->index.find(n.key()) : nullptr;
}

TEST(Compiler, EmptyNonTerminalsBecomeNodesWithoutData) {
    Served served;
    const Node* ent = node(served.snap(), "b.ent.example.test.");
    ASSERT_NE(ent, nullptr);
    EXPECT_EQ(ent->load_data()->ntypes, 0u);
    EXPECT_NE(node(served.snap(), "ent.example.test."), nullptr);
}

TEST(Compiler, CutsAndWildcardsAreLinked) {
    Served served;
    const Snapshot& s = served.snap();
    const Node* sub = node(s, "sub.example.test.");
    ASSERT_NE(sub, nullptr);
    EXPECT_TRUE(sub->flags & node_flag::delegation);
    EXPECT_EQ(node(s, "ns.sub.example.test.")->cut, sub);
    EXPECT_EQ(node(s, "*.sub.example.test.")->cut, sub);
    EXPECT_EQ(node(s, "both.example.test.")->cut, nullptr);
    EXPECT_EQ(node(s, "wild.example.test.")->wildcard, node(s, "*.wild.example.test."));
    EXPECT_TRUE(node(s, "dname.example.test.")->flags & node_flag::dname);
    EXPECT_TRUE(node(s, "example.test.")->flags & node_flag::apex);
    EXPECT_FALSE(node(s, "example.test.")->flags & node_flag::delegation);
}

// Three MX targets with 2,000 addresses each: the block carries as many address records as
// a 64 KiB message could (4,095), not 6,000 (which would overflow its 16-bit count).
TEST(Compiler, AdditionalAddressesStopAtWhatAMessageHolds) {
    const TempDir tmp;
    std::string text = "$TTL 300\n@ SOA ns hostmaster 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n";
    for (int t = 0; t < 3; ++t) {
        text += "@ MX 10 mx" + std::to_string(t) + "\n";
        for (int i = 0; i < 2000; ++i)
            text += "mx" + std::to_string(t) + " A 10." + std::to_string(t) + "." +
                    std::to_string(i / 256) + "." + std::to_string(i % 256) + "\n";
    }
    const std::string path = tmp.file("many-mx-addresses.zone");
    std::ofstream(path) << text;
    LoadResult r = load_zone_file("example.test", path);
    ASSERT_TRUE(r.ok());
    auto snap = compile({r.zone.get()}, 1);
    const TypeEntry* mx = node(*snap, "example.test.")->load_data()->find(rrtype::MX);
    ASSERT_NE(mx, nullptr);
    EXPECT_EQ(mx->rr_count, 3);
    EXPECT_EQ(mx->add_count, 65535 / 16);
    const Pkt reply = ask(*snap, "example.test.", LDNS_RR_TYPE_MX);
    ASSERT_TRUE(reply);
    EXPECT_EQ(answer(reply).size(), 3u);
}

// Names of up to 32 octets sit in the node's line, longer ones in the arena: both sides of
// the edge are found and answered. Children are counted outside the node, ENTs included.
TEST(Compiler, NamesOnBothSidesOfTheInlineEdgeAnswer) {
    const TempDir tmp;
    // example.test. is 14 octets in wire form: a first label of 17 makes 32, of 18 makes 33.
    const std::string in(17, 'i'), out(18, 'o');
    const std::string path = tmp.file("inline-edge.zone");
    std::ofstream(path) << "$TTL 300\n@ SOA ns hostmaster 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n"
                        << in << " A 192.0.2.32\n"
                        << out << " A 192.0.2.33\nx.y A 192.0.2.9\n";
    LoadResult r = load_zone_file("example.test", path);
    ASSERT_TRUE(r.ok());
    auto snap = compile({r.zone.get()}, 1);
    for (const auto& [label, addr, inline_] :
         {std::tuple{in, "192.0.2.32", true}, {out, "192.0.2.33", false}}) {
        const std::string name = label + ".example.test.";
        const Node* n = node(*snap, name);
        ASSERT_NE(n, nullptr) << name;
        EXPECT_EQ(n->name_len, inline_ ? 32 : 33);
        EXPECT_EQ(n->key(), text_to_wire(name));
        EXPECT_EQ(n->name() == n->name_inline, inline_) << name;
        EXPECT_EQ(answer(ask(*snap, name, LDNS_RR_TYPE_A)), V{name + "\t300\tIN\tA\t" + addr});
    }
    ZoneTable& zt = *snap->zones[0];
    EXPECT_EQ(snap->children(zt, zt.apex),
              4u);  // ns, the two edge names, y (an empty non-terminal)
    EXPECT_EQ(snap->children(zt, node(*snap, "y.example.test.")), 1u);
    EXPECT_EQ(snap->children(zt, node(*snap, "x.y.example.test.")), 0u);
}

// An in-zone CNAME's block names its target's node (a prefetch hint for respond_burst);
// out-of-zone and wildcard-synthesised targets have none.
TEST(Compiler, InZoneCnamesCarryTheirTargetAsAHint) {
    const TempDir tmp;
    const std::string path = tmp.file("chase.zone");
    std::ofstream(path) << "$TTL 300\n@ SOA ns hostmaster 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n"
                           "host A 192.0.2.2\nwww CNAME Host\next CNAME elsewhere.example.\n"
                           "w CNAME x.wild\n*.wild A 192.0.2.3\n";
    LoadResult r = load_zone_file("example.test", path);
    ASSERT_TRUE(r.ok());
    auto snap = compile({r.zone.get()}, 1);
    const ZoneTable& zt = *snap->zones[0];
    const uint32_t www = node(*snap, "www.example.test.")->load_data()->chase;
    ASSERT_NE(www, 0u);
    EXPECT_EQ(&zt.nodes[www - 1], node(*snap, "host.example.test."));
    EXPECT_EQ(node(*snap, "ext.example.test.")->load_data()->chase, 0u);
    EXPECT_EQ(node(*snap, "w.example.test.")->load_data()->chase, 0u);
    EXPECT_EQ(node(*snap, "host.example.test.")->load_data()->chase, 0u);
}

// The answer blocks are compiled into small pages and collapsed into huge ones later, while
// the snapshot serves: huge_alloc's blocks are aligned to 2 MB, and a collapse (however the
// kernel takes it) leaves every answer byte for byte as it was.
TEST(Compiler, SmallTablesStayOnTheHeapLargeOnesGoToHugePages) {
    void* p = huge_alloc(3 << 20, false);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % (2u << 20), 0u);
    huge_free(p, 3 << 20);
    auto* small = static_cast<uint8_t*>(huge_alloc(4096));
    EXPECT_EQ(std::count(small, small + 4096, 0), 4096);
    huge_free(small, 4096);

    // A few small zones: nothing is a whole huge page, and the size is what they take.
    Served served;
    EXPECT_TRUE(served.snap().deferred_huge().empty());
    EXPECT_LT(served.snap().memory(), size_t(1) << 20);
}

TEST(Compiler, AnswerBlocksReadTheSameAfterPromotionToHugePages) {
    TempDir dir;
    std::string text = "$ORIGIN big.test.\n$TTL 300\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\n";
    for (int i = 0; i < 40000; ++i)
        text += "n" + std::to_string(i) + " A 192.0.2." + std::to_string(i % 250 + 1) + "\n";
    LoadResult r = load_zone_file("big.test", dir.write("big.zone", text));
    ASSERT_TRUE(r.ok());
    const auto snap = compile({r.zone.get()}, 1);
    const Snapshot& s = *snap;
    ASSERT_FALSE(s.deferred_huge().empty());
    EXPECT_GT(s.memory(), size_t(2) << 20);
    auto replies = [&] {
        std::vector<std::vector<uint8_t>> out;
        for (const char* name : {"big.test.", "n0.big.test.", "n39999.big.test.", "no.big.test."})
            for (ldns_rr_type t : {LDNS_RR_TYPE_A, LDNS_RR_TYPE_MX, LDNS_RR_TYPE_NS}) {
                const auto q = make_query(name, t);
                std::vector<uint8_t> buf(65536);
                buf.resize(respond(&s, q.data(), q.size(), buf.data(), buf.size(),
                                   ClientInfo{Transport::udp}));
                out.push_back(std::move(buf));
            }
        return out;
    };
    const auto before = replies();
    s.promote_huge_pages();
    EXPECT_EQ(replies(), before);
}

TEST(Compiler, LongestMatchSelectsTheChildZone) {
    Served served;
    const std::string w = text_to_wire("www.sub2.example.test.");
    Name n;
    parse_name(reinterpret_cast<const uint8_t*>(w.data()), w.size(), n);
    ASSERT_NE(served.snap().find_zone(n), nullptr);
    EXPECT_EQ(served.snap().find_zone(n)->apex_text, "sub2.example.test.");
}

TEST(Compiler, NegativeSoaTtlIsTheMinimumOfTtlAndMinimumField) {
    Served served;
    for (const auto& z : served.snap().zones) {
        const NodeData* apex = z->apex->load_data();
        const TypeEntry* soa = apex->find(0);
        ASSERT_NE(soa, nullptr);
        const uint32_t ttl = load32(apex->bytes() + soa->rr_off + 6);
        EXPECT_EQ(ttl, z->apex_text == "sub2.example.test." ? 600u : 300u) << z->apex_text;
    }
}

TEST(Compiler, RecordsArePrecompiledWithOwnerPlaceholders) {
    Served served;
    const NodeData* d = node(served.snap(), "both.example.test.")->load_data();
    const TypeEntry* a = d->find(rrtype::A);
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->rr_count, 1);
    EXPECT_EQ(a->rr_len, rr_fixed + 4);
    const uint8_t* rr = d->bytes() + a->rr_off;
    EXPECT_EQ(load16(rr), 0xC00C);
    EXPECT_EQ(load16(rr + 2), rrtype::A);
    const TypeEntry* mx = d->find(rrtype::MX);
    EXPECT_EQ(mx->add_count, 2);  // mail's A and AAAA
}

}  // namespace
}  // namespace anamed::test
