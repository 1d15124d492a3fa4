// Runtime changes in wire form: what a dynamic update (RFC 2136 §2.5) asks of one zone, with
// RDATA as the message carried it (names decompressed). ZoneStore::apply_wire validates them
// with the rules a RecordChange meets (zone_edit.hpp) and applies a batch all-or-nothing; the
// journal keeps them as JSON beside RecordChange entries.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace anamed {

struct WireChange {
    // RFC 2136 §2.5.1-§2.5.4: add to an RRset, delete an RRset, delete every RRset at a name,
    // delete one RR. Deleting what is not there changes nothing; §3.4.2's special cases (the
    // SOA is replaced only by a higher serial and never deleted, the apex keeps its NS) hold.
    enum class Op { add, del_rrset, del_name, del_rr } op = Op::add;
    std::string zone;   // the zone's apex, presentation (as ZoneStore::find takes it)
    std::string owner;  // wire, case as sent
    uint16_t type = 0;  // 0 for del_name
    uint32_t ttl = 0;   // add
    std::string rdata;  // wire, names uncompressed (add, del_rr)
};

// A journal entry's element: {"update": "add", "zone", "owner": hex, "type", "ttl",
// "rdata": hex}. The "update" key tells it from a RecordChange ("op").
nlohmann::json wire_change_to_json(const WireChange& c);
// Throws std::invalid_argument naming the field.
WireChange wire_change_from_json(const nlohmann::json& j);
bool is_wire_change_json(const nlohmann::json& j);

// A possibly compressed name at msg[pos] to uncompressed wire in `out`. Returns the position
// after it in the message, 0 when malformed (loops, forward pointers, over-long names).
size_t read_message_name(const uint8_t* msg, size_t len, size_t pos, std::string& out);

// The RDATA of a type whose fields the RR type table knows all of (RRType::rdata.simple()),
// at msg[pos, end) in a message, appended to `out` with its names decompressed. "" or what is
// wrong.
struct RRType;
std::string read_rdata_fields(const RRType& t, const uint8_t* msg, size_t pos, size_t end,
                              std::string& out);

// A record's RDATA at msg[pos, pos + rdlen) checked against its type's layout (the RR type
// table's fields; ldns for the others), names decompressed. "" or what is wrong.
std::string read_rdata(const uint8_t* msg, size_t len, size_t pos, size_t rdlen, uint16_t type,
                       std::string& out);

// Whether two RDATAs of `type` are the same record: names compared without regard to case
// (RFC 4034 §6.2), everything else octet by octet.
bool same_rdata(uint16_t type, std::string_view a, std::string_view b);

}  // namespace anamed
