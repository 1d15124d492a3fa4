// The answers of ALIAS owners in zones signed here: the target's flattened addresses with the
// owner's RRSIGs over them (RFC 4034 §3). They are made when the target's addresses change,
// before anything is published, so that each owner's old signed answer keeps serving until
// its new one is whole.
#pragma once

#include <cstdint>
#include <memory>

#include "anamed/snapshot.hpp"
#include "dnssec_signer.hpp"
#include "live_snapshot.hpp"

namespace anamed {

// Which address families an answer holds (bit 0: A, bit 1: AAAA); none unless resolved.
uint8_t alias_families(const AliasAnswer& a);

// The earliest expiration of an answer's signatures (seconds since the epoch); INT64_MAX
// when it has none.
int64_t earliest_expiration(const AliasAnswer& a);

// The answer of `owner` from its target's: the same addresses, signed by `signer` (the
// owner's zone's) with the ALIAS record's TTL as the original TTL; the dataplane serves them
// with the addresses' TTL. An RRset whose addresses did not change keeps `previous`'s
// signatures while they are made by the keys that sign now and are further than the
// policy's refresh from expiry. Null when libcrypto failed (the caller keeps what it has).
std::shared_ptr<const AliasAnswer> sign_alias_answer(const ZoneSigner& signer,
                                                     const AliasOwner& owner,
                                                     const AliasAnswer& target,
                                                     const AliasAnswer* previous);

}  // namespace anamed
