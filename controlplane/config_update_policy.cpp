// A zone's `update-policy:` list (update_policy.hpp):
//
//   update-policy:
//     - key: acme                   # a keys: name, or
//       address: [192.0.2.0/24]     # source addresses (unsigned updates allowed from there)
//       types: [TXT]                # or [ANY]
//       name: _acme-challenge       # relative to the zone, "@" for the apex
//       match: first-label          # exact | subdomain | below | first-label
#include "config.hpp"
#include "yaml_reader.hpp"

namespace anamed {

void parse_update_policy(const YAML::Node& n, const std::string& path, ZoneConfig& zc) {
    YamlReader r(path, "zone " + zc.name + ": update-policy: ");
    if (!n.IsSequence()) r.fail(n, "a list of {key or address, types, name, match} is expected");
    for (const auto& e : n) {
        r.only_keys(e, {"key", "address", "types", "name", "match"});
        UpdateRuleConfig rule;
        rule.line = e.Mark().line + 1;
        if (auto k = e["key"]) rule.key = r.str(k, "key");
        if (auto a = e["address"])
            rule.addresses = a.IsSequence() ? r.strings(a, "address")
                                            : std::vector<std::string>{r.str(a, "address")};
        if (rule.key.empty() && rule.addresses.empty())
            r.fail(e,
                   "each rule names a key, an address, or both (a rule for anyone is not "
                   "allowed)");
        if (!e["types"]) r.fail(e, "each rule lists the types it grants (types: [ANY] for all)");
        rule.types = r.strings(e["types"], "types");
        if (rule.types.empty()) r.fail(e["types"], "types must not be empty");
        if (auto v = e["name"]) rule.name = r.str(v, "name");
        if (auto v = e["match"]) rule.match = r.str(v, "match");
        zc.update_policy.push_back(std::move(rule));
    }
}

std::string check_update_policy(const Config& c) {
    auto norm = [](std::string n) {
        if (!n.empty() && n.back() == '.') n.pop_back();
        for (char& ch : n) ch = char(std::tolower(static_cast<unsigned char>(ch)));
        return n;
    };
    for (const ZoneConfig& z : c.zones)
        for (const UpdateRuleConfig& rule : z.update_policy) {
            if (rule.key.empty()) continue;
            bool found = false;
            for (const auto& k : c.keys) found |= norm(k.name) == norm(rule.key);
            if (!found)
                return c.source + ":" + std::to_string(rule.line) + ": zone " + z.name +
                       ": update-policy: no key is named '" + rule.key +
                       "' (define it under keys:)";
        }
    return "";
}

}  // namespace anamed
