// The per-serial differences of a zone, newest last, for IXFR (RFC 1995): each runtime change,
// dynamic update, transfer or reload that changed the zone is one difference. Bounded: the
// oldest go first, and a secondary asking for a serial older than the history gets the whole
// zone instead.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "zone.hpp"

namespace anamed {

// One record, owned: the owner in wire form as written, its RDATA in wire form.
struct Record {
    std::string owner;
    uint16_t type = 0;
    uint32_t ttl = 0;
    std::string rdata;
    bool operator==(const Record&) const = default;
};

struct ZoneDelta {
    Record old_soa, new_soa;
    std::vector<Record> removed, added;  // neither holds the SOA
    // What `alias: expand` remotes see of this difference in place of its ALIAS records: the
    // A/AAAA that stood in for them, and for a serial bump after an address change the old and
    // new addresses. When not known, such a remote gets the whole zone instead (RFC 1995 §4).
    bool expansion_known = false;
    std::vector<Record> expanded_removed, expanded_added;
    uint32_t from() const;
    uint32_t to() const;
    bool has_alias() const;  // whether removed or added holds an ALIAS record
};

// RFC 1982 serial arithmetic: whether a comes after b.
inline bool serial_gt(uint32_t a, uint32_t b) {
    return a != b && int32_t(a - b) > 0;
}
// The serial of an SOA record (0 when its RDATA is short).
uint32_t serial_of_soa(const Record& soa);

// The difference between two versions of one name (either may be null: the name did not
// exist), SOA excluded, appended to `d`.
void diff_node(std::string_view key, const ZoneNode* before, const ZoneNode* after, ZoneDelta& d);
// The zone's SOA record (the apex must hold one).
Record soa_record(const Zone& z);

class ZoneHistory {
public:
    explicit ZoneHistory(size_t depth = 100) : depth_(depth) {}
    void set_depth(size_t depth);
    // A difference without ALIAS records has a known (empty) expansion unless the caller
    // says otherwise; one with them is known only when the caller filled it in.
    void add(ZoneDelta d);
    void clear() { deltas_.clear(); }
    ZoneDelta* newest() { return deltas_.empty() ? nullptr : &deltas_.back(); }
    // Marks every difference's expansion unknown: `alias: expand` remotes get the whole zone
    // until new differences are recorded (the history was rebuilt without the addresses).
    void forget_expansions();
    // The differences leading from `serial` to the newest, in order; false when `serial` is not
    // one the history starts a difference from.
    bool since(uint32_t serial, std::vector<const ZoneDelta*>& out) const;
    size_t size() const { return deltas_.size(); }

private:
    size_t depth_;
    std::deque<ZoneDelta> deltas_;
};

}  // namespace anamed
