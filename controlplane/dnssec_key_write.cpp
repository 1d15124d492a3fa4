// DNSSEC keys made and written: generation through libcrypto, BIND's key-file format out.
#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <fstream>

#include "anamed/wire.hpp"
#include "dnssec_key.hpp"
#include "zone.hpp"

namespace anamed {

namespace {

std::string base64(const unsigned char* p, size_t n) {
    std::string out(4 * ((n + 2) / 3) + 1, '\0');
    const int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), p, int(n));
    out.resize(size_t(len));
    return out;
}
std::string base64(std::string_view s) {
    return base64(reinterpret_cast<const unsigned char*>(s.data()), s.size());
}

std::string bn_base64(EVP_PKEY* key, const char* param, size_t pad = 0) {
    BIGNUM* bn = nullptr;
    if (EVP_PKEY_get_bn_param(key, param, &bn) != 1) return {};
    std::string b(std::max(pad, size_t(BN_num_bytes(bn))), '\0');
    BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(b.data()), int(b.size()));
    BN_clear_free(bn);
    std::string out = base64(b);
    OPENSSL_cleanse(b.data(), b.size());
    return out;
}

// The private part of a .private file (after Algorithm:).
std::string private_text(EVP_PKEY* key, uint8_t alg) {
    if (alg == dnssec_alg::ed25519) {
        unsigned char priv[32];
        size_t len = sizeof priv;
        if (EVP_PKEY_get_raw_private_key(key, priv, &len) != 1) return {};
        std::string out = "PrivateKey: " + base64(priv, len) + "\n";
        OPENSSL_cleanse(priv, sizeof priv);
        return out;
    }
    if (alg == dnssec_alg::ecdsap256sha256)
        return "PrivateKey: " + bn_base64(key, OSSL_PKEY_PARAM_PRIV_KEY, 32) + "\n";
    std::string out;
    for (const auto& [field, param] : rsa_private_fields)
        out += std::string(field) + ": " + bn_base64(key, param) + "\n";
    return out;
}

std::string stamp(int64_t t) {
    const time_t tt = time_t(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%d%H%M%S", &tm);
    return buf;
}

bool write_new(const std::string& path, const std::string& text, mode_t mode) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) return false;
    bool ok =
        ::fchmod(fd, mode) == 0 && ::write(fd, text.data(), text.size()) == ssize_t(text.size());
    ok = ::fsync(fd) == 0 && ok;
    ::close(fd);
    if (!ok) ::unlink(path.c_str());
    return ok;
}

// "Created: ...\nPublish: ..." for the timing the key has, as BIND writes it.
std::string timing_lines(const DnssecKey& key) {
    std::string out;
    const std::pair<const char*, const std::optional<int64_t>*> fields[] = {
        {"Created", &key.created},
        {"Publish", &key.publish},
        {"Activate", &key.activate},
        {"Inactive", &key.inactive},
        {"Delete", &key.remove}};
    for (const auto& [name, value] : fields)
        if (*value) out += std::string(name) + ": " + stamp(**value) + "\n";
    return out;
}

}  // namespace

std::string write_key_timing(const DnssecKey& key) {
    const std::string path = key.file_base + ".private";
    std::ifstream in(path);
    if (!in) return path + ": cannot read it";
    std::string kept;
    for (std::string line; std::getline(in, line);) {
        const std::string field = line.substr(0, line.find(':'));
        if (field != "Created" && field != "Publish" && field != "Activate" &&
            field != "Inactive" && field != "Delete")
            kept += line + "\n";
        OPENSSL_cleanse(line.data(), line.size());
    }
    kept += timing_lines(key);
    const std::string tmp = path + ".new";
    ::unlink(tmp.c_str());
    const bool ok = write_new(tmp, kept, 0600);
    OPENSSL_cleanse(kept.data(), kept.size());
    if (!ok) return tmp + ": cannot write it";
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        ::unlink(tmp.c_str());
        return path + ": cannot replace it";
    }
    return "";
}

