// DNS wire-format constants and the small helpers both planes share.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <string>
#include <string_view>

namespace anamed {

namespace rrtype {
inline constexpr uint16_t A = 1, NS = 2, CNAME = 5, SOA = 6, PTR = 12, MX = 15, TXT = 16, AAAA = 28,
                          SRV = 33, NAPTR = 35, DNAME = 39, OPT = 41, DS = 43, RRSIG = 46,
                          NSEC = 47, DNSKEY = 48, NSEC3 = 50, NSEC3PARAM = 51, SVCB = 64,
                          HTTPS = 65, TKEY = 249, TSIG = 250, IXFR = 251, AXFR = 252, MAILB = 253,
                          MAILA = 254, ANY = 255, CAA = 257,
                          ALIAS = 65401;  // PowerDNS's code point, so zones move both ways
}  // namespace rrtype

namespace rcode {
inline constexpr uint8_t NOERROR = 0, FORMERR = 1, SERVFAIL = 2, NXDOMAIN = 3, NOTIMP = 4,
                         REFUSED = 5, YXDOMAIN = 6;
inline constexpr uint16_t BADVERS = 16;  // extended: upper 8 bits travel in OPT
}  // namespace rcode

inline constexpr uint16_t class_in = 1;
inline constexpr size_t header_size = 12;
inline constexpr size_t max_name_len = 255;
inline constexpr size_t max_labels = 128;
inline constexpr uint16_t udp_min_payload = 512;
inline constexpr uint16_t edns_default_payload = 1232;
inline constexpr size_t opt_rr_size = 11;

// Header flag bits in the second 16-bit word.
inline constexpr uint16_t flag_qr = 0x8000, flag_aa = 0x0400, flag_tc = 0x0200, flag_rd = 0x0100,
                          flag_ra = 0x0080, flag_ad = 0x0020, flag_cd = 0x0010;
inline constexpr uint16_t flag_opcode = 0x7800;  // the opcode's four bits, echoed in a reply

// Big-endian fields: one load or store and a byte swap.
inline uint16_t load16(const uint8_t* p) {
    uint16_t v;
    std::memcpy(&v, p, 2);
    if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap16(v);
    return v;
}
inline uint32_t load32(const uint8_t* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap32(v);
    return v;
}
inline void store16(uint8_t* p, uint16_t v) {
    if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap16(v);
    std::memcpy(p, &v, 2);
}
inline void store32(uint8_t* p, uint32_t v) {
    if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap32(v);
    std::memcpy(p, &v, 4);
}

inline uint8_t ascii_lower(uint8_t c) {
    return (c >= 'A' && c <= 'Z') ? uint8_t(c | 0x20) : c;
}

// Equality of two short byte strings (names) without a call into libc: 8 bytes a step, the
// tail as an overlapping word.
inline bool same_bytes(const void* a, const void* b, size_t n) {
    const auto* x = static_cast<const uint8_t*>(a);
    const auto* y = static_cast<const uint8_t*>(b);
    auto word = [](const uint8_t* p) {
        uint64_t w;
        std::memcpy(&w, p, 8);
        return w;
    };
    if (n >= 8) {
        for (size_t i = 0; i + 8 < n; i += 8)
            if (word(x + i) != word(y + i)) return false;
        return word(x + n - 8) == word(y + n - 8);
    }
    for (size_t i = 0; i < n; ++i)
        if (x[i] != y[i]) return false;
    return true;
}
inline bool same_bytes(std::string_view a, std::string_view b) {
    return a.size() == b.size() && same_bytes(a.data(), b.data(), a.size());
}

// Copies n bytes between buffers that do not overlap, inline: records are tens to a few
// hundred bytes, where a call into libc's memcpy costs more than the copy. 16 bytes a
// step, the last step ending where the bytes end.
inline void copy_bytes(uint8_t* dst, const uint8_t* src, size_t n) {
    auto copy = [&](size_t at, auto word) {
        std::memcpy(&word, src + at, sizeof word);
        std::memcpy(dst + at, &word, sizeof word);
    };
    struct W16 {
        uint64_t a, b;
    };
    if (n >= 16) {
        for (size_t i = 0; i + 16 < n; i += 16) copy(i, W16{});
        copy(n - 16, W16{});
    } else if (n >= 8) {
        copy(0, uint64_t{});
        copy(n - 8, uint64_t{});
    } else if (n >= 4) {
        copy(0, uint32_t{});
        copy(n - 4, uint32_t{});
    } else {
        for (size_t i = 0; i < n; ++i) dst[i] = src[i];
    }
}

// A wire-format name that has been checked: no compression, <= 255 octets. The lower-case
// copy is the lookup key; label_off[i] is where label i starts (0 = leftmost), so every
// suffix (ancestor) of the name is lower + label_off[i], len - label_off[i].
struct Name {
    uint8_t lower[max_name_len];
    uint8_t len = 0;         // including the root label
    uint8_t labels = 0;      // not counting the root
    uint8_t lower_from = 0;  // labels from this one on were sent in lower case (parse_name)
    uint8_t label_off[max_labels];

