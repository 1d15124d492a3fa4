#include "zone_history.hpp"

#include <algorithm>

#include "anamed/wire.hpp"

namespace anamed {
namespace {

// Records of `a` that `b` lacks (same type, same RDATA), or whose TTL differs.
void missing_from(std::string_view owner, const ZoneNode* a, const ZoneNode* b,
                  std::vector<Record>& out) {
    if (a == nullptr) return;
    for (const RRset rs : a->rrsets()) {
        if (rs.type == rrtype::SOA) continue;
        const std::optional<RRset> other = b ? b->find(rs.type) : std::nullopt;
        for (std::string_view rd : rs.rdata) {
            if (other && other->ttl == rs.ttl && other->rdata.contains(rd)) continue;
            out.push_back(Record{std::string(owner), rs.type, rs.ttl, std::string(rd)});
        }
    }
}

}  // namespace

uint32_t serial_of_soa(const Record& soa) {
    const size_t at = soa_serial_offset(soa.rdata);
    return at == std::string_view::npos
               ? 0
               : load32(reinterpret_cast<const uint8_t*>(soa.rdata.data()) + at);
}

uint32_t ZoneDelta::from() const {
    return serial_of_soa(old_soa);
}
uint32_t ZoneDelta::to() const {
    return serial_of_soa(new_soa);
}

bool ZoneDelta::has_alias() const {
    const auto alias = [](const Record& r) { return r.type == rrtype::ALIAS; };
    return std::any_of(removed.begin(), removed.end(), alias) ||
           std::any_of(added.begin(), added.end(), alias);
}

void diff_node(std::string_view key, const ZoneNode* before, const ZoneNode* after, ZoneDelta& d) {
    const std::string owner_before = before ? before->owner(key) : std::string(key);
    const std::string owner_after = after ? after->owner(key) : std::string(key);
    missing_from(owner_before, before, after, d.removed);
    missing_from(owner_after, after, before, d.added);
}

Record soa_record(const Zone& z) {
    const ZoneNode* apex = z.find(z.apex);
    const std::optional<RRset> soa = apex ? apex->find(rrtype::SOA) : std::nullopt;
    if (!soa || soa->rdata.empty()) return Record{z.apex, rrtype::SOA, 0, {}};
    return Record{apex->owner(z.apex), rrtype::SOA, soa->ttl, std::string(soa->rdata[0])};
}

void ZoneHistory::set_depth(size_t depth) {
    depth_ = depth;
    while (deltas_.size() > depth_) deltas_.pop_front();
}

void ZoneHistory::add(ZoneDelta d) {
    if (depth_ == 0) return;
    // A difference that does not continue the last one (a serial set back by hand, a zone
    // file edited between reloads) starts the history anew.
    if (!deltas_.empty() && deltas_.back().to() != d.from()) deltas_.clear();
    if (!d.has_alias()) d.expansion_known = true;
    deltas_.push_back(std::move(d));
    while (deltas_.size() > depth_) deltas_.pop_front();
}

void ZoneHistory::forget_expansions() {
    for (ZoneDelta& d : deltas_) d.expansion_known = false;
}

bool ZoneHistory::since(uint32_t serial, std::vector<const ZoneDelta*>& out) const {
    out.clear();
    for (size_t i = 0; i < deltas_.size(); ++i) {
        if (deltas_[i].from() != serial) continue;
        for (size_t j = i; j < deltas_.size(); ++j) out.push_back(&deltas_[j]);
        return true;
    }
    return false;
}

}  // namespace anamed
