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

std::vector<std::pair<std::string, std::string>> journal_entries(
    const std::vector<WireChange>& changes) {
    std::map<std::string, nlohmann::json> per_zone;
    for (const auto& c : changes) {
        auto& batch = per_zone[c.zone];
        if (batch.is_null()) batch = nlohmann::json::array();
        batch.push_back(wire_change_to_json(c));
    }
    std::vector<std::pair<std::string, std::string>> entries;
    for (const auto& [zone, batch] : per_zone) entries.emplace_back(zone, batch.dump());
    return entries;
}

std::string zone_record_json(const ZoneRecord& r) {
    nlohmann::json j{{"zone-op", r.removed ? "remove" : "add"}};
    if (!r.removed) {
        if (!r.file.empty()) j["file"] = r.file;
        if (!r.primary.empty()) j["primary"] = r.primary;
        if (!r.catalog.empty()) j["catalog"] = r.catalog;
    }
    return j.dump();
}

ZoneRecord zone_record_from_json(const std::string& batch) {
    const nlohmann::json j = nlohmann::json::parse(batch);
    if (!j.is_object() || !j.contains("zone-op") || !j["zone-op"].is_string())
        throw std::invalid_argument("a zone record needs \"zone-op\"");
    ZoneRecord r;
    const std::string op = j["zone-op"];
    if (op != "add" && op != "remove")
        throw std::invalid_argument("unknown zone-op \"" + op + "\"");
    r.removed = op == "remove";
    r.file = j.value("file", "");
    r.catalog = j.value("catalog", "");
    if (j.contains("primary")) r.primary = j["primary"].get<std::vector<std::string>>();
    if (!r.removed && r.file.empty() && r.primary.empty())
        throw std::invalid_argument("an added zone needs a file or primaries");
    return r;
}

std::map<std::string, ZoneRecord> read_zone_records(const Journal& journal) {
    std::map<std::string, ZoneRecord> out;
    const std::string err =
        journal.for_each([&](uint64_t seq, const std::string& zone, const std::string& batch) {
            if (!journal_format::is_zone_record(batch)) return;
            try {
                ZoneRecord r = zone_record_from_json(batch);
                r.seq = seq;
                out[zone] = std::move(r);
            } catch (const std::exception& e) {
                log_error("journal " + journal.path() + ": unreadable zone record for " + zone +
                          ": " + e.what());
            }
        });
    if (!err.empty()) log_error("journal " + journal.path() + ": " + err);
    return out;
}

namespace {

// One entry's batch applied: RecordChange elements, or a dynamic update's (the first element
// tells). Throws on an unreadable entry.
ChangeOutcome replay_entry(const std::string& batch, ZoneStore& store) {
    const nlohmann::json j = nlohmann::json::parse(batch);
    if (!j.is_array()) throw std::invalid_argument("an entry must be a JSON array");
    const auto no_commit = [] { return std::string(); };
    if (!j.empty() && is_wire_change_json(j[0])) {
        std::vector<WireChange> changes;
        for (const auto& e : j) changes.push_back(wire_change_from_json(e));
        return store.apply_wire(changes, no_commit);
    }
    std::vector<RecordChange> changes;
    for (const auto& e : j) changes.push_back(change_from_json(e));
    return store.apply(changes, no_commit);
}

// Zones whose file already holds entries up to a flush mark (flush interrupted before
// the entries were dropped): zone -> the last entry the file holds.
std::map<std::string, uint64_t> flushed_into_files(const Journal& journal, const ZoneStore& store,
                                                   const std::vector<std::string>& loaded) {
    std::map<std::string, uint64_t> out;
    for (const auto& zone : loaded) {
        const auto mark = journal.flushed(zone);
        const Zone* z = store.find(zone);
        if (mark && z && z->serial() == mark->serial) out[zone] = mark->through;
    }
    return out;
}

}  // namespace

size_t replay_journal(Journal& journal, ZoneStore& store, const std::vector<std::string>& loaded) {
    size_t replayed = 0, failed = 0;
    std::map<std::string, size_t> skipped;
    const auto in_files = flushed_into_files(journal, store, loaded);
    const auto records = read_zone_records(journal);
    const std::string read_error =
        journal.for_each([&](uint64_t seq, const std::string& zone, const std::string& batch) {
            if (std::find(loaded.begin(), loaded.end(), zone) == loaded.end()) return;
            if (journal_format::is_zone_record(batch)) return;
            if (auto it = records.find(zone); it != records.end() && seq < it->second.seq) return;
            if (auto it = in_files.find(zone); it != in_files.end() && seq <= it->second)
                return void(++skipped[zone]);
            ChangeOutcome out;
            try {
                out = replay_entry(batch, store);
            } catch (const std::exception& e) {
                ++failed;
                return log_error("journal " + journal.path() + ": unreadable entry for " + zone +
                                 ": " + e.what());
            }
            if (!out.error.empty()) {
                ++failed;
                log_error("journal " + journal.path() + ": a change to " + zone +
                          " no longer applies (" + out.error + "); it is skipped");
            } else {
                ++replayed;
            }
        });
    if (!read_error.empty()) {
        ++failed;
        log_error("journal " + journal.path() + ": " + read_error +
                  "; the entries after it were not replayed");
    }
    for (const auto& [zone, n] : skipped) {
        log_info("journal " + journal.path() + ": zone " + zone + "'s file already holds " +
                 std::to_string(n) + " journaled change batches (its flush was interrupted); " +
                 "they are dropped, not replayed");
        if (std::string e = journal.drop_through(zone, in_files.at(zone)); !e.empty())
            log_error("journal " + journal.path() + ": " + e);
    }
    if (replayed || failed)
        log_info("journal " + journal.path() + ": replayed " + std::to_string(replayed) +
                 " change batches" + (failed ? ", " + std::to_string(failed) + " failed" : ""));
    return failed;
}

}  // namespace anamed
