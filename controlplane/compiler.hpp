// ZoneStore contents -> an immutable AnswerTable snapshot (anamed/snapshot.hpp).
#pragma once

#include <memory>
#include <vector>

#include "anamed/snapshot.hpp"
#include "zone.hpp"

namespace anamed {

// Compiles every zone into one snapshot. Zones must have distinct apexes. The build runs
// in parallel (TBB); the result shares nothing with the input.
std::unique_ptr<Snapshot> compile(const std::vector<const Zone*>& zones, uint64_t generation);

}  // namespace anamed
