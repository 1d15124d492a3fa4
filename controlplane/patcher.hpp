// Publishes runtime changes into the live snapshot node by node, without rebuilding it:
// a changed name gets a new answer block (one pointer swap), a new leaf name is inserted
// into the index (with the empty non-terminals it needs), a deleted leaf is tombstoned.
// Anything structural — a change of a name's delegation/DNAME/CNAME status, a new ALIAS
// target, addresses copied into other names' additional sections — makes plan() refuse,
// and the caller recompiles instead.
#pragma once

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
    Patcher(LiveSnapshot& live, const ZoneStore& store,
            const std::unordered_map<std::string, uint32_t>& alias_slot)
        : live_(live), store_(store), alias_slot_(alias_slot) {}

    // Checks every changed name and builds its new block; changes nothing visible.
    // Returns "" when the change can be patched in, else why not (for the log).
    std::string plan(const ChangeOutcome& outcome);
    // Makes the planned changes visible. The blocks they replaced must be freed only after
    // a grace period: they are moved to `retired`.
    void apply(std::vector<std::unique_ptr<uint8_t[]>>& retired);

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
    };
    std::string plan_one(ZoneTable& zt, const Zone& z, const std::string& key);
    const ZoneNode* lookup(std::string_view key, bool glue_ok) const;
    Node* parent_node(ZoneTable& zt, std::string_view key);  // of key, in zt's index

    LiveSnapshot& live_;
    const ZoneStore& store_;
    const std::unordered_map<std::string, uint32_t>& alias_slot_;
    std::vector<Step> steps_;
    std::unordered_map<std::string, size_t> planned_;  // inserts by key, into steps_
};

}  // namespace anamed
