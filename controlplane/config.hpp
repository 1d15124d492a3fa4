// The configuration file (YAML, read with yaml-cpp) and the command line that can stand in
// for it. Unknown keys are errors, so a typo never silently changes behaviour.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "anamed/dpdk_frontend.hpp"
#include "anamed/tsig.hpp"

namespace YAML {
class Node;
}

namespace anamed {

struct ZoneConfig {
    std::string name;  // presentation form
    std::string file;  // absolute, or relative to the config file's directory (resolved)
};

// A TSIG key from the `keys:` section (config_keys.cpp).
struct TsigKeyConfig {
    std::string name;  // presentation form, as written
    TsigAlgorithm algorithm = TsigAlgorithm::hmac_sha256;
    std::vector<uint8_t> secret;
    std::string origin;  // "FILE:LINE" where it is defined, for messages that name it
};

struct Config {
    std::string source = "command line";
    std::vector<std::string> listen;
    std::vector<ZoneConfig> zones;
    unsigned workers = 0;  // UDP workers per address; 0 = one per core
    unsigned tcp_idle_timeout_ms = 10000;
    unsigned tcp_max_connections = 1024;
    // ALIAS resolution
    std::vector<std::string> upstreams;  // recursive resolvers, ADDR:PORT
    unsigned alias_refresh_min_s = 5;
    unsigned alias_refresh_max_s = 3600;
    unsigned alias_stale_limit_s = 86400;
    unsigned alias_query_timeout_ms = 1500;
    // The DPDK dataplane (config_dpdk.cpp fills the dataplane's own options).
    bool dpdk_enabled = false;
    DpdkOptions dpdk;
    // Control socket and change journal (anamectl)
    std::string control_socket;       // empty: no control socket
    std::string control_group;        // empty: owner (and root) only, mode 0600
    std::string journal;              // LMDB file of runtime changes; required for changes
    bool journal_salvage = false;     // start over a damaged journal with what it still holds
    std::vector<TsigKeyConfig> keys;  // TSIG keys for transfers, NOTIFY and UPDATE
};

struct ConfigError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Throws ConfigError("FILE:LINE: what is wrong and what to do").
Config load_config(const std::string& path);

// Checks what both sources must satisfy (zones present, distinct, addresses valid).
void validate_config(const Config& c);

// The `dpdk:` section (config_dpdk.cpp) into c.dpdk and c.dpdk_enabled; throws
// ConfigError("FILE:LINE: ...").
void parse_dpdk_config(const YAML::Node& n, const std::string& path, Config& c);

// The `keys:` section (config_keys.cpp); throws ConfigError("FILE:LINE: ...").
std::vector<TsigKeyConfig> read_keys(const YAML::Node& n, const std::string& path);
// The configured keys as the TSIG code looks them up.
TsigKeyring make_keyring(const std::vector<TsigKeyConfig>& keys);

}  // namespace anamed
