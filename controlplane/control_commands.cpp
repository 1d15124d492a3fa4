// The control socket's commands (anamectl): one function each, JSON in, JSON out.
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>

#include "compiler.hpp"
#include "counters_json.hpp"
#include "daemon.hpp"
#include "log.hpp"
#include "zone_loader.hpp"
#include "zone_writer.hpp"

namespace anamed {
namespace {

using json = nlohmann::json;

json error(const std::string& m) {
    return json{{"ok", false}, {"error", m}};
}

// A change the daemon could not make (disk full, journal unwritable...): the operator reads
// it in the log too, not only the client that asked.
json refused(const std::string& m) {
    log_warning("refused: " + m);
    return error(m);
}

std::string need_string(const json& r, const char* key) {
    if (!r.contains(key) || !r[key].is_string())
        throw std::invalid_argument(std::string("missing \"") + key + "\"");
    return r[key].get<std::string>();
}

int64_t seconds_since(Clock::time_point t) {
    if (t == Clock::time_point{}) return -1;
    return std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - t).count();
}

const char* state_name(AliasAnswer::State s) {
    switch (s) {
    case AliasAnswer::unresolved: return "unresolved";
    case AliasAnswer::resolved: return "resolved";
    case AliasAnswer::failed: return "failed";
    }
    return "?";
}

}  // namespace

json Daemon::handle(const json& r) {
    if (!r.is_object() || !r.contains("cmd") || !r["cmd"].is_string())
        return error("a request needs \"cmd\"");
    const std::string name = r["cmd"];
    const std::optional<Command> c = find_command(name);
    if (!c) return error("unknown command \"" + name + "\"");
    return (this->*handler(*c))(r);
}

// The compiler checks that this switch names every Command (-Wswitch, warnings are errors).
Daemon::Handler Daemon::handler(Command c) {
    switch (c) {
    case Command::status: return &Daemon::cmd_status;
    case Command::stats: return &Daemon::cmd_stats;
    case Command::zone_list: return &Daemon::cmd_zone_list;
    case Command::zone_check: return &Daemon::cmd_zone_check;
    case Command::zone_reload: return &Daemon::cmd_zone_reload;
    case Command::zone_flush: return &Daemon::cmd_zone_flush;
    case Command::change: return &Daemon::cmd_change;
    case Command::record_show: return &Daemon::cmd_record_show;
    case Command::alias_list: return &Daemon::cmd_alias_list;
    case Command::alias_show: return &Daemon::cmd_alias_show;
    case Command::alias_refresh: return &Daemon::cmd_alias_refresh;
    case Command::zone_status: return &Daemon::cmd_zone_status;
    case Command::zone_refresh: return &Daemon::cmd_zone_refresh;
    case Command::zone_retransfer: return &Daemon::cmd_zone_retransfer;
    case Command::zone_add: return &Daemon::cmd_zone_add;
    case Command::zone_remove: return &Daemon::cmd_zone_remove;
    case Command::zone_key_generate: return &Daemon::cmd_zone_key_generate;
    case Command::zone_key_list: return &Daemon::cmd_zone_key_list;
    case Command::zone_ds: return &Daemon::cmd_zone_ds;
    case Command::zone_key_activate: return &Daemon::cmd_zone_key_activate;
    case Command::zone_key_retire: return &Daemon::cmd_zone_key_retire;
    case Command::zone_key_remove: return &Daemon::cmd_zone_key_remove;
    }
    return nullptr;
}

json Daemon::zones_json() const {
    json zones = json::array();
    for (const Zone* z : store_.zones())
        zones.push_back({{"name", z->apex_text},
                         {"serial", z->serial()},
                         {"names", z->nodes.size()},
                         {"file", z->file}});
    return zones;
}

