// The DNSSEC key commands: generate, list, the rollover steps (activate, retire, remove) and
// DS. Answers carry public data only; the private halves stay in the key-dir's .private
// files.
#include <algorithm>
#include <cstdlib>
#include <ctime>

#include "daemon.hpp"
#include "dnssec_key.hpp"
#include "dnssec_signer.hpp"
#include "log.hpp"

namespace anamed {

namespace {

using json = nlohmann::json;

json error(const std::string& m) {
    return json{{"ok", false}, {"error", m}};
}

std::string role_of(const DnssecKey& k, const std::vector<DnssecKey>& all) {
    if (!k.sep()) return "zsk";
    for (const DnssecKey& o : all)
        if (!o.sep() && o.algorithm == k.algorithm) return "ksk";
    return "csk";
}

std::string state_of(const DnssecKey& k, int64_t now) {
    if (k.remove && *k.remove <= now) return "removed";
    if (k.active(now)) return "active";
    if (k.inactive && *k.inactive <= now) return "retired";
    return k.published(now) ? "published" : "standby";
}

json key_json(const DnssecKey& k, const std::string& role) {
    json j{{"tag", k.tag},
           {"algorithm", std::string(dnssec_algorithm_name(k.algorithm))},
           {"flags", k.flags},
           {"role", role},
           {"state", state_of(k, std::time(nullptr))},
           {"file", k.file_base + ".key"}};
    if (k.publish) j["publish"] = *k.publish;
    if (k.activate) j["activate"] = *k.activate;
    if (k.inactive) j["inactive"] = *k.inactive;
    if (k.remove) j["delete"] = *k.remove;
    return j;
}

}  // namespace

// The zone of a key command, with a key-dir; null and `err` set otherwise.
const ZoneConfig* Daemon::key_zone(const json& r, json& err) {
    const std::string name = r.value("zone", "");
    const ZoneConfig* zc = zone_config(apex_key(name));
    if (!zc)
        err = error("zone " + name + " is not configured here");
    else if (zc->dnssec.key_dir.empty())
        err = error("zone " + name + " has no dnssec: key-dir: in the configuration");
    return zc && !zc->dnssec.key_dir.empty() ? zc : nullptr;
}

json Daemon::cmd_zone_key_generate(const json& r) {
    json refusal;
    const ZoneConfig* zc = key_zone(r, refusal);
    if (!zc) return refusal;
    const std::string& name = zc->name;
    const std::string role_text = r.value("role", "csk");
    KeyRole role = KeyRole::csk;
    if (role_text == "ksk")
        role = KeyRole::ksk;
    else if (role_text == "zsk")
        role = KeyRole::zsk;
    else if (role_text != "csk")
        return error("ROLE must be csk, ksk or zsk");
    const std::string state = r.value("state", "active");
    if (state != "active" && state != "standby") return error("STATE must be active or standby");
    const int64_t now = std::time(nullptr);
    DnssecKey key;
    std::string err = generate_key(apex_key(zc->name), zc->dnssec.algorithm, role, now, key);
    if (state == "standby") {
        key.activate.reset();
        if (role != KeyRole::zsk) key.publish.reset();
    }
    if (err.empty()) err = write_key_pair(zc->dnssec.key_dir, key, now);
    if (!err.empty()) return error("zone " + name + ": " + err);
    log_info("zone " + zc->name + ": generated DNSSEC " + std::string(key_role_name(role)) +
             " key " + std::to_string(key.tag) + " (" + state + ") in " + zc->dnssec.key_dir);
    publisher_.resign(apex_key(zc->name));
    return json{
        {"ok", true}, {"zone", zc->name}, {"key", key_json(key, std::string(key_role_name(role)))}};
}

json Daemon::cmd_zone_key_list(const json& r) {
    json refusal;
    const ZoneConfig* zc = key_zone(r, refusal);
    if (!zc) return refusal;
    std::vector<std::string> problems;
    const std::vector<DnssecKey> keys =
        load_zone_keys(zc->dnssec.key_dir, apex_key(zc->name), problems);
    json list = json::array();
    for (const DnssecKey& k : keys) list.push_back(key_json(k, role_of(k, keys)));
    return json{{"ok", true}, {"zone", zc->name}, {"keys", list}, {"problems", problems}};
}

json Daemon::cmd_zone_ds(const json& r) {
    json refusal;
    const ZoneConfig* zc = key_zone(r, refusal);
    if (!zc) return refusal;
    const std::string& name = zc->name;
    std::vector<std::string> problems;
    const std::vector<DnssecKey> keys =
        load_zone_keys(zc->dnssec.key_dir, apex_key(zc->name), problems);
    json ds = json::array();
    const int64_t now = std::time(nullptr);
    for (const DnssecKey& k : keys)  // standby KSKs too: their DS goes up first (double-DS)
        if (k.sep() && !(k.remove && *k.remove <= now)) ds.push_back(ds_text(k, 3600));
    if (ds.empty())
        return error("zone " + name + " has no KSK or CSK (anamectl zone key generate)");
    return json{{"ok", true}, {"zone", zc->name}, {"ds", ds}, {"problems", problems}};
}

json Daemon::cmd_zone_key_activate(const json& r) {
    return set_key_timing(r, 0);
}
json Daemon::cmd_zone_key_retire(const json& r) {
    return set_key_timing(r, 1);
}
json Daemon::cmd_zone_key_remove(const json& r) {
    return set_key_timing(r, 2);
}

json Daemon::set_key_timing(const json& r, int event) {
    static constexpr const char* verbs[] = {"activated", "retired", "removed"};
    json refusal;
    const ZoneConfig* zc = key_zone(r, refusal);
    if (!zc) return refusal;
    const std::string tag_text = r.value("tag", "");
    char* end = nullptr;
    const unsigned long tag = std::strtoul(tag_text.c_str(), &end, 10);
    if (tag_text.empty() || *end != '\0' || tag > 65535) return error("TAG must be a key tag");
    std::vector<std::string> problems;
    std::vector<DnssecKey> keys = load_zone_keys(zc->dnssec.key_dir, apex_key(zc->name), problems);
    auto k = std::find_if(keys.begin(), keys.end(),
                          [&](const DnssecKey& x) { return x.tag == tag && !x.file_base.empty(); });
    if (k == keys.end())
        return error("zone " + zc->name + " has no key " + tag_text + " in its key-dir");
    const int64_t now = std::time(nullptr);
    if (!k->timed()) k->publish = k->activate = now;  // it was published and active
    k->created = k->created.value_or(now);
    if (event == 0) {
        if (!k->publish || *k->publish > now) k->publish = now;
        k->activate = now;
        k->inactive.reset();
        k->remove.reset();
    } else {
        k->inactive = k->inactive && *k->inactive <= now ? *k->inactive : now;
        if (event == 2) k->remove = now;
    }
    // The zone must stay signed, and reachable from its DS: an active KSK or CSK.
    const ZoneSigner after(apex_key(zc->name), keys, zc->dnssec.sign, now);
    const bool sep = std::any_of(keys.begin(), keys.end(),
                                 [&](const DnssecKey& x) { return x.sep() && x.active(now); });
    if (!sep || after.signing_tags(6).empty())
        return error("zone " + zc->name + ": that would leave no active key to sign " +
                     (sep ? "its records (a ZSK or CSK)" : "its DNSKEY RRset (a KSK or CSK)"));
    if (std::string err = write_key_timing(*k); !err.empty())
        return error("zone " + zc->name + ": " + err);
    log_info("zone " + zc->name + ": DNSSEC key " + tag_text + " " + verbs[event]);
    publisher_.resign(apex_key(zc->name));
    return json{{"ok", true}, {"zone", zc->name}, {"key", key_json(*k, role_of(*k, keys))}};
}

}  // namespace anamed
