// DNSSEC's canonical forms (RFC 4034 §6): name order, RDATA with lower-case names, and the
// NSEC/NSEC3 type bitmap (RFC 4034 §4.1.2), plus NSEC3's hashed owner names (RFC 5155).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "anamed/denial.hpp"  // canonical_compare

namespace anamed {

struct CanonicalLess {
    bool operator()(std::string_view a, std::string_view b) const {
        return canonical_compare(a, b) < 0;
    }
};
// A byte string whose memcmp order is the canonical order of the lower-case wire name:
// sorting a million names by these is much faster than by canonical_compare.
std::string canonical_sort_key(std::string_view name);

// RFC 4034 §6.2 with RFC 6840 §5.1: the RDATA with the names it embeds in lower case, for
// the types whose names are canonicalised (NSEC's are not).
std::string canonical_rdata(uint16_t type, std::string_view rd);

// The type bitmap of a set of types (any order, duplicates allowed).
std::string type_bitmap(std::vector<uint16_t> types);
// The types in a bitmap; false when it is malformed.
bool bitmap_types(std::string_view bitmap, std::vector<uint16_t>& out);

// RFC 5155 §5: SHA-1 of the lower-case wire name and salt, iterated.
std::string nsec3_hash(std::string_view name, std::string_view salt, uint16_t iterations);
// RFC 4648 base32hex in lower case, without padding (NSEC3 owner labels).
std::string base32hex(std::string_view bytes);
// base32hex label text back to bytes; false on any other character.
bool base32hex_decode(std::string_view text, std::string& out);

}  // namespace anamed
