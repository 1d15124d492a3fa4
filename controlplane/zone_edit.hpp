// Record-level edits of a zone node with the rules a zone load enforces, shared by the
// loader and by runtime changes (so both accept and refuse exactly the same data).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "zone.hpp"

namespace anamed {

// Parses one record in master-file syntax ("name [ttl] [IN] TYPE rdata", ALIAS included);
// relative names are completed with `origin` (absolute, presentation). Returns "" or what is wrong.
std::string parse_record(const std::string& text, const std::string& origin, uint32_t default_ttl,
                         ParsedRecord& out);

// A type's number from its mnemonic (the RR type table's, ALIAS/ANAME included, then
// ldns's) or TYPEnnn; 0 when it names none.
uint16_t type_from_text(std::string_view text);

// Adds a record to `node` under RFC 1034 §3.6.2 (nothing beside a CNAME but DNSSEC data),
// one record of a type marked rr_flag::single per name, no meta type, set semantics.
// Returns "" or the error; a TTL differing from the RRset's lowers the RRset's TTL and sets
// *warning.
std::string add_record(ZoneNode& node, const ParsedRecord& p, std::string* warning);

// Removes matching records: one record (rdata given), an RRset (type given, rdata empty)
// or everything at the node (type 0). Returns how many records went.
size_t remove_records(ZoneNode& node, uint16_t type, const std::string* rdata);

// What a zone's apex (null: none) lacks of what every zone has: an SOA (RFC 1035 §5.2) and
// NS records (RFC 1034 §4.2.1). Each as a phrase ("SOA record"); empty when nothing.
std::vector<std::string> apex_problems(const ZoneNode* apex);

// RFC 1982 serial increment of the SOA at `apex`.
void bump_serial(ZoneNode& apex);

}  // namespace anamed
