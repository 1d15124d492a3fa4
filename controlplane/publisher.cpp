#include "publisher.hpp"

#include <malloc.h>

#include <ctime>

#include "anamed/huge_array.hpp"
#include "compiler.hpp"
#include "log.hpp"
#include "patcher.hpp"

namespace anamed {
namespace {

int64_t micros_since(Clock::time_point t0, Clock::time_point t1) {
    return std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0).count();
}

double seconds_since(Clock::time_point t0, Clock::time_point t1) {
    return std::chrono::duration<double>(t1 - t0).count();
}

}  // namespace

void Publisher::rebuild(const std::vector<std::string>* targets) {
    std::vector<std::string> errors;
    const auto zones = signing_.view(store_.zones(), std::time(nullptr), errors);
    for (const std::string& e : errors) log_error(e);
    std::vector<std::string> listed;
    if (targets == nullptr) targets = &(listed = alias_targets(zones));
    resolver_.set_targets(*targets, zones);
    if (alias_listener_) alias_listener_(*targets);
    const auto t0 = Clock::now();
    auto snap =
        compile(zones, ++generation_, [this](const std::string& t) { return resolver_.answer(t); });
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    size_t nodes = 0;
    for (const auto& z : snap->zones) nodes += z->nodes.size();
    log_info("snapshot " + std::to_string(generation_) + " compiled: " +
             std::to_string(snap->zones.size()) + " zones, " + std::to_string(nodes) + " nodes, " +
             std::to_string(snap->aliases.size()) + " ALIAS targets, " +
             std::to_string(snap->memory() >> 10) + " KiB, " + std::to_string(int(ms)) + " ms");
    alias_slot_.clear();
    for (uint32_t i = 0; i < snap->alias_targets.size(); ++i)
        alias_slot_[snap->alias_targets[i]] = i;
    for (auto& zt : snap->zones)
        if (expired_.count(zt->apex_key)) zt->expired = 1;
    std::vector<std::string> apexes;
    for (const auto& zt : snap->zones) apexes.push_back(zt->apex_text);
    const std::vector<uint16_t> slots = zone_slots_.assign(apexes, zone_reset_);
    for (size_t i = 0; i < slots.size(); ++i) snap->zones[i]->stats_slot = slots[i];
    snap->identity = identity_;
    live_ = snap.get();
    promote_ = live_->deferred_huge();
    published_.publish(std::move(snap));
    latency_[size_t(PublishKind::rebuild)].observe(seconds_since(t0, Clock::now()));
    // A compile frees as much as it keeps (the previous table, the loader's batches): hand
    // that back to the system rather than keep it as heap nobody will use soon.
    malloc_trim(0);
}

// One pointer per changed target; the old answers are released after the grace period.
void Publisher::publish_aliases(const std::vector<std::string>& changed) {
    if (alias_listener_) alias_listener_(changed);
    const auto t0 = Clock::now();
    std::vector<std::shared_ptr<const AliasAnswer>> retired;
    for (const auto& target : changed) {
        auto it = alias_slot_.find(target);
        if (it == alias_slot_.end()) continue;
        auto next = resolver_.answer(target);
        retired.push_back(std::move(live_->alias_owners[it->second]));
        live_->aliases[it->second].store(next.get());
        live_->alias_owners[it->second] = std::move(next);
    }
    const auto visible = Clock::now();
    latency_[size_t(PublishKind::alias)].observe(seconds_since(t0, visible));
    rcu_.synchronize();
    retired.clear();
    log_info("published " + std::to_string(changed.size()) + " ALIAS change(s) in " +
             std::to_string(micros_since(t0, visible)) + " us");
}

// Patches the changed names into the live snapshot; recompiles only for structural changes.
void Publisher::publish_changes(const ChangeOutcome& outcome) {
    // A signed zone's change is signed into its copy (the names touched and their chain
    // neighbours), then compiled whole.
    bool signed_change = false;
    for (const auto& [apex, names] : outcome.changed)
        if (signing_.signed_zone(apex) != nullptr) {
            if (const Zone* truth = store_.find(name_to_text(apex)))
                if (std::string e = signing_.patch(*truth, names, std::time(nullptr)); !e.empty())
                    log_error("zone " + truth->apex_text + ": " + e);
            signed_change = true;
        }
    if (signed_change) return rebuild();
    const auto t0 = Clock::now();
    Patcher patcher(*live_, store_, alias_slot_);
    if (std::string why = patcher.plan(outcome); !why.empty()) {
        log_info("change needs a full recompile (" + why + ")");
        rebuild();
        return;
    }
    std::vector<std::unique_ptr<uint8_t[]>> retired;
    patcher.apply(retired);
    const auto visible = Clock::now();
    latency_[size_t(PublishKind::patch)].observe(seconds_since(t0, visible));
    rcu_.synchronize();
    retired.clear();
    size_t names = 0;
    for (const auto& [zone, keys] : outcome.changed) names += keys.size();
    log_info("patched " + std::to_string(names) + " name(s) into snapshot " +
             std::to_string(generation_) + " in " + std::to_string(micros_since(t0, visible)) +
             " us");
    // In-zone ALIAS targets may have moved with the change.
    const auto moved = resolver_.reresolve_local(store_.zones());
    if (!moved.empty()) publish_aliases(moved);
}

void Publisher::set_expired(const std::string& apex, bool expired) {
    if (expired)
        expired_.insert(apex);
    else
        expired_.erase(apex);
    if (live_ == nullptr) return;
    for (auto& zt : live_->zones)
        if (zt->apex_key == apex)
            std::atomic_ref<uint8_t>(zt->expired).store(expired ? 1 : 0, std::memory_order_relaxed);
}

bool Publisher::promote_step() {
    if (promote_.empty()) return false;
    huge_promote(promote_.back().first, promote_.back().second);
    promote_.pop_back();
    return true;
}

}  // namespace anamed
