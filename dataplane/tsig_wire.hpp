// The pieces tsig.cpp and tsig_stream.cpp are built from: finding and reading the TSIG RR of
// a message, writing one, and the HMAC over the digest components of RFC 8945 §4.3.3.
#pragma once

#include <openssl/types.h>

#include "anamed/tsig.hpp"

namespace anamed {

// A received TSIG RR. Names are copied out lower-cased; mac and other point into the message.
struct TsigRr {
    size_t offset = 0;  // where the RR (its owner name) starts
    uint8_t key_name[255];
    uint8_t key_name_len = 0;
    uint8_t algorithm[255];
    uint8_t algorithm_len = 0;
    uint64_t time_signed = 0;
    uint16_t fudge = 0;
    const uint8_t* mac = nullptr;
    uint16_t mac_size = 0;
    uint16_t original_id = 0;
    uint16_t error = 0;
    const uint8_t* other = nullptr;
    uint16_t other_len = 0;
};

enum class TsigFind : uint8_t { none, found, malformed };

// Walks every section of msg. found: exactly one TSIG RR, the last additional record, well
// formed, ending the message. malformed: a TSIG RR anywhere else, two of them, one that
// cannot be read, or sections that cannot be walked. none: no TSIG RR.
TsigFind find_tsig(const uint8_t* msg, size_t len, TsigRr& out);

// The algorithm whose lower-case wire name this is; false when none is.
bool tsig_algorithm_from_wire(const uint8_t* name, size_t len, TsigAlgorithm& out);

// RFC 8945 §5.2.2.1: the full length, or truncated to no less than max(10, half of it).
bool tsig_mac_size_allowed(TsigAlgorithm a, size_t size);

// Time Signed within Fudge seconds of now, either way.
inline bool time_in_window(uint64_t signed_at, uint16_t fudge, uint64_t now) {
    return signed_at <= now ? now - signed_at <= fudge : signed_at - now <= fudge;
}

// An HMAC in progress (OpenSSL EVP_MAC). A failure anywhere makes finish() return 0.
class TsigHmac {
public:
    TsigHmac() = default;
    ~TsigHmac();
    TsigHmac(const TsigHmac&) = delete;
    TsigHmac& operator=(const TsigHmac&) = delete;

    bool start(const TsigKey& key);
    void update(const void* p, size_t n);
    void update16(uint16_t v);
    void update48(uint64_t v);
    // Writes the MAC (tsig_digest_size bytes, at most tsig_max_mac). Returns its size or 0.
    size_t finish(uint8_t* out);

private:
    EVP_MAC_CTX* ctx_ = nullptr;
    bool ok_ = false;
};

// The variables a TSIG RR carries besides its MAC (names lower-case wire format).
struct TsigVars {
    const uint8_t* key_name = nullptr;
    size_t key_name_len = 0;
    const uint8_t* algorithm = nullptr;
    size_t algorithm_len = 0;
    uint64_t time_signed = 0;
    uint16_t fudge = tsig_default_fudge;
    uint16_t error = tsig_error::NOERROR;
    const uint8_t* other = nullptr;
    uint16_t other_len = 0;
};
TsigVars tsig_vars_of(const TsigKey& key, uint64_t time_signed, uint16_t fudge);
TsigVars tsig_vars_of(const TsigRr& rr);

// Which TSIG variables a MAC covers: all of them, or (later messages of a stream) the timers.
enum class TsigDigest : uint8_t { full, timers };

// Digest components. A MAC goes in with its length in front; a message with the given
// original ID in place of its header ID and the given ARCOUNT.
void digest_mac(TsigHmac& h, const uint8_t* mac, size_t size);
void digest_message(TsigHmac& h, const uint8_t* msg, size_t end, uint16_t original_id,
                    uint16_t arcount);
void digest_vars(TsigHmac& h, const TsigVars& v, TsigDigest which);

// Appends a TSIG RR to msg[0..len) (a finished message without one) and increments ARCOUNT.
// key null: unsigned (empty MAC). Otherwise the MAC covers prior (when its size is not 0),
// the message with its own ID as original ID, and v as `which` says; mac_out gets it.
// Returns the new length, 0 when it does not fit or HMAC failed.
size_t append_tsig(uint8_t* msg, size_t len, size_t cap, const TsigKey* key, const TsigVars& v,
                   const TsigMac& prior, TsigDigest which, TsigMac* mac_out);

}  // namespace anamed
