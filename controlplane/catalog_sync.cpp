// The daemon's side of catalog zones (catalog.hpp). A catalog this server interprets is a
// secondary zone: after each transfer (and at start, from its copy on disk) its members
// become secondary zones of the catalog's primaries, with its notify: and allow-transfer:
// (and their copies beside the catalog's), and members that left it stop being served.
// They are not journaled: the catalog is their truth. A catalog this server generates is rewritten
// whenever the zones that name it in catalog-zone: (or zone add --catalog) come or go, with a
// higher serial, and sent to its consumers by NOTIFY, IXFR and AXFR like any zone.
#include <algorithm>
#include <ctime>
#include <filesystem>
#include <unordered_map>

#include "catalog.hpp"
#include "daemon.hpp"
#include "log.hpp"

namespace anamed {
namespace {

std::string apex_key(const std::string& name) {
    const std::string wire =
        text_to_wire(name.empty() || name.back() != '.' ? name + "." : std::string(name));
    return wire.empty() ? "" : lower_key(wire);
}

// Where a member's copy is kept: beside the catalog's own copy, in CATALOG-FILE.members/,
// named by its catalog label (a hash: the member's name, from the network, never makes a
// path). None when the catalog keeps no copy.
std::string member_copy(const ZoneConfig& catalog, const std::string& member_apex) {
    if (catalog.file.empty()) return "";
    const std::string dir = catalog.file + ".members";
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    return dir + "/" + catalog_label(member_apex) + ".zone";
}

}  // namespace

void Daemon::catalog_transferred(const std::string& apex) {
    const ZoneConfig* zc = zone_config(apex);
    if (zc && zc->catalog_role == ZoneConfig::CatalogRole::interpret)
        catalogs_to_read_.insert(apex);
}

bool Daemon::sync_catalogs() {
    if (catalogs_to_read_.empty() && !catalogs_regenerate_) return false;
    bool changed = false;
    const std::set<std::string> read = std::move(catalogs_to_read_);
    catalogs_to_read_.clear();
    for (const std::string& apex : read) changed |= interpret_catalog(apex);
    std::map<std::string, uint32_t> generated;
    if (catalogs_regenerate_) {
        catalogs_regenerate_ = false;
        for (const ZoneConfig& zc : cfg_.zones)
            if (zc.catalog_role == ZoneConfig::CatalogRole::generate)
                if (const uint32_t serial = generate_catalog_zone(zc))
                    generated[name_to_text(apex_key(zc.name))] = serial;
    }
    if (changed || !generated.empty()) publisher_.rebuild();
    notify_secondaries(generated);  // once the new serial is served
    return changed || !generated.empty();
}

void Daemon::read_all_catalogs() {
    for (const ZoneConfig& zc : cfg_.zones)
        if (zc.catalog_role == ZoneConfig::CatalogRole::interpret) {
            catalogs_to_read_.insert(apex_key(zc.name));
            secondary_.check_by_transfer(apex_key(zc.name));
        }
    catalogs_regenerate_ = true;
}

bool Daemon::interpret_catalog(const std::string& apex) {
    const ZoneConfig* cat = zone_config(apex);
    const Zone* z = store_.find(name_to_text(apex));
    if (cat == nullptr || z == nullptr) return false;
    const std::string where = "catalog " + z->apex_text + " serial " + std::to_string(z->serial());
    CatalogContents cc;
    if (std::string err = read_catalog(*z, cc); !err.empty()) {
        log_error(where + ": " + err + "; its member zones stay as they were");
        return false;
    }
    for (const std::string& s : cc.skipped) log_warning(where + ": " + s);
    const ZoneConfig templ = *cat;
    std::unordered_map<std::string, std::string> served;  // apex -> its catalog ("" none)
    for (const ZoneConfig& zc : cfg_.zones) served[apex_key(zc.name)] = zc.member_of;
    std::set<std::string> wanted;
    bool changed = false;
    for (const CatalogMember& m : cc.members) {
        if (auto have = served.find(m.apex); have != served.end()) {
            if (have->second == templ.name)
                wanted.insert(m.apex);
            else
                log_warning(
                    where + ": member " + m.text + " is a zone here already (" +
                    (have->second.empty() ? "not from a catalog" : "of catalog " + have->second) +
                    "): skipped");
            continue;
        }
        ZoneConfig zc;
        zc.name = m.text;
        zc.primary = templ.primary;
        zc.notify = templ.notify;
        zc.allow_transfer = templ.allow_transfer;
        zc.ixfr_history = templ.ixfr_history;
        zc.member_of = templ.name;
        zc.file = member_copy(templ, m.apex);
        ZoneStart s;
        if (std::string err = prepare_zone(zc, s); !err.empty()) {
            log_warning(where + ": member " + m.text + " not added: " + err);
            continue;
        }
        start_zone(std::move(s));
        served[m.apex] = templ.name;
        wanted.insert(m.apex);
        changed = true;
        log_info(where + ": member zone " + m.text + " added (" + m.label + ")");
    }
    std::vector<std::string> gone;
    for (const ZoneConfig& zc : cfg_.zones)
        if (zc.member_of == templ.name && !wanted.count(apex_key(zc.name))) gone.push_back(zc.name);
    for (const std::string& name : gone) {
        stop_zone(apex_key(name));
        std::error_code ec;
        if (const std::string copy = member_copy(templ, apex_key(name)); !copy.empty())
            std::filesystem::remove(copy, ec);
        changed = true;
        log_info(where + ": member zone " + name + " removed");
    }
    return changed;
}

uint32_t Daemon::generate_catalog_zone(const ZoneConfig& cat) {
    const std::string apex = apex_key(cat.name);
    std::vector<std::string> members;
    for (const ZoneConfig& zc : cfg_.zones)
        if (!zc.catalog_zone.empty() && apex_key(zc.catalog_zone) == apex)
            members.push_back(name_to_text(apex_key(zc.name)));
    std::sort(members.begin(), members.end());
    const Zone* old = store_.find(name_to_text(apex));
    auto it = generated_.find(apex);
    if (old && it != generated_.end() && it->second == members) return 0;
    // Higher than before, also across restarts: the clock, or the last serial + 1 when
    // changes came faster than the clock (kept in the journal as the catalog's flush mark,
    // which nothing else uses for a zone without a file).
    const std::string text = name_to_text(apex);
    std::optional<uint32_t> last;
    if (old)
        last = old->serial();
    else if (const auto mark = journal_ ? journal_->flushed(text) : std::nullopt)
        last = mark->serial;
    uint32_t serial = uint32_t(time(nullptr));
    if (last && !serial_gt(serial, *last)) serial = *last + 1;
    if (serial == 0) serial = 1;  // 0 stands for "nothing generated" here
    std::string err;
    std::unique_ptr<Zone> z = generate_catalog(name_to_text(apex), serial, members, err);
    if (!z) {
        log_error("catalog " + text + " not generated: " + err);
        return 0;
    }
    store_.replace_zone(std::move(z), cat.ixfr_history);
    generated_[apex] = members;
    journal_format::FlushMark mark;
    if (journal_)
        if (std::string e = journal_->mark_flushed(text, serial, mark); !e.empty())
            log_warning("catalog " + text + ": its serial is not kept for a restart: " + e);
    log_info("catalog " + text + " generated: " + std::to_string(members.size()) +
             " member zones, serial " + std::to_string(serial));
    return serial;
}

}  // namespace anamed
