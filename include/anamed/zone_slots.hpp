// The per-zone counters' slots (stats.hpp): a small stable index per served apex, assigned by
// the control plane at each full compile and kept in the snapshot (ZoneTable::stats_slot),
// named for the exporters (anamectl stats, /metrics, DPDK telemetry).
//
// Bounded: max_zone_slots - 1 zones get a slot, the rest get 0 (not counted per zone). A zone
// keeps its slot while it is served. A removed zone's slot is free again only from the
// compile after the next one: the publish in between has waited out every worker still on
// the snapshot that mapped it, so its old counts are zeroed (`reset`) and never reach the
// new zone.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace anamed {

class ZoneSlots {
public:
    // The slot of each of `apexes` (presentation form), in order. `reset(slot)` is called for
    // every slot handed to a zone that did not have it, before the caller publishes.
    std::vector<uint16_t> assign(const std::vector<std::string>& apexes,
                                 const std::function<void(uint16_t)>& reset);
    // (slot, zone) for every zone that has a slot, by zone name. Any thread.
    std::vector<std::pair<uint16_t, std::string>> names() const;

private:
    mutable std::mutex mu_;
    std::map<std::string, uint16_t> by_name_;
    std::vector<uint16_t> free_;      // free now
    std::vector<uint16_t> released_;  // free from the next assign on
    uint16_t next_ = 1;               // never used yet: next_ .. max_zone_slots - 1
};

}  // namespace anamed
