// An immutable copy of one version of a zone, for work done off the control thread while the
// zone store keeps changing the zone in place: an AXFR built while it is sent, the secondary's
// copy written to disk. Taking one copies each name's block (no index, no parsing); images of
// the same version are shared.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "zone.hpp"
#include "zone_history.hpp"

namespace anamed {

struct ZoneImage {
    std::string apex, apex_text;  // as in Zone
    uint32_t serial = 0;
    Record soa;
    std::vector<NodeMap::value_type> nodes;  // in the zone's order
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
