// The server's identity, for telling anycast nodes apart: NSID (RFC 5001) and the CH TXT
// names id.server, hostname.bind, version.server and version.bind (as Knot and NSD answer
// them). The control plane precompiles it into the snapshot (make_identity); respond()
// copies the bytes. Nothing configured: CH queries are REFUSED and no NSID is sent.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "anamed/wire.hpp"

namespace anamed {

inline constexpr uint16_t class_ch = 3;
inline constexpr uint16_t edns_option_nsid = 3;

// The CH names, in the order of Identity::chaos_txt (lower-case wire form).
inline constexpr std::array<std::string_view, 4> chaos_names{
    std::string_view("\x02id\x06server\x00", 11),
    std::string_view("\x08hostname\x04"
                     "bind\x00",
                     15),
    std::string_view("\x07version\x06server\x00", 16),
    std::string_view("\x07version\x04"
                     "bind\x00",
                     14)};

// What an operator configures (identity: in the YAML); empty strings are off.
struct IdentityConfig {
    std::string nsid;      // sent as is in the NSID option
    std::string id;        // id.server
    std::string hostname;  // hostname.bind
    std::string version;   // version.server and version.bind
};

struct Identity {
    std::string nsid_option;  // [code 3][length][id], empty when off
    // Per chaos_names entry: one record [C0 0C][TXT][CH][TTL 0][rdlen][len][text], or empty.
    std::array<std::string, chaos_names.size()> chaos_txt;
};

// Builds the precompiled form; a string longer than a TXT string (255) is cut there.
Identity make_identity(const IdentityConfig& c);

// Whether EDNS option `code` is among the options of an OPT record's RDATA.
inline bool edns_has_option(const uint8_t* rdata, size_t n, uint16_t code) {
    for (size_t at = 0; at + 4 <= n; at += 4 + load16(rdata + at + 2))
        if (load16(rdata + at) == code) return true;
    return false;
}

// Which chaos_names entry a lower-case wire name is, or -1.
inline int chaos_name_index(std::string_view lower_wire) {
    for (size_t i = 0; i < chaos_names.size(); ++i)
        if (chaos_names[i] == lower_wire) return int(i);
    return -1;
}

}  // namespace anamed
