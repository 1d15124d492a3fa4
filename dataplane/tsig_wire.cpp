#include "tsig_wire.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <array>
#include <iterator>

#include "anamed/wire.hpp"

namespace anamed {
namespace {

struct AlgorithmInfo {
    std::string_view name;  // configuration spelling
    std::string_view wire;  // lower-case wire name
    const char* digest;     // OpenSSL digest name
    size_t size;
};
using namespace std::string_view_literals;
constexpr AlgorithmInfo algorithms[] = {
    {"hmac-md5", "\x08hmac-md5\x07sig-alg\x03reg\x03int\x00"sv, "MD5", 16},
    {"hmac-sha1", "\x09hmac-sha1\x00"sv, "SHA1", 20},
    {"hmac-sha224", "\x0bhmac-sha224\x00"sv, "SHA224", 28},
    {"hmac-sha256", "\x0bhmac-sha256\x00"sv, "SHA256", 32},
    {"hmac-sha384", "\x0bhmac-sha384\x00"sv, "SHA384", 48},
    {"hmac-sha512", "\x0bhmac-sha512\x00"sv, "SHA512", 64},
};
const AlgorithmInfo& info(TsigAlgorithm a) {
    return algorithms[size_t(a)];
}

constexpr uint16_t class_any = 255;
constexpr size_t rr_fixed = 10;  // type, class, TTL, RDLENGTH

uint64_t load48(const uint8_t* p) {
    return uint64_t(load16(p)) << 32 | load32(p + 2);
}
void store48(uint8_t* p, uint64_t v) {
    store16(p, uint16_t(v >> 32));
    store32(p + 2, uint32_t(v));
}

// The RDATA of a TSIG RR at msg[pos..end): algorithm name (uncompressed), time signed, fudge,
// MAC, original ID, error, other data, and nothing after.
bool read_tsig_rdata(const uint8_t* msg, size_t pos, size_t end, TsigRr& rr) {
    Name alg;
    const size_t n = parse_name(msg + pos, end - pos, alg);
    if (n == 0) return false;
    std::copy_n(alg.lower, alg.len, rr.algorithm);
    rr.algorithm_len = alg.len;
    pos += n;
    if (end - pos < 10) return false;
    rr.time_signed = load48(msg + pos);
    rr.fudge = load16(msg + pos + 6);
    rr.mac_size = load16(msg + pos + 8);
    pos += 10;
    if (end - pos < size_t(rr.mac_size) + 6) return false;
    rr.mac = msg + pos;
    pos += rr.mac_size;
    rr.original_id = load16(msg + pos);
    rr.error = load16(msg + pos + 2);
    rr.other_len = load16(msg + pos + 4);
    pos += 6;
    rr.other = msg + pos;
    return end - pos == rr.other_len;
}

bool read_tsig_rr(const uint8_t* msg, size_t len, size_t start, TsigRr& rr) {
    rr.offset = start;
    size_t name_len = 0;
    size_t pos = read_name(msg, len, start, rr.key_name, name_len, true);
    rr.key_name_len = uint8_t(name_len);
    if (pos == 0 || len - pos < rr_fixed) return false;
    if (load16(msg + pos + 2) != class_any || load32(msg + pos + 4) != 0) return false;
    const size_t rdlen = load16(msg + pos + 8);
    pos += rr_fixed;
    return len - pos == rdlen && read_tsig_rdata(msg, pos, len, rr);
}

}  // namespace

std::string_view tsig_algorithm_name(TsigAlgorithm a) {
    return info(a).name;
}
std::string_view tsig_algorithm_wire(TsigAlgorithm a) {
    return info(a).wire;
}
size_t tsig_digest_size(TsigAlgorithm a) {
    return info(a).size;
}

bool parse_tsig_algorithm(std::string_view text, TsigAlgorithm& out) {
    std::string t(text);
    std::transform(t.begin(), t.end(), t.begin(),
                   [](char c) { return char(ascii_lower(uint8_t(c))); });
    if (!t.empty() && t.back() == '.') t.pop_back();
    if (t == "hmac-md5.sig-alg.reg.int") t = "hmac-md5";
    for (size_t i = 0; i < std::size(algorithms); ++i)
        if (algorithms[i].name == t) {
            out = TsigAlgorithm(i);
            return true;
        }
    return false;
}

bool tsig_algorithm_from_wire(const uint8_t* name, size_t len, TsigAlgorithm& out) {
    const std::string_view n(reinterpret_cast<const char*>(name), len);
    for (size_t i = 0; i < std::size(algorithms); ++i)
        if (algorithms[i].wire == n) {
            out = TsigAlgorithm(i);
            return true;
        }
    return false;
}

bool tsig_mac_size_allowed(TsigAlgorithm a, size_t size) {
    const size_t full = tsig_digest_size(a);
    return size <= full && size >= std::max<size_t>(10, full / 2);
}

TsigFind find_tsig(const uint8_t* msg, size_t len, TsigRr& out) {
    if (len < header_size) return TsigFind::malformed;
    size_t pos = header_size;
    for (unsigned i = load16(msg + 4); i > 0; --i) {
        pos = skip_name(msg, len, pos);
        if (pos == 0 || len - pos < 4) return TsigFind::malformed;
        pos += 4;
    }
    const size_t before_additional = size_t(load16(msg + 6)) + load16(msg + 8);
    const size_t records = before_additional + load16(msg + 10);
    for (size_t i = 0; i < records; ++i) {
        const size_t start = pos;
        pos = skip_name(msg, len, pos);
        if (pos == 0 || len - pos < rr_fixed) return TsigFind::malformed;
        const size_t rdlen = load16(msg + pos + 8);
        const bool is_tsig = load16(msg + pos) == rrtype::TSIG;
        pos += rr_fixed;
        if (len - pos < rdlen) return TsigFind::malformed;
        pos += rdlen;
        if (!is_tsig) continue;
        // The TSIG RR must be the last additional record and the end of the message.
        if (i + 1 != records || i < before_additional || pos != len) return TsigFind::malformed;
        return read_tsig_rr(msg, len, start, out) ? TsigFind::found : TsigFind::malformed;
    }
    return TsigFind::none;
}

TsigHmac::~TsigHmac() {
    EVP_MAC_CTX_free(ctx_);
}

bool TsigHmac::start(const TsigKey& key) {
    // One fetch for the process: EVP_MAC_fetch looks the algorithm up in the provider tables.
    static EVP_MAC* const hmac = EVP_MAC_fetch(nullptr, OSSL_MAC_NAME_HMAC, nullptr);
    EVP_MAC_CTX_free(ctx_);
    ctx_ = hmac ? EVP_MAC_CTX_new(hmac) : nullptr;
    ok_ = false;
    if (!ctx_) return false;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                         const_cast<char*>(info(key.algorithm).digest), 0),
        OSSL_PARAM_construct_end()};
    ok_ = EVP_MAC_init(ctx_, key.secret.data(), key.secret.size(), params) == 1;
    return ok_;
}

