// Catalog zones (RFC 9432, version 2): reading a catalog's members (anamed as a consumer,
// catalog-role: interpret) and writing a catalog of this server's zones (anamed as a
// producer, catalog-role: generate). Pure functions over zones: the daemon's side is in
// catalog_sync.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "zone.hpp"

namespace anamed {

struct CatalogMember {
    std::string label;  // its unique-N label (RFC 9432 §4.1), presentation form
    std::string apex;   // the member zone, lower-case wire
    std::string text;   // the member zone, presentation form with the trailing dot
};

struct CatalogContents {
    std::vector<CatalogMember> members;  // in the order of their unique-N labels
    // Members left out, one line each (a name repeated, a member inside the catalog itself);
    // the rest of the catalog is used.
    std::vector<std::string> skipped;
};

// A catalog's members. "" or why the catalog as a whole is broken and must not be used
// (RFC 9432 §4): no version.$CATZ TXT "2" (exactly one record), more than one PTR at a
// member's unique-N label, more than one PTR at a member's coo property. Properties (group,
// coo, custom ext.) are read no further: they change nothing here.
std::string read_catalog(const Zone& catalog, CatalogContents& out);

// A member's unique-N label, stable for its name: 16 hex digits of a fixed hash (FNV-1a, 64
// bits) of its lower-case wire name, so that a producer restarted writes the same labels.
std::string catalog_label(std::string_view member_apex);

// The catalog zone `apex_text` listing `members` (presentation names): SOA and NS invalid.,
// version TXT "2", one PTR per member under zones. (in the order given, labels from
// catalog_label). `error` says why none could be built.
std::unique_ptr<Zone> generate_catalog(const std::string& apex_text, uint32_t serial,
                                       const std::vector<std::string>& members, std::string& error);

}  // namespace anamed
