// Canonical names, RDATA and type bitmaps for DNSSEC.
#include "dnssec_canonical.hpp"

#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "anamed/rr_types.hpp"

namespace anamed {

namespace {

// The offsets of a wire name's labels; false when it is malformed.
bool label_offsets(std::string_view n, std::array<uint8_t, 128>& at, size_t& count) {
    count = 0;
    for (size_t i = 0; i < n.size() && n[i] != 0; i += 1 + uint8_t(n[i])) {
        if (count == at.size() || i + 1 + uint8_t(n[i]) > n.size()) return false;
        at[count++] = uint8_t(i);
    }
    return true;
}

// RFC 4034 §6.2's types with names in their RDATA (RFC 6840 §5.1 takes out NSEC; RRSIG is
// never itself signed, and SIG, NXT and A6 are obsolete).
bool canonicalised(uint16_t type) {
    switch (type) {
    case 2:
    case 3:
    case 4:
    case 5:
    case 6:
    case 7:
    case 8:
    case 9:
    case 12:
    case 14:
    case 15:
    case 17:
    case 18:
    case 21:
    case 26:
    case 33:
    case 35:
    case 36:
    case 39: return true;
    default: return false;
    }
}

}  // namespace

std::string canonical_sort_key(std::string_view name) {
    std::array<uint8_t, 128> at;
    size_t count = 0;
    std::string key;
    if (!label_offsets(name, at, count)) return std::string(name);
    key.reserve(name.size() + 1);
    // Labels right to left, each ended by 0; bytes 0 and 1 inside a label become 1 1 and 1 2
    // so that the end of a label sorts before any of its bytes.
    while (count > 0) {
        const size_t at_ = at[--count];
        const uint8_t len = uint8_t(name[at_]);
        for (size_t i = 0; i < len; ++i) {
            const uint8_t c = uint8_t(name[at_ + 1 + i]);
            if (c <= 1) {
                key.push_back(1);
                key.push_back(char(c + 1));
            } else {
                key.push_back(char(c));
            }
        }
        key.push_back(0);
    }
    return key;
}

std::string canonical_rdata(uint16_t type, std::string_view rd) {
    std::string out(rd);
    const RRType* t = rr_type(type);
    if (!t || !canonicalised(type)) return out;
    size_t at = 0;
    for (RdataField f : t->rdata) {
        switch (f) {
        case RdataField::name:
            while (at < out.size() && out[at] != 0) {
                const size_t len = uint8_t(out[at]);
                for (size_t i = at + 1; i <= at + len && i < out.size(); ++i)
                    if (out[i] >= 'A' && out[i] <= 'Z') out[i] = char(out[i] | 0x20);
                at += 1 + len;
            }
            ++at;
            break;
        case RdataField::u8: at += 1; break;
        case RdataField::u16: at += 2; break;
        case RdataField::u32:
        case RdataField::period:
        case RdataField::ipv4: at += 4; break;
        case RdataField::ipv6: at += 16; break;
        case RdataField::string:
            if (at < out.size()) at += 1 + uint8_t(out[at]);
            break;
        default: return out;
        }
        if (at >= out.size()) break;
    }
    return out;
}

std::string type_bitmap(std::vector<uint16_t> types) {
    std::sort(types.begin(), types.end());
    types.erase(std::unique(types.begin(), types.end()), types.end());
    std::string out;
    size_t i = 0;
    while (i < types.size()) {
        const uint8_t window = uint8_t(types[i] >> 8);
        uint8_t bits[32] = {};
        uint8_t len = 0;
        for (; i < types.size() && (types[i] >> 8) == window; ++i) {
            const uint8_t low = uint8_t(types[i]);
            bits[low / 8] |= uint8_t(0x80 >> (low % 8));
            len = uint8_t(low / 8 + 1);
        }
        out.push_back(char(window));
        out.push_back(char(len));
        out.append(reinterpret_cast<const char*>(bits), len);
    }
    return out;
}

bool bitmap_types(std::string_view b, std::vector<uint16_t>& out) {
    out.clear();
    int last_window = -1;
    for (size_t at = 0; at < b.size();) {
        if (at + 2 > b.size()) return false;
        const uint8_t window = uint8_t(b[at]), len = uint8_t(b[at + 1]);
        if (int(window) <= last_window || len == 0 || len > 32 || at + 2 + len > b.size())
            return false;
        for (size_t i = 0; i < len; ++i)
            for (int bit = 0; bit < 8; ++bit)
                if (uint8_t(b[at + 2 + i]) & (0x80 >> bit))
                    out.push_back(uint16_t(window << 8 | (i * 8 + size_t(bit))));
        last_window = window;
        at += 2 + len;
    }
    return true;
}

std::string nsec3_hash(std::string_view name, std::string_view salt, uint16_t iterations) {
    unsigned char md[SHA_DIGEST_LENGTH];
    std::string buf;
    buf.reserve(name.size() + salt.size());
    for (char c : name) buf.push_back(c >= 'A' && c <= 'Z' ? char(c | 0x20) : c);
    buf += salt;
    SHA1(reinterpret_cast<const unsigned char*>(buf.data()), buf.size(), md);
    for (uint16_t i = 0; i < iterations; ++i) {
        buf.assign(reinterpret_cast<const char*>(md), sizeof md);
        buf += salt;
        SHA1(reinterpret_cast<const unsigned char*>(buf.data()), buf.size(), md);
    }
    return std::string(reinterpret_cast<const char*>(md), sizeof md);
}

std::string base32hex(std::string_view bytes) {
    static constexpr char digits[] = "0123456789abcdefghijklmnopqrstuv";
    std::string out;
    uint32_t acc = 0;
    int bits = 0;
    for (char c : bytes) {
        acc = (acc << 8) | uint8_t(c);
        bits += 8;
        while (bits >= 5) {
            out.push_back(digits[(acc >> (bits - 5)) & 31]);
            bits -= 5;
        }
    }
    if (bits > 0) out.push_back(digits[(acc << (5 - bits)) & 31]);
    return out;
}

bool base32hex_decode(std::string_view text, std::string& out) {
    out.clear();
    uint32_t acc = 0;
    int bits = 0;
    for (char c : text) {
        int v;
        if (c >= '0' && c <= '9')
            v = c - '0';
        else if (c >= 'a' && c <= 'v')
            v = c - 'a' + 10;
        else if (c >= 'A' && c <= 'V')
            v = c - 'A' + 10;
        else
            return false;
        acc = (acc << 5) | uint32_t(v);
        bits += 5;
        if (bits >= 8) {
            out.push_back(char((acc >> (bits - 8)) & 0xFF));
            bits -= 8;
        }
    }
    return true;
}

}  // namespace anamed
