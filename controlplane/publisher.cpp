#include "publisher.hpp"

#include <malloc.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <ctime>
#include <map>

#include "alias_signing.hpp"
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

std::string owner_key(const AliasOwner& o) {
    return o.apex + o.owner;
}

}  // namespace

// What the compiler needs to make the answers of the signed zones' ALIAS owners: each
// zone's signer, and the answers the live snapshot has for those owners, whose signatures
// stay where the addresses did not change.
struct Publisher::OwnerSigning {
    std::unordered_map<std::string, ZoneSigner> signers;           // by apex
    std::unordered_map<std::string, const AliasAnswer*> previous;  // by owner_key
    OwnedAliases hooks;

    OwnerSigning(const ZoneSigning& signing, const std::vector<const Zone*>& zones,
                 const LiveSnapshot* live, int64_t now) {
        for (const Zone* z : zones)
            if (auto s = signing.signer(lower_key(z->apex), now))
                signers.emplace(lower_key(z->apex), std::move(*s));
        if (live != nullptr)
            for (const AliasOwner& o : live->owned_aliases)
                previous.emplace(owner_key(o), live->alias_owners[o.slot].get());
        hooks.owns = [this](const std::string& apex) { return signers.count(apex) != 0; };
        hooks.answer = [this](const AliasOwner& o,
                              const std::shared_ptr<const AliasAnswer>& target) {
            auto p = previous.find(owner_key(o));
            return sign_alias_answer(signers.at(o.apex), o, *target,
                                     p == previous.end() ? nullptr : p->second);
        };
    }
};

Publisher::Publisher(const ZoneStore& store, AliasResolver& resolver)
    : store_(store), resolver_(resolver), published_(rcu_) {
    signing_.set_alias_families([this](const std::string& target) -> uint8_t {
        const auto a = resolver_.answer(target);
        return a ? alias_families(*a) : 0;
    });
}

