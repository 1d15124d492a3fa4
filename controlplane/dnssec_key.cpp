// Key tags, DS digests and the signing primitive of a DNSSEC key.
#include "dnssec_key.hpp"

#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

#include <array>
#include <cstring>

#include "anamed/wire.hpp"
#include "zone.hpp"

namespace anamed {

namespace {

struct Algorithm {
    uint8_t number;
    std::string_view config;  // as in a configuration (Knot's spelling)
    std::string_view bind;    // as in BIND's .private files
};
constexpr Algorithm algorithms[] = {
    {dnssec_alg::rsasha256, "rsasha256", "RSASHA256"},
    {dnssec_alg::ecdsap256sha256, "ecdsap256sha256", "ECDSAP256SHA256"},
    {dnssec_alg::ed25519, "ed25519", "ED25519"},
};

bool iequal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if ((a[i] | 0x20) != (b[i] | 0x20)) return false;
    return true;
}

// One EVP_PKEY_CTX per thread and key, set up once: a fresh context per signature costs
// libcrypto a provider look-up each time. The context holds a reference to its key, so a
// cached key's address cannot be reused by another key while the entry lives.
class SignContexts {
public:
    ~SignContexts() {
        for (Entry& e : entries_) EVP_PKEY_CTX_free(e.ctx);
    }
    EVP_PKEY_CTX* get(EVP_PKEY* key, uint8_t alg) {
        for (Entry& e : entries_)
            if (e.key == key && e.ctx) return e.ctx;
        EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(key, nullptr);
        if (!ctx || EVP_PKEY_sign_init(ctx) <= 0 ||
            EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) <= 0 ||
            (alg == dnssec_alg::rsasha256 &&
             EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0)) {
            EVP_PKEY_CTX_free(ctx);
            return nullptr;
        }
        Entry& slot = entries_[next_++ % entries_.size()];
        EVP_PKEY_CTX_free(slot.ctx);
        slot = {key, ctx};
        return ctx;
    }

private:
    struct Entry {
        EVP_PKEY* key = nullptr;
        EVP_PKEY_CTX* ctx = nullptr;
    };
    std::array<Entry, 8> entries_{};
    size_t next_ = 0;
};

// RFC 6605 §4: r and s, 32 bytes each, from libcrypto's DER.
bool der_to_rs(const unsigned char* der, size_t len, std::string& out) {
    ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &der, long(len));
    if (!sig) return false;
    unsigned char rs[64];
    const bool ok = BN_bn2binpad(ECDSA_SIG_get0_r(sig), rs, 32) == 32 &&
                    BN_bn2binpad(ECDSA_SIG_get0_s(sig), rs + 32, 32) == 32;
    ECDSA_SIG_free(sig);
    if (ok) out.append(reinterpret_cast<const char*>(rs), 64);
    return ok;
}

std::string rs_to_der(std::string_view rs) {
    if (rs.size() != 64) return {};
    const auto* p = reinterpret_cast<const unsigned char*>(rs.data());
    ECDSA_SIG* sig = ECDSA_SIG_new();
    BIGNUM* r = BN_bin2bn(p, 32, nullptr);
    BIGNUM* s = BN_bin2bn(p + 32, 32, nullptr);
    std::string der;
    if (sig && r && s && ECDSA_SIG_set0(sig, r, s) == 1) {
        r = s = nullptr;
        unsigned char* buf = nullptr;
        const int n = i2d_ECDSA_SIG(sig, &buf);
        if (n > 0) der.assign(reinterpret_cast<char*>(buf), size_t(n));
        OPENSSL_free(buf);
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return der;
}

bool sign_eddsa(EVP_PKEY* key, std::string_view data, std::string& out) {
    EVP_MD_CTX* md = EVP_MD_CTX_new();
    unsigned char sig[64];
    size_t len = sizeof sig;
    const bool ok =
        md && EVP_DigestSignInit(md, nullptr, nullptr, nullptr, key) > 0 &&
        EVP_DigestSign(md, sig, &len, reinterpret_cast<const unsigned char*>(data.data()),
                       data.size()) > 0;
    EVP_MD_CTX_free(md);
    if (ok) out.append(reinterpret_cast<const char*>(sig), len);
    return ok;
}

}  // namespace

