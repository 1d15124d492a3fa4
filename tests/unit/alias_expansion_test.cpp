// alias: expand remotes: the addresses frozen per serial, the bumps an address change makes
// (rate-limited, coalesced), and IXFR carrying the A/AAAA in place of ALIAS records.
#include "alias_expansion.hpp"

#include <gtest/gtest.h>

#include <map>

#include "alias_resolver.hpp"
#include "anamed/wire.hpp"
#include "xfr_out.hpp"
#include "zone_edit.hpp"

namespace anamed::test {
namespace {

using namespace std::chrono_literals;
using Clock = AliasExpansion::Clock;

std::string ip4(int a, int b, int c, int d) {
    return std::string{char(a), char(b), char(c), char(d)};
}

void add(Zone& z, const std::string& text) {
    ParsedRecord p;
    std::string warning;
    ASSERT_EQ(parse_record(text, z.apex_text, 300, p), "") << text;
    ZoneNode& node = z.nodes[lower_key(p.owner)];
    if (node.empty()) node.set_owner(p.owner);
    ASSERT_EQ(add_record(node, p, &warning), "") << text;
}

std::unique_ptr<Zone> alias_zone() {
    auto z = std::make_unique<Zone>();
    z->apex = text_to_wire("exp.test.");
    z->apex_text = "exp.test.";
    add(*z, "@ SOA ns1 hostmaster 10 7200 3600 1209600 300");
    add(*z, "@ NS ns1");
    add(*z, "ns1 A 192.0.2.1");
    add(*z, "c1 60 ALIAS lb.offsite.example.");
    add(*z, "c1 MX 10 mail.exp.test.");
    add(*z, "c2 3600 ALIAS lb.offsite.example.");
    add(*z, "c3 ALIAS other.example.");
    return z;
}

const std::string lb = lower_key(text_to_wire("lb.offsite.example."));
const std::string other = lower_key(text_to_wire("other.example."));

struct Fixture {
    std::unique_ptr<Zone> zone = alias_zone();
    std::map<std::string, std::shared_ptr<const AliasAnswer>> answers;
    AliasExpansion e{1000ms};
    AliasExpansion::Lookup lookup = [this](const std::string& t) {
        auto it = answers.find(t);
        return it == answers.end() ? nullptr : it->second;
    };
    Fixture() {
        e.set_zones({zone->apex});
        answers[lb] = make_alias_answer(AliasAnswer::resolved, {ip4(203, 0, 113, 10)}, {}, 120);
        answers[other] = make_alias_answer(AliasAnswer::unresolved, {}, {}, 0);
    }
    std::vector<AliasExpansion::Bump> due(Clock::time_point t) {
        return e.due(t, lookup, {zone.get()});
    }
};

std::vector<std::pair<std::string, std::string>> owners_rdata(const std::vector<Record>& rs) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const Record& r : rs) out.emplace_back(name_to_text(r.owner), r.rdata);
    std::sort(out.begin(), out.end());
    return out;
}

TEST(AliasExpansion, FirstAnswersThenAnAddressChangeMakeOneBumpEach) {
    Fixture f;
    const auto t0 = Clock::now();
    EXPECT_EQ(f.e.poll_timeout_ms(t0), 0);  // the zone just joined: every target is compared
    f.e.changed({lb, other});
    auto bumps = f.due(t0);
    ASSERT_EQ(bumps.size(), 1u);
    EXPECT_TRUE(bumps[0].removed.empty());
    using P = std::vector<std::pair<std::string, std::string>>;
    EXPECT_EQ(owners_rdata(bumps[0].added),
              (P{{"c1.exp.test.", ip4(203, 0, 113, 10)}, {"c2.exp.test.", ip4(203, 0, 113, 10)}}));
    // The TTL is the smaller of the address's and the ALIAS's.
    for (const Record& r : bumps[0].added)
        EXPECT_EQ(r.ttl, name_to_text(r.owner) == "c1.exp.test." ? 60u : 120u);

    // Transfers read the frozen addresses; an unresolved target expands to nothing.
    std::vector<Record> out;
    f.e.expand(text_to_wire("c2.exp.test."),
               *f.zone->find(lower_key(text_to_wire("c2.exp.test.")))->find(rrtype::ALIAS), out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].rdata, ip4(203, 0, 113, 10));

    // A new address within the interval waits, and is coalesced with the next one.
    f.answers[lb] = make_alias_answer(AliasAnswer::resolved, {ip4(203, 0, 113, 11)}, {}, 120);
    f.e.changed({lb});
    EXPECT_TRUE(f.due(t0 + 300ms).empty());
    EXPECT_GT(f.e.poll_timeout_ms(t0 + 300ms), 600);
    f.answers[lb] = make_alias_answer(AliasAnswer::resolved, {ip4(203, 0, 113, 12)},
                                      {std::string(15, '\0') + '\1'}, 120);
    f.e.changed({lb});
    // Still the old addresses until the bump.
    out.clear();
    f.e.expand(text_to_wire("c1.exp.test."),
               *f.zone->find(lower_key(text_to_wire("c1.exp.test.")))->find(rrtype::ALIAS), out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].rdata, ip4(203, 0, 113, 10));
    bumps = f.due(t0 + 1001ms);
    ASSERT_EQ(bumps.size(), 1u);
    EXPECT_EQ(owners_rdata(bumps[0].removed),
              (P{{"c1.exp.test.", ip4(203, 0, 113, 10)}, {"c2.exp.test.", ip4(203, 0, 113, 10)}}));
    EXPECT_EQ(bumps[0].added.size(), 4u);  // an A and an AAAA each
    EXPECT_EQ(f.e.poll_timeout_ms(t0 + 1001ms), -1);
}

