// The `keys:` section of the configuration file, TSIG keys named as in Knot:
//
//   keys:
//     - name: xfr.example
//       algorithm: hmac-sha256
//       secret: "base64..."
//     - name: from-bind              # the key of that name in a file written by
//       file: keys/from-bind.key     # tsig-keygen (BIND) or keymgr -t (Knot)
#include <filesystem>
#include <map>

#include "config.hpp"
#include "key_file.hpp"
#include "yaml_reader.hpp"
#include "zone.hpp"

namespace anamed {
namespace {

// The lower-case wire form of a key name given with or without the final dot; empty if invalid.
std::string key_wire(std::string name) {
    if (name.empty()) return "";
    if (name.back() != '.') name += '.';
    const std::string wire = text_to_wire(name);
    return wire.empty() ? wire : lower_key(wire);
}

[[noreturn]] void fail_at(const std::string& where, const std::string& what) {
    throw ConfigError(where + ": " + what);
}

// Algorithm and secret as written, checked; `where` is FILE:LINE of the text.
void set_algorithm(TsigKeyConfig& k, const std::string& text, const std::string& where) {
    if (parse_tsig_algorithm(text, k.algorithm)) return;
    std::string known;
    for (auto a :
         {TsigAlgorithm::hmac_md5, TsigAlgorithm::hmac_sha1, TsigAlgorithm::hmac_sha224,
          TsigAlgorithm::hmac_sha256, TsigAlgorithm::hmac_sha384, TsigAlgorithm::hmac_sha512})
        known += (known.empty() ? "" : ", ") + std::string(tsig_algorithm_name(a));
    fail_at(where, "key " + k.name + ": unknown algorithm '" + text + "' (known: " + known + ")");
}
void set_secret(TsigKeyConfig& k, const std::string& text, const std::string& where) {
    if (!decode_base64(text, k.secret))
        fail_at(where, "key " + k.name +
                           ": the secret is not valid base64 (write it as tsig-keygen "
                           "or keymgr -t print it)");
    if (k.secret.empty()) fail_at(where, "key " + k.name + ": the secret is empty");
}

class KeysReader : public YamlReader {
public:
    explicit KeysReader(const std::string& path) : YamlReader(path, "keys: ") {}

    std::vector<TsigKeyConfig> read(const YAML::Node& n) const {
        if (!n.IsSequence())
            fail(n, "a list of {name, algorithm, secret} or {name, file} is expected");
        std::vector<TsigKeyConfig> keys;
        std::map<std::string, std::string> seen;  // lower-case wire name -> origin
        for (const auto& k : n) {
            keys.push_back(key(k));
            const auto [at, fresh] = seen.emplace(key_wire(keys.back().name), keys.back().origin);
            if (!fresh)
                fail(k["name"],
                     "key " + keys.back().name + " is listed twice (first at " + at->second + ")");
        }
        return keys;
    }

private:
    std::string where(const YAML::Node& n) const {
        return path_ + ":" + std::to_string(n.Mark().line + 1);
    }

    TsigKeyConfig key(const YAML::Node& k) const {
        only_keys(k, {"name", "algorithm", "secret", "file"});
        if (!k["name"]) fail(k, "each key needs a name");
        TsigKeyConfig c;
        c.name = str(k["name"], "the key name");
        c.origin = where(k["name"]);
        if (key_wire(c.name).empty())
            fail(k["name"], "'" + c.name + "' is not a valid key name (a domain name)");
        if (k["file"]) {
            if (k["algorithm"] || k["secret"])
                fail(k, "key " + c.name + ": give either file, or algorithm and secret, not both");
            from_file(c, k["file"]);
            return c;
        }
        if (!k["algorithm"] || !k["secret"])
            fail(k, "key " + c.name +
                        " needs algorithm and secret, or file (a key file written "
                        "by tsig-keygen or keymgr -t)");
        set_algorithm(c, str(k["algorithm"], "algorithm"), where(k["algorithm"]));
        set_secret(c, str(k["secret"], "secret"), where(k["secret"]));
        return c;
    }

    // The key named c.name in the file (relative to the configuration file's directory).
    void from_file(TsigKeyConfig& c, const YAML::Node& file) const {
        std::filesystem::path p(str(file, "the key file"));
        if (p.is_relative()) p = std::filesystem::path(path_).parent_path() / p;
        std::string names;
        for (const KeyFileEntry& e : read_key_file(p.string())) {
            if (key_wire(e.name) != key_wire(c.name)) {
                names += (names.empty() ? "" : ", ") + e.name;
                continue;
            }
            const std::string at = p.string() + ":" + std::to_string(e.line);
            set_algorithm(c, e.algorithm, at);
            set_secret(c, e.secret, at);
            c.origin = at;
            return;
        }
        fail(file,
             "key file " + p.string() + " has no key named " + c.name + " (it has: " + names + ")");
    }
};

}  // namespace

std::vector<TsigKeyConfig> read_keys(const YAML::Node& n, const std::string& path) {
    return KeysReader(path).read(n);
}

TsigKeyring make_keyring(const std::vector<TsigKeyConfig>& keys) {
    TsigKeyring ring;
    for (const auto& k : keys)
        if (!ring.add(TsigKey{key_wire(k.name), k.algorithm, k.secret}))
            throw ConfigError(k.origin + ": key " + k.name + " cannot be used twice");
    return ring;
}

}  // namespace anamed