void Publisher::rebuild(const std::vector<std::string>* targets) {
    std::vector<std::string> errors;
    const int64_t now = std::time(nullptr);
    const auto zones = signing_.view(store_.zones(), now, errors);
    for (const std::string& e : errors) log_error(e);
    std::vector<std::string> listed;
    if (targets == nullptr) targets = &(listed = alias_targets(zones));
    resolver_.set_targets(*targets, zones);
    if (alias_listener_) alias_listener_(*targets);
    const auto t0 = Clock::now();
    const OwnerSigning owners(signing_, zones, live_, now);
    auto snap = compile(
        zones, ++generation_, [this](const std::string& t) { return resolver_.answer(t); },
        &owners.hooks);
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    size_t nodes = 0;
    for (const auto& z : snap->zones) nodes += z->nodes.size();
    log_info("snapshot " + std::to_string(generation_) +
             " compiled: " + std::to_string(snap->zones.size()) + " zones, " +
             std::to_string(nodes) + " nodes, " + std::to_string(snap->aliases.size()) +
             " ALIAS answers (" + std::to_string(snap->owned_aliases.size()) + " signed), " +
             std::to_string(snap->memory() >> 10) + " KiB, " + std::to_string(int(ms)) + " ms");
    alias_slot_.clear();
    owned_by_target_.clear();
    owned_slot_.clear();
    std::vector<bool> owned(snap->alias_targets.size());
    for (uint32_t k = 0; k < snap->owned_aliases.size(); ++k) {
        const uint32_t slot = snap->owned_aliases[k].slot;
        owned[slot] = true;
        owned_slot_[snap->owned_aliases[k].owner] = slot;
        owned_by_target_[snap->alias_targets[slot]].push_back(k);
    }
    for (uint32_t i = 0; i < snap->alias_targets.size(); ++i)
        if (!owned[i]) alias_slot_[snap->alias_targets[i]] = i;
    owners_resign_at_ = INT64_MAX;
    for (const AliasOwner& o : snap->owned_aliases)
        if (auto s = owners.signers.find(o.apex); s != owners.signers.end())
            owners_resign_at_ =
                std::min(owners_resign_at_, earliest_expiration(*snap->alias_owners[o.slot]) -
                                                int64_t(s->second.policy().refresh));
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

// One pointer per changed target, and one per owner of it in a signed zone, whose new
// answers are all signed before any is published; the old answers are released after the
// grace period.
void Publisher::publish_aliases(const std::vector<std::string>& changed) {
    if (bitmaps_lag(changed)) {
        // A family an owner's bitmap lists is gone: a NODATA for it would not validate
        // until the bitmap is written again, so both are published together.
        log_info(
            "ALIAS targets lost an address family: their owners' denial records are "
            "signed again before the new answers are published");
        refresh_bitmaps(changed);
        return;
    }
    if (alias_listener_) alias_listener_(changed);
    const auto t0 = Clock::now();
    std::vector<std::pair<uint32_t, std::shared_ptr<const AliasAnswer>>> next;
    std::vector<std::pair<const AliasOwner*, std::shared_ptr<const AliasAnswer>>> owners;
    for (const auto& target : changed) {
        std::shared_ptr<const AliasAnswer> answer = resolver_.answer(target);
        if (!answer) continue;
        if (auto it = alias_slot_.find(target); it != alias_slot_.end())
            next.emplace_back(it->second, answer);
        if (auto it = owned_by_target_.find(target); it != owned_by_target_.end())
            for (uint32_t k : it->second) owners.emplace_back(&live_->owned_aliases[k], answer);
    }
    const size_t signed_owners = sign_owners(owners, next);
    const auto ready = Clock::now();
    std::vector<std::shared_ptr<const AliasAnswer>> retired;
    for (auto& [slot, answer] : next) {
        retired.push_back(std::move(live_->alias_owners[slot]));
        live_->aliases[slot].store(answer.get());
        live_->alias_owners[slot] = std::move(answer);
    }
    const auto visible = Clock::now();
    latency_[size_t(PublishKind::alias)].observe(seconds_since(t0, visible));
    rcu_.synchronize();
    retired.clear();
    log_info("published " + std::to_string(changed.size()) + " ALIAS change(s) in " +
             std::to_string(micros_since(t0, visible)) + " us" +
             (owners.empty()
                  ? std::string()
                  : " (" + std::to_string(signed_owners) + " of " + std::to_string(owners.size()) +
                        " signed owner answers made in " + std::to_string(micros_since(t0, ready)) +
                        " us)"));
}

// The new answers of owners in signed zones, in parallel, appended to `next`; an owner whose
// signing failed keeps its answer (and an error is logged). Returns how many were made.
size_t Publisher::sign_owners(
    const std::vector<std::pair<const AliasOwner*, std::shared_ptr<const AliasAnswer>>>& owners,
    std::vector<std::pair<uint32_t, std::shared_ptr<const AliasAnswer>>>& next) {
    if (owners.empty()) return 0;
    const int64_t now = std::time(nullptr);
    std::unordered_map<std::string, ZoneSigner> signers;
    for (const auto& [o, target] : owners)
        if (!signers.count(o->apex))
            if (auto s = signing_.signer(o->apex, now)) signers.emplace(o->apex, std::move(*s));
    std::vector<std::shared_ptr<const AliasAnswer>> made(owners.size());
    tbb::parallel_for(size_t(0), owners.size(), [&](size_t i) {
        const auto& [o, target] = owners[i];
        auto s = signers.find(o->apex);
        if (s != signers.end())
            made[i] = sign_alias_answer(s->second, *o, *target, live_->alias_owners[o->slot].get());
    });
    size_t n = 0;
    for (size_t i = 0; i < owners.size(); ++i) {
        if (!made[i]) continue;
        owners_resign_at_ = std::min(
            owners_resign_at_, earliest_expiration(*made[i]) -
                                   int64_t(signers.at(owners[i].first->apex).policy().refresh));
        next.emplace_back(owners[i].first->slot, std::move(made[i]));
        ++n;
    }
    if (n != owners.size())
        log_error("DNSSEC: " + std::to_string(owners.size() - n) +
                  " ALIAS owner answer(s) could not be signed; their previous answers serve");
    return n;
}

// Patches the changed names into the live snapshot; recompiles only for structural changes.
// A signed zone's change is signed into its copy first (the names touched and their chain
// neighbours), and the names of the copy that changed are patched in.
void Publisher::publish_changes(const ChangeOutcome& outcome) {
    const auto t0 = Clock::now();
    ChangeOutcome patch;
    bool signed_whole = false;
    for (const auto& [apex, names] : outcome.changed) {
        if (signing_.signed_zone(apex) == nullptr) {
            patch.changed[apex] = names;
            continue;
        }
        ZoneSigning::Change change;
        if (const Zone* truth = store_.find(name_to_text(apex)))
            if (std::string e = signing_.patch(*truth, names, std::time(nullptr), &change);
                !e.empty()) {
                log_error("zone " + truth->apex_text + ": " + e);
                change.whole = true;
            }
        signed_whole = signed_whole || change.whole;
        patch.changed[apex] = std::move(change.names);
    }
    if (signed_whole) return rebuild();
    Patcher patcher(
        *live_,
        [this](const std::string& apex_text) -> const Zone* {
            const Zone* z = store_.find(apex_text);
            const Zone* copy = z ? signing_.signed_zone(z->apex) : nullptr;
            return copy ? copy : z;
        },
        alias_slot_);
    if (std::string why = patcher.plan(patch); !why.empty()) {
        log_info("change needs a full recompile (" + why + ")");
        rebuild();
        return;
    }
    Patcher::Retired retired;
    patcher.apply(retired);
    const auto visible = Clock::now();
    latency_[size_t(PublishKind::patch)].observe(seconds_since(t0, visible));
    rcu_.synchronize();
    retired = {};
    size_t names = 0;
    for (const auto& [zone, keys] : patch.changed) names += keys.size();
    log_info("patched " + std::to_string(names) + " name(s) into snapshot " +
             std::to_string(generation_) + " in " + std::to_string(micros_since(t0, visible)) +
             " us");
    // In-zone ALIAS targets may have moved with the change.
    const auto moved = resolver_.reresolve_local(store_.zones());
    if (!moved.empty()) publish_aliases(moved);
}

bool Publisher::bitmaps_lag(const std::vector<std::string>& changed) {
    bool lost = false;
    for (const std::string& target : changed) {
        auto it = owned_by_target_.find(target);
        const auto answer = it == owned_by_target_.end() ? nullptr : resolver_.answer(target);
        // Only a resolved answer has NODATA to prove; a failed one serves SERVFAIL.
        if (!answer || answer->state != AliasAnswer::resolved) continue;
        const uint8_t now = alias_families(*answer);
        bool gained = false;
        for (uint32_t k : it->second) {
            const uint8_t listed = signing_.bitmap_families(live_->owned_aliases[k].apex, target);
            lost = lost || (listed & ~now) != 0;
            gained = gained || (now & ~listed) != 0;
        }
        if (gained) {
            // Positive answers validate without the bitmap: it is written a moment later,
            // once for a burst of changes.
            if (bitmaps_due_.empty()) bitmaps_at_ = Clock::now() + std::chrono::seconds(1);
            bitmaps_due_.push_back(target);
        }
    }
    return lost;
}

void Publisher::refresh_bitmaps(const std::vector<std::string>& targets) {
    const int64_t now = std::time(nullptr);
    std::map<std::string, std::vector<std::string>> names;  // apex -> owners
    for (const std::string& t : targets)
        if (auto it = owned_by_target_.find(t); it != owned_by_target_.end())
            for (uint32_t k : it->second)
                names[live_->owned_aliases[k].apex].push_back(live_->owned_aliases[k].owner);
    for (const auto& [apex, owners] : names)
        if (const Zone* truth = store_.find(name_to_text(apex)))
            if (std::string e = signing_.patch(*truth, owners, now); !e.empty())
                log_error("zone " + truth->apex_text + ": DNSSEC: " + e);
    rebuild();
}

void Publisher::process() {
    if (!bitmaps_due_.empty() && Clock::now() >= bitmaps_at_) {
        std::vector<std::string> due;
        due.swap(bitmaps_due_);
        std::sort(due.begin(), due.end());
        due.erase(std::unique(due.begin(), due.end()), due.end());
        refresh_bitmaps(due);
    }
    const int64_t now = std::time(nullptr);
    if (live_ != nullptr && now >= std::min(signing_.next_resign(), owners_resign_at_) &&
        now >= resign_not_before_) {
        resign_not_before_ = now + 60;
        log_info("DNSSEC: signatures near their refresh time: signing them again");
        rebuild();
    }
}

int Publisher::poll_timeout_ms() const {
    int64_t ms = -1;  // nothing waits
    const int64_t due =
        std::max(std::min(signing_.next_resign(), owners_resign_at_), resign_not_before_);
    if (live_ != nullptr && due != INT64_MAX)
        ms = std::clamp<int64_t>((due - std::time(nullptr)) * 1000, 0, 3'600'000);
    if (!bitmaps_due_.empty()) {
        const int64_t left =
            std::chrono::duration_cast<std::chrono::milliseconds>(bitmaps_at_ - Clock::now())
                .count();
        ms = std::max<int64_t>(0, ms < 0 ? left : std::min(ms, left));
    }
    return int(ms);
}

void Publisher::expand_signed(std::string_view owner, const RRset& alias,
                              std::vector<Record>& out) const {
    auto it = owned_slot_.find(lower_key(owner));
    if (it == owned_slot_.end() || live_ == nullptr) return;
    const AliasAnswer& a = *live_->alias_owners[it->second];
    if (a.state != AliasAnswer::resolved) return;
    for (const std::string* rrs : {&a.a, &a.a_sigs, &a.aaaa, &a.aaaa_sigs})
        for_each_stored_rr(*rrs, [&](uint16_t type, uint32_t, std::string_view rdata) {
            out.push_back(Record{std::string(owner), type, alias.ttl, std::string(rdata)});
        });
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
