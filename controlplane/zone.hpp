// The control plane's truth for one zone: owner -> RRsets, in wire format.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace anamed {

struct RRset {
    uint16_t type = 0;
    uint32_t ttl = 0;
    std::vector<std::string> rdata;  // wire format, names uncompressed, case as written
};

// One record as read from a master file or a runtime change.
struct ParsedRecord {
    std::string owner;  // wire
    uint16_t type = 0;
    uint16_t klass = 0;
    uint32_t ttl = 0;
    std::string rdata;  // wire
};

struct ZoneNode {
    std::string owner;          // wire format, case as first written
    std::vector<RRset> rrsets;  // sorted by type

    const RRset* find(uint16_t type) const {
        for (const auto& r : rrsets)
            if (r.type == type) return &r;
        return nullptr;
    }
};

// Lets the node map be searched with a string_view (no temporary std::string per lookup).
struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

struct Zone {
    std::string apex;       // lower-case wire name
    std::string apex_text;  // presentation form, with the trailing dot
    std::string file;
    std::unordered_map<std::string, ZoneNode, KeyHash, std::equal_to<>> nodes;  // key: lower-case wire owner

    const ZoneNode* find(std::string_view key) const {
        auto it = nodes.find(key);
        return it == nodes.end() ? nullptr : &it->second;
    }
    uint32_t serial() const;
};

// Lower-case wire key of a wire name; true when `name` is `apex` or below it.
std::string lower_key(std::string_view wire);
bool is_subdomain(std::string_view name, std::string_view apex);
// Presentation text to wire (absolute names only). Empty on error.
std::string text_to_wire(std::string_view text);

}  // namespace anamed
