// The configuration's abuse resistance: `rrl:` (response rate limiting), `cookies:` (DNS
// cookies, RFC 7873/9018), and the `tcp:` and `udp:` limits.
//
//   rrl:
//     rate-limit: 20          # responses a second per class, name and client prefix
//     slip: 2                 # every 2nd limited response goes out empty with TC=1
//     ipv4-prefix: 24
//     ipv6-prefix: 56
//     table-size: 65536       # buckets per table (fixed memory, 16 bytes each)
//     table: shared           # one table for all workers, or per-worker (rrl.hpp)
//     exempt: [192.0.2.0/24, "2001:db8::/32"]
//   cookies:
//     secret: 0123456789abcdef0123456789abcdef   # 16 bytes in hex, the same on every node
//     previous-secret: ...                        # still accepted while rotating
#include <arpa/inet.h>

#include "config.hpp"
#include "yaml_reader.hpp"

namespace anamed {
namespace {

bool parse_hex16(const std::string& s, uint8_t* out) {
    if (s.size() != 32) return false;
    for (size_t i = 0; i < 16; ++i) {
        unsigned v = 0;
        for (size_t j = 0; j < 2; ++j) {
            const char c = s[2 * i + j];
            const int d = c >= '0' && c <= '9'   ? c - '0'
                          : c >= 'a' && c <= 'f' ? c - 'a' + 10
                          : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                 : -1;
            if (d < 0) return false;
            v = v * 16 + unsigned(d);
        }
        out[i] = uint8_t(v);
    }
    return true;
}

class AbuseReader : public YamlReader {
public:
    using YamlReader::YamlReader;

    RrlPrefix prefix(const YAML::Node& n) const {
        const std::string text = str(n, "an exempt prefix");
        const size_t slash = text.find('/');
        const std::string addr = text.substr(0, slash);
        RrlPrefix p;
        if (inet_pton(AF_INET, addr.c_str(), p.addr.bytes) == 1) {
            p.addr.len = 4;
        } else if (inet_pton(AF_INET6, addr.c_str(), p.addr.bytes) == 1) {
            p.addr.len = 16;
        } else {
            fail(n, "'" + text + "' is not an ADDRESS/PREFIX (192.0.2.0/24, 2001:db8::/32)");
        }
        unsigned bits = p.addr.len * 8u;
        if (slash != std::string::npos) {
            try {
                size_t used = 0;
                bits = unsigned(std::stoul(text.substr(slash + 1), &used));
                if (used != text.size() - slash - 1) throw std::invalid_argument("junk");
            } catch (const std::exception&) {
                fail(n, "'" + text + "': the prefix length is not a number");
            }
            if (bits > p.addr.len * 8u) fail(n, "'" + text + "': the prefix length is too long");
        }
        p.bits = uint8_t(bits);
        for (unsigned i = bits; i < p.addr.len * 8u; ++i)
            p.addr.bytes[i / 8] &= uint8_t(~(0x80 >> (i % 8)));
        return p;
    }

    void rrl(const YAML::Node& n, RrlConfig& r) const {
        only_keys(n, {"rate-limit", "slip", "ipv4-prefix", "ipv6-prefix", "table-size", "table",
                      "exempt"});
        r.enabled = true;
        if (auto v = n["rate-limit"]) r.rate = uint(v, "rate-limit", 1, 1000000);
        if (auto v = n["slip"]) r.slip = uint(v, "slip", 0, 100);
        if (auto v = n["ipv4-prefix"]) r.v4_prefix = uint8_t(uint(v, "ipv4-prefix", 8, 32));
        if (auto v = n["ipv6-prefix"]) r.v6_prefix = uint8_t(uint(v, "ipv6-prefix", 16, 128));
        if (auto v = n["table-size"]) r.table_size = uint(v, "table-size", 64, 1u << 26);
        if (auto v = n["table"]) {
            const std::string kind = str(v, "table");
            if (kind == "shared")
                r.table = RrlTableKind::shared;
            else if (kind == "per-worker")
                r.table = RrlTableKind::per_worker;
            else
                fail(v, "table must be shared or per-worker, not '" + kind + "'");
        }
        if (auto v = n["exempt"]) {
            if (!v.IsSequence()) fail(v, "exempt must be a list of ADDRESS/PREFIX");
            for (const auto& p : v) r.exempt.push_back(prefix(p));
        }
    }

    void cookies(const YAML::Node& n, CookieSecrets& c) const {
        only_keys(n, {"secret", "previous-secret"});
        const auto secret = n["secret"];
        if (!secret) fail(n, "secret is required (16 bytes in hex, the same on every server)");
        if (!parse_hex16(str(secret, "secret"), c.current))
            fail(secret,
                 "secret must be 32 hex digits (16 bytes), e.g. from "
                 "`openssl rand -hex 16`");
        if (auto p = n["previous-secret"]) {
            if (!parse_hex16(str(p, "previous-secret"), c.previous))
                fail(p, "previous-secret must be 32 hex digits (16 bytes)");
            c.has_previous = true;
        }
        c.enabled = true;
    }
};

}  // namespace

void parse_rrl_config(const YAML::Node& n, const std::string& path, Config& c) {
    AbuseReader(path, "rrl: ").rrl(n, c.guard.rrl);
}

void parse_cookies_config(const YAML::Node& n, const std::string& path, Config& c) {
    AbuseReader(path, "cookies: ").cookies(n, c.guard.cookies);
}

}  // namespace anamed