uint8_t parse_dnssec_algorithm(std::string_view text) {
    for (const Algorithm& a : algorithms)
        if (iequal(text, a.config) || text == std::to_string(a.number)) return a.number;
    return 0;
}

std::string_view dnssec_algorithm_name(uint8_t alg) {
    for (const Algorithm& a : algorithms)
        if (a.number == alg) return a.bind;
    return {};
}

std::string_view key_role_name(KeyRole r) {
    switch (r) {
    case KeyRole::csk: return "csk";
    case KeyRole::ksk: return "ksk";
    case KeyRole::zsk: return "zsk";
    }
    return {};
}

bool DnssecKey::published(int64_t now) const {
    return (publish ? *publish <= now : !timed()) && (!remove || now < *remove);
}

bool DnssecKey::active(int64_t now) const {
    return (activate ? *activate <= now : !timed()) && (!inactive || now < *inactive) &&
           (!remove || now < *remove);
}

std::string DnssecKey::dnskey_rdata() const {
    std::string rd;
    rd.push_back(char(flags >> 8));
    rd.push_back(char(flags));
    rd.push_back(3);
    rd.push_back(char(algorithm));
    rd += public_key;
    return rd;
}

bool DnssecKey::sign(std::string_view data, std::string& out) const {
    if (!pkey) return false;
    if (algorithm == dnssec_alg::ed25519) return sign_eddsa(pkey.get(), data, out);
    thread_local SignContexts contexts;
    EVP_PKEY_CTX* ctx = contexts.get(pkey.get(), algorithm);
    if (!ctx) return false;
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
    unsigned char sig[512];
    size_t len = sizeof sig;
    if (EVP_PKEY_sign(ctx, sig, &len, digest, sizeof digest) <= 0) return false;
    if (algorithm == dnssec_alg::ecdsap256sha256) return der_to_rs(sig, len, out);
    out.append(reinterpret_cast<const char*>(sig), len);
    return true;
}

bool DnssecKey::verify(std::string_view data, std::string_view sig) const {
    if (!pkey) return false;
    std::string der;
    if (algorithm == dnssec_alg::ecdsap256sha256) {
        der = rs_to_der(sig);
        if (der.empty()) return false;
        sig = der;
    }
    EVP_MD_CTX* md = EVP_MD_CTX_new();
    const EVP_MD* digest = algorithm == dnssec_alg::ed25519 ? nullptr : EVP_sha256();
    const bool ok =
        md && EVP_DigestVerifyInit(md, nullptr, digest, nullptr, pkey.get()) > 0 &&
        EVP_DigestVerify(md, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                         reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
    EVP_MD_CTX_free(md);
    return ok;
}

uint16_t key_tag(std::string_view rd) {
    uint32_t ac = 0;
    for (size_t i = 0; i < rd.size(); ++i)
        ac += (i & 1) ? uint8_t(rd[i]) : uint32_t(uint8_t(rd[i])) << 8;
    ac += (ac >> 16) & 0xFFFF;
    return uint16_t(ac & 0xFFFF);
}

std::string ds_rdata(std::string_view owner, std::string_view dnskey_rdata) {
    std::string data = lower_key(owner);
    data += dnskey_rdata;
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
    const uint16_t tag = key_tag(dnskey_rdata);
    std::string rd;
    rd.push_back(char(tag >> 8));
    rd.push_back(char(tag));
    rd.push_back(dnskey_rdata.size() > 3 ? dnskey_rdata[3] : 0);
    rd.push_back(2);
    rd.append(reinterpret_cast<const char*>(digest), sizeof digest);
    return rd;
}

std::string ds_text(const DnssecKey& key, uint32_t ttl) {
    const std::string rd = ds_rdata(key.owner, key.dnskey_rdata());
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string digest;
    for (size_t i = 4; i < rd.size(); ++i) {
        digest.push_back(hex[uint8_t(rd[i]) >> 4]);
        digest.push_back(hex[uint8_t(rd[i]) & 15]);
    }
    return name_to_text(key.owner) + " " + std::to_string(ttl) + " IN DS " +
           std::to_string(key.tag) + " " + std::to_string(key.algorithm) + " 2 " + digest;
}

}  // namespace anamed
