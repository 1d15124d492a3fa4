// The configuration file (YAML, read with yaml-cpp) and the command line that can stand in
// for it. Unknown keys are errors, so a typo never silently changes behaviour.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "anamed/dpdk_frontend.hpp"
#include "anamed/identity.hpp"
#include "anamed/response_guard.hpp"
#include "anamed/tcp_limits.hpp"
#include "anamed/tsig.hpp"
#include "dnssec_config.hpp"
#include "log.hpp"
#include "update_policy.hpp"

namespace YAML {
class Node;
}

namespace anamed {

struct ZoneConfig {
    std::string name;  // presentation form
    std::string file;  // absolute, or relative to the config file's directory (resolved); a
                       // secondary's copy (optional for one)
    // Remote names (remotes:): NOTIFY these after every change; who may AXFR/IXFR; and, for
    // a secondary, whom it transfers from (and accepts NOTIFY from).
    std::vector<std::string> notify, allow_transfer, primary;
    unsigned ixfr_history = 100;                  // differences kept for IXFR
    std::vector<UpdateRuleConfig> update_policy;  // who may send UPDATE; empty: nobody
    DnssecConfig dnssec;                          // dnssec: (config_dnssec.cpp)
    int line = 0;                                 // where the zone is defined, for messages
    // Catalog zones (RFC 9432, config_catalog.cpp), with knot.conf's names: this zone's
    // catalog-role, and catalog-zone, the generated catalog that lists it.
    enum class CatalogRole : uint8_t { none, interpret, generate };
    CatalogRole catalog_role = CatalogRole::none;
    std::string catalog_zone;
    // Where the zone comes from when not from the configuration file: anamectl zone add
    // (the journal), or the catalog it is a member of (that catalog's name).
    bool runtime = false;
    std::string member_of;
};

// A server this one transfers with (remotes:), named as in knot.conf.
struct RemoteConfig {
    std::string name;
    std::string address;        // ADDR:PORT or [V6]:PORT
    std::string key;            // a keys: name; empty: unsigned
    bool alias_expand = false;  // alias: expand (resolved A/AAAA in place of ALIAS records)
    int line = 0;
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
    TcpLimits tcp;
    unsigned udp_rcvbuf = 0;  // bytes; 0: the kernel's default
    // Response rate limiting and DNS cookies (config_abuse.cpp); both off unless configured.
    GuardPolicy guard;
    // ALIAS resolution
    std::vector<std::string> upstreams;  // recursive resolvers, ADDR:PORT
    unsigned alias_refresh_min_s = 5;
    unsigned alias_refresh_max_s = 3600;
    unsigned alias_stale_limit_s = 86400;
    unsigned alias_query_timeout_ms = 1500;
    bool alias_require_ad = false;  // accept only upstream answers with AD (DO=1 asked)
    // The targets' last good addresses across restarts (alias_cache.hpp): a path, "none", or
    // "" for the default: beside the journal (JOURNAL-alias), none without a journal.
    std::string alias_cache;
    // The DPDK dataplane (config_dpdk.cpp fills the dataplane's own options).
    bool dpdk_enabled = false;
    DpdkOptions dpdk;
    // Control socket and change journal (anamectl)
    std::string control_socket;       // empty: no control socket
    std::string control_group;        // empty: owner (and root) only, mode 0600
    std::string journal;              // LMDB file of runtime changes; required for changes
    bool journal_salvage = false;     // start over a damaged journal with what it still holds
    std::vector<TsigKeyConfig> keys;  // TSIG keys for transfers, NOTIFY and UPDATE
    std::vector<RemoteConfig> remotes;
    // The operator's sections (config_ops.cpp)
    IdentityConfig identity;     // NSID and CH TXT; all empty (off) by default
    std::string metrics_listen;  // ADDR:PORT of the Prometheus endpoint; empty: none
    LogLevel log_level = LogLevel::info;
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

// The `identity:`, `metrics:` and `log:` sections (config_ops.cpp); throws ConfigError.
void parse_ops_config(const YAML::Node& root, const std::string& path, Config& c);
bool parse_log_level(const std::string& name, LogLevel& out);
// The `rrl:` and `cookies:` sections (config_abuse.cpp); throw ConfigError("FILE:LINE: ...").
void parse_rrl_config(const YAML::Node& n, const std::string& path, Config& c);
void parse_cookies_config(const YAML::Node& n, const std::string& path, Config& c);

// The `keys:` section (config_keys.cpp); throws ConfigError("FILE:LINE: ...").
std::vector<TsigKeyConfig> read_keys(const YAML::Node& n, const std::string& path);
// The `remotes:` section and a zone's notify / allow-transfer / primary / ixfr-history
// (config_remotes.cpp); throw ConfigError("FILE:LINE: ...").
std::vector<RemoteConfig> parse_remotes(const YAML::Node& n, const std::string& path);
void parse_zone_peers(const YAML::Node& z, const std::string& path, ZoneConfig& zc);
// A zone's update-policy: list (config_update_policy.cpp), and that every key it names exists
// ("" or the error).
void parse_update_policy(const YAML::Node& n, const std::string& path, ZoneConfig& zc);
// A zone's `dnssec:` (config_dnssec.cpp); throws ConfigError("FILE:LINE: ...").
void parse_dnssec_config(const YAML::Node& n, const std::string& path,
                         const std::string& config_dir, ZoneConfig& zc);
std::string check_update_policy(const Config& c);
// A zone's catalog-role: and catalog-zone: (config_catalog.cpp), and that they fit together
// over the whole configuration ("" or the error).
void parse_zone_catalog(const YAML::Node& z, const std::string& path, ZoneConfig& zc);
std::string check_catalogs(const Config& c);
// Every remote a zone names exists, every key a remote names exists; "" or the error.
std::string check_zone_peers(const Config& c);

// The configured keys as the TSIG code looks them up.
TsigKeyring make_keyring(const std::vector<TsigKeyConfig>& keys);

}  // namespace anamed