json Daemon::cmd_status(const json&) {
    // Rates over the time since the previous status request (or since start).
    const auto now = Clock::now();
    const double up = std::chrono::duration<double>(now - started_).count();
    const double span = std::chrono::duration<double>(now - last_status_).count();
    const CounterSnapshot counters = read_counters(counter_sources());
    const CounterDef& queries = find_counter("queries");
    json workers = json::array();
    last_counts_.resize(counters.sources.size());
    for (size_t i = 0; i < counters.sources.size(); ++i) {
        const uint64_t q = counters.values[i].total(queries);
        const CounterSource& src = counters.sources[i];
        workers.push_back({{"kind", src.transport},
                           {"frontend", src.frontend},
                           {"queries", q},
                           {"responses", counters.values[i].total(find_counter("answered"))},
                           {"qps", span > 0 ? double(q - last_counts_[i]) / span : 0.0}});
        last_counts_[i] = q;
    }
    last_status_ = now;
    const uint64_t total = counters.total.total(queries);
    const Snapshot& live = publisher_.live();
    return json{{"ok", true},
                {"version", ANAMED_VERSION},
                {"pid", getpid()},
                {"uptime_s", int64_t(up)},
                {"zones", zones_json()},
                {"snapshot",
                 {{"generation", publisher_.generation()},
                  {"bytes", live.memory()},
                  {"alias_targets", live.aliases.size()}}},
                {"workers", workers},
                {"queries", total},
                {"qps_avg", up > 0 ? double(total) / up : 0.0},
                {"changes_applied", changes_applied_},
                {"journal_entries", journal_ ? journal_->entries() : 0}};
}

json Daemon::cmd_stats(const json&) {
    uint64_t refreshes = 0, failures = 0, upstream = 0, rejected = 0;
    for (const auto& t : resolver_.status()) {
        refreshes += t.refreshes;
        failures += t.failures;
        upstream += t.upstream_queries;
        rejected += t.rejected_replies;
    }
    json j = counters_json(read_counters(counter_sources(), &publisher_.zone_slots()));
    j["ok"] = true;
    j["alias"] = {{"targets", publisher_.live().aliases.size()},
                  {"refreshes", refreshes},
                  {"failures", failures},
                  {"upstream_queries", upstream},
                  {"rejected_replies", rejected}};
    const MessageHandler::Counters& m = messages_.counters();
    j["updates"] = {{"applied", m.updates_applied},
                    {"unchanged", m.updates_unchanged},
                    {"prerequisite_failed", m.updates_prerequisite_failed},
                    {"refused", m.updates_refused},
                    {"malformed", m.updates_malformed},
                    {"failed", m.updates_failed},
                    {"forwarded", m.updates_forwarded}};
    return j;
}

json Daemon::cmd_zone_list(const json&) {
    return json{{"ok", true}, {"zones", zones_json()}};
}

json Daemon::cmd_zone_check(const json& r) {
    const std::string file = need_string(r, "file");
    const std::string zone = r.contains("zone") ? need_string(r, "zone") : "";
    LoadResult res = load_zone_file(zone.empty() ? "." : zone, file);
    json diags = json::array();
    for (const auto& d : res.diags) diags.push_back(d.str());
    return json{{"ok", res.ok()},
                {"diagnostics", diags},
                {"error", res.ok() ? "" : "the zone has errors"},
                {"names", res.ok() ? res.zone->nodes.size() : 0}};
}

json Daemon::cmd_zone_reload(const json& r) {
    std::vector<ZoneConfig> which;
    const std::string zone = r.contains("zone") ? need_string(r, "zone") : "";
    for (const auto& z : cfg_.zones)
        if (zone.empty() || store_.find(z.name) == store_.find(zone)) which.push_back(z);
    if (!zone.empty() && (which.empty() || store_.find(zone) == nullptr))
        return error("no zone " + zone + " is served");
    std::vector<std::string> errors;
    const size_t failed = load_zones(file_zones(which), &errors);
    publisher_.rebuild();
    if (failed) {
        std::string msg =
            std::to_string(failed) + " zone(s) did not load; their previous contents keep serving:";
        for (size_t i = 0; i < errors.size() && i < 10; ++i) msg += "\n  " + errors[i];
        return error(msg);
    }
    json serials = json::object();
    for (const auto& z : which)
        if (const Zone* loaded = store_.find(z.name)) serials[loaded->apex_text] = loaded->serial();
    return json{{"ok", true}, {"serials", serials}, {"generation", publisher_.generation()}};
}

