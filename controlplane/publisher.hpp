// Publishing: turns the zone store (+ resolved ALIAS answers) into the snapshot the workers
// read, and keeps it current: a full compile, ALIAS answers swapped slot by slot, runtime
// changes patched in name by name. Old data is freed only after every worker has passed a
// quiescent point (Rcu::synchronize).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "alias_resolver.hpp"
#include "anamed/publish.hpp"
#include "anamed/snapshot.hpp"
#include "anamed/zone_slots.hpp"
#include "dnssec_zone_signing.hpp"
#include "live_snapshot.hpp"
#include "metrics_state.hpp"
#include "zone_change.hpp"
#include "zone_store.hpp"

namespace anamed {

class Publisher {
public:
    Publisher(const ZoneStore& store, AliasResolver& resolver);

    // The zones -> a new snapshot, published whole. `targets`: the zones' ALIAS targets when
    // the caller has just listed them (listing walks every name of every zone).
    void rebuild(const std::vector<std::string>* targets = nullptr);
    // New answers of these ALIAS targets: one pointer swap per target.
    void publish_aliases(const std::vector<std::string>& changed);
    // Applied runtime changes: patched into the live snapshot, or a rebuild when structural.
    void publish_changes(const ChangeOutcome& outcome);

    // Told the ALIAS targets whose answers may have changed: those of publish_aliases(), and
    // every target after a rebuild.
    void on_alias_change(std::function<void(const std::vector<std::string>&)> f) {
        alias_listener_ = std::move(f);
    }

    // Work that waits for its time: signatures due for refresh (a rebuild signs them again)
    // and the bitmaps of ALIAS owners whose targets gained an address family. Call it every
    // turn of the control loop; poll_timeout_ms says how long the loop may sleep.
    void process();
    int poll_timeout_ms() const;

    // Marks a zone (lower-case wire apex) expired or not: its names answer SERVFAIL. Kept
    // across rebuilds.
    void set_expired(const std::string& apex, bool expired);

    // Moves one chunk of the live snapshot to huge pages; false when none is left.
    bool promote_step();
    bool promoting() const { return !promote_.empty(); }

    // The zones' dnssec: settings: zones with policy sign are compiled from signed copies.
    void set_signing(const std::vector<ZoneConfig>& zones) { signing_.configure(zones); }
    // The zone (lower-case wire apex) signed again whole with the keys as they are now
    // (after a key's timing changed), and published.
    void resign(const std::string& apex) {
        signing_.mark_stale(apex);
        rebuild();
    }
    // What a transfer of a zone signed here carries in place of an ALIAS RRset at `owner`:
    // the owner's published addresses and their RRSIGs, with the ALIAS's TTL.
    void expand_signed(std::string_view owner, const RRset& alias, std::vector<Record>& out) const;
    // The signed copy of a zone (lower-case wire apex) as last published; null: not signed.
    const Zone* signed_zone(const std::string& apex) const { return signing_.signed_zone(apex); }

    // The identity (NSID, CH TXT) every snapshot from the next rebuild on carries.
    void set_identity(Identity id) { identity_ = std::move(id); }
    // How long each kind of publication took until the workers could see it.
    const std::array<LatencyHistogram, size_t(PublishKind::count)>& latency() const {
        return latency_;
    }

    // The per-zone counters' slots (zone_slots.hpp), assigned at each rebuild; `reset` zeroes
    // a slot in every counter block before a new zone takes it.
    const ZoneSlots& zone_slots() const { return zone_slots_; }
    void set_zone_slot_reset(std::function<void(uint16_t)> reset) {
        zone_reset_ = std::move(reset);
    }

    Published<Snapshot>& published() { return published_; }
    const Snapshot& live() const { return *live_; }
    uint64_t generation() const { return generation_; }

private:
    struct OwnerSigning;
    // Families: whether the owners of these targets (with their new answers) need their
    // bitmaps written again first (a family lost) or soon (gained).
    bool bitmaps_lag(const std::vector<std::string>& changed);
    void refresh_bitmaps(const std::vector<std::string>& targets);
    size_t sign_owners(
        const std::vector<std::pair<const AliasOwner*, std::shared_ptr<const AliasAnswer>>>& owners,
        std::vector<std::pair<uint32_t, std::shared_ptr<const AliasAnswer>>>& next);

    const ZoneStore& store_;
    AliasResolver& resolver_;
    Rcu rcu_;
    Published<Snapshot> published_;
    LiveSnapshot* live_ = nullptr;  // what published_ holds; only this class swaps its slots
    std::unordered_map<std::string, uint32_t> alias_slot_;  // target -> its shared slot
    // target -> its owners with slots of their own (index into live_->owned_aliases)
    std::unordered_map<std::string, std::vector<uint32_t>> owned_by_target_;
    std::unordered_map<std::string, uint32_t> owned_slot_;  // owner -> its slot
    // Targets whose owners' bitmaps miss a family they now answer, and when to write them.
    std::vector<std::string> bitmaps_due_;
    std::chrono::steady_clock::time_point bitmaps_at_{};
    int64_t owners_resign_at_ = INT64_MAX;  // the owners' signatures' refresh (epoch s)
    int64_t resign_not_before_ = 0;         // a failed re-sign is tried again a minute on
    std::function<void(const std::vector<std::string>&)> alias_listener_;
    uint64_t generation_ = 0;
    std::unordered_set<std::string> expired_;  // apexes (set_expired)
    ZoneSigning signing_;  // signed copies of the zones with dnssec: {policy: sign}
    Identity identity_;
    ZoneSlots zone_slots_;
    std::function<void(uint16_t)> zone_reset_;
    std::array<LatencyHistogram, size_t(PublishKind::count)> latency_{};
    // live_'s answer-block chunks still in small pages: promoted to huge pages one per turn
    // of the control loop once the snapshot serves (see huge_alloc).
    std::vector<std::pair<uint8_t*, size_t>> promote_;
};

}  // namespace anamed
