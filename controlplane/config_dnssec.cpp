// A zone's `dnssec:` section.
#include <filesystem>

#include "dnssec_config.hpp"
#include "dnssec_key.hpp"
#include "yaml_reader.hpp"

namespace anamed {

bool parse_duration(std::string_view text, uint32_t& out) {
    if (text.empty()) return false;
    uint64_t n = 0;
    size_t i = 0;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
        n = n * 10 + uint64_t(text[i] - '0');
        if (n > UINT32_MAX) return false;
    }
    if (i == 0 || i + 1 < text.size()) return false;
    uint64_t unit = 1;
    if (i < text.size()) {
        switch (text[i]) {
        case 's': unit = 1; break;
        case 'm': unit = 60; break;
        case 'h': unit = 3600; break;
        case 'd': unit = 86400; break;
        case 'w': unit = 7 * 86400; break;
        default: return false;
        }
    }
    if (n * unit > UINT32_MAX) return false;
    out = uint32_t(n * unit);
    return true;
}

void parse_dnssec_config(const YAML::Node& n, const std::string& path,
                         const std::string& config_dir, ZoneConfig& zc) {
    YamlReader r(path, "zone " + zc.name + ": dnssec: ");
    r.only_keys(n, {"policy", "key-dir", "algorithm", "nsec3", "nsec3-opt-out", "validity",
                    "refresh", "jitter"});
    DnssecConfig& d = zc.dnssec;
    if (auto v = n["policy"]) {
        const std::string p = r.str(v, "policy");
        if (p == "sign")
            d.mode = DnssecMode::sign;
        else if (p == "presigned")
            d.mode = DnssecMode::presigned;
        else if (p == "off")
            d.mode = DnssecMode::off;
        else
            r.fail(v, "policy must be sign, presigned or off");
    }
    if (auto v = n["key-dir"]) {
        std::filesystem::path p(r.str(v, "key-dir"));
        d.key_dir = p.is_relative() ? (std::filesystem::path(config_dir) / p).string() : p.string();
    }
    if (auto v = n["algorithm"]) {
        d.algorithm = parse_dnssec_algorithm(r.str(v, "algorithm"));
        if (d.algorithm == 0)
            r.fail(v, "algorithm must be ecdsap256sha256 (13), ed25519 (15) or rsasha256 (8)");
    }
    auto flag = [&](const char* key, bool& out) {
        if (auto v = n[key]) {
            const std::string s = r.str(v, key);
            if (s != "true" && s != "false") r.fail(v, std::string(key) + " must be true or false");
            out = s == "true";
        }
    };
    flag("nsec3", d.sign.nsec3);
    flag("nsec3-opt-out", d.sign.nsec3_opt_out);
    if (d.sign.nsec3_opt_out && !d.sign.nsec3)
        r.fail(n["nsec3-opt-out"], "nsec3-opt-out needs nsec3: true");
    auto duration = [&](const char* key, uint32_t& out) {
        if (auto v = n[key])
            if (!parse_duration(r.str(v, key), out))
                r.fail(v, std::string(key) + " must be a duration such as 14d, 12h or 3600");
    };
    duration("validity", d.sign.validity);
    duration("refresh", d.sign.refresh);
    duration("jitter", d.sign.jitter);
    if (d.sign.validity < 3 * 3600) r.fail(n, "validity must be at least 3h");
    if (d.sign.refresh >= d.sign.validity) r.fail(n, "refresh must be shorter than validity");
    if (d.sign.jitter > d.sign.validity / 2) r.fail(n, "jitter must be at most half of validity");
    if (d.mode == DnssecMode::sign && d.key_dir.empty())
        r.fail(n, "policy: sign needs key-dir: (where the zone's K*.key/.private files are)");
}

}  // namespace anamed