    std::string_view key() const { return {reinterpret_cast<const char*>(lower), len}; }
    std::string_view suffix(unsigned i) const {
        return {reinterpret_cast<const char*>(lower + label_off[i]), size_t(len - label_off[i])};
    }
};

// The upper-case ASCII letters among the 8 bytes of w, as those bytes' 0x80 bits: a byte
// is upper case when its low 7 bits are in 'A'..'Z' and its top bit is clear. w | (result
// >> 2) is w in lower case.
inline uint64_t upper_bytes(uint64_t w) {
    constexpr uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    const uint64_t low7 = w & ~high;
    return (low7 + ones * (0x80 - 'A')) & ~(low7 + ones * (0x80 - 'Z' - 1)) & ~w & high;
}

// Copies n bytes with ASCII letters lower-cased, 8 bytes a step (the last word overlapping
// the one before, so nothing outside [0, n) is read or written); dst may be src. Returns
// whether any byte was upper case. On a wire name this lower-cases the labels and leaves
// the length octets, which (< 64) are never letters.
inline bool ascii_lower_copy(uint8_t* dst, const uint8_t* src, size_t n) {
    uint64_t any = 0;
    if (n >= 8) {
        auto word = [&](size_t at) {
            uint64_t w;
            std::memcpy(&w, src + at, 8);
            const uint64_t upper = upper_bytes(w);  // byte-wise: the same on either endianness
            any |= upper;
            w |= upper >> 2;
            std::memcpy(dst + at, &w, 8);
        };
        for (size_t i = 0; i + 8 < n; i += 8) word(i);
        word(n - 8);
        return any != 0;
    }
    for (size_t i = 0; i < n; ++i) {
        const uint8_t c = src[i], l = ascii_lower(c);
        any |= l != c;
        dst[i] = l;
    }
    return any != 0;
}
inline void ascii_lower_in_place(char* p, size_t n) {
    ascii_lower_copy(reinterpret_cast<uint8_t*>(p), reinterpret_cast<const uint8_t*>(p), n);
}

// The upper-case ASCII letters among 16 bytes, as 0xFF bytes: x + (0x80 - 'A') lands
// 'A'..'Z' on the 26 smallest signed bytes, and nothing else there.
#ifdef __SSE2__
inline __m128i upper_bytes16(__m128i x) {
    const __m128i t = _mm_add_epi8(x, _mm_set1_epi8(char(0x80 - 'A')));
    return _mm_cmplt_epi8(t, _mm_set1_epi8(char(0x80 + 26)));
}
#endif

// Parses an uncompressed name at p[0..avail). Returns bytes consumed, 0 on any error
// (compression pointer, bad label type, over-long, truncated).
inline size_t parse_name(const uint8_t* p, size_t avail, Name& out) {
    // The structure first: label lengths only. Every label must leave room for the root
    // octet after it, within the message and within max_name_len.
    const size_t limit = avail < max_name_len ? avail : max_name_len;
    size_t pos = 0;
    unsigned labels = 0;
    while (true) {
        if (pos >= limit) return 0;
        const uint8_t l = p[pos];
        if (l == 0) break;
        if (l > 63) return 0;  // pointers and extended label types are not allowed here
        out.label_off[labels++] = uint8_t(pos);
        pos += 1 + l;
    }
    const size_t n = pos + 1;
    out.len = uint8_t(n);
    out.labels = uint8_t(labels);
    out.label_off[labels] = uint8_t(pos);  // the root, so suffix(labels) is "."
    // Then the lower-case copy. Length octets (< 64) are never letters, so whole words are
    // lower-cased at once; last_upper is the offset of the last upper-case byte (n: none).
    size_t last_upper = n;
    size_t i = 0;
#ifdef __SSE2__
    if (n >= 16) {  // 16 bytes a step, the last step overlapping the one before
        for (;; i += 16) {
            if (i + 16 > n) i = n - 16;
            const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
            const __m128i up = upper_bytes16(x);
            _mm_storeu_si128(reinterpret_cast<__m128i*>(out.lower + i),
                             _mm_or_si128(x, _mm_and_si128(up, _mm_set1_epi8(0x20))));
            if (const unsigned m = unsigned(_mm_movemask_epi8(up)))
                last_upper = i + 31 - unsigned(__builtin_clz(m));
            if (i + 16 == n) break;
        }
        i = n;
    }
#endif
    if constexpr (std::endian::native == std::endian::little) {
        for (; i + 8 <= n; i += 8) {
            uint64_t w;
            std::memcpy(&w, p + i, 8);
            const uint64_t upper = upper_bytes(w);
            w |= upper >> 2;
            std::memcpy(out.lower + i, &w, 8);
            if (upper) last_upper = i + size_t(63 - __builtin_clzll(upper)) / 8;
        }
    }
    for (; i < n; ++i) {
        out.lower[i] = ascii_lower(p[i]);
        if (out.lower[i] != p[i]) last_upper = i;
    }
    out.lower_from = 0;
    if (last_upper != n)
        while (out.lower_from < out.labels && out.label_off[out.lower_from] < last_upper)
            ++out.lower_from;
    return n;
}

// Skips a possibly compressed name inside a message. Returns the position after it or 0.
inline size_t skip_name(const uint8_t* msg, size_t len, size_t pos) {
    while (pos < len) {
        uint8_t l = msg[pos];
        if (l == 0) return pos + 1;
        if ((l & 0xC0) == 0xC0) return pos + 2 <= len ? pos + 2 : 0;
        if (l > 63) return 0;
        pos += 1 + l;
    }
    return 0;
}

// Reads a possibly compressed name at msg[pos] as uncompressed wire into out[0, out_len), at
// most max_name_len octets, lower-cased when asked. A pointer must point before the label it
// is in (so every walk ends). Returns the position after the name in the message, 0 when it is
// malformed (truncated, a bad label type, a loop or forward pointer, over-long).
inline size_t read_name(const uint8_t* msg, size_t len, size_t pos, uint8_t (&out)[max_name_len],
                        size_t& out_len, bool lower = false) {
    size_t after = 0;    // where the name ends in the message (before the first pointer)
    size_t limit = pos;  // a pointer must point before this
    out_len = 0;
    while (pos < len) {
        const uint8_t l = msg[pos];
        if ((l & 0xC0) == 0xC0) {
            if (pos + 2 > len) return 0;
            const size_t to = size_t(l & 0x3F) << 8 | msg[pos + 1];
            if (after == 0) after = pos + 2;
            if (to >= limit) return 0;
            pos = limit = to;
            continue;
        }
        if (l > 63 || pos + 1 + l > len || out_len + 1 + l > max_name_len) return 0;
        out[out_len++] = l;
        for (size_t i = 1; i <= l; ++i)
            out[out_len++] = lower ? ascii_lower(msg[pos + i]) : msg[pos + i];
        if (l == 0) return after ? after : pos + 1;
        pos += 1 + l;
    }
    return 0;
}

// Starts loading the cache line at p. An asm statement, because GCC 12 deletes a
// __builtin_prefetch that sits under a condition (dead-code elimination): NameIndex's
// "if (!slots_.empty()) __builtin_prefetch(...)" had taken the index-slot pass out of
// respond_burst without a trace. Never faults, whatever p is.
inline void prefetch(const void* p) {
#if defined(__x86_64__) || defined(__i386__)
    asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
#else
    __builtin_prefetch(p);
#endif
}

// Fast hash over lower-case wire names; 8 bytes a step, the last word read where the name
// ends (overlapping the one before) rather than assembled byte by byte.
inline uint64_t hash_name(const uint8_t* p, size_t n) {
    uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
    uint64_t w = 0;
    if (n >= 8) {
        const uint8_t* last = p + n - 8;
        for (; p < last; p += 8) {
            std::memcpy(&w, p, 8);
            h = (h ^ w) * 0xFF51AFD7ED558CCDull;
            h ^= h >> 32;
        }
        std::memcpy(&w, last, 8);
    } else {
        std::memcpy(&w, p, n);
    }
    h = (h ^ w) * 0xC4CEB9FE1A85EC53ull;
    h ^= h >> 29;
    return h;
}
inline uint64_t hash_name(std::string_view s) {
    return hash_name(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// Presentation form of a wire name, for logs and errors.
std::string name_to_text(std::string_view wire);

}  // namespace anamed
