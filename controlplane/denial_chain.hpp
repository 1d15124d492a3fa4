// A signed zone's denial chain (anamed/snapshot.hpp's DenialChain) from its NSEC or NSEC3
// records, for the compiler.
#pragma once

#include <memory>
#include <vector>

#include "anamed/snapshot.hpp"
#include "zone.hpp"

namespace anamed {

// data[i]: the zone data of zt.nodes[i] (null for an empty non-terminal). NSEC3 when the
// apex has an NSEC3PARAM (its parameters hash names) or, without one, when only NSEC3
// records are there; NSEC when the zone has NSEC records; a chain of kind none when it has
// neither but its apex is signed; null for an unsigned zone.
std::unique_ptr<const DenialChain> build_denial_chain(const Zone& z, const ZoneTable& zt,
                                                      const std::vector<const ZoneNode*>& data);

}  // namespace anamed
