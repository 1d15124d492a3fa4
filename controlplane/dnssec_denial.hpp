// Authenticated denial of existence: which names a signed zone covers, and the NSEC
// (RFC 4034 §4) and NSEC3 (RFC 5155, with RFC 9276's parameters: SHA-1, no extra
// iterations, no salt) chains built over them as ordinary records of the zone.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "zone.hpp"

namespace anamed {

inline constexpr uint16_t type_a = 1, type_aaaa = 28, type_ds = 43, type_rrsig = 46, type_nsec = 47,
                          type_dnskey = 48, type_nsec3 = 50, type_nsec3param = 51,
                          type_alias = 65401;

// Where a name of the zone stands. The apex and ordinary names are authoritative; a name
// with NS below the apex is a delegation (only its DS and NSEC are signed); a name below a
// delegation or a DNAME is occluded (glue or data hidden by the cut): not signed, not in a
// chain.
enum class NodeKind : uint8_t { authoritative, delegation, occluded };
NodeKind node_kind(const Zone& zone, std::string_view key);

// Whether the signer signs `type` at a name of `kind`. The ALIAS record itself is never
// served as such: its owner's A/AAAA are, and those are signed when they are written.
bool signs(NodeKind kind, uint16_t type);

// The address families an ALIAS target resolves to now (bit 0: A, bit 1: AAAA), for the
// bitmaps of its owners, which answer those types; null: none.
using AliasFamilies = std::function<uint8_t(const std::string& target)>;

// The types a bitmap lists for `node`: its RRsets but the DNSSEC metadata (RRSIG, NSEC,
// NSEC3) and ALIAS, with the A and AAAA an ALIAS owner answers (`families`); RRSIG when any
// RRset of the name is signed; NSEC for NSEC chains.
std::vector<uint16_t> bitmap_types_of(const ZoneNode& node, NodeKind kind, bool with_nsec,
                                      const AliasFamilies* families);

// The TTL of NSEC and NSEC3 records: the SOA's TTL or MINIMUM, whichever is lower
// (RFC 9077). 0 when the apex has no SOA.
uint32_t denial_ttl(const Zone& zone);

// The names an NSEC chain links, in canonical order: authoritative names and delegations.
std::vector<std::string> nsec_names(const Zone& zone);

// The NSEC RDATA of a name: the next name and the bitmap of `node`.
std::string nsec_rdata(std::string_view next, const ZoneNode& node, NodeKind kind,
                       const AliasFamilies* families);

// Adds an NSEC record at every name of the chain. The zone holds no NSEC yet.
void build_nsec_chain(Zone& zone, uint32_t ttl, const AliasFamilies* families);

// NSEC3 parameters as RFC 9276 recommends them; opt-out leaves insecure delegations out.
struct Nsec3Params {
    bool opt_out = false;
    uint16_t iterations = 0;
    std::string salt;
};
std::string nsec3param_rdata(const Nsec3Params& p);
// The owner key of the NSEC3 record of `name` (lower-case wire, under `apex`).
std::string nsec3_owner(std::string_view name, std::string_view apex, const Nsec3Params& p);
// The NSEC3 RDATA: parameters, next hashed owner (raw hash) and bitmap.
std::string nsec3_rdata(const Nsec3Params& p, std::string_view next_hash,
                        const std::vector<uint16_t>& types);
// Whether a name of `kind` gets an NSEC3 record (insecure delegations not under opt-out).
bool in_nsec3_chain(const ZoneNode& node, NodeKind kind, const Nsec3Params& p);

// Adds NSEC3PARAM at the apex and the NSEC3 records, empty non-terminals included, as names
// of their own. The zone holds no NSEC3 yet.
void build_nsec3_chain(Zone& zone, uint32_t ttl, const Nsec3Params& p,
                       const AliasFamilies* families);

}  // namespace anamed
