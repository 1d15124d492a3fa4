// The published snapshot as the control plane holds it: the dataplane's format
// (anamed/snapshot.hpp) and the bookkeeping that only the control plane reads and changes.
// The publisher frees both together, after the grace period.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "anamed/snapshot.hpp"

namespace anamed {

// An ALIAS owner with a slot of its own (a zone signed here): its name, zone, the ALIAS
// record's TTL (the signatures' original TTL) and slot.
struct AliasOwner {
    std::string apex, owner;  // lower-case wire
    uint32_t ttl = 0;
    uint32_t slot = 0;  // index into `aliases`
};

struct LiveSnapshot : Snapshot {
    // Lower-case wire ALIAS target per slot of `aliases`.
    std::vector<std::string> alias_targets;
    // Keeps each slot's current answer alive.
    std::vector<std::shared_ptr<const AliasAnswer>> alias_owners;
    // The slots that belong to one owner rather than to a target's owners together.
    std::vector<AliasOwner> owned_aliases;
    // Runtime changes patched in: new nodes, and the answer blocks that replaced compiled
    // ones, freed after a grace period when replaced in turn.
    Arena patch_nodes;
    std::unordered_map<const Node*, std::unique_ptr<uint8_t[]>> patched_data;
    // The denial chains patched in (ZoneTable::patched_denial), by zone.
    std::unordered_map<const ZoneTable*, std::unique_ptr<const DenialChain>> patched_denial;
    // Names whose A/AAAA are copied into other nodes' additional sections.
    std::unordered_set<std::string> additional_targets;

    // The zone table and node a lookup found, to change them.
    ZoneTable& table(const ZoneTable* zt) { return *zone_books_.at(zt).table; }
    Node& node(ZoneTable& zt, const Node* n);
    // How many nodes sit directly below `n` (kept out of Node, whose line holds the name).
    uint32_t& children(const ZoneTable& zt, const Node* n);
    // The compiler: zt's nodes are compiled, each with that many children.
    void add_zone(ZoneTable& zt, std::vector<uint32_t> child_count);
    // The patcher: a node it placed in patch_nodes.
    void add_patched(Node& n) { patched_[&n] = Patched{&n, 0}; }

private:
    struct ZoneBook {
        ZoneTable* table;
        std::vector<uint32_t> child_count;  // by place in table->nodes
    };
    struct Patched {
        Node* node;
        uint32_t children;
    };
    std::unordered_map<const ZoneTable*, ZoneBook> zone_books_;
    std::unordered_map<const Node*, Patched> patched_;
};

}  // namespace anamed
