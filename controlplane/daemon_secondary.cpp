// The daemon's side of the secondary zones (secondary.hpp): its hooks into the zone store,
// the publisher and the copy on disk, and the anamectl commands that show and drive it.
#include <filesystem>

#include "daemon.hpp"
#include "log.hpp"

namespace anamed {
namespace {

using json = nlohmann::json;

json error(const std::string& m) {
    return json{{"ok", false}, {"error", m}};
}

}  // namespace

Secondary::Hooks Daemon::secondary_hooks() {
    Secondary::Hooks h;
    h.zone = [this](const std::string& apex) { return store_.find(name_to_text(apex)); };
    h.apply = [this](const std::string& apex, TransferResult& r, const Remote& from) {
        std::string err = apply_transfer(apex, r, from);
        if (err.empty()) catalog_transferred(apex);
        return err;
    };
    h.set_expired = [this](const std::string& apex, bool expired) {
        publisher_.set_expired(apex, expired);
    };
    h.save = [this](const std::string& apex, const std::string& file, bool now) {
        return save_copy(apex, file, now);
    };
    return h;
}

std::vector<ZoneConfig> Daemon::file_zones(const std::vector<ZoneConfig>& zones) const {
    std::vector<ZoneConfig> out;
    for (const ZoneConfig& zc : zones) {
        if (zc.primary.empty()) {
            out.push_back(zc);
            continue;
        }
        // A secondary's copy is read once, at start: afterwards the primary is its truth.
        std::error_code ec;
        if (!zc.file.empty() && store_.find(zc.name) == nullptr &&
            std::filesystem::exists(zc.file, ec))
            out.push_back(zc);
    }
    return out;
}

void Daemon::start_secondaries() {
    for (const ZoneConfig& zc : cfg_.zones) {
        if (zc.primary.empty()) continue;
        const std::string apex = apex_key(zc.name);
        const ZonePeers* zp = peers_.zone(apex);
        if (apex.empty() || zp == nullptr || zp->primaries.empty()) continue;
        secondary_.add_zone(apex, zp->primaries, zc.file);
        log_info("zone " + name_to_text(apex) + " is a secondary of " + zc.primary.front() +
                 (zc.primary.size() > 1
                      ? " (and " + std::to_string(zc.primary.size() - 1) + " more)"
                      : "") +
                 (store_.find(zc.name) ? ": serving its copy, checking the primary"
                                       : ": transferring it"));
    }
}

std::string Daemon::apply_transfer(const std::string& apex, TransferResult& r, const Remote&) {
    const ZoneConfig* zc = nullptr;
    for (const ZoneConfig& c : cfg_.zones)
        if (apex_key(c.name) == apex) zc = &c;
    uint32_t serial = 0;
    if (r.kind == TransferResult::Kind::full) {
        r.zone->file = zc ? zc->file : "";
        serial = r.zone->serial();
        store_.replace_zone(std::move(r.zone), zc ? zc->ixfr_history : 100);
        publisher_.rebuild();
    } else {
        ChangeOutcome out = store_.apply_deltas(apex, r.deltas);
        if (!out.error.empty()) return out.error;
        publisher_.publish_changes(out);
        serial = r.serial;
    }
    // Secondaries of this zone (anamed -> anamed chains) hear of the new serial at once.
    notify_secondaries({{name_to_text(apex), serial}});
    return "";
}

bool Daemon::save_copy(const std::string& apex, const std::string& file, bool now) {
    const Zone* z = store_.find(name_to_text(apex));
    if (z == nullptr || file.empty()) return true;
    if (!now && copies_.busy()) return false;
    copies_.write(take_image(*z), file);
    return true;
}

json Daemon::cmd_zone_status(const json& r) {
    const std::string zone = r.contains("zone") && r["zone"].is_string() ? r["zone"] : "";
    json zones = json::array();
    if (!zone.empty()) {
        json s = secondary_.status(apex_key(zone));
        if (s.is_null()) return error("zone " + zone + " is not a secondary zone here");
        zones.push_back(std::move(s));
    } else {
        for (const std::string& apex : secondary_.apexes())
            zones.push_back(secondary_.status(apex));
    }
    return json{{"ok", true}, {"zones", zones}};
}

json Daemon::cmd_zone_refresh(const json& r) {
    const std::string zone = r.value("zone", "");
    if (!secondary_.refresh_now(apex_key(zone), false))
        return error("zone " + zone + " is not a secondary zone here");
    return json{{"ok", true}, {"zone", zone}, {"started", "SOA check"}};
}

json Daemon::cmd_zone_retransfer(const json& r) {
    const std::string zone = r.value("zone", "");
    if (!secondary_.refresh_now(apex_key(zone), true))
        return error("zone " + zone + " is not a secondary zone here");
    return json{{"ok", true}, {"zone", zone}, {"started", "AXFR"}};
}

}  // namespace anamed
