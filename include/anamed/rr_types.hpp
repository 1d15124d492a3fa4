// The RR type table: one descriptor per type, in the spirit of NSD's dns.c. The record
// parser, the node builder, the compiler and patcher, zone edits and the statistics read a
// type's behaviour from here: a new type's behaviour is one entry (and its tests).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace anamed {

// Flags of a snapshot Node (anamed/snapshot.hpp): where a lookup stops or turns.
namespace node_flag {
// nsec3: an NSEC3 record's hashed owner, which lookups treat as a name that does not exist
// (RFC 5155 §7.2.8).
inline constexpr uint16_t apex = 1, delegation = 2, dname = 4, cname = 8, nsec3 = 16;
}  // namespace node_flag

// One RDATA field, as master-file text and the wire have it.
enum class RdataField : uint8_t {
    name,  // a domain name, uncompressed in zone data
    u8,    // decimal in text
    u16,
    u32,
    period,  // 32 bits; text may carry units (1h30m), as a TTL does
    ipv4,
    ipv6,
    string,   // one <character-string> (RFC 1035 §3.3)
    strings,  // one or more <character-string>s, to the end of the RDATA
    other,    // anything else (base64, hex, bitmaps, parameters), to the end: ldns reads it
};

// The fields of a type's RDATA, in order.
struct RdataLayout {
    static constexpr size_t max_fields = 7;
    std::array<RdataField, max_fields> field{};
    uint8_t count = 0;

    constexpr RdataLayout() = default;
    constexpr RdataLayout(std::initializer_list<RdataField> fields) {
        for (RdataField f : fields) field[count++] = f;
    }
    constexpr const RdataField* begin() const { return field.data(); }
    constexpr const RdataField* end() const { return field.data() + count; }
    // Whether every field is one the record parser reads itself (no `other`).
    constexpr bool simple() const {
        for (RdataField f : *this)
            if (f == RdataField::other) return false;
        return count != 0;
    }
};

namespace rr_flag {
inline constexpr uint16_t
    // Names in the RDATA are compressed in answers: RFC 1035's own types only (RFC 3597 §4).
    compress = 1 << 0,
    // The RDATA's first name gets its A/AAAA in the additional section (RFC 1035 §3.3.9,
    // RFC 2782). Below a zone cut only for a type that makes a delegation (glue).
    additional = 1 << 1,
    // DNSSEC data about the name's own RRsets (RRSIG, NSEC, NSEC3): may sit beside a CNAME
    // (RFC 4035 §2.5, RFC 2181 §10.1).
    dnssec = 1 << 2,
    // Query-only or meta types (RFC 6895 §3.1): never zone data.
    meta = 1 << 3,
    // At most one record of the type at a name.
    single = 1 << 4,
    // Only at a zone's apex.
    apex_only = 1 << 5;
}  // namespace rr_flag

struct RRType {
    uint16_t number = 0;
    std::string_view mnemonic;
    RdataLayout rdata;
    uint16_t flags = 0;  // rr_flag
    // The node_flag bits a node with the type gets (delegation: below the apex only).
    uint16_t node_flags = 0;
    // 1 + the type's place among the query types counted by name in statistics; 0: "other".
    uint8_t stats_slot = 0;
    // For a type ldns does not know: the type whose text and RDATA format it shares, which
    // ldns parses and prints in its place (ALIAS as CNAME).
    uint16_t text_as = 0;
    std::string_view alt_mnemonic;  // a second name read in master files (ANAME for ALIAS)

    constexpr bool has(uint16_t flag) const { return (flags & flag) != 0; }
    // Where the RDATA's first name starts when only fixed-size fields come before it; -1
    // when there is no such name.
    constexpr int name_offset() const {
        int at = 0;
        for (RdataField f : rdata) {
            switch (f) {
            case RdataField::name: return at;
            case RdataField::u8: at += 1; break;
            case RdataField::u16: at += 2; break;
            case RdataField::u32:
            case RdataField::period:
            case RdataField::ipv4: at += 4; break;
            case RdataField::ipv6: at += 16; break;
            default: return -1;
            }
        }
        return -1;
    }
};

