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

// The ALIAS owners of the zones signed here get answers of their own (the target's addresses
// with the owner's signatures, AliasAnswer): `owns` names those zones (lower-case wire apex),
// and `answer` makes an owner's answer from its target's; it is called from many threads.
struct OwnedAliases {
    std::function<bool(const std::string& apex)> owns;
    std::function<std::shared_ptr<const AliasAnswer>(
        const AliasOwner& owner, const std::shared_ptr<const AliasAnswer>& target)>
        answer;
};

// Compiles every zone into one snapshot. Zones must have distinct apexes. The build runs
// in parallel (TBB); the result shares nothing with the input but the alias answers.
std::unique_ptr<LiveSnapshot> compile(const std::vector<const Zone*>& zones, uint64_t generation,
                                      const AliasProvider& aliases = {},
                                      const OwnedAliases* owned = nullptr);

// The ALIAS targets (lower-case wire) named anywhere in these zones, each once.
std::vector<std::string> alias_targets(const std::vector<const Zone*>& zones);

}  // namespace anamed
