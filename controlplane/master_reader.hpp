// Reads RFC 1035 master files into logical records: comments and parentheses removed,
// $ORIGIN/$TTL/$INCLUDE applied, blank owners replaced by the previous owner. The records
// stream out in file order and are parsed independently (in parallel) by the zone loader.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "zone.hpp"
#include "zone_loader.hpp"

namespace anamed {

struct MasterRecord {
    std::string text;  // one record on one line, owner absolute
    int line = 0;
    uint32_t file = 0;    // index into MasterFile::files
    uint32_t origin = 0;  // index into MasterFile::origins
    uint32_t ttl = 0;     // $TTL in force
    // Set by normalize_record when the type was written as one ldns does not know (ALIAS):
    // that type's number, with `text` naming the type ldns reads in its place (RRType::text_as).
    uint16_t written_as = 0;
    bool same_owner = false;  // the owner is the previous record's, byte for byte
};

struct MasterFile {
    std::vector<std::string> files;
    std::vector<std::string> origins;  // absolute, presentation form
};

// Hands every record of `path` (and its includes) to `sink`, in file order; `out` collects the
// file names and origins the records refer to. The record passed is valid during the call
// only, and the sink may take it by swapping it with a record of its own (whose buffers the
// reader then reuses: no copy and no allocation per record).
void read_master_file(const std::string& path, const std::string& origin, MasterFile& out,
                      std::vector<Diagnostic>& diags,
                      const std::function<void(MasterRecord&)>& sink);

}  // namespace anamed
