// What `alias: expand` remotes see in place of ALIAS records, and when an address change is a
// change of the zone for them. Such a remote gets the target's A/AAAA in place of each ALIAS
// RRset; a change of those addresses must reach it as a new serial (the ANAME draft), or it
// would serve the old addresses until the next edit of the zone.
//
// The addresses transfers use are frozen per serial: the resolver's new answers replace them
// only together with a serial bump of every zone (with expanding remotes) that holds owners of
// the target, so an AXFR and the IXFR differences after it always agree. Bumps are
// rate-limited: address changes within `interval` of the last bump wait and go out as one.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "anamed/snapshot.hpp"
#include "zone.hpp"
#include "zone_history.hpp"

namespace anamed {

class AliasExpansion {
public:
    using Clock = std::chrono::steady_clock;
    // The resolver's current answer for a target (lower-case wire), or null.
    using Lookup = std::function<std::shared_ptr<const AliasAnswer>(const std::string& target)>;

    explicit AliasExpansion(std::chrono::milliseconds interval = std::chrono::milliseconds(1000))
        : interval_(interval) {}

    // The zones (lower-case wire apexes) that have an expanding remote in notify: or
    // allow-transfer:. Zones that just joined are reconciled with the resolver on the next turn.
    void set_zones(std::set<std::string> apexes);
    bool covers(const std::string& apex) const { return zones_.count(apex) != 0; }
    bool active() const { return !zones_.empty(); }

    // These targets may have new answers; nothing happens until due().
    void changed(const std::vector<std::string>& targets);
    // Milliseconds until due() has work, -1 when nothing waits.
    int poll_timeout_ms(Clock::time_point now) const;

    // The records that stand in for an ALIAS RRset at `owner`: the frozen addresses of its
    // target, each with the smaller of its TTL and the ALIAS's. Nothing while the target has
    // not been resolved.
    void expand(std::string_view owner, const RRset& alias, std::vector<Record>& out) const;
    // Fills a difference's expansion from its ALIAS records and the frozen addresses.
    void annotate(ZoneDelta& d) const;

    // A zone whose served addresses changed: what an expanding remote must remove and add.
    struct Bump {
        std::string apex;  // lower-case wire
        std::vector<Record> removed, added;
    };
    // When the rate limit allows: the targets whose resolved addresses differ from the frozen
    // ones, adopted, and the bumps they make in `zones` (only those covered). Failed or
    // unresolved targets keep their last addresses.
    std::vector<Bump> due(Clock::time_point now, const Lookup& lookup,
                          const std::vector<const Zone*>& zones);

private:
    // A target's addresses as expanding remotes see them, sorted by (type, RDATA).
    struct Address {
        uint16_t type = 0;
        uint32_t ttl = 0;
        std::string rdata;
    };
    using Addresses = std::vector<Address>;
    static Addresses addresses_of(const AliasAnswer& a);
    static bool same(const Addresses& a, const Addresses& b);  // TTLs aside
    static void put(std::string_view owner, uint32_t alias_ttl, const Addresses& addrs,
                    std::vector<Record>& out);

    std::chrono::milliseconds interval_;
    std::set<std::string> zones_;
    std::map<std::string, Addresses> frozen_;  // by target
    std::set<std::string> pending_;            // targets to compare at the next due()
    bool pending_all_ = false;                 // compare every target a covered zone uses
    Clock::time_point last_bump_{};
};

}  // namespace anamed
