// Writes a zone back to an RFC 1035 master file (anamectl zone flush): runtime changes
// included, ALIAS records in their ALIAS form. Atomic: temp file, fsync, rename.
#pragma once

#include <string>

#include "record_text.hpp"
#include "zone.hpp"
#include "zone_image.hpp"

namespace anamed {

std::string zone_to_text(const Zone& zone);
// Returns "" or what went wrong.
std::string write_zone_file(const Zone& zone, const std::string& path);
// The same from an image (zone_image.hpp): on a thread other than the zone store's.
std::string write_zone_file(const ZoneImage& zone, const std::string& path);

}  // namespace anamed
