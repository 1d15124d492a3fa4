#include "anamed/zone_slots.hpp"

#include <set>

#include "anamed/stats.hpp"

namespace anamed {

std::vector<uint16_t> ZoneSlots::assign(const std::vector<std::string>& apexes,
                                        const std::function<void(uint16_t)>& reset) {
    std::lock_guard<std::mutex> lock(mu_);
    // Slots released by the previous assign: its publish has retired their snapshot.
    free_.insert(free_.end(), released_.begin(), released_.end());
    released_.clear();
    const std::set<std::string> wanted(apexes.begin(), apexes.end());
    for (auto it = by_name_.begin(); it != by_name_.end();) {
        if (wanted.count(it->first)) {
            ++it;
            continue;
        }
        released_.push_back(it->second);
        it = by_name_.erase(it);
    }
    std::vector<uint16_t> out;
    out.reserve(apexes.size());
    for (const std::string& apex : apexes) {
        if (auto it = by_name_.find(apex); it != by_name_.end()) {
            out.push_back(it->second);
            continue;
        }
        uint16_t slot = 0;
        if (next_ < max_zone_slots) {
            slot = next_++;
        } else if (!free_.empty()) {
            slot = free_.back();
            free_.pop_back();
        }
        if (slot != 0) {
            if (reset) reset(slot);
            by_name_[apex] = slot;
        }
        out.push_back(slot);
    }
    return out;
}

std::vector<std::pair<uint16_t, std::string>> ZoneSlots::names() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::pair<uint16_t, std::string>> out;
    out.reserve(by_name_.size());
    for (const auto& [name, slot] : by_name_) out.emplace_back(slot, name);
    return out;
}

}  // namespace anamed
