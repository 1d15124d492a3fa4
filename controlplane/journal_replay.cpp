#include "journal_replay.hpp"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "log.hpp"

namespace anamed {

std::vector<std::pair<std::string, std::string>> journal_entries(
    const std::vector<RecordChange>& changes, const ZoneStore& store) {
    std::map<std::string, nlohmann::json> per_zone;
    for (const auto& c : changes) {
        const Zone* z = store.find(c.zone);
        auto& batch = per_zone[z ? z->apex_text : c.zone];
        if (batch.is_null()) batch = nlohmann::json::array();
        batch.push_back(change_to_json(c));
    }
    std::vector<std::pair<std::string, std::string>> entries;
    for (const auto& [zone, batch] : per_zone) entries.emplace_back(zone, batch.dump());
    return entries;
}

size_t replay_journal(const Journal& journal, ZoneStore& store,
                      const std::vector<std::string>& loaded) {
    size_t replayed = 0, failed = 0;
    journal.for_each([&](const std::string& zone, const std::string& batch) {
        if (std::find(loaded.begin(), loaded.end(), zone) == loaded.end()) return;
        std::vector<RecordChange> changes;
        try {
            for (const auto& j : nlohmann::json::parse(batch))
                changes.push_back(change_from_json(j));
        } catch (const std::exception& e) {
            ++failed;
            return log_error("journal " + journal.path() + ": unreadable entry for " + zone + ": " +
                             e.what());
        }
        const ChangeOutcome out = store.apply(changes, [] { return std::string(); });
        if (!out.error.empty()) {
            ++failed;
            log_error("journal " + journal.path() + ": a change to " + zone +
                      " no longer applies (" + out.error + "); it is skipped");
        } else {
            ++replayed;
        }
    });
    if (replayed || failed)
        log_info("journal " + journal.path() + ": replayed " + std::to_string(replayed) +
                 " change batches" + (failed ? ", " + std::to_string(failed) + " failed" : ""));
    return failed;
}

}  // namespace anamed