std::string dnskey_public_field(EVP_PKEY* key, uint8_t alg) {
    if (alg == dnssec_alg::ed25519) {
        unsigned char pub[32];
        size_t len = sizeof pub;
        if (EVP_PKEY_get_raw_public_key(key, pub, &len) != 1) return {};
        return std::string(reinterpret_cast<char*>(pub), len);
    }
    if (alg == dnssec_alg::ecdsap256sha256) {
        unsigned char pub[65];
        size_t len = 0;
        if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof pub, &len) !=
                1 ||
            len != 65 || pub[0] != 4)
            return {};
        return std::string(reinterpret_cast<char*>(pub + 1), 64);
    }
    BIGNUM *n = nullptr, *e = nullptr;
    std::string out;
    if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) == 1 &&
        EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e) == 1) {
        std::string eb(size_t(BN_num_bytes(e)), '\0'), nb(size_t(BN_num_bytes(n)), '\0');
        BN_bn2bin(e, reinterpret_cast<unsigned char*>(eb.data()));
        BN_bn2bin(n, reinterpret_cast<unsigned char*>(nb.data()));
        if (eb.size() < 256) {
            out.push_back(char(eb.size()));
        } else {
            out.push_back(0);
            out.push_back(char(eb.size() >> 8));
            out.push_back(char(eb.size()));
        }
        out += eb + nb;
    }
    BN_free(n);
    BN_free(e);
    return out;
}

std::string generate_key(std::string_view zone, uint8_t algorithm, KeyRole role, int64_t now,
                         DnssecKey& out) {
    EVP_PKEY* key = nullptr;
    if (algorithm == dnssec_alg::ecdsap256sha256)
        key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    else if (algorithm == dnssec_alg::ed25519)
        key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
    else if (algorithm == dnssec_alg::rsasha256)
        key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t(2048));
    else
        return "algorithm " + std::to_string(algorithm) + " is not one of 8, 13, 15";
    if (!key) return "libcrypto could not generate the key";
    DnssecKey k;
    k.pkey.reset(key, EVP_PKEY_free);
    k.owner = lower_key(zone);
    k.algorithm = algorithm;
    k.flags = role == KeyRole::zsk ? dnskey_flag::zone : dnskey_flag::zone | dnskey_flag::sep;
    k.public_key = dnskey_public_field(key, algorithm);
    if (k.public_key.empty()) return "libcrypto could not export the public key";
    k.tag = key_tag(k.dnskey_rdata());
    k.created = k.publish = k.activate = now;
    out = std::move(k);
    return "";
}

std::string write_key_pair(const std::string& dir, DnssecKey& key, int64_t now) {
    const std::string zone = name_to_text(key.owner);
    char tail[32];
    std::snprintf(tail, sizeof tail, "+%03u+%05u", unsigned(key.algorithm), unsigned(key.tag));
    const std::string base = dir + "/K" + zone + tail;
    const std::string alg = std::to_string(key.algorithm) + " (" +
                            std::string(dnssec_algorithm_name(key.algorithm)) + ")";
    key.created = key.created.value_or(now);
    const std::string timing = timing_lines(key);
    std::string pub = std::string("; This is a ") + (key.sep() ? "key-signing" : "zone-signing") +
                      " key, keyid " + std::to_string(key.tag) + ", for " + zone + "\n";
    for (size_t at = 0; at < timing.size();) {
        const size_t end = timing.find('\n', at);
        pub += "; " + timing.substr(at, end - at + 1);
        at = end + 1;
    }
    pub += zone + " IN DNSKEY " + std::to_string(key.flags) + " 3 " +
           std::to_string(key.algorithm) + " " + base64(key.public_key) + "\n";
    std::string priv = "Private-key-format: v1.3\nAlgorithm: " + alg + "\n" +
                       private_text(key.pkey.get(), key.algorithm) + timing;
    const bool ok = write_new(base + ".private", priv, 0600);
    OPENSSL_cleanse(priv.data(), priv.size());
    if (!ok) return base + ".private: cannot create it (it may exist already)";
    if (!write_new(base + ".key", pub, 0644)) {
        ::unlink((base + ".private").c_str());
        return base + ".key: cannot create it (it may exist already)";
    }
    key.file_base = base;
    return "";
}

}  // namespace anamed