namespace rr_table {
using F = RdataField;
namespace f = rr_flag;
namespace n = node_flag;
// Ascending by number. Stats slots follow the order of the statistics' per-type counters.
inline constexpr RRType types[] = {
    {1, "A", {F::ipv4}, 0, 0, 1},
    {2, "NS", {F::name}, f::compress | f::additional, n::delegation, 6},
    {3, "MD", {F::name}, f::compress},
    {4, "MF", {F::name}, f::compress},
    {5, "CNAME", {F::name}, f::compress | f::single, n::cname, 5},
    {6,
     "SOA",
     {F::name, F::name, F::u32, F::period, F::period, F::period, F::period},
     f::compress | f::single | f::apex_only,
     0,
     7},
    {7, "MB", {F::name}, f::compress},
    {8, "MG", {F::name}, f::compress},
    {9, "MR", {F::name}, f::compress},
    {10, "NULL", {F::other}},
    {11, "WKS", {F::other}},
    {12, "PTR", {F::name}, f::compress, 0, 9},
    {13, "HINFO", {F::string, F::string}},
    {14, "MINFO", {F::name, F::name}, f::compress},
    {15, "MX", {F::u16, F::name}, f::compress | f::additional, 0, 3},
    {16, "TXT", {F::strings}, 0, 0, 4},
    {17, "RP", {F::name, F::name}},
    {18, "AFSDB", {F::u16, F::name}},
    {19, "X25", {F::string}},
    {21, "RT", {F::u16, F::name}},
    {24, "SIG", {F::other}},
    {25, "KEY", {F::other}},
    {26, "PX", {F::u16, F::name, F::name}},
    {28, "AAAA", {F::ipv6}, 0, 0, 2},
    {29, "LOC", {F::other}},
    {33, "SRV", {F::u16, F::u16, F::u16, F::name}, f::additional, 0, 8},
    {35, "NAPTR", {F::u16, F::u16, F::string, F::string, F::string, F::name}},
    {36, "KX", {F::u16, F::name}},
    {37, "CERT", {F::other}},
    {39, "DNAME", {F::name}, f::single, n::dname},
    {41, "OPT", {F::other}, f::meta},
    {42, "APL", {F::other}},
    {43, "DS", {F::other}, 0, 0, 10},
    {44, "SSHFP", {F::other}},
    {45, "IPSECKEY", {F::other}},
    {46, "RRSIG", {F::other}, f::dnssec},
    {47, "NSEC", {F::other}, f::dnssec},
    {48, "DNSKEY", {F::other}},
    {49, "DHCID", {F::other}},
    {50, "NSEC3", {F::other}, f::dnssec, n::nsec3},
    {51, "NSEC3PARAM", {F::other}},
    {52, "TLSA", {F::other}},
    {53, "SMIMEA", {F::other}},
    {55, "HIP", {F::other}},
    {59, "CDS", {F::other}},
    {60, "CDNSKEY", {F::other}},
    {61, "OPENPGPKEY", {F::other}},
    {62, "CSYNC", {F::other}},
    {63, "ZONEMD", {F::other}},
    {64, "SVCB", {F::other}, 0, 0, 12},
    {65, "HTTPS", {F::other}, 0, 0, 11},
    {99, "SPF", {F::strings}},
    {108, "EUI48", {F::other}},
    {109, "EUI64", {F::other}},
    {249, "TKEY", {F::other}, f::meta},
    {250, "TSIG", {F::other}, f::meta},
    {251, "IXFR", {F::other}, f::meta},
    {252, "AXFR", {F::other}, f::meta},
    {253, "MAILB", {F::other}, f::meta},
    {254, "MAILA", {F::other}, f::meta},
    {255, "ANY", {F::other}, f::meta, 0, 14},
    {256, "URI", {F::other}},
    {257, "CAA", {F::other}, 0, 0, 13},
    // ANAME-style flattening at PowerDNS's code point, so that zones move both ways.
    {65401, "ALIAS", {F::name}, f::single, 0, 15, 5, "ANAME"},
};
}  // namespace rr_table

inline constexpr size_t rr_type_count = std::size(rr_table::types);
static_assert(rr_type_count < 255, "rr_type_index holds 1 + an entry's place in a byte");

// 1 + the place in rr_table::types of each type number's entry, 0 for none (rr_types.cpp).
extern const std::array<uint8_t, 65536> rr_type_index;

// The entry of a type number, null when the table has none. O(1).
inline const RRType* rr_type(uint16_t number) {
    const uint8_t i = rr_type_index[number];
    return i ? &rr_table::types[i - 1] : nullptr;
}
// The entry of a mnemonic (case-insensitive; alt_mnemonic too), null when the table has
// none. O(1): one hash over the text.
const RRType* rr_type(std::string_view mnemonic);
// A mnemonic from the table or the generic TYPEnnn (RFC 3597 §5) to its number.
std::optional<uint16_t> rr_type_number(std::string_view text);
// A type's mnemonic, or TYPEnnn when the table has none.
std::string rr_type_text(uint16_t number);

// The types that decide a node's place in the tree or are one to a name (node_flags or
// single): what ZoneNode marks, so that the compiler asks a million names about them
// without reading their data. Derived from the table at compile time.
inline constexpr auto rr_marked_types = [] {
    std::array<uint16_t, 8> out{};
    size_t k = 0;
    for (const RRType& t : rr_table::types)
        if (t.node_flags != 0 || t.has(rr_flag::single))
            out[k++] = t.number;  // overflow: not a constant
    return out;
}();

}  // namespace anamed