// The file and the journal change together: the flush mark first (the file with this
// serial holds the zone's entries so far), then the file, then the entries are dropped. A
// crash in between leaves entries that replay skips (journal_replay.hpp).
json Daemon::cmd_zone_flush(const json& r) {
    const Zone* z = store_.find(need_string(r, "zone"));
    if (z == nullptr) return error("no zone " + need_string(r, "zone") + " is served");
    journal_format::FlushMark mark;
    if (journal_)
        if (std::string err = journal_->mark_flushed(z->apex_text, z->serial(), mark); !err.empty())
            return refused("zone " + z->apex_text + " not flushed: " + err);
    if (std::string err = write_zone_file(*z, z->file); !err.empty()) return refused(err);
    log_info("zone " + z->apex_text + " written to " + z->file + " (serial " +
             std::to_string(z->serial()) + ")");
    if (getenv("ANAMED_TEST_CRASH_IN_FLUSH")) raise(SIGKILL);  // tests: the crash window
    if (journal_)
        if (std::string err = journal_->drop_through(z->apex_text, mark.through); !err.empty())
            log_warning("zone " + z->apex_text +
                        ": its flushed journal entries stay until the "
                        "next start, which drops them: " +
                        err);
    log_info("zone " + z->apex_text + " flushed to " + z->file + " (serial " +
             std::to_string(z->serial()) + ")");
    return json{{"ok", true}, {"file", z->file}, {"serial", z->serial()}};
}

json Daemon::cmd_change(const json& r) {
    if (!r.contains("changes") || !r["changes"].is_array() || r["changes"].empty())
        return error("\"changes\" must be a non-empty array");
    std::vector<RecordChange> changes;
    for (size_t i = 0; i < r["changes"].size(); ++i) {
        try {
            changes.push_back(change_from_json(r["changes"][i]));
        } catch (const std::exception& e) {
            return error("change " + std::to_string(i + 1) + ": " + e.what());
        }
    }
    const auto t0 = Clock::now();
    const ChangeOutcome out = apply_changes(changes, true);
    if (!out.error.empty()) return refused(out.error + "; nothing was changed");
    const auto us =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count();
    return json{
        {"ok", true}, {"applied", changes.size()}, {"serials", out.serials}, {"publish_us", us}};
}

json Daemon::cmd_record_show(const json& r) {
    const Zone* z = store_.find(need_string(r, "zone"));
    if (z == nullptr) return error("no zone " + need_string(r, "zone") + " is served");
    std::string name = need_string(r, "name");
    const std::string owner = name == "@"          ? z->apex_text
                              : name.back() == '.' ? name
                                                   : name + "." + z->apex_text;
    const std::string key = lower_key(text_to_wire(owner));
    const ZoneNode* node = z->find(key);
    json records = json::array();
    if (node)
        for (const RRset rs : node->rrsets())
            for (const auto& rd : rs.rdata) {
                std::string t = record_text(node->owner(key), rs.type, rs.ttl, rd);
                while (!t.empty() && t.back() == '\n') t.pop_back();
                records.push_back(t);
            }
    return json{{"ok", true}, {"name", owner}, {"records", records}};
}

json Daemon::cmd_alias_list(const json& r) {
    const std::string only = r.contains("target") ? need_string(r, "target") : "";
    std::string only_text = only.empty() || only.back() == '.' ? only : only + ".";
    json targets = json::array();
    for (const auto& t : resolver_.status()) {
        if (!only.empty() &&
            lower_key(text_to_wire(t.target)) != lower_key(text_to_wire(only_text)))
            continue;
        targets.push_back(
            {{"target", t.target},
             {"local", t.local},
             {"state", state_name(t.state)},
             {"addresses", t.addresses},
             {"ttl", t.ttl},
             {"last_refresh_s_ago", seconds_since(t.last_refresh)},
             {"next_refresh_in_s",
              t.local ? json(nullptr) : json(std::max<int64_t>(0, -seconds_since(t.next_refresh)))},
             {"stale_for_s", seconds_since(t.stale_since)},
             {"last_error", t.last_error},
             {"refreshes", t.refreshes},
             {"failures", t.failures},
             {"upstream_queries", t.upstream_queries},
             {"rejected_replies", t.rejected_replies}});
    }
    if (!only.empty() && targets.empty()) return error("no ALIAS points at " + only_text);
    return json{{"ok", true}, {"targets", targets}};
}

json Daemon::cmd_alias_show(const json& r) {
    need_string(r, "target");
    return cmd_alias_list(r);
}

json Daemon::cmd_alias_refresh(const json& r) {
    std::string t = need_string(r, "target");
    if (t.empty() || t.back() != '.') t += '.';
    if (!resolver_.refresh_now(lower_key(text_to_wire(t)))) return error("no ALIAS points at " + t);
    return json{{"ok", true}, {"target", t}};
}

}  // namespace anamed
