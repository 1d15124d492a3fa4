// The operator's sections of the configuration file:
//
//   identity:                 # off by default: CH queries REFUSED, no NSID
//     nsid: ns1.fra           # RFC 5001, sent when the query's OPT asks
//     id: ns1.fra             # CH TXT id.server
//     hostname: ns1.fra       # CH TXT hostname.bind
//     version: "anamed 0.1"   # CH TXT version.server and version.bind
//   metrics: {listen: "127.0.0.1:9553"}   # Prometheus /metrics
//   log: {level: info}        # debug, info, warning, error
#include "anamed/listen_addr.hpp"
#include "config.hpp"
#include "yaml_reader.hpp"

namespace anamed {
namespace {

class OpsReader : public YamlReader {
public:
    explicit OpsReader(const std::string& path) : YamlReader(path) {}

    std::string text(const YAML::Node& n, const std::string& what) const {
        std::string v = str(n, what);
        if (v.size() > 255) fail(n, what + " is longer than 255 octets (a TXT string's limit)");
        return v;
    }

    void identity(const YAML::Node& n, Config& c) const {
        only_keys(n, {"nsid", "id", "hostname", "version"});
        if (auto v = n["nsid"]) c.identity.nsid = text(v, "identity: nsid");
        if (auto v = n["id"]) c.identity.id = text(v, "identity: id");
        if (auto v = n["hostname"]) c.identity.hostname = text(v, "identity: hostname");
        if (auto v = n["version"]) c.identity.version = text(v, "identity: version");
    }

    void metrics(const YAML::Node& n, Config& c) const {
        only_keys(n, {"listen"});
        if (auto v = n["listen"]) {
            c.metrics_listen = str(v, "metrics: listen");
            ListenAddr a;
            if (std::string err = parse_listen_addr(c.metrics_listen, a); !err.empty())
                fail(v, "metrics: listen '" + c.metrics_listen + "': " + err);
        }
    }

    void log(const YAML::Node& n, Config& c) const {
        only_keys(n, {"level"});
        if (auto v = n["level"]) {
            const std::string level = str(v, "log: level");
            if (!parse_log_level(level, c.log_level))
                fail(v, "log: level must be debug, info, warning or error, not '" + level + "'");
        }
    }
};

}  // namespace

bool parse_log_level(const std::string& name, LogLevel& out) {
    static const char* names[] = {"debug", "info", "warning", "error"};
    for (int i = 0; i < 4; ++i)
        if (name == names[i]) {
            out = LogLevel(i);
            return true;
        }
    return false;
}

void parse_ops_config(const YAML::Node& root, const std::string& path, Config& c) {
    const OpsReader r(path);
    if (auto n = root["identity"]) r.identity(n, c);
    if (auto n = root["metrics"]) r.metrics(n, c);
    if (auto n = root["log"]) r.log(n, c);
}

}  // namespace anamed