void TsigHmac::update(const void* p, size_t n) {
    if (ok_ && n > 0) ok_ = EVP_MAC_update(ctx_, static_cast<const unsigned char*>(p), n) == 1;
}
void TsigHmac::update16(uint16_t v) {
    uint8_t b[2];
    store16(b, v);
    update(b, 2);
}
void TsigHmac::update48(uint64_t v) {
    uint8_t b[6];
    store48(b, v);
    update(b, 6);
}

size_t TsigHmac::finish(uint8_t* out) {
    size_t n = 0;
    if (!ok_ || EVP_MAC_final(ctx_, out, &n, tsig_max_mac) != 1) n = 0;
    ok_ = false;
    return n;
}

TsigVars tsig_vars_of(const TsigKey& key, uint64_t time_signed, uint16_t fudge) {
    const std::string_view alg = tsig_algorithm_wire(key.algorithm);
    TsigVars v;
    v.key_name = reinterpret_cast<const uint8_t*>(key.name.data());
    v.key_name_len = key.name.size();
    v.algorithm = reinterpret_cast<const uint8_t*>(alg.data());
    v.algorithm_len = alg.size();
    v.time_signed = time_signed;
    v.fudge = fudge;
    return v;
}

TsigVars tsig_vars_of(const TsigRr& rr) {
    return {rr.key_name, rr.key_name_len, rr.algorithm, rr.algorithm_len, rr.time_signed,
            rr.fudge,    rr.error,        rr.other,     rr.other_len};
}

void digest_mac(TsigHmac& h, const uint8_t* mac, size_t size) {
    h.update16(uint16_t(size));
    h.update(mac, size);
}

void digest_message(TsigHmac& h, const uint8_t* msg, size_t end, uint16_t original_id,
                    uint16_t arcount) {
    h.update16(original_id);
    h.update(msg + 2, 8);
    h.update16(arcount);
    h.update(msg + header_size, end - header_size);
}

void digest_vars(TsigHmac& h, const TsigVars& v, TsigDigest which) {
    if (which == TsigDigest::full) {
        h.update(v.key_name, v.key_name_len);
        h.update16(class_any);
        h.update(std::array<uint8_t, 4>{}.data(), 4);  // TTL 0
        h.update(v.algorithm, v.algorithm_len);
    }
    h.update48(v.time_signed);
    h.update16(v.fudge);
    if (which == TsigDigest::full) {
        h.update16(v.error);
        h.update16(v.other_len);
        h.update(v.other, v.other_len);
    }
}

size_t append_tsig(uint8_t* msg, size_t len, size_t cap, const TsigKey* key, const TsigVars& v,
                   const TsigMac& prior, TsigDigest which, TsigMac* mac_out) {
    if (len < header_size || len > cap) return 0;
    const uint16_t id = load16(msg), arcount = load16(msg + 10);
    if (arcount == 0xFFFF) return 0;
    uint8_t mac[tsig_max_mac];
    size_t mac_size = 0;
    if (key) {
        TsigHmac h;
        h.start(*key);
        if (prior.size) digest_mac(h, prior.bytes, prior.size);
        digest_message(h, msg, len, id, arcount);
        digest_vars(h, v, which);
        if ((mac_size = h.finish(mac)) == 0) return 0;
    }
    const size_t rdlen = v.algorithm_len + 16 + mac_size + v.other_len;
    const size_t need = v.key_name_len + rr_fixed + rdlen;
    if (cap - len < need || rdlen > 0xFFFF) return 0;
    uint8_t* p = msg + len;
    p = std::copy_n(v.key_name, v.key_name_len, p);
    store16(p, rrtype::TSIG);
    store16(p + 2, class_any);
    store32(p + 4, 0);
    store16(p + 8, uint16_t(rdlen));
    p = std::copy_n(v.algorithm, v.algorithm_len, p + rr_fixed);
    store48(p, v.time_signed);
    store16(p + 6, v.fudge);
    store16(p + 8, uint16_t(mac_size));
    p = std::copy_n(mac, mac_size, p + 10);
    store16(p, id);
    store16(p + 2, v.error);
    store16(p + 4, v.other_len);
    std::copy_n(v.other, v.other_len, p + 6);
    store16(msg + 10, uint16_t(arcount + 1));
    if (mac_out) {
        std::copy_n(mac, mac_size, mac_out->bytes);
        mac_out->size = uint8_t(mac_size);
    }
    return len + need;
}

}  // namespace anamed
