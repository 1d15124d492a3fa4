// Writes a zone back to an RFC 1035 master file (anamectl zone flush): runtime changes
// included, ALIAS records in their ALIAS form. Atomic: temp file, fsync, rename.
#pragma once

#include <string>

#include "zone.hpp"

namespace anamed {

// One record in master-file form, with a newline (ALIAS printed as ALIAS).
std::string record_text(std::string_view owner, uint16_t type, uint32_t ttl,
                        std::string_view rdata);
std::string zone_to_text(const Zone& zone);
// Returns "" or what went wrong.
std::string write_zone_file(const Zone& zone, const std::string& path);

}  // namespace anamed
