#include "config.hpp"

#include <filesystem>

#include "anamed/listen_addr.hpp"
#include "yaml_reader.hpp"
#include "zone.hpp"

namespace anamed {
namespace {

class Reader : public YamlReader {
public:
    explicit Reader(std::string path) : YamlReader(std::move(path)) {}

    Config read() {
        YAML::Node root;
        try {
            root = YAML::LoadFile(path_);
        } catch (const YAML::BadFile&) {
            throw ConfigError(path_ + ": cannot read the configuration file");
        } catch (const YAML::ParserException& e) {
            throw ConfigError(path_ + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
        }
        Config c;
        c.source = path_;
        if (root.IsNull()) throw ConfigError(path_ + ": the configuration is empty");
        only_keys(root, {"listen", "zones", "workers", "tcp", "upstreams", "alias", "control",
                         "journal", "dpdk", "keys", "remotes", "identity", "metrics", "log", "rrl",
                         "cookies", "udp"});
        const std::filesystem::path dir = std::filesystem::path(path_).parent_path();
        if (auto l = root["listen"]) {
            if (!l.IsSequence()) fail(l, "listen must be a list of ADDRESS:PORT");
            for (const auto& a : l) {
                c.listen.push_back(str(a, "a listen address"));
                ListenAddr parsed;
                const std::string err = parse_listen_addr(c.listen.back(), parsed);
                if (!err.empty()) fail(a, "listen address '" + c.listen.back() + "': " + err);
            }
        }
        if (auto u = root["upstreams"]) {
            if (!u.IsSequence()) fail(u, "upstreams must be a list of ADDRESS:PORT");
            for (const auto& a : u) {
                c.upstreams.push_back(str(a, "an upstream address"));
                ListenAddr parsed;
                const std::string err = parse_listen_addr(c.upstreams.back(), parsed);
                if (!err.empty()) fail(a, "upstream '" + c.upstreams.back() + "': " + err);
            }
        }
        if (auto k = root["keys"]) c.keys = read_keys(k, path_);
        if (auto d = root["dpdk"]) parse_dpdk_config(d, path_, c);
        parse_ops_config(root, path_, c);
        if (auto a = root["alias"]) {
            only_keys(a, {"refresh-min-s", "refresh-max-s", "stale-limit-s", "query-timeout-ms",
                          "require-ad", "cache"});
            if (auto v = a["refresh-min-s"])
                c.alias_refresh_min_s = uint(v, "refresh-min-s", 1, 86400);
            if (auto v = a["refresh-max-s"])
                c.alias_refresh_max_s = uint(v, "refresh-max-s", 1, 7 * 86400);
            if (auto v = a["stale-limit-s"])
                c.alias_stale_limit_s = uint(v, "stale-limit-s", 0, 365 * 86400);
            if (auto v = a["query-timeout-ms"])
                c.alias_query_timeout_ms = uint(v, "query-timeout-ms", 10, 60000);
            if (c.alias_refresh_min_s > c.alias_refresh_max_s)
                fail(a, "refresh-min-s must not exceed refresh-max-s");
            if (auto v = a["require-ad"]) c.alias_require_ad = flag(v, "require-ad");
            if (auto v = a["cache"]) {
                const std::filesystem::path p(str(v, "alias cache"));
                if (p.empty()) fail(v, "cache must be a file path or none");
                c.alias_cache = p == "none" || p.is_absolute() ? p.string() : (dir / p).string();
            }
        }
        if (auto ctl = root["control"]) {
            only_keys(ctl, {"socket", "group"});
            if (auto v = ctl["socket"]) c.control_socket = str(v, "control socket");
            if (auto v = ctl["group"]) c.control_group = str(v, "control group");
            std::filesystem::path p(c.control_socket);
            if (!c.control_socket.empty() && p.is_relative()) c.control_socket = (dir / p).string();
        }
        if (auto j = root["journal"]) {
            std::filesystem::path p(str(j, "journal"));
            c.journal = p.is_relative() ? (dir / p).string() : p.string();
        }
        if (auto w = root["workers"]) c.workers = uint(w, "workers", 0, 256);
        if (auto t = root["tcp"]) {
            only_keys(t, {"idle-timeout-ms", "max-connections", "message-timeout-ms",
                          "max-per-source", "max-lifetime-ms"});
            if (auto v = t["idle-timeout-ms"])
                c.tcp.idle_timeout_ms = uint(v, "idle-timeout-ms", 100, 3600000);
            if (auto v = t["max-connections"])
                c.tcp.max_connections = uint(v, "max-connections", 0, 1000000);
            if (auto v = t["message-timeout-ms"])
                c.tcp.message_timeout_ms = uint(v, "message-timeout-ms", 100, 600000);
            if (auto v = t["max-per-source"])
                c.tcp.max_per_source = uint(v, "max-per-source", 1, 1000000);
            if (auto v = t["max-lifetime-ms"])
                c.tcp.max_lifetime_ms = uint(v, "max-lifetime-ms", 1000, 86400000);
        }
        if (auto u = root["udp"]) {
            only_keys(u, {"rcvbuf"});
            if (auto v = u["rcvbuf"]) c.udp_rcvbuf = uint(v, "rcvbuf", 0, 1u << 30);
        }
        if (auto r = root["rrl"]) parse_rrl_config(r, path_, c);
        if (auto k = root["cookies"]) parse_cookies_config(k, path_, c);
        const auto zones = root["zones"];
        if (!zones || !zones.IsSequence()) fail(root, "zones: a list of {name, file} is required");
        if (auto r = root["remotes"]) c.remotes = parse_remotes(r, path_);
        for (const auto& z : zones) {
            only_keys(z, {"name", "file", "notify", "allow-transfer", "primary", "ixfr-history",
                          "update-policy", "catalog-role", "catalog-zone", "dnssec"});
            if (!z["name"]) fail(z, "each zone needs a name");
            ZoneConfig zc{str(z["name"], "zone name"),
                          z["file"] ? str(z["file"], "zone file") : ""};
            if (text_to_wire(zc.name + (zc.name.back() == '.' ? "" : ".")).empty())
                fail(z["name"], "'" + zc.name + "' is not a valid zone name");
            parse_zone_peers(z, path_, zc);
            if (auto u = z["update-policy"]) parse_update_policy(u, path_, zc);
            parse_zone_catalog(z, path_, zc);
            if (auto d = z["dnssec"]) parse_dnssec_config(d, path_, dir.string(), zc);
            if (zc.file.empty() && zc.primary.empty() &&
                zc.catalog_role != ZoneConfig::CatalogRole::generate)
                fail(z, "zone " + zc.name + " needs a file (or primary: for a secondary)");
            std::filesystem::path f(zc.file);
            if (!zc.file.empty() && f.is_relative()) zc.file = (dir / f).string();
            c.zones.push_back(zc);
        }
        if (const std::string err = check_zone_peers(c); !err.empty()) throw ConfigError(err);
        if (const std::string err = check_update_policy(c); !err.empty()) throw ConfigError(err);
        if (const std::string err = check_catalogs(c); !err.empty()) throw ConfigError(err);
        return c;
    }
};

}  // namespace

Config load_config(const std::string& path) {
    return Reader(path).read();
}

void validate_config(const Config& c) {
    if (c.zones.empty())
        throw ConfigError(c.source + ": no zones to serve; add zones: or --zone NAME=FILE");
    std::set<std::string> seen;
    for (const auto& z : c.zones) {
        std::string name = z.name;
        if (name.empty() || name.back() != '.') name += '.';
        const std::string key = lower_key(text_to_wire(name));
        if (key.empty())
            throw ConfigError(c.source + ": '" + z.name + "' is not a valid zone name");
        if (!seen.insert(key).second)
            throw ConfigError(c.source + ": zone " + name + " is listed twice");
    }
    for (const auto* list : {&c.listen, &c.upstreams}) {
        for (const auto& l : *list) {
            ListenAddr a;
            const std::string err = parse_listen_addr(l, a);
            if (!err.empty()) throw ConfigError(c.source + ": address '" + l + "': " + err);
        }
    }
}

}  // namespace anamed
