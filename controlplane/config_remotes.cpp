// The `remotes:` section and the zones' notify / allow-transfer / primary lists.
#include "anamed/listen_addr.hpp"
#include "yaml_reader.hpp"

namespace anamed {

std::vector<RemoteConfig> parse_remotes(const YAML::Node& n, const std::string& path) {
    YamlReader r(path, "remotes: ");
    if (!n.IsSequence()) r.fail(n, "a list of {name, address, key, alias} is expected");
    std::vector<RemoteConfig> out;
    for (const auto& e : n) {
        r.only_keys(e, {"name", "address", "key", "alias"});
        if (!e["name"] || !e["address"]) r.fail(e, "each remote needs a name and an address");
        RemoteConfig rc;
        rc.line = e.Mark().line + 1;
        rc.name = r.str(e["name"], "a remote's name");
        rc.address = r.str(e["address"], "a remote's address");
        ListenAddr a;
        if (const std::string err = parse_listen_addr(rc.address, a); !err.empty())
            r.fail(e["address"], "remote " + rc.name + ": address '" + rc.address + "': " + err);
        if (auto k = e["key"]) rc.key = r.str(k, "a remote's key");
        if (auto al = e["alias"]) {
            const std::string v = r.str(al, "alias");
            if (v != "expand" && v != "records")
                r.fail(al, "remote " + rc.name +
                               ": alias must be 'records' (send ALIAS records, the default) "
                               "or 'expand' (send the resolved A/AAAA instead)");
            rc.alias_expand = v == "expand";
        }
        for (const RemoteConfig& o : out)
            if (o.name == rc.name) r.fail(e["name"], "remote " + rc.name + " is defined twice");
        out.push_back(std::move(rc));
    }
    return out;
}

void parse_zone_peers(const YAML::Node& z, const std::string& path, ZoneConfig& zc) {
    YamlReader r(path, "zone " + zc.name + ": ");
    if (auto v = z["notify"]) zc.notify = r.strings(v, "notify");
    if (auto v = z["allow-transfer"]) zc.allow_transfer = r.strings(v, "allow-transfer");
    if (auto v = z["primary"]) zc.primary = r.strings(v, "primary");
    if (auto v = z["ixfr-history"]) zc.ixfr_history = r.uint(v, "ixfr-history", 0, 100000);
    zc.line = z.Mark().line + 1;
}

std::string check_zone_peers(const Config& c) {
    for (const ZoneConfig& z : c.zones) {
        const std::string where =
            c.source + (z.line ? ":" + std::to_string(z.line) : "") + ": zone " + z.name + ": ";
        for (const auto* list : {&z.notify, &z.allow_transfer, &z.primary})
            for (const std::string& name : *list) {
                bool found = false;
                for (const RemoteConfig& r : c.remotes) found |= r.name == name;
                if (!found)
                    return where + "no remote is named '" + name + "' (define it under remotes:)";
            }
    }
    for (const RemoteConfig& r : c.remotes) {
        if (r.key.empty()) continue;
        bool found = false;
        auto norm = [](std::string n) {
            if (!n.empty() && n.back() == '.') n.pop_back();
            for (char& ch : n) ch = char(std::tolower(static_cast<unsigned char>(ch)));
            return n;
        };
        for (const auto& k : c.keys) found |= norm(k.name) == norm(r.key);
        if (!found)
            return c.source + ":" + std::to_string(r.line) + ": remote " + r.name +
                   ": no key is named '" + r.key + "' (define it under keys:)";
    }
    return "";
}

}  // namespace anamed