TEST(AliasExpansion, SameAddressesFailuresAndUncoveredZonesMakeNoBump) {
    Fixture f;
    const auto t0 = Clock::now();
    f.e.changed({lb});
    ASSERT_EQ(f.due(t0).size(), 1u);
    // The same addresses with another TTL (a recursive resolver counts it down): no bump.
    f.answers[lb] = make_alias_answer(AliasAnswer::resolved, {ip4(203, 0, 113, 10)}, {}, 17);
    f.e.changed({lb});
    EXPECT_TRUE(f.due(t0 + 2s).empty());
    // The upstreams failed: the last addresses stay, nothing bumps.
    f.answers[lb] = make_alias_answer(AliasAnswer::failed, {}, {}, 0);
    f.e.changed({lb});
    EXPECT_TRUE(f.due(t0 + 4s).empty());
    // A zone without expanding remotes is never bumped.
    f.e.set_zones({});
    f.answers[lb] = make_alias_answer(AliasAnswer::resolved, {ip4(203, 0, 113, 99)}, {}, 60);
    f.e.changed({lb});
    EXPECT_TRUE(f.due(t0 + 6s).empty());
    // Joining again compares every target the zone uses.
    f.e.set_zones({f.zone->apex});
    EXPECT_EQ(f.due(t0 + 8s).size(), 1u);
}

TEST(AliasExpansion, IxfrGivesExpandingRemotesTheAddressesAndOthersTheSoa) {
    Fixture f;
    Zone& z = *f.zone;
    ZoneHistory history(10);
    f.e.changed({lb});
    ASSERT_EQ(f.due(Clock::now()).size(), 1u);
    f.answers[lb] = make_alias_answer(AliasAnswer::resolved, {ip4(203, 0, 113, 11)}, {}, 120);
    f.e.changed({lb});
    auto bumps = f.due(Clock::now() + 2s);
    ASSERT_EQ(bumps.size(), 1u);
    // The serial bump: a difference of the SOA alone, with the addresses beside it.
    ZoneDelta d;
    d.old_soa = soa_record(z);
    bump_serial(z.nodes[z.apex]);
    d.new_soa = soa_record(z);
    d.expanded_removed = bumps[0].removed;
    d.expanded_added = bumps[0].added;
    history.add(d);
    ASSERT_TRUE(history.newest()->expansion_known);

    TransferRequest r;
    r.id = 1;
    r.qname = z.apex;
    r.qtype = rrtype::IXFR;
    r.client_serial = 10;
    const AliasExpander expand = [&](std::string_view owner, const RRset& alias,
                                     std::vector<Record>& out) { f.e.expand(owner, alias, out); };
    const auto count = [](const std::vector<std::string>& msgs, uint16_t type) {
        size_t n = 0;
        for (const std::string& m : msgs) {
            const auto* p = reinterpret_cast<const uint8_t*>(m.data());
            size_t pos = skip_name(p, m.size(), header_size) + 4;
            for (unsigned i = 0; i < load16(p + 6); ++i) {
                pos = skip_name(p, m.size(), pos);
                n += load16(p + pos) == type;
                pos += 10 + load16(p + pos + 8);
            }
        }
        return n;
    };
    auto msgs = ixfr_messages(z, history, r, expand);
    EXPECT_EQ(count(msgs, rrtype::SOA), 4u);  // an IXFR, not the whole zone
    EXPECT_EQ(count(msgs, rrtype::A), 4u);    // two out, two in
    EXPECT_EQ(count(msgs, rrtype::ALIAS), 0u);
    msgs = ixfr_messages(z, history, r);  // a remote that knows ALIAS: the SOA change alone
    EXPECT_EQ(count(msgs, rrtype::SOA), 4u);
    EXPECT_EQ(count(msgs, rrtype::A), 0u);
    // A history whose addresses are not known (rebuilt at a start): the whole zone.
    history.forget_expansions();
    msgs = ixfr_messages(z, history, r, expand);
    EXPECT_EQ(count(msgs, rrtype::SOA), 2u);
    EXPECT_EQ(count(msgs, rrtype::A), 3u);  // ns1, c1, c2
    EXPECT_EQ(count(msgs, rrtype::MX), 1u);
    // ...while the others still get the difference.
    EXPECT_EQ(count(ixfr_messages(z, history, r), rrtype::SOA), 4u);
}

TEST(AliasExpansion, ADifferenceWithAliasRecordsIsExpandedWhenAnnotated) {
    Fixture f;
    f.e.changed({lb});
    ASSERT_EQ(f.due(Clock::now()).size(), 1u);
    ZoneDelta d;
    d.old_soa = soa_record(*f.zone);
    d.new_soa = d.old_soa;
    d.added.push_back(Record{text_to_wire("c9.exp.test."), rrtype::ALIAS, 30,
                             text_to_wire("LB.offsite.example.")});
    d.removed.push_back(
        Record{text_to_wire("c8.exp.test."), rrtype::ALIAS, 300, text_to_wire("other.example.")});
    ZoneHistory h(5);
    h.add(d);
    EXPECT_FALSE(h.newest()->expansion_known);
    f.e.annotate(*h.newest());
    EXPECT_TRUE(h.newest()->expansion_known);
    ASSERT_EQ(h.newest()->expanded_added.size(), 1u);
    EXPECT_EQ(h.newest()->expanded_added[0].ttl, 30u);
    EXPECT_EQ(h.newest()->expanded_added[0].rdata, ip4(203, 0, 113, 10));
    EXPECT_TRUE(h.newest()->expanded_removed.empty());  // other.example. never resolved
}

}  // namespace
}  // namespace anamed::test
