#include "update_policy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>

#include "config.hpp"
#include "log.hpp"
#include "master_text.hpp"
#include "zone.hpp"
#include "zone_edit.hpp"

namespace anamed {
namespace {

bool in_prefix(const UpdatePolicy::Prefix& p, const sockaddr_storage& peer) {
    const uint8_t* a = nullptr;
    if (peer.ss_family != p.family) return false;
    if (p.family == AF_INET)
        a = reinterpret_cast<const uint8_t*>(&reinterpret_cast<const sockaddr_in&>(peer).sin_addr);
    else
        a = reinterpret_cast<const uint8_t*>(
            &reinterpret_cast<const sockaddr_in6&>(peer).sin6_addr);
    const unsigned whole = p.bits / 8, rest = p.bits % 8;
    if (std::memcmp(a, p.addr, whole) != 0) return false;
    if (rest == 0) return true;
    const uint8_t mask = uint8_t(0xFF << (8 - rest));
    return (a[whole] & mask) == (p.addr[whole] & mask);
}

bool rule_is_for(const UpdatePolicy::Rule& r, std::string_view key, const sockaddr_storage& peer) {
    if (!r.key.empty() && r.key != key) return false;
    if (r.addresses.empty()) return true;
    for (const UpdatePolicy::Prefix& p : r.addresses)
        if (in_prefix(p, peer)) return true;
    return false;
}

bool name_matches(const UpdatePolicy::Rule& r, std::string_view owner) {
    switch (r.match) {
    case UpdatePolicy::Match::exact: return owner == r.name;
    case UpdatePolicy::Match::subdomain: return is_subdomain(owner, r.name);
    case UpdatePolicy::Match::below: return owner != r.name && is_subdomain(owner, r.name);
    case UpdatePolicy::Match::first_label: {
        // The owner's first label is the name's, and the rest is at or below the name's rest.
        if (owner.empty() || owner[0] == 0 || r.name.empty() || r.name[0] == 0) return false;
        const size_t first = 1 + uint8_t(owner[0]);
        if (owner.substr(0, first) != std::string_view(r.name).substr(0, 1 + uint8_t(r.name[0])))
            return false;
        return is_subdomain(parent_of(owner), parent_of(r.name));
    }
    }
    return false;
}

std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (const std::string& s : v) out += (out.empty() ? "" : ", ") + s;
    return out;
}

std::string wire_key(const std::string& text, const std::string& origin) {
    const std::string wire = text_to_wire(master_text::absolute(text, origin));
    return wire.empty() ? wire : lower_key(wire);
}

}  // namespace

bool parse_prefix(const std::string& text, UpdatePolicy::Prefix& out) {
    const size_t slash = text.find('/');
    const std::string addr = text.substr(0, slash);
    if (inet_pton(AF_INET, addr.c_str(), out.addr) == 1)
        out.family = AF_INET, out.bits = 32;
    else if (inet_pton(AF_INET6, addr.c_str(), out.addr) == 1)
        out.family = AF_INET6, out.bits = 128;
    else
        return false;
    if (slash == std::string::npos) return true;
    const std::string bits = text.substr(slash + 1);
    if (bits.empty() || bits.size() > 3 || bits.find_first_not_of("0123456789") != bits.npos)
        return false;
    const unsigned b = unsigned(std::stoul(bits));
    if (b > out.bits) return false;
    out.bits = b;
    return true;
}

UpdatePolicy UpdatePolicy::build(const std::vector<UpdateRuleConfig>& rules,
                                 const std::string& apex, const std::string& source) {
    UpdatePolicy p;
    const std::string origin = master_text::absolute(apex, ".");
    const std::string apex_key = wire_key("@", origin);
    for (const UpdateRuleConfig& c : rules) {
        const std::string where =
            source + ":" + std::to_string(c.line) + ": zone " + origin + ": update-policy: ";
        Rule r;
        r.line = c.line;
        if (!c.key.empty() && (r.key = wire_key(c.key, ".")).empty())
            throw ConfigError(where + "'" + c.key + "' is not a valid key name");
        for (const std::string& a : c.addresses) {
            Prefix pre;
            if (!parse_prefix(a, pre))
                throw ConfigError(where + "'" + a + "' is not an address or ADDRESS/BITS");
            r.addresses.push_back(pre);
        }
        for (const std::string& t : c.types) {
            if (t == "ANY" || t == "any") {
                r.types.clear();
                break;
            }
            const uint16_t n = type_from_text(t);
            if (n == 0) throw ConfigError(where + "unknown record type '" + t + "'");
            r.types.push_back(n);
        }
        r.name = wire_key(c.name, origin);
        if (r.name.empty() || !is_subdomain(r.name, apex_key))
            throw ConfigError(where + "name '" + c.name + "' is not a name in the zone");
        if (c.match == "exact")
            r.match = Match::exact;
        else if (c.match == "subdomain")
            r.match = Match::subdomain;
        else if (c.match == "below")
            r.match = Match::below;
        else if (c.match == "first-label")
            r.match = Match::first_label;
        else
            throw ConfigError(where +
                              "match must be exact, subdomain, below or first-label, not '" +
                              c.match + "'");
        if (r.match == Match::first_label && r.name == apex_key)
            throw ConfigError(where +
                              "match: first-label needs a name below the apex (its first "
                              "label is what owners must start with)");
        if (r.key.empty())
            log_warning(source + ":" + std::to_string(c.line) + ": zone " + origin +
                        ": update-policy: a rule without a key takes unsigned updates from " +
                        join(c.addresses) +
                        " (anyone who can send from there may change the zone; prefer a key)");
        p.rules_.push_back(std::move(r));
    }
    return p;
}

bool UpdatePolicy::knows(std::string_view key, const sockaddr_storage& peer) const {
    for (const Rule& r : rules_)
        if (rule_is_for(r, key, peer)) return true;
    return false;
}

bool UpdatePolicy::allows(std::string_view key, const sockaddr_storage& peer,
                          std::string_view owner, uint16_t type) const {
    for (const Rule& r : rules_) {
        if (!rule_is_for(r, key, peer)) continue;
        if (!r.types.empty() && std::find(r.types.begin(), r.types.end(), type) == r.types.end())
            continue;
        if (name_matches(r, owner)) return true;
    }
    return false;
}

std::vector<const UpdatePolicy::Rule*> UpdatePolicy::unsigned_rules() const {
    std::vector<const Rule*> out;
    for (const Rule& r : rules_)
        if (r.key.empty()) out.push_back(&r);
    return out;
}

}  // namespace anamed
