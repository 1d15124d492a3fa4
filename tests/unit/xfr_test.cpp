// Transfers out: AXFR and IXFR messages, read back with ldns and compared with the zone.
#include <gtest/gtest.h>

#include <set>

#include "anamed/wire.hpp"
#include "ldns.hpp"
#include "test_util.hpp"
#include "xfr_out.hpp"
#include "zone_edit.hpp"

namespace anamed::test {
namespace {

// "owner type ttl rdata-hex": one record, owner lower-cased, names uncompressed.
std::string key_of(std::string_view owner, uint16_t type, uint32_t ttl, std::string_view rd) {
    std::string o(owner);
    lower_in_place(o);
    std::string hex;
    for (unsigned char c : rd) {
        static const char* d = "0123456789abcdef";
        hex += d[c >> 4];
        hex += d[c & 15];
    }
    return name_to_text(o) + " " + std::to_string(type) + " " + std::to_string(ttl) + " " + hex;
}

std::multiset<std::string> zone_records(const Zone& z) {
    std::multiset<std::string> out;
    for (const auto& [key, node] : z.nodes)
        for (const RRset rs : node.rrsets())
            for (std::string_view rd : rs.rdata)
                out.insert(key_of(node.owner(key), rs.type, rs.ttl, rd));
    return out;
}

struct Read {
    std::vector<std::string> records;  // in order
    std::vector<uint16_t> types;
    size_t messages = 0;
    bool question_first_only = true;
};

// Every message parsed by ldns; the records uncompressed by it.
Read read_messages(const std::vector<std::string>& msgs) {
    Read r;
    for (const std::string& m : msgs) {
        EXPECT_LE(m.size(), 65535u);
        ldns_pkt* p = nullptr;
        EXPECT_EQ(ldns_wire2pkt(&p, reinterpret_cast<const uint8_t*>(m.data()), m.size()),
                  LDNS_STATUS_OK);
        if (!p) continue;
        EXPECT_TRUE(ldns_pkt_qr(p));
        EXPECT_TRUE(ldns_pkt_aa(p));
        EXPECT_EQ(ldns_pkt_id(p), 0x4242);
        if ((ldns_pkt_qdcount(p) == 1) != (r.messages == 0)) r.question_first_only = false;
        const ldns_rr_list* an = ldns_pkt_answer(p);
        for (size_t i = 0; i < ldns_rr_list_rr_count(an); ++i) {
            const ldns_rr* rr = ldns_rr_list_rr(an, i);
            const ldns_rdf* owner = ldns_rr_owner(rr);
            ldns_buffer* buf = ldns_buffer_new(512);
            ldns_rr_rdata2buffer_wire(buf, rr);
            std::string rd(reinterpret_cast<const char*>(ldns_buffer_begin(buf)),
                           ldns_buffer_position(buf));
            ldns_buffer_free(buf);
            const std::string o(reinterpret_cast<const char*>(ldns_rdf_data(owner)),
                                ldns_rdf_size(owner));
            r.records.push_back(key_of(o, ldns_rr_get_type(rr), ldns_rr_ttl(rr), rd));
            r.types.push_back(ldns_rr_get_type(rr));
        }
        ldns_pkt_free(p);
        ++r.messages;
    }
    return r;
}

TransferRequest request(const Zone& z, uint16_t qtype) {
    TransferRequest r;
    r.id = 0x4242;
    r.qname = z.apex;
    r.qtype = qtype;
    return r;
}

std::unique_ptr<Zone> load(const std::string& origin, const std::string& file) {
    LoadResult r = load_zone_file(origin, data_path(file));
    for (const auto& d : r.diags)
        if (d.error) ADD_FAILURE() << d.str();
    return std::move(r.zone);
}

// A zone of n customers with an A, an MX and a TXT each: many messages.
std::unique_ptr<Zone> big_zone(size_t n) {
    auto z = std::make_unique<Zone>();
    z->apex = text_to_wire("big.test.");
    z->apex_text = "big.test.";
    ParsedRecord p;
    std::string warning;
    auto add = [&](const std::string& text) {
        ASSERT_EQ(parse_record(text, "big.test.", 300, p), "");
        ZoneNode& node = z->nodes[lower_key(p.owner)];
        if (node.empty()) node.set_owner(p.owner);
        ASSERT_EQ(add_record(node, p, &warning), "");
    };
    add("@ SOA ns1 hostmaster 1 7200 3600 1209600 300");
    add("@ NS ns1");
    add("ns1 A 192.0.2.1");
    for (size_t i = 0; i < n; ++i) {
        const std::string c = "customer" + std::to_string(i);
        add(c + " A 198.51.100." + std::to_string(i % 250));
        add(c + " MX 10 mail." + c);
        add(c + " TXT \"verification=" + std::to_string(i) + "\"");
    }
    return z;
}

TEST(Axfr, TestZoneTransfersEveryRecordWithSoaFirstAndLast) {
    auto z = load("example.test", "test.zone");
    ASSERT_TRUE(z);
    const auto msgs = axfr_messages(*z, request(*z, rrtype::AXFR));
    const Read r = read_messages(msgs);
    ASSERT_GE(r.records.size(), 3u);
    EXPECT_EQ(r.types.front(), rrtype::SOA);
    EXPECT_EQ(r.types.back(), rrtype::SOA);
    EXPECT_EQ(r.records.front(), r.records.back());
    std::multiset<std::string> got(r.records.begin(), r.records.end() - 1);  // the last SOA repeats
    EXPECT_EQ(got, zone_records(*z));
    EXPECT_TRUE(r.question_first_only);
}

TEST(Axfr, LargeZoneSpansMessagesAndCompresses) {
    auto z = big_zone(20000);
    const auto msgs = axfr_messages(*z, request(*z, rrtype::AXFR));
    ASSERT_GT(msgs.size(), 1u);
    const Read r = read_messages(msgs);
    EXPECT_EQ(r.messages, msgs.size());
    std::multiset<std::string> got(r.records.begin(), r.records.end() - 1);
    EXPECT_EQ(got, zone_records(*z));
    size_t bytes = 0;
    for (const auto& m : msgs) bytes += m.size();
    // Uncompressed, each record repeats "customerN.big.test." (and the MX its target): the
    // apex suffix alone is 10 bytes a name saved.
    size_t uncompressed = 0;
    for (const auto& [key, node] : z->nodes)
        for (const RRset rs : node.rrsets())
            for (std::string_view rd : rs.rdata) uncompressed += key.view().size() + 10 + rd.size();
    EXPECT_LT(bytes, uncompressed * 3 / 4);
    // Room left for a TSIG record when asked.
    TransferRequest req = request(*z, rrtype::AXFR);
    req.room = 300;
    for (const auto& m : axfr_messages(*z, req)) EXPECT_LE(m.size(), 65535u - 300);
}

TEST(Ixfr, HistoryGivesDifferencesElseTheWholeZone) {
    auto z = load("example.test", "test.zone");
    ASSERT_TRUE(z);
    const uint32_t s0 = z->serial();
    ZoneHistory history(10);
    // One change: www gets a second A, the apex serial goes up.
    const std::string www = lower_key(text_to_wire("both.example.test."));
    ZoneNode before = *z->find(www);
    ZoneDelta d;
    d.old_soa = soa_record(*z);
    ParsedRecord p;
    std::string warning;
    ASSERT_EQ(parse_record("both.example.test. 3600 IN A 192.0.2.99", "example.test.", 300, p), "");
    ASSERT_EQ(add_record(z->nodes[www], p, &warning), "");
    bump_serial(z->nodes[z->apex]);
    d.new_soa = soa_record(*z);
    diff_node(www, &before, z->find(www), d);
    ASSERT_EQ(d.added.size(), 1u);
    EXPECT_TRUE(d.removed.empty());
    history.add(d);

    TransferRequest r = request(*z, rrtype::IXFR);
    r.client_serial = s0;
    Read got = read_messages(ixfr_messages(*z, history, r));
    ASSERT_EQ(got.types.size(), 5u);  // new SOA, old SOA, new SOA, the added A, new SOA
    EXPECT_EQ(got.types, (std::vector<uint16_t>{rrtype::SOA, rrtype::SOA, rrtype::SOA, rrtype::A,
                                                rrtype::SOA}));
    EXPECT_NE(got.records[0], got.records[1]);
    EXPECT_EQ(got.records[0], got.records[2]);

    r.client_serial = s0 + 1;  // current: the SOA alone
    got = read_messages(ixfr_messages(*z, history, r));
    EXPECT_EQ(got.types, std::vector<uint16_t>{rrtype::SOA});

    r.client_serial = s0 - 5;  // older than the history: the whole zone
    got = read_messages(ixfr_messages(*z, history, r));
    EXPECT_EQ(std::multiset<std::string>(got.records.begin(), got.records.end() - 1),
              zone_records(*z));

    r.client_serial = s0;  // over UDP, what fits one message goes
    r.udp = true;
    got = read_messages(ixfr_messages(*z, history, r));
    EXPECT_EQ(got.types.size(), 5u);
    r.client_serial = s0 - 5;  // the whole zone never goes over UDP: the SOA says "use TCP"
    got = read_messages(ixfr_messages(*z, history, r));
    EXPECT_EQ(got.types, std::vector<uint16_t>{rrtype::SOA});
}

TEST(Ixfr, HistoryKeepsItsDepthAndRestartsOnAGap) {
    ZoneHistory h(3);
    auto soa = [](uint32_t serial) {
        Record r{text_to_wire("x."), rrtype::SOA, 300,
                 text_to_wire("ns.x.") + text_to_wire("h.x.")};
        r.rdata += std::string(20, '\0');
        store32(reinterpret_cast<uint8_t*>(r.rdata.data()) + r.rdata.size() - 20, serial);
        return r;
    };
    for (uint32_t s = 1; s <= 5; ++s) h.add(ZoneDelta{soa(s), soa(s + 1), {}, {}});
    std::vector<const ZoneDelta*> out;
    EXPECT_EQ(h.size(), 3u);
    EXPECT_FALSE(h.since(2, out));
    ASSERT_TRUE(h.since(3, out));
    EXPECT_EQ(out.size(), 3u);
    h.add(ZoneDelta{soa(10), soa(11), {}, {}});  // not from 6: a gap
    EXPECT_EQ(h.size(), 1u);
    EXPECT_TRUE(h.since(10, out));
    EXPECT_TRUE(serial_gt(1, 0xFFFFFFF0u));
    EXPECT_FALSE(serial_gt(0xFFFFFFF0u, 1));
}

}  // namespace
}  // namespace anamed::test
