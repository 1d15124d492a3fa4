// DNSSEC signing keys (RFC 4034 §2): BIND's key-file pairs (K<zone>.+<alg>+<tag>.key and
// .private, as dnssec-keygen writes them), generated keys in the same format, key tags and DS
// records. Algorithms 8 (RSASHA256), 13 (ECDSAP256SHA256) and 15 (ED25519), through libcrypto.
//
// A private key lives only in the EVP_PKEY: nothing here prints, logs or returns it except
// write_key_pair(), which writes the .private file with mode 0600.
#pragma once

#include <openssl/core_names.h>
#include <openssl/types.h>

#include <cstdint>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace anamed {

namespace dnssec_alg {
inline constexpr uint8_t rsasha256 = 8, ecdsap256sha256 = 13, ed25519 = 15;
}
namespace dnskey_flag {
inline constexpr uint16_t zone = 256, sep = 1;  // ZSK: 256, KSK or CSK: 257
}

// "ecdsap256sha256", "ed25519", "rsasha256" (or the number) in any case; 0 when unknown.
uint8_t parse_dnssec_algorithm(std::string_view text);
// The mnemonic as BIND writes it in .private files ("ECDSAP256SHA256").
std::string_view dnssec_algorithm_name(uint8_t alg);

// An RSA private key's fields in a BIND .private file, with libcrypto's parameter names.
inline constexpr std::pair<const char*, const char*> rsa_private_fields[] = {
    {"Modulus", OSSL_PKEY_PARAM_RSA_N},
    {"PublicExponent", OSSL_PKEY_PARAM_RSA_E},
    {"PrivateExponent", OSSL_PKEY_PARAM_RSA_D},
    {"Prime1", OSSL_PKEY_PARAM_RSA_FACTOR1},
    {"Prime2", OSSL_PKEY_PARAM_RSA_FACTOR2},
    {"Exponent1", OSSL_PKEY_PARAM_RSA_EXPONENT1},
    {"Exponent2", OSSL_PKEY_PARAM_RSA_EXPONENT2},
    {"Coefficient", OSSL_PKEY_PARAM_RSA_COEFFICIENT1}};

enum class KeyRole : uint8_t { csk, ksk, zsk };
std::string_view key_role_name(KeyRole r);

struct DnssecKey {
    std::string owner;  // lower-case wire
    uint16_t flags = dnskey_flag::zone;
    uint8_t algorithm = dnssec_alg::ecdsap256sha256;
    std::string public_key;  // the DNSKEY's public key field
    uint16_t tag = 0;
    std::string file_base;  // path without .key/.private
    // Timing from the .private file (seconds since the epoch), as BIND reads it: a key
    // file without any (keymgr's PEM keys, old files) is published and active; with some,
    // a key without Publish is not published and one without Activate does not sign.
    std::optional<int64_t> created, publish, activate, inactive, remove;
    std::shared_ptr<EVP_PKEY> pkey;

    bool sep() const { return (flags & dnskey_flag::sep) != 0; }
    // In the DNSKEY RRset at `now`.
    bool published(int64_t now) const;
    // Signs at `now`.
    bool active(int64_t now) const;
    // flags, protocol 3, algorithm, public key.
    std::string dnskey_rdata() const;
    // Whether it carries any timing at all.
    bool timed() const { return created || publish || activate || inactive || remove; }
    // Appends the signature of `data` in its DNSSEC form (RFC 6605 r|s, RFC 8080, RFC 5702).
    // Safe from many threads at once. False when libcrypto fails.
    bool sign(std::string_view data, std::string& out) const;
    // Whether `sig` (DNSSEC form) is this key's signature of `data`.
    bool verify(std::string_view data, std::string_view sig) const;
};

// The DNSKEY public key field of a libcrypto key (RFC 3110, RFC 6605, RFC 8080); empty when
// it cannot be read.
std::string dnskey_public_field(EVP_PKEY* key, uint8_t alg);
// RFC 4034 Appendix B.
uint16_t key_tag(std::string_view dnskey_rdata);
// A DS RDATA (digest type 2, SHA-256) for a DNSKEY at `owner` (wire, any case).
std::string ds_rdata(std::string_view owner, std::string_view dnskey_rdata);
// "example.com. 3600 IN DS 12345 13 2 HEX" for the parent.
std::string ds_text(const DnssecKey& key, uint32_t ttl);

// Rewrites the timing lines (Publish, Activate, Inactive, Delete) of the key's .private file
// from its fields, in a new file renamed over the old one (mode 0600). "" or what is wrong.
std::string write_key_timing(const DnssecKey& key);

// Loads the pair at `base` (with or without .key/.private). Returns "" or what is wrong,
// naming the file; `out` is untouched on error.
std::string load_key_pair(const std::string& base, DnssecKey& out);
// Every K<zone>.+*.private pair in `dir` whose owner is `zone` (wire, any case), sorted by
// tag. Problems with single files are appended to `errors`.
std::vector<DnssecKey> load_zone_keys(const std::string& dir, std::string_view zone,
                                      std::vector<std::string>& errors);
// A key as Knot's keymgr keeps it: a PKCS#8 PEM file (keys/<id>.pem in its KASP directory)
// for `zone` (wire); `sep` says KSK/CSK (keymgr list shows it). "" or what is wrong.
std::string load_pem_key(const std::string& path, std::string_view zone, bool sep, DnssecKey& out);
// A new key for `zone` (wire): 257 for a CSK or KSK, 256 for a ZSK. RSA keys are 2048 bits.
std::string generate_key(std::string_view zone, uint8_t algorithm, KeyRole role, int64_t now,
                         DnssecKey& out);
// Writes `key` into `dir` as K<zone>.+AAA+TTTTT.key and .private (0600, never over an
// existing file); sets key.file_base. Returns "" or what is wrong.
std::string write_key_pair(const std::string& dir, DnssecKey& key, int64_t now);

}  // namespace anamed
