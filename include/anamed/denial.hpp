// Authenticated denial of existence (RFC 4034 §6, RFC 5155): the canonical name order an NSEC
// chain follows, NSEC3's owner-name hash, and the searches respond() makes in a zone's
// DenialChain (anamed/snapshot.hpp). No allocation: they run on the answer path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "anamed/snapshot.hpp"

namespace anamed {

// <0, 0, >0 as lower-case wire name a sorts before, equal to or after b in canonical order
// (RFC 4034 §6.1: labels compared from the root down, each as lower-case octets).
int canonical_compare(std::string_view a, std::string_view b);

// The NSEC3 hash of a lower-case wire name (RFC 5155 §5) with the chain's salt and
// iterations, into out[DenialChain::hash_len].
void nsec3_hash(const DenialChain& chain, std::string_view name, uint8_t* out);

// The node whose NSEC covers or matches `name`: the last in canonical order at or before it
// (the chain wraps around: before the first, the last). Null for an empty chain.
const Node* nsec_covering(const DenialChain& chain, std::string_view name);

// The node whose NSEC3 owner hash is `hash`, or null.
const Node* nsec3_matching(const DenialChain& chain, const uint8_t* hash);
// The node whose NSEC3 covers `hash` (its owner hash sorts before it, the next one after),
// wrapping around as NSEC does; null for an empty chain.
const Node* nsec3_covering(const DenialChain& chain, const uint8_t* hash);

// Base32hex (RFC 4648 §7, no padding, either case) of an NSEC3 owner's first label into
// out[DenialChain::hash_len]; false when the label is not a hash of that length.
bool nsec3_label_hash(std::string_view label, uint8_t* out);

}  // namespace anamed
