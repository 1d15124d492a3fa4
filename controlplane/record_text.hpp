// One record in RFC 1035 master-file form, as ldns prints it (ALIAS printed as ALIAS). The
// common types of a large zone (A, AAAA, names, MX, TXT) are printed here directly; ldns
// prints the rest, and any record whose names hold a character that needs escaping.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace anamed {

// One record, with a newline. owner and rdata in wire form.
std::string record_text(std::string_view owner, uint16_t type, uint32_t ttl,
                        std::string_view rdata);
// The same appended to `out`, the owner already in presentation form (a name's records
// share it).
void append_record_text(std::string& out, std::string_view owner_wire, std::string_view owner_text,
                        uint16_t type, uint32_t ttl, std::string_view rdata);
// Always through ldns (what the direct path must equal).
std::string record_text_ldns(std::string_view owner, uint16_t type, uint32_t ttl,
                             std::string_view rdata);
// The presentation form of a wire name when it needs no escaping; "" otherwise.
std::string plain_name_text(std::string_view wire);

}  // namespace anamed
