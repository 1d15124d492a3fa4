// RFC 1035 master files -> Zone, through ldns, with file:line diagnostics.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "zone.hpp"

namespace anamed {

struct Diagnostic {
    std::string file;
    int line = 0;
    std::string message;
    bool error = true;

    std::string str() const;
};

struct LoadResult {
    std::unique_ptr<Zone> zone;  // null when any error was found: a zone is never half-loaded
    std::vector<Diagnostic> diags;

    bool ok() const { return zone != nullptr; }
};

// origin: the zone's name in presentation form ("example.com" or "example.com.").
LoadResult load_zone_file(std::string_view origin, const std::string& path);

// Checks one zone's content as a whole (SOA and NS at the apex, CNAME exclusivity);
// appends errors. Used after loading and after runtime changes.
void check_zone(const Zone& zone, std::vector<Diagnostic>& diags);

}  // namespace anamed
