// Who may change what by dynamic update, per zone (in the spirit of BIND's update-policy):
// a list of rules, each granting record types at names matched against one name of the zone,
// to a TSIG key, to source addresses, or to both. An UPDATE is applied only when every record
// it changes is granted by some rule; a zone without rules takes no updates.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "anamed/tsig.hpp"

namespace anamed {

// One rule as written in the zone's update-policy: (config_update_policy.cpp).
struct UpdateRuleConfig {
    std::string key;                     // a keys: name; empty: no key asked for
    std::vector<std::string> addresses;  // "192.0.2.0/24", "2001:db8::/32", "127.0.0.1"
    std::vector<std::string> types;      // mnemonics or TYPEnnn; ANY: every type
    std::string name = "@";              // relative to the zone, or absolute
    std::string match = "subdomain";     // exact | subdomain | below | first-label
    int line = 0;
};

class UpdatePolicy {
public:
    enum class Match { exact, subdomain, below, first_label };
    struct Prefix {
        int family = 0;
        uint8_t addr[16] = {};
        unsigned bits = 0;
    };
    struct Rule {
        std::string key;                // lower-case wire; empty: any message, signed or not
        std::vector<Prefix> addresses;  // empty: any address
        std::vector<uint16_t> types;    // empty: every type
        std::string name;               // lower-case wire
        Match match = Match::subdomain;
        int line = 0;
    };

    // The rules of zone `apex` (presentation); throws ConfigError naming `source`:LINE.
    static UpdatePolicy build(const std::vector<UpdateRuleConfig>& rules, const std::string& apex,
                              const std::string& source);

    bool empty() const { return rules_.empty(); }
    // Whether a rule lets a message signed with `key` (lower-case wire name; empty: unsigned)
    // from `peer` change `type` at `owner` (lower-case wire).
    bool allows(std::string_view key, const sockaddr_storage& peer, std::string_view owner,
                uint16_t type) const;
    // Whether some rule is for a message signed with `key` from `peer`, whatever it changes.
    bool knows(std::string_view key, const sockaddr_storage& peer) const;
    // The rules that take unsigned updates (no key; an address instead), for the load warning.
    std::vector<const Rule*> unsigned_rules() const;

private:
    std::vector<Rule> rules_;
};

// "ADDR" or "ADDR/BITS"; false when neither.
bool parse_prefix(const std::string& text, UpdatePolicy::Prefix& out);

}  // namespace anamed
