// DNSSEC key files read: BIND pairs (dnssec-keygen) and keymgr PEM keys, checked whole.
#include <dirent.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>

#include "anamed/wire.hpp"
#include "dnssec_key.hpp"
#include "key_file.hpp"
#include "zone.hpp"

namespace anamed {

namespace {

using Fields = std::map<std::string, std::string>;

std::string read_file(const std::string& path, bool& ok) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    ok = bool(in);
    return ss.str();
}

// "Key: value" lines of a .private file.
Fields private_fields(const std::string& text) {
    Fields f;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        const size_t colon = line.find(':');
        if (colon == std::string::npos) continue;
        const size_t v = line.find_first_not_of(" \t", colon + 1);
        std::string value = v == std::string::npos ? "" : line.substr(v);
        while (!value.empty() && (value.back() == '\r' || value.back() == ' ')) value.pop_back();
        f[line.substr(0, colon)] = value;
    }
    return f;
}

// The DNSKEY line of a .key file: OWNER [TTL] [IN] DNSKEY FLAGS 3 ALG BASE64...
std::string parse_public(const std::string& text, DnssecKey& k) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (const size_t semi = line.find(';'); semi != std::string::npos) line.resize(semi);
        std::istringstream words(line);
        std::vector<std::string> w;
        for (std::string s; words >> s;) w.push_back(s);
        if (w.empty()) continue;
        auto it = std::find(w.begin(), w.end(), "DNSKEY");
        if (it == w.end() || w.end() - it < 5) return "no DNSKEY record";
        k.owner = lower_key(text_to_wire(w[0]));
        if (k.owner.empty()) return "'" + w[0] + "' is not an absolute domain name";
        char* end = nullptr;
        const unsigned long flags = std::strtoul(it[1].c_str(), &end, 10);
        if (*end || flags > 0xFFFF || it[2] != "3") return "bad DNSKEY flags or protocol";
        k.flags = uint16_t(flags);
        k.algorithm = uint8_t(std::strtoul(it[3].c_str(), &end, 10));
        if (*end || dnssec_algorithm_name(k.algorithm).empty())
            return "algorithm " + it[3] + " is not one of 8, 13, 15";
        std::string b64;
        for (auto p = it + 4; p != w.end(); ++p) b64 += *p;
        std::vector<uint8_t> pub;
        if (!decode_base64(b64, pub) || pub.empty()) return "the public key is not base64";
        k.public_key.assign(pub.begin(), pub.end());
        return "";
    }
    return "no DNSKEY record";
}

std::optional<int64_t> parse_time(const Fields& f, const char* name) {
    auto it = f.find(name);
    if (it == f.end() || it->second.size() < 14) return std::nullopt;
    std::tm tm{};
    if (!strptime(it->second.substr(0, 14).c_str(), "%Y%m%d%H%M%S", &tm)) return std::nullopt;
    return int64_t(timegm(&tm));
}

BIGNUM* field_bn(const Fields& f, const char* name) {
    auto it = f.find(name);
    std::vector<uint8_t> b;
    if (it == f.end() || !decode_base64(it->second, b) || b.empty()) return nullptr;
    return BN_bin2bn(b.data(), int(b.size()), nullptr);
}

EVP_PKEY* from_params(const char* type, OSSL_PARAM_BLD* bld) {
    OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
    EVP_PKEY* key = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_KEYPAIR, params) <= 0)
        key = nullptr;
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return key;
}

EVP_PKEY* rsa_private(const Fields& f) {
    OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
    std::vector<BIGNUM*> bns;
    bool ok = bld != nullptr;
    for (const auto& [field, param] : rsa_private_fields) {
        BIGNUM* bn = ok ? field_bn(f, field) : nullptr;
        ok = bn && OSSL_PARAM_BLD_push_BN(bld, param, bn) == 1;
        if (bn) bns.push_back(bn);
    }
    EVP_PKEY* key = ok ? from_params("RSA", bld) : nullptr;
    for (BIGNUM* bn : bns) BN_clear_free(bn);
    OSSL_PARAM_BLD_free(bld);
    return key;
}

EVP_PKEY* ecdsa_private(const Fields& f, const std::string& public_key) {
    BIGNUM* d = field_bn(f, "PrivateKey");
    if (!d || public_key.size() != 64) {
        BN_clear_free(d);
        return nullptr;
    }
    const std::string point = '\x04' + public_key;
    OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
    EVP_PKEY* key = nullptr;
    if (bld && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) &&
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()))
        key = from_params("EC", bld);
    OSSL_PARAM_BLD_free(bld);
    BN_clear_free(d);
    return key;
}

EVP_PKEY* eddsa_private(const Fields& f) {
    auto it = f.find("PrivateKey");
    std::vector<uint8_t> b;
    if (it == f.end() || !decode_base64(it->second, b) || b.size() != 32) return nullptr;
    EVP_PKEY* key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, b.data(), b.size());
    OPENSSL_cleanse(b.data(), b.size());
    return key;
}

