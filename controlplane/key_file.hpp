// TSIG key files as the usual tools write them:
//
//   BIND, tsig-keygen -a hmac-sha256 NAME:     Knot, keymgr -t NAME hmac-sha256:
//     key "NAME" {                               key:
//         algorithm hmac-sha256;                   - id: NAME
//         secret "BASE64";                           algorithm: hmac-sha256
//     };                                             secret: BASE64
//
// A file may hold several keys. Only the key statements are read; anything else is an error
// naming the line.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace anamed {

struct KeyFileEntry {
    std::string name;       // as written
    std::string algorithm;  // as written
    std::string secret;     // base64, as written
    unsigned line = 0;      // where the key's name is
};

// Throws ConfigError("FILE:LINE: what is wrong").
std::vector<KeyFileEntry> read_key_file(const std::string& path);

// Standard base64 with padding; white space is skipped. False on anything else.
bool decode_base64(std::string_view text, std::vector<uint8_t>& out);

}  // namespace anamed
