// Publishes runtime changes into the live snapshot node by node, without rebuilding it:
// a changed name gets a new answer block (one pointer swap), a new leaf name is inserted
// into the index (with the empty non-terminals it needs), a deleted leaf is tombstoned.
// Anything structural — a change of a name's delegation/DNAME/CNAME status, a new ALIAS
// target, addresses copied into other names' additional sections — makes plan() refuse,
// and the caller recompiles instead. A signed zone is patched from its signed copy: the
// names the change touched and the chain neighbours re-signed with them, and the names
// that joined or left its NSEC/NSEC3 chain in the chain respond() searches.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "live_snapshot.hpp"
#include "node_builder.hpp"
#include "zone_change.hpp"
#include "zone_store.hpp"

namespace anamed {

class Patcher {
public:
    // The zone compiled for a zone name (presentation): the store's, or its signed copy.
    using ZoneLookup = std::function<const Zone*(const std::string& apex_text)>;
    Patcher(LiveSnapshot& live, ZoneLookup zones,
            const std::unordered_map<std::string, uint32_t>& alias_slot)
        : live_(live), zones_(std::move(zones)), alias_slot_(alias_slot) {}
    Patcher(LiveSnapshot& live, const ZoneStore& store,
            const std::unordered_map<std::string, uint32_t>& alias_slot)
        : Patcher(
              live, [&store](const std::string& apex) { return store.find(apex); }, alias_slot) {}

    // Checks every changed name and builds its new block; changes nothing visible.
    // Returns "" when the change can be patched in, else why not (for the log).
    std::string plan(const ChangeOutcome& outcome);
    // What a patch replaced, to be freed only after a grace period.
    struct Retired {
        std::vector<std::unique_ptr<uint8_t[]>> blocks;
        std::vector<std::unique_ptr<const DenialChain>> chains;
    };
    // Makes the planned changes visible: the nodes, then in a signed zone the denial chain
    // with the names that joined or left it.
    void apply(Retired& retired);

private:
    enum class Kind { replace, insert, remove, to_ent };
    struct Step {
        Kind kind;
        ZoneTable* zone;
        Node* node = nullptr;  // existing node (replace/remove/to_ent) or parent (insert)
        std::string key;
        uint16_t flags = 0;
        uint32_t alias = 0;
        BuiltNode built;
        bool in_chain = false;  // a signed zone's: the name owns an NSEC or NSEC3 record
    };
    std::string plan_one(ZoneTable& zt, const Zone& z, const std::string& key);
    const ZoneNode* lookup(std::string_view key, bool glue_ok) const;
    Node* parent_node(ZoneTable& zt, std::string_view key);  // of key, in zt's index
    // The zone's chain with the planned steps' names joined or left; null when unchanged.
    std::unique_ptr<const DenialChain> patched_chain(const ZoneTable& zt) const;

    LiveSnapshot& live_;
    ZoneLookup zones_;
    const std::unordered_map<std::string, uint32_t>& alias_slot_;
    std::vector<Step> steps_;
    std::unordered_map<std::string, size_t> planned_;  // inserts by key, into steps_
};

}  // namespace anamed
