// The DNSSEC key commands: generate, list, DS. Answers carry public data only; the private
// halves stay in the key-dir's .private files.
#include <ctime>

#include "daemon.hpp"
#include "dnssec_key.hpp"
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

json key_json(const DnssecKey& k, const std::string& role) {
    json j{{"tag", k.tag},
           {"algorithm", std::string(dnssec_algorithm_name(k.algorithm))},
           {"flags", k.flags},
           {"role", role},
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
    const int64_t now = std::time(nullptr);
    DnssecKey key;
    std::string err = generate_key(apex_key(zc->name), zc->dnssec.algorithm, role, now, key);
    if (err.empty()) err = write_key_pair(zc->dnssec.key_dir, key, now);
    if (!err.empty()) return error("zone " + name + ": " + err);
    log_info("zone " + zc->name + ": generated DNSSEC " + std::string(key_role_name(role)) +
             " key " + std::to_string(key.tag) + " in " + zc->dnssec.key_dir);
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
    for (const DnssecKey& k : keys)
        if (k.sep() && k.published(std::time(nullptr))) ds.push_back(ds_text(k, 3600));
    if (ds.empty())
        return error("zone " + name + " has no KSK or CSK (anamectl zone key generate)");
    return json{{"ok", true}, {"zone", zc->name}, {"ds", ds}, {"problems", problems}};
}

}  // namespace anamed
