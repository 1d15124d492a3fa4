// Dynamic updates (RFC 2136): an UPDATE message read, its zone found, its prerequisites
// checked against the zone (§3.2), its update section prescanned (§3.4.1), every change
// checked against the zone's update-policy, and the whole applied through
// ZoneStore::apply_wire (§3.4.2) — or nothing of it. All of this runs on the control-plane
// thread between two other messages, so the prerequisites and the update see one state. On a
// secondary (a zone with primary:) the message goes to the primary as it came (§6).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "anamed/handoff.hpp"
#include "remotes.hpp"
#include "wire_change.hpp"
#include "zone_store.hpp"

namespace anamed {

// RFC 2136 §2.2's RCODEs beyond RFC 1035's.
namespace rcode_update {
inline constexpr uint8_t YXDOMAIN = 6, YXRRSET = 7, NXRRSET = 8, NOTAUTH = 9, NOTZONE = 10;
}

struct UpdateContext {
    const ZoneStore* store = nullptr;
    const Peers* peers = nullptr;
    // Applies a checked batch (journal, publish, NOTIFY). error set: nothing applied;
    // *storage_failed tells a journal failure (SERVFAIL) from a rule the batch breaks.
    std::function<ChangeOutcome(const std::vector<WireChange>&, bool* storage_failed)> apply;
    unsigned forward_timeout_ms = 2000;
};

struct UpdateResult {
    enum class Outcome { applied, unchanged, prerequisite, refused, malformed, failed, forwarded };
    Outcome outcome = Outcome::malformed;
    uint8_t rcode = 0;
    std::string reply;  // the reply without TSIG (forwarded: the primary's reply, as it came)
};

// body: the message without its TSIG; key: the verified TSIG key's name (lower-case wire),
// empty when unsigned. m.bytes (with the TSIG) is what a secondary forwards.
UpdateResult process_update(const UpdateContext& ctx, const HandoffMessage& m,
                            const std::vector<uint8_t>& body, std::string_view key);

// The primary's reply to `request` (sent as it is, over TCP), "" when none answered within
// timeout_ms each (update_forward.cpp).
std::string forward_update(const std::vector<const Remote*>& primaries,
                           const std::vector<uint8_t>& request, unsigned timeout_ms);

}  // namespace anamed
