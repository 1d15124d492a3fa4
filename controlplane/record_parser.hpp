// One master-file record's text to wire format (record_parser.cpp): the types whose RDATA
// layout the RR type table gives field by field directly, everything else through ldns.
#pragma once

#include <string>

#include "master_reader.hpp"
#include "zone.hpp"

namespace anamed {

// Rewrites one record's text into what ldns reads: TTL before class, and a type ldns does
// not know (ALIAS) as the type it shares its format with, remembered in `written_as`.
void normalize_record(MasterRecord& rec);

// Parses one record, directly or with ldns (after normalize_record; a record may come
// normalized or not); relative names are completed with `origin` (absolute, presentation).
// Returns "" or what is wrong. Thread-safe.
std::string parse_master_record(const MasterRecord& rec, const std::string& origin,
                                ParsedRecord& out);

}  // namespace anamed
