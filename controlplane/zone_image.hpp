// An immutable copy of one version of a zone, for work done off the control thread while the
// zone store keeps changing the zone in place: an AXFR built while it is sent, the secondary's
// copy written to disk. Taking one copies every name's key and block into one mapping (no
// index, no allocation per name); images of the same version are shared.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "zone.hpp"
#include "zone_history.hpp"

namespace anamed {

// An image's memory: mapped and filled by the kernel in one go (MAP_POPULATE), as a fault per
// page of a few hundred MB costs more than the copy itself.
struct ImageUnmap {
    size_t bytes = 0;
    void operator()(char* p) const;
};

struct ZoneImage {
    // One name: its key, then its node's block (ZoneNode's layout), in the arena.
    struct Name {
        size_t at = 0;
        uint32_t block_bytes = 0;
        uint8_t key_len = 0;
    };
    std::string apex, apex_text;  // as in Zone
    uint32_t serial = 0;
    Record soa;
    std::vector<Name> names;  // in the zone's order
    std::unique_ptr<char[], ImageUnmap> arena;

    std::string_view key(const Name& n) const { return {arena.get() + n.at, n.key_len}; }
    std::string_view block(const Name& n) const {
        return {arena.get() + n.at + n.key_len, n.block_bytes};
    }
    std::string_view owner(const Name& n) const { return ZoneNode::owner_in(block(n), key(n)); }
    ZoneNode::Range rrsets(const Name& n) const { return ZoneNode::rrsets_in(block(n)); }
};

std::shared_ptr<const ZoneImage> take_image(const Zone& z);

// The images still in use, by zone: a second transfer of the same version shares the first
// one's image instead of copying the zone again.
class ZoneImages {
public:
    std::shared_ptr<const ZoneImage> get(const Zone& z);

private:
    struct Entry {
        const Zone* source = nullptr;
        uint32_t serial = 0;
        size_t names = 0;
        std::weak_ptr<const ZoneImage> image;
    };
    std::map<std::string, Entry> by_apex_;
};

}  // namespace anamed
