#include "alias_expansion.hpp"

#include <algorithm>
#include <tuple>

#include "anamed/wire.hpp"

namespace anamed {

void AliasExpansion::set_zones(std::set<std::string> apexes) {
    for (const std::string& apex : apexes)
        if (!zones_.count(apex)) pending_all_ = true;
    zones_ = std::move(apexes);
}

void AliasExpansion::changed(const std::vector<std::string>& targets) {
    if (zones_.empty()) return;
    pending_.insert(targets.begin(), targets.end());
}

int AliasExpansion::poll_timeout_ms(Clock::time_point now) const {
    if (zones_.empty() || (pending_.empty() && !pending_all_)) return -1;
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(last_bump_ + interval_ - now).count();
    return int(std::clamp<int64_t>(ms + 1, 0, interval_.count() + 1));
}

AliasExpansion::Addresses AliasExpansion::addresses_of(const AliasAnswer& a) {
    Addresses out;
    for (const std::string* rrs : {&a.a, &a.aaaa})
        for_each_stored_rr(*rrs, [&](uint16_t type, uint32_t ttl, std::string_view rdata) {
            out.push_back(Address{type, ttl, std::string(rdata)});
        });
    std::sort(out.begin(), out.end(), [](const Address& x, const Address& y) {
        return std::tie(x.type, x.rdata) < std::tie(y.type, y.rdata);
    });
    return out;
}

bool AliasExpansion::same(const Addresses& a, const Addresses& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const auto& x, const auto& y) {
        return x.type == y.type && x.rdata == y.rdata;
    });
}

void AliasExpansion::put(std::string_view owner, uint32_t alias_ttl, const Addresses& addrs,
                         std::vector<Record>& out) {
    for (const Address& a : addrs)
        out.push_back(Record{std::string(owner), a.type, std::min(a.ttl, alias_ttl), a.rdata});
}

void AliasExpansion::expand(std::string_view owner, const RRset& alias,
                            std::vector<Record>& out) const {
    if (alias.rdata.empty()) return;
    const auto it = frozen_.find(lower_key(alias.rdata[0]));
    if (it != frozen_.end()) put(owner, alias.ttl, it->second, out);
}

void AliasExpansion::annotate(ZoneDelta& d) const {
    d.expanded_removed.clear();
    d.expanded_added.clear();
    const auto side = [this](const std::vector<Record>& records, std::vector<Record>& out) {
        for (const Record& r : records) {
            if (r.type != rrtype::ALIAS) continue;
            const auto it = frozen_.find(lower_key(r.rdata));
            if (it != frozen_.end()) put(r.owner, r.ttl, it->second, out);
        }
    };
    side(d.removed, d.expanded_removed);
    side(d.added, d.expanded_added);
    d.expansion_known = true;
}

std::vector<AliasExpansion::Bump> AliasExpansion::due(Clock::time_point now, const Lookup& lookup,
                                                      const std::vector<const Zone*>& zones) {
    if (zones_.empty() || (pending_.empty() && !pending_all_) || now < last_bump_ + interval_)
        return {};
    const bool all = std::exchange(pending_all_, false);
    std::set<std::string> candidates = std::move(pending_);
    pending_.clear();
    std::map<std::string, Addresses> moved;  // target -> its new addresses
    const auto consider = [&](const std::string& target) {
        if (moved.count(target)) return;
        const auto answer = lookup(target);
        if (!answer || answer->state != AliasAnswer::resolved) return;
        Addresses now_addrs = addresses_of(*answer);
        const auto it = frozen_.find(target);
        if (it == frozen_.end() || !same(it->second, now_addrs))
            moved.emplace(target, std::move(now_addrs));
    };
    for (const std::string& t : candidates) consider(t);
    std::vector<Bump> bumps;
    for (const Zone* z : zones) {
        if (!covers(z->apex)) continue;
        Bump b{z->apex, {}, {}};
        for (const auto& [key, node] : z->nodes) {
            const std::optional<RRset> alias = node.find(rrtype::ALIAS);
            if (!alias || alias->rdata.empty()) continue;
            const std::string target = lower_key(alias->rdata[0]);
            if (all) consider(target);
            const auto m = moved.find(target);
            if (m == moved.end()) continue;
            const std::string owner = node.owner(key);
            if (const auto old = frozen_.find(target); old != frozen_.end())
                put(owner, alias->ttl, old->second, b.removed);
            put(owner, alias->ttl, m->second, b.added);
        }
        if (!b.removed.empty() || !b.added.empty()) bumps.push_back(std::move(b));
    }
    for (auto& [target, addrs] : moved) frozen_[target] = std::move(addrs);
    if (!bumps.empty()) last_bump_ = now;
    return bumps;
}

}  // namespace anamed
