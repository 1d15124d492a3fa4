// ZoneStore contents -> an immutable AnswerTable snapshot (anamed/snapshot.hpp), with the
// control plane's bookkeeping of it (live_snapshot.hpp).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "live_snapshot.hpp"
#include "zone.hpp"

namespace anamed {

// The current flattened answer for an ALIAS target (lower-case wire name); null = unresolved.
using AliasProvider = std::function<std::shared_ptr<const AliasAnswer>(const std::string& target)>;

// Compiles every zone into one snapshot. Zones must have distinct apexes. The build runs
// in parallel (TBB); the result shares nothing with the input but the alias answers.
std::unique_ptr<LiveSnapshot> compile(const std::vector<const Zone*>& zones, uint64_t generation,
                                      const AliasProvider& aliases = {});

// The ALIAS targets (lower-case wire) named anywhere in these zones, each once.
std::vector<std::string> alias_targets(const std::vector<const Zone*>& zones);

}  // namespace anamed
