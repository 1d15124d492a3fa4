// ZoneStore: the control plane's truth — every served zone as loaded from its file.
// A zone whose file fails to load is not served (first load) or keeps serving its
// previous contents (reload): a broken file is never half-applied.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config.hpp"
#include "wire_change.hpp"
#include "zone.hpp"
#include "zone_change.hpp"
#include "zone_history.hpp"

namespace anamed {

class ZoneStore {
public:
    // Loads (or reloads) each configured zone; logs every diagnostic with file:line.
    // Returns how many zones failed; `loaded` (if given) receives the apexes that were read,
    // `errors` (if given) the errors, file:line first.
    size_t load(const std::vector<ZoneConfig>& zones, std::vector<std::string>* loaded = nullptr,
                std::vector<std::string>* errors = nullptr);
    std::vector<const Zone*> zones() const;
    const Zone* find(const std::string& zone_name) const;  // presentation name
    bool remove(const std::string& zone_name);             // stops serving it (reload)
    size_t size() const { return zones_.size(); }

    // Applies a batch all-or-nothing: validated against the same rules as a zone load,
    // every touched zone's SOA serial bumped, and `commit` (the journal write) called after
    // validation and before anything changes; its error aborts the batch.
    ChangeOutcome apply(const std::vector<RecordChange>& changes,
                        const std::function<std::string()>& commit);

    // Dynamic updates (zone_store_wire.cpp): validated by the same rules as apply()'s changes
    // and applied all-or-nothing the same way. A batch that changes nothing calls no commit
    // and keeps the serial; otherwise the serial goes up by one, unless the batch replaced
    // the SOA with a higher serial of its own (RFC 2136 §3.4.2.2, §3.6).
    ChangeOutcome apply_wire(const std::vector<WireChange>& changes,
                             const std::function<std::string()>& commit);

    // The zone's differences for IXFR (null when the zone is not served). Every change and
    // every reload that changes a zone adds one.
    const ZoneHistory* history(const std::string& apex) const;
    ZoneHistory* history(const std::string& apex);

    // Transfers in (zone_store_xfr.cpp). A whole zone (AXFR, already checked as a zone file
    // is) takes the place of the served version; the difference is recorded for IXFR.
    void replace_zone(std::unique_ptr<Zone> zone, size_t history_depth);
    // IXFR's differences applied to the zone in order, all or nothing: every deleted record
    // must be there, every added one obey the zone rules, and the apex keep SOA and NS. Each
    // difference goes into the history as it is. The outcome names the changed owners.
    ChangeOutcome apply_deltas(const std::string& apex, const std::vector<ZoneDelta>& deltas);
    // Stops serving a zone (and forgets its history); false when it was not served.
    bool remove_zone(const std::string& apex);

private:
    // Records the difference a reload makes (or starts the history anew when the file
    // changed without a new serial).
    void record_reload(const Zone& before, const Zone& after, ZoneHistory& h);

    // Copies of every node a batch touches, per zone.
    struct Scratch {
        std::map<Zone*, std::map<std::string, ZoneNode>> per_zone;
        ZoneNode& node(Zone& z, const std::string& key);  // copied from the zone on first use
    };
    // Validates one change and applies it to `scratch`; "" or what is wrong.
    std::string stage(const RecordChange& c, Scratch& scratch);
    std::string stage_wire(const WireChange& c, Scratch& scratch);
    // The staged batch: whole-zone rules, serials, `commit`, then the live zones and their
    // histories. only_changed: nodes equal to the live ones are dropped first, and a zone
    // left without changes keeps its serial.
    ChangeOutcome finish(Scratch& scratch, const std::function<std::string()>& commit,
                         bool only_changed);

    std::map<std::string, std::unique_ptr<Zone>> zones_;  // by lower-case wire apex
    std::map<std::string, ZoneHistory> history_;          // by lower-case wire apex
};

}  // namespace anamed
