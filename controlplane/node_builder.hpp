// One node's answer block (NodeData), from its zone data: used by the compiler for every
// node and by the patcher for the nodes a runtime change touches.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "anamed/snapshot.hpp"
#include "zone.hpp"

namespace anamed {

// Zone data of a served name (lower-case wire key); glue below a cut only when glue_ok.
using NodeLookup = std::function<const ZoneNode*(std::string_view key, bool glue_ok)>;

struct BuiltNode {
    std::string bytes;                 // a complete NodeData image
    std::vector<std::string> targets;  // MX/NS/SRV targets whose addresses went in additional
    std::string chase;                 // the CNAME target (lower case), for NodeData::chase

    // Working space, kept between calls so that building a million nodes with one BuiltNode
    // does not allocate per node.
    struct Known {
        const uint8_t* label;  // into the zone data
        int parent;            // index of the suffix after this label, -1 for the root
        uint16_t ptr;
    };
    struct Scratch {
        std::vector<TypeEntry> entries;
        std::string records;
        std::vector<Known> known;
        std::vector<uint16_t> fixups;
        std::vector<std::string_view> done;
        std::string key;
    } scratch;
};

// `owner`: the node's lower-case wire name (its key); `apex_soa`: the zone's SOA RRset when
// `zn` is the apex, else null.
void build_node(const ZoneNode& zn, std::string_view owner, const std::optional<RRset>& apex_soa,
                const NodeLookup& lookup, BuiltNode& out);

// The node_flag bits a node's data gives it, from the RR type table (NS: delegation below
// the apex; DNAME; CNAME); `apex`: the node is its zone's apex. Reads only ZoneNode's marks.
uint16_t node_flags(const ZoneNode& zn, bool apex);

// The node of a served name (lower-case wire key) in `snap`, and its zone in `zone`; null
// when no zone of `snap` has it, or when it is at or below a zone cut and !glue_ok.
const Node* find_served(const Snapshot& snap, std::string_view key, bool glue_ok,
                        const ZoneTable*& zone);

// Copies a built image into memory of node_alloc_size() bytes, aligned for NodeData.
const NodeData* place_node(const BuiltNode& b, void* mem);
inline size_t node_alloc_size(const BuiltNode& b) {
    return b.bytes.size();
}

extern const NodeData empty_node_data;

}  // namespace anamed
