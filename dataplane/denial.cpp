// Canonical name order, NSEC3 hashing and the searches in a zone's denial chain.
// OpenSSL's one-call SHA1() fetches an EVP implementation (it allocates); the SHA_CTX
// functions work on the stack, which the answer path needs.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "anamed/denial.hpp"

#include <openssl/sha.h>

#include <algorithm>
#include <cstring>

namespace anamed {
namespace {

// Where each label of a wire name starts; returns the number of labels (the root not counted).
unsigned label_starts(std::string_view n, uint8_t* at) {
    unsigned k = 0;
    for (size_t pos = 0; pos < n.size() && n[pos] != 0 && k < max_labels;
         pos += 1 + uint8_t(n[pos]))
        at[k++] = uint8_t(pos);
    return k;
}

int hash_compare(const uint8_t* a, const uint8_t* b) {
    return std::memcmp(a, b, DenialChain::hash_len);
}

}  // namespace

int canonical_compare(std::string_view a, std::string_view b) {
    uint8_t at_a[max_labels], at_b[max_labels];
    unsigned na = label_starts(a, at_a), nb = label_starts(b, at_b);
    while (na > 0 && nb > 0) {
        const auto* la = reinterpret_cast<const uint8_t*>(a.data()) + at_a[--na];
        const auto* lb = reinterpret_cast<const uint8_t*>(b.data()) + at_b[--nb];
        const int c = std::memcmp(la + 1, lb + 1, std::min(la[0], lb[0]));
        if (c != 0) return c;
        if (la[0] != lb[0]) return la[0] < lb[0] ? -1 : 1;
    }
    return na == nb ? 0 : (na < nb ? -1 : 1);
}

void nsec3_hash(const DenialChain& chain, std::string_view name, uint8_t* out) {
    SHA_CTX ctx;
    SHA1_Init(&ctx);
    SHA1_Update(&ctx, name.data(), name.size());
    SHA1_Update(&ctx, chain.salt.data(), chain.salt.size());
    SHA1_Final(out, &ctx);
    for (uint16_t i = 0; i < chain.iterations; ++i) {
        SHA1_Init(&ctx);
        SHA1_Update(&ctx, out, DenialChain::hash_len);
        SHA1_Update(&ctx, chain.salt.data(), chain.salt.size());
        SHA1_Final(out, &ctx);
    }
}

const Node* nsec_covering(const DenialChain& chain, std::string_view name) {
    if (chain.nsec.empty()) return nullptr;
    auto it = std::upper_bound(
        chain.nsec.begin(), chain.nsec.end(), name,
        [](std::string_view n, const Node* node) { return canonical_compare(n, node->key()) < 0; });
    return it == chain.nsec.begin() ? chain.nsec.back() : *(it - 1);
}

const Node* nsec3_matching(const DenialChain& chain, const uint8_t* hash) {
    auto it = std::lower_bound(
        chain.nsec3.begin(), chain.nsec3.end(), hash,
        [](const DenialChain::Hashed& h, const uint8_t* x) { return hash_compare(h.hash, x) < 0; });
    return it != chain.nsec3.end() && hash_compare(it->hash, hash) == 0 ? it->node : nullptr;
}

const Node* nsec3_covering(const DenialChain& chain, const uint8_t* hash) {
    if (chain.nsec3.empty()) return nullptr;
    auto it = std::lower_bound(
        chain.nsec3.begin(), chain.nsec3.end(), hash,
        [](const DenialChain::Hashed& h, const uint8_t* x) { return hash_compare(h.hash, x) < 0; });
    return it == chain.nsec3.begin() ? chain.nsec3.back().node : (it - 1)->node;
}

bool nsec3_label_hash(std::string_view label, uint8_t* out) {
    constexpr size_t chars = (DenialChain::hash_len * 8 + 4) / 5;  // 32
    if (label.size() != chars) return false;
    uint64_t acc = 0;
    unsigned bits = 0;
    size_t n = 0;
    for (char c : label) {
        unsigned v;
        if (c >= '0' && c <= '9')
            v = unsigned(c - '0');
        else if (c >= 'a' && c <= 'v')
            v = unsigned(c - 'a' + 10);
        else if (c >= 'A' && c <= 'V')
            v = unsigned(c - 'A' + 10);
        else
            return false;
        acc = acc << 5 | v;
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = uint8_t(acc >> bits);
        }
    }
    return n == DenialChain::hash_len;
}

}  // namespace anamed