std::string strip_suffix(std::string base) {
    for (const char* s : {".key", ".private"}) {
        const std::string_view suffix(s);
        if (base.size() > suffix.size() && base.ends_with(suffix))
            base.resize(base.size() - suffix.size());
    }
    return base;
}

}  // namespace

std::string load_key_pair(const std::string& base_in, DnssecKey& out) {
    const std::string base = strip_suffix(base_in);
    bool ok = false;
    const std::string pub_text = read_file(base + ".key", ok);
    if (!ok) return base + ".key: cannot read it";
    DnssecKey k;
    if (std::string err = parse_public(pub_text, k); !err.empty()) return base + ".key: " + err;
    std::string priv_text = read_file(base + ".private", ok);
    if (!ok) return base + ".private: cannot read it";
    const Fields f = private_fields(priv_text);
    OPENSSL_cleanse(priv_text.data(), priv_text.size());
    auto alg = f.find("Algorithm");
    if (alg == f.end() || std::strtoul(alg->second.c_str(), nullptr, 10) != k.algorithm)
        return base + ".private: its Algorithm does not match the .key file's";
    EVP_PKEY* key = k.algorithm == dnssec_alg::rsasha256 ? rsa_private(f)
                    : k.algorithm == dnssec_alg::ed25519 ? eddsa_private(f)
                                                         : ecdsa_private(f, k.public_key);
    if (!key) return base + ".private: the private key is missing or malformed";
    k.pkey.reset(key, EVP_PKEY_free);
    // The halves must belong together: a signature by the private key must verify with the
    // public key of the .key file (ECDSA's libcrypto key takes the .key's point as given).
    if (dnskey_public_field(key, k.algorithm) != k.public_key)
        return base + ".private: it does not belong to the public key in " + base + ".key";
    std::string sig;
    if (!k.sign("anamed key check", sig) || !k.verify("anamed key check", sig))
        return base + ".private: it does not belong to the public key in " + base + ".key";
    k.tag = key_tag(k.dnskey_rdata());
    k.created = parse_time(f, "Created");
    k.publish = parse_time(f, "Publish");
    k.activate = parse_time(f, "Activate");
    k.inactive = parse_time(f, "Inactive");
    k.remove = parse_time(f, "Delete");
    k.file_base = base;
    out = std::move(k);
    return "";
}

std::string load_pem_key(const std::string& path, std::string_view zone, bool sep, DnssecKey& out) {
    FILE* f = std::fopen(path.c_str(), "re");
    if (!f) return path + ": cannot read it";
    EVP_PKEY* key = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    if (!key) return path + ": not a PEM private key";
    DnssecKey k;
    k.pkey.reset(key, EVP_PKEY_free);
    char group[32] = "";
    size_t glen = 0;
    switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_ED25519: k.algorithm = dnssec_alg::ed25519; break;
    case EVP_PKEY_RSA: k.algorithm = dnssec_alg::rsasha256; break;
    case EVP_PKEY_EC:
        EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &glen);
        if (std::string_view(group) != "prime256v1" && std::string_view(group) != "P-256")
            return path + ": an EC key not on P-256";
        k.algorithm = dnssec_alg::ecdsap256sha256;
        break;
    default: return path + ": not an RSA, P-256 or Ed25519 key";
    }
    k.public_key = dnskey_public_field(key, k.algorithm);
    if (k.public_key.empty()) return path + ": its public key cannot be read";
    k.owner = lower_key(zone);
    k.flags = sep ? dnskey_flag::zone | dnskey_flag::sep : dnskey_flag::zone;
    k.tag = key_tag(k.dnskey_rdata());
    k.file_base = path;
    out = std::move(k);
    return "";
}

std::vector<DnssecKey> load_zone_keys(const std::string& dir, std::string_view zone,
                                      std::vector<std::string>& errors) {
    std::vector<DnssecKey> keys;
    DIR* d = ::opendir(dir.c_str());
    if (!d) {
        errors.push_back(dir + ": cannot open the key directory");
        return keys;
    }
    std::string prefix = "K" + name_to_text(zone) + "+";
    std::transform(prefix.begin(), prefix.end(), prefix.begin(), ::tolower);
    std::vector<std::string> bases;
    while (const dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        std::string lower = name;
        std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
        if (lower.starts_with(prefix) && lower.ends_with(".private"))
            bases.push_back(dir + "/" + name.substr(0, name.size() - 8));
    }
    ::closedir(d);
    std::sort(bases.begin(), bases.end());
    for (const std::string& b : bases) {
        DnssecKey k;
        if (std::string err = load_key_pair(b, k); !err.empty())
            errors.push_back(err);
        else if (k.owner == lower_key(zone))
            keys.push_back(std::move(k));
    }
    std::sort(keys.begin(), keys.end(),
              [](const DnssecKey& a, const DnssecKey& b) { return a.tag < b.tag; });
    return keys;
}

}  // namespace anamed
