// Transfers in: anamed's own AXFR/IXFR messages (xfr_out) read back by TransferReader and
// applied to a zone store, and the bad streams a primary can send refused with a reason.
#include "xfr_in.hpp"

#include <gtest/gtest.h>

#include "anamed/wire.hpp"
#include "message_builder.hpp"
#include "test_util.hpp"
#include "xfr_out.hpp"
#include "zone_edit.hpp"
#include "zone_store.hpp"

namespace anamed::test {
namespace {

constexpr uint16_t id = 0x4242;

void add(Zone& z, const std::string& text) {
    ParsedRecord p;
    std::string warning;
    ASSERT_EQ(parse_record(text, z.apex_text, 300, p), "") << text;
    ZoneNode& node = z.nodes[lower_key(p.owner)];
    ASSERT_EQ(add_record(node, p, &warning), "") << text;
}

std::unique_ptr<Zone> zone(size_t customers, uint32_t serial = 1) {
    auto z = std::make_unique<Zone>();
    z->apex = text_to_wire("in.test.");
    z->apex_text = "in.test.";
    add(*z, "@ SOA ns1 hostmaster " + std::to_string(serial) + " 7200 3600 1209600 300");
    add(*z, "@ NS ns1");
    add(*z, "ns1 A 192.0.2.1");
    add(*z, "Mixed.Case CNAME ns1");
    for (size_t i = 0; i < customers; ++i) {
        const std::string c = "customer" + std::to_string(i);
        add(*z, c + " A 198.51.100." + std::to_string(i % 250));
        add(*z, c + " MX 10 mail." + c);
    }
    return z;
}

std::string text_of(const Zone& z) {
    std::multiset<std::string> all;
    for (const auto& [key, node] : z.nodes)
        for (const RRset rs : node.rrsets())
            for (std::string_view rd : rs.rdata)
                all.insert(node.owner(key) + "/" + std::to_string(rs.type) + "/" +
                           std::to_string(rs.ttl) + "/" + std::string(rd));
    std::string out;
    for (const auto& s : all) out += s + "\n";
    return out;
}

TransferRequest request(const Zone& z, uint16_t qtype, uint32_t client_serial = 0) {
    TransferRequest r;
    r.id = id;
    r.qname = z.apex;
    r.qtype = qtype;
    r.client_serial = client_serial;
    return r;
}

// Feeds messages; returns "" and the result, or the first error.
std::string read(const std::vector<std::string>& msgs, bool ixfr, uint32_t ours,
                 TransferResult& out) {
    TransferReader reader(text_to_wire("in.test."), ixfr, ours, id);
    for (const std::string& m : msgs)
        if (std::string err = reader.add(reinterpret_cast<const uint8_t*>(m.data()), m.size());
            !err.empty())
            return err;
    return reader.take(out);
}

TEST(XfrIn, AxfrRoundTripBuildsTheSameZone) {
    auto z = zone(5000);
    const auto msgs = axfr_messages(*z, request(*z, rrtype::AXFR));
    ASSERT_GT(msgs.size(), 1u);
    TransferResult r;
    ASSERT_EQ(read(msgs, false, 0, r), "");
    ASSERT_EQ(r.kind, TransferResult::Kind::full);
    ASSERT_TRUE(r.zone);
    EXPECT_EQ(r.serial, 1u);
    EXPECT_EQ(text_of(*r.zone), text_of(*z));  // names decompressed, case kept
}

TEST(XfrIn, IxfrRoundTripAppliesAndRecordsHistory) {
    ZoneStore primary, secondary;
    primary.replace_zone(zone(10), 10);
    secondary.replace_zone(zone(10), 10);
    const std::string apex = text_to_wire("in.test.");
    // Two changes on the primary, each one difference.
    for (const char* c : {"customer1", "customer2"}) {
        RecordChange ch{RecordChange::Op::set, "in.test", c, "A", "203.0.113.7", std::nullopt};
        ASSERT_EQ(primary.apply({ch}, [] { return std::string(); }).error, "");
    }
    RecordChange del{RecordChange::Op::del, "in.test", "customer3", "", "", std::nullopt};
    ASSERT_EQ(primary.apply({del}, [] { return std::string(); }).error, "");
    const Zone& p = *primary.find("in.test");
    const auto msgs = ixfr_messages(p, *primary.history(apex), request(p, rrtype::IXFR, 1));
    TransferResult r;
    ASSERT_EQ(read(msgs, true, 1, r), "");
    ASSERT_EQ(r.kind, TransferResult::Kind::incremental);
    ASSERT_EQ(r.deltas.size(), 3u);
    EXPECT_EQ(r.serial, 4u);
    const ChangeOutcome out = secondary.apply_deltas(apex, r.deltas);
    ASSERT_EQ(out.error, "");
    EXPECT_EQ(text_of(*secondary.find("in.test")), text_of(p));
    EXPECT_EQ(out.changed.at(apex).size(), 4u);  // three customers and the apex
    // The secondary's own history serves IXFR onward.
    std::vector<const ZoneDelta*> since;
    EXPECT_TRUE(secondary.history(apex)->since(1, since));
    EXPECT_EQ(since.size(), 3u);
    // Up to date: the SOA alone.
    TransferResult same;
    ASSERT_EQ(
        read(ixfr_messages(p, *primary.history(apex), request(p, rrtype::IXFR, 4)), true, 4, same),
        "");
    EXPECT_EQ(same.kind, TransferResult::Kind::up_to_date);
    // Applying the same differences again: the serials no longer match, nothing changes.
    const std::string before = text_of(*secondary.find("in.test"));
    EXPECT_NE(secondary.apply_deltas(apex, r.deltas).error, "");
    EXPECT_EQ(text_of(*secondary.find("in.test")), before);
}

TEST(XfrIn, IxfrDeletingAMissingRecordChangesNothing) {
    ZoneStore store;
    store.replace_zone(zone(3), 10);
    const std::string apex = text_to_wire("in.test.");
    const std::string before = text_of(*store.find("in.test"));
    ZoneDelta d;
    d.old_soa = soa_record(*store.find("in.test"));
    d.new_soa = d.old_soa;
    store32(reinterpret_cast<uint8_t*>(d.new_soa.rdata.data()) + soa_serial_offset(d.new_soa.rdata),
            2);
    d.added.push_back(
        Record{text_to_wire("new.in.test."), rrtype::A, 300, std::string("\xc0\x00\x02\x63", 4)});
    d.removed.push_back(
        Record{text_to_wire("nothere.in.test."), rrtype::A, 300, "\x01\x02\x03\x04"});
    EXPECT_NE(store.apply_deltas(apex, {d}).error.find("does not have"), std::string::npos);
    EXPECT_EQ(text_of(*store.find("in.test")), before);
    // CNAME beside data: refused, nothing applied.
    d.removed.clear();
    d.added.push_back(
        Record{text_to_wire("customer1.in.test."), rrtype::CNAME, 300, text_to_wire("x.in.test.")});
    EXPECT_NE(store.apply_deltas(apex, {d}).error.find("CNAME"), std::string::npos);
    EXPECT_EQ(text_of(*store.find("in.test")), before);
}

// A message of the given records (owner text, type, rdata wire), the reply to `id`.
std::string message(const std::vector<Record>& recs) {
    MessageBuilder b;
    b.begin(id, flag_qr | flag_aa, text_to_wire("in.test."), rrtype::AXFR);
    for (const Record& r : recs) b.add(r.owner, r.type, class_in, r.ttl, r.rdata);
    return b.finish();
}

TEST(XfrIn, BadStreamsAreRefusedWithAReason) {
    auto z = zone(2);
    const Record soa = soa_record(*z);
    const Record ns{text_to_wire("in.test."), rrtype::NS, 300, text_to_wire("ns1.in.test.")};
    TransferResult r;
    // Truncated: no closing SOA.
    EXPECT_EQ(read({message({soa, ns})}, false, 0, r), "the transfer ended before its final SOA");
    // A record outside the zone.
    const Record out{text_to_wire("www.other.test."), rrtype::A, 300, "\x01\x02\x03\x04"};
    EXPECT_NE(read({message({soa, ns, out, soa})}, false, 0, r).find("outside the zone"),
              std::string::npos);
    // CNAME beside data.
    const Record a{text_to_wire("x.in.test."), rrtype::A, 300, "\x01\x02\x03\x04"};
    const Record cname{text_to_wire("x.in.test."), rrtype::CNAME, 300, text_to_wire("y.in.test.")};
    EXPECT_NE(read({message({soa, ns, a, cname, soa})}, false, 0, r).find("CNAME"),
              std::string::npos);
    // No NS at the apex.
    EXPECT_NE(read({message({soa, a, soa})}, false, 0, r).find("NS"), std::string::npos);
    // A closing SOA with another serial.
    Record soa2 = soa;
    store32(reinterpret_cast<uint8_t*>(soa2.rdata.data()) + soa_serial_offset(soa2.rdata), 9);
    EXPECT_NE(read({message({soa, ns, soa2})}, false, 0, r).find("closing SOA"), std::string::npos);
    // IXFR whose first difference starts elsewhere than our serial.
    EXPECT_NE(read({message({soa2, soa2})}, true, 5, r).find("not at ours"), std::string::npos);
    // A malformed A record (3 octets of RDATA).
    const Record bad{text_to_wire("x.in.test."), rrtype::A, 300, "\x01\x02\x03"};
    EXPECT_NE(read({message({soa, ns, bad, soa})}, false, 0, r).find("malformed"),
              std::string::npos);
    // A message cut short.
    std::string m = message({soa, ns, soa});
    m.resize(m.size() - 5);
    EXPECT_NE(read({m}, false, 0, r), "");
    // A full transfer arrives whole.
    ASSERT_EQ(read({message({soa, ns, a}), message({soa})}, false, 0, r), "");
    EXPECT_EQ(r.kind, TransferResult::Kind::full);
}

}  // namespace
}  // namespace anamed::test
