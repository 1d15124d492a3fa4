// A zone's `dnssec:` settings (config_dnssec.cpp), named after Knot's policy section:
//   dnssec: {policy: sign|presigned|off, key-dir: DIR, algorithm: ecdsap256sha256,
//            nsec3: false, nsec3-opt-out: false, validity: 14d, refresh: 7d, jitter: 1d}
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace anamed {

// How the signer signs: chain kind and signature lifetimes (seconds).
struct SignPolicy {
    bool nsec3 = false;
    bool nsec3_opt_out = false;
    uint32_t validity = 14 * 86400;    // RRSIG lifetime
    uint32_t refresh = 7 * 86400;      // re-sign when less than this is left
    uint32_t jitter = 86400;           // expirations spread over this much, per RRset
    uint32_t inception_offset = 3600;  // inception this far in the past, for skewed clocks
};

// off: served as loaded, DNSSEC records stripped of nothing; presigned: the zone file carries
// its signatures (an external signer); sign: anamed signs with the keys in key_dir.
enum class DnssecMode : uint8_t { off, presigned, sign };

struct DnssecConfig {
    DnssecMode mode = DnssecMode::off;
    std::string key_dir;     // absolute (relative ones are resolved against the config's dir)
    uint8_t algorithm = 13;  // for generated keys
    SignPolicy sign;
};

// "14d", "12h", "30m", "90s", "2w" or plain seconds; false when it is none of these or does
// not fit 32 bits.
bool parse_duration(std::string_view text, uint32_t& out);

}  // namespace anamed
