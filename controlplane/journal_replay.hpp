// Runtime changes in the journal: one entry per zone and batch (a JSON array of changes),
// written before a change is acknowledged and replayed over the zone files when they load.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "journal.hpp"
#include "wire_change.hpp"
#include "zone_change.hpp"
#include "zone_store.hpp"

namespace anamed {

// A batch's journal entries: (zone apex, its changes as JSON), one per zone touched, so that
// replaying or flushing a zone takes exactly its changes.
std::vector<std::pair<std::string, std::string>> journal_entries(
    const std::vector<RecordChange>& changes, const ZoneStore& store);

// A dynamic update's entries, in the same shape: elements with "update" in place of "op"
// (wire_change.hpp). Old journals hold only RecordChange elements and replay unchanged.
std::vector<std::pair<std::string, std::string>> journal_entries(
    const std::vector<WireChange>& changes);

// A zone added or removed at runtime (anamectl zone add / zone remove): the journal's zone
// record (journal_format.hpp), keyed like change entries by the zone's presentation name.
struct ZoneRecord {
    bool removed = false;
    std::string file;                  // add: the zone file (or a secondary's copy)
    std::vector<std::string> primary;  // add: a secondary's primaries (remote names)
    std::string catalog;               // add: the generated catalog that lists it
    uint64_t seq = 0;                  // where it is in the journal
};
std::string zone_record_json(const ZoneRecord& r);
// Throws std::invalid_argument when `batch` is not a zone record.
ZoneRecord zone_record_from_json(const std::string& batch);
// The last zone record of every zone that has one (presentation name -> record); unreadable
// ones are logged and skipped.
std::map<std::string, ZoneRecord> read_zone_records(const Journal& journal);

// Applies the journal's entries for the zones in `loaded` (just read from their files; a
// zone that failed to load still holds its changes in memory). Entries a zone flush already
// wrote into the file (its serial is the flush mark's) are skipped and dropped: that
// completes a flush a crash interrupted. An entry that no longer applies is logged and
// skipped. Zone records are not changes: the changes of a zone before its last zone record
// belong to an earlier life of it and are skipped. Returns how many entries failed.
size_t replay_journal(Journal& journal, ZoneStore& store, const std::vector<std::string>& loaded);

}  // namespace anamed
