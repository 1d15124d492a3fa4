// Runtime changes in the journal: one entry per zone and batch (a JSON array of changes),
// written before a change is acknowledged and replayed over the zone files when they load.
#pragma once

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

// Applies the journal's entries for the zones in `loaded` (just read from their files; a
// zone that failed to load still holds its changes in memory). Entries a zone flush already
// wrote into the file (its serial is the flush mark's) are skipped and dropped: that
// completes a flush a crash interrupted. An entry that no longer applies is logged and
// skipped. Returns how many entries failed.
size_t replay_journal(Journal& journal, ZoneStore& store, const std::vector<std::string>& loaded);

}  // namespace anamed
