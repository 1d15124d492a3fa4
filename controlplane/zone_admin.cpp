// Zones added and removed at runtime (anamectl zone add / zone remove): checked as a zone of
// the configuration is, recorded in the journal (a zone record, journal_replay.hpp) before
// the reply, then served or dropped at once.
//
// Across restarts the journal's last zone record of a zone wins over the configuration file,
// as Knot's conf-unset does: a zone of the file removed with anamectl stays removed (logged
// at every start) until `anamectl zone add` serves it again, or until it leaves the file
// (then the record is forgotten, and a zone put back in the file later is served). A zone
// added at runtime that later appears in the file is served as the file defines it.
#include <algorithm>
#include <filesystem>
#include <set>
#include <unordered_map>

#include "daemon.hpp"
#include "journal_replay.hpp"
#include "log.hpp"
#include "zone_loader.hpp"

namespace anamed {
namespace {

using json = nlohmann::json;

json error(const std::string& m) {
    return json{{"ok", false}, {"error", m}};
}

std::vector<std::string> strings_of(const json& r, const char* key) {
    std::vector<std::string> out;
    if (!r.contains(key)) return out;
    const json& v = r[key];
    if (v.is_string()) return {v.get<std::string>()};
    if (!v.is_array()) throw std::invalid_argument(std::string("\"") + key + "\" must be a list");
    for (const json& e : v) {
        if (!e.is_string())
            throw std::invalid_argument(std::string("\"") + key + "\" must be a list of names");
        out.push_back(e.get<std::string>());
    }
    return out;
}

}  // namespace

ZoneConfig* Daemon::zone_config(const std::string& apex) {
    for (ZoneConfig& zc : cfg_.zones)
        if (apex_key(zc.name) == apex) return &zc;
    return nullptr;
}

std::string Daemon::prepare_zone(const ZoneConfig& zc, ZoneStart& out) {
    out = ZoneStart{};
    out.apex = apex_key(zc.name);
    if (out.apex.empty()) return "'" + zc.name + "' is not a zone name";
    auto resolve = [&](const std::vector<std::string>& names, std::vector<const Remote*>& into) {
        for (const std::string& n : names) {
            const Remote* r = peers_.remote(n);
            if (r == nullptr) return "no remote is named '" + n + "' (remotes: in the config)";
            into.push_back(r);
        }
        return std::string();
    };
    for (const auto& [names, into] :
         {std::pair{&zc.primary, &out.peers.primaries}, std::pair{&zc.notify, &out.peers.notify},
          std::pair{&zc.allow_transfer, &out.peers.allow_transfer}})
        if (std::string err = resolve(*names, *into); !err.empty()) return err;
    std::error_code ec;
    const bool copy = !zc.file.empty() && std::filesystem::exists(zc.file, ec);
    if (zc.primary.empty() || copy) {
        LoadResult res = load_zone_file(name_to_text(out.apex), zc.file);
        if (!res.ok()) {
            std::string msg = "zone " + name_to_text(out.apex) + " not loaded from " + zc.file;
            for (size_t i = 0, shown = 0; i < res.diags.size() && shown < 5; ++i)
                if (res.diags[i].error) msg += "\n  " + res.diags[i].str(), ++shown;
            return msg;
        }
        out.zone = std::move(res.zone);
    }
    out.zc = zc;
    out.zc.name = name_to_text(out.apex);
    return "";
}

void Daemon::start_zone(ZoneStart s) {
    peers_.set_zone(s.apex, std::move(s.peers));
    if (s.zone) {
        s.zone->file = s.zc.file;
        store_.replace_zone(std::move(s.zone), s.zc.ixfr_history);
    }
    if (!s.zc.primary.empty()) {
        const ZonePeers* zp = peers_.zone(s.apex);
        secondary_.add_zone(s.apex, zp->primaries, s.zc.file);
    }
    if (!s.zc.catalog_zone.empty()) catalogs_regenerate_ = true;
    cfg_.zones.push_back(std::move(s.zc));
}

void Daemon::stop_zone(const std::string& apex) {
    store_.remove_zone(apex);
    secondary_.remove_zone(apex);
    publisher_.set_expired(apex, false);
    peers_.set_zone(apex, ZonePeers{});
    std::erase_if(cfg_.zones, [&](const ZoneConfig& zc) {
        if (apex_key(zc.name) != apex) return false;
        if (!zc.catalog_zone.empty()) catalogs_regenerate_ = true;
        return true;
    });
}

// {"zone": NAME, "file": F} or {"zone": NAME, "primary": [REMOTE...], "file": COPY?},
// and "catalog": the generated catalog that lists it.
json Daemon::cmd_zone_add(const json& r) {
    if (!journal_)
        return error(
            "zone add needs a journal (journal: in the config): a zone added "
            "without one would be gone after a restart");
    ZoneConfig zc;
    zc.name = r.value("zone", "");
    zc.file = r.value("file", "");
    zc.primary = strings_of(r, "primary");
    zc.catalog_zone = r.value("catalog", "");
    zc.runtime = true;
    if (zc.name.empty()) return error("zone add needs a zone name");
    if (zc.file.empty() && zc.primary.empty())
        return error("zone add needs --file FILE or --primary REMOTE");
    if (!zc.file.empty() && std::filesystem::path(zc.file).is_relative())
        return error("the zone file must be an absolute path (anamectl makes it one)");
    if (!zc.catalog_zone.empty()) {
        const ZoneConfig* cat = zone_config(apex_key(zc.catalog_zone));
        if (cat == nullptr || cat->catalog_role != ZoneConfig::CatalogRole::generate)
            return error("--catalog " + zc.catalog_zone +
                         ": not a zone with catalog-role: generate here");
        zc.notify = cat->notify;  // the catalog's consumers transfer its members too
        zc.allow_transfer = cat->allow_transfer;
    }
    if (const ZoneConfig* existing = zone_config(apex_key(zc.name)))
        return error("zone " + existing->name +
                     (existing->member_of.empty()
                          ? " is served already"
                          : " is a member of catalog " + existing->member_of));
    ZoneStart s;
    if (std::string err = prepare_zone(zc, s); !err.empty())
        return error(err + "; nothing changed");
    ZoneRecord rec{false, zc.file, zc.primary, zc.catalog_zone, 0};
    const std::string name = s.zc.name;
    if (std::string err = journal_->append({{name, zone_record_json(rec)}}); !err.empty())
        return error("zone " + name + " not added: " + err);
    rec.seq = journal_->last_seq();
    zone_records_[s.apex] = rec;
    const bool secondary = !s.zc.primary.empty();
    start_zone(std::move(s));
    if (!sync_catalogs()) publisher_.rebuild();  // a generated catalog lists it already
    log_info("zone " + name + " added at runtime" +
             (secondary ? ", a secondary of " + zc.primary.front() : " from " + zc.file));
    json out{{"ok", true}, {"zone", name}};
    if (const Zone* z = store_.find(name)) out["serial"] = z->serial();
    return out;
}

json Daemon::cmd_zone_remove(const json& r) {
    if (!journal_)
        return error("zone remove needs a journal (journal: in the config) to stay removed");
    const std::string apex = apex_key(r.value("zone", ""));
    const ZoneConfig* zc = apex.empty() ? nullptr : zone_config(apex);
    if (zc == nullptr) return error("no zone " + r.value("zone", "") + " is served");
    if (!zc->member_of.empty())
        return error("zone " + zc->name + " is a member of catalog " + zc->member_of +
                     ": it goes when the catalog's primary removes it");
    if (zc->catalog_role != ZoneConfig::CatalogRole::none)
        return error("zone " + zc->name + " is a catalog: remove it from the configuration file");
    const Zone* z = store_.find(zc->name);
    const std::string name = z ? z->apex_text : name_to_text(apex);
    ZoneRecord rec;
    rec.removed = true;
    if (std::string err = journal_->append({{name, zone_record_json(rec)}}); !err.empty())
        return error("zone " + name + " not removed: " + err);
    rec.seq = journal_->last_seq();
    // Its runtime changes and earlier zone records go: a zone added again starts clean.
    if (std::string err = journal_->drop_zone(name, rec.seq - 1); !err.empty())
        log_warning("zone " + name + ": its old journal entries stay (replay skips them): " + err);
    zone_records_[apex] = rec;
    const bool from_file = !zc->runtime;
    stop_zone(apex);
    if (!sync_catalogs()) publisher_.rebuild();
    log_info("zone " + name + " removed at runtime" +
             (from_file ? " (it stays removed across restarts although the configuration "
                          "file lists it; anamectl zone add serves it again)"
                        : ""));
    return json{{"ok", true}, {"zone", name}};
}

void Daemon::read_runtime_zones() {
    if (!journal_) return;
    for (auto& [name, rec] : read_zone_records(*journal_)) {
        const std::string apex = apex_key(name);
        if (!apex.empty()) zone_records_[apex] = rec;
    }
}

void Daemon::overlay_runtime_zones(Config& c, bool at_start) {
    std::unordered_map<std::string, size_t> in_file;  // apex -> its place in c.zones
    for (size_t i = 0; i < c.zones.size(); ++i) in_file.emplace(apex_key(c.zones[i].name), i);
    std::set<std::string> hidden;
    for (auto it = zone_records_.begin(); it != zone_records_.end();) {
        const auto& [apex, rec] = *it;
        const std::string name = name_to_text(apex);
        const bool listed = in_file.count(apex) != 0;
        if (rec.removed && !listed) {
            // Nothing left to hide: forgotten, so that the file may list the zone again.
            if (at_start && journal_) journal_->drop_zone(name, rec.seq);
            it = at_start ? zone_records_.erase(it) : std::next(it);
            continue;
        }
        ++it;
        if (rec.removed) {
            if (at_start)
                log_info("zone " + name + " is in " + c.source +
                         " but was removed with anamectl zone remove: not served (anamectl "
                         "zone add serves it again; or delete it from the file)");
            hidden.insert(apex);
        } else if (listed) {
            if (at_start)
                log_info("zone " + name + " was added with anamectl zone add and is now in " +
                         c.source + ": served as the file defines it");
        } else if (std::string problem = runtime_zone(c, in_file, name, rec); !problem.empty()) {
            log_error("zone " + name + " (added with anamectl zone add) is not served: " + problem +
                      "; add the remote back, or anamectl zone remove it");
        } else if (at_start) {
            log_info("zone " + name + " was added with anamectl zone add: served");
        }
    }
    std::erase_if(c.zones, [&](const ZoneConfig& z) {
        return !hidden.empty() && !z.runtime && hidden.count(apex_key(z.name));
    });
    if (!at_start) keep_catalog_members(c);
}

std::string Daemon::runtime_zone(Config& c, const std::unordered_map<std::string, size_t>& in_file,
                                 const std::string& name, const ZoneRecord& rec) {
    ZoneConfig zc;
    zc.name = name;
    zc.file = rec.file;
    zc.primary = rec.primary;
    zc.catalog_zone = rec.catalog;
    zc.runtime = true;
    for (const std::string& p : zc.primary)
        if (std::none_of(c.remotes.begin(), c.remotes.end(),
                         [&](const RemoteConfig& r) { return r.name == p; }))
            return "its primary " + p + " is no longer under remotes:";
    if (auto cat = in_file.find(apex_key(zc.catalog_zone));
        !zc.catalog_zone.empty() && cat != in_file.end()) {
        const ZoneConfig& catalog = c.zones[cat->second];
        zc.notify = catalog.notify;  // as zone add --catalog gave it
        zc.allow_transfer = catalog.allow_transfer;
    }
    c.zones.push_back(std::move(zc));
    return "";
}

// On a reload: the members of the catalogs the file still has interpreted.
void Daemon::keep_catalog_members(Config& c) {
    std::set<std::string> in_file, catalogs;
    for (const ZoneConfig& z : c.zones) {
        in_file.insert(apex_key(z.name));
        if (z.catalog_role == ZoneConfig::CatalogRole::interpret) catalogs.insert(apex_key(z.name));
    }
    for (const ZoneConfig& m : cfg_.zones)
        if (!m.member_of.empty() && catalogs.count(apex_key(m.member_of)) &&
            !in_file.count(apex_key(m.name)))
            c.zones.push_back(m);
}

}  // namespace anamed
