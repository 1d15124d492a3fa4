// Presentation-format text helpers shared by the master-file reader, the record parser and
// zone edits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace anamed::master_text {

struct Token {
    size_t pos = 0, len = 0;
    std::string_view in(const std::string& s) const { return std::string_view(s).substr(pos, len); }
};

// Whether any of the 8 bytes of w is below '#' (blank, quote, control) or a backslash: the
// bytes that can end or quote a token. Never misses one (it may flag a word that has none
// only in a byte after one that is flagged rightly, which the byte loop then sees).
inline bool may_end_token(uint64_t w) {
    constexpr uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    const uint64_t below = (w - ones * '#') & ~w & high;
    const uint64_t x = w ^ (ones * '\\');
    const uint64_t backslash = (x - ones) & ~x & high;
    return (below | backslash) != 0;
}

// Next whitespace-separated token, honouring quotes and backslash escapes.
inline Token next_token(const std::string& s, size_t from) {
    size_t i = from;
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    Token t{i, 0};
    bool quoted = false;
    while (i < s.size()) {
        if (!quoted)  // 8 ordinary bytes a step
            for (uint64_t w;
                 i + 8 <= s.size() && (std::memcpy(&w, s.data() + i, 8), !may_end_token(w));)
                i += 8;
        if (i >= s.size()) break;
        const char c = s[i];
        if (c > '"' && c != '\\') {  // the common case: nothing that ends or quotes a token
            ++i;
            continue;
        }
        if (c == '\\' && i + 1 < s.size()) {
            i += 2;
            continue;
        }
        if (c == '"')
            quoted = !quoted;
        else if (!quoted && (c == ' ' || c == '\t'))
            break;
        ++i;
    }
    t.len = i - t.pos;
    return t;
}

// What split_plain() makes of a byte: part of a token, a separator, a quote, or something
// only next_token() handles (escapes, and NUL, which also ends the string).
enum class ByteClass : uint8_t { token, blank, quote, other };
inline constexpr auto byte_class = [] {
    struct Table {
        ByteClass c[256];
    } t{};
    for (auto& c : t.c) c = ByteClass::token;
    t.c[uint8_t(' ')] = t.c[uint8_t('\t')] = ByteClass::blank;
    t.c[uint8_t('"')] = ByteClass::quote;
    t.c[uint8_t('\\')] = t.c[0] = ByteClass::other;
    return t;
}();

#ifdef __SSE2__
// Which of the 16 bytes at p are one of cs: bit i for byte i (SSE2, every x86-64).
template <char... cs>
inline unsigned match16(const char* p) {
    using v16 = char __attribute__((vector_size(16)));
    v16 w;
    std::memcpy(&w, p, 16);
    return uint16_t(__builtin_ia32_pmovmskb128(((w == cs) | ...)));
}
#endif

// split_plain() for the usual record: at most 64 bytes, no quote, escape or NUL. The bytes'
// classes become bit masks 16 at a time, tokens the runs of non-blank bits. False when the
// text is not of that kind (or has more than `max` tokens).
inline bool split_short(const std::string& s, std::string_view* tok, size_t max, size_t& n) {
#ifdef __SSE2__
    const size_t len = s.size();
    if (len > 64) return false;
    char buf[64] = {};
    std::memcpy(buf, s.data(), len);
    uint64_t blank = 0, other = 0;
    for (unsigned k = 0; k < 4; ++k) {
        blank |= uint64_t(match16<' ', '\t'>(buf + 16 * k)) << (16 * k);
        other |= uint64_t(match16<'"', '\\', '\0'>(buf + 16 * k)) << (16 * k);
    }
    const uint64_t valid = len == 64 ? ~0ull : (1ull << len) - 1;
    if (other & valid) return false;
    n = 0;
    for (uint64_t t = ~blank & valid; t != 0;) {
        const unsigned start = unsigned(__builtin_ctzll(t));
        const uint64_t after = ~(t >> start);  // its first set bit ends the token
        const unsigned run = after == 0 ? 64 - start : unsigned(__builtin_ctzll(after));
        if (n == max) return false;
        tok[n++] = std::string_view(s.data() + start, run);
        t &= run + start >= 64 ? 0 : ~0ull << (start + run);
    }
    return true;
#else
    (void)s, (void)tok, (void)max, (void)n;
    return false;
#endif
}

// All of s's tokens at once, as next_token() would give them, for text without escapes or
// NUL bytes (one table lookup a byte; s must be NUL-terminated, as a std::string is). False,
// with n unspecified, for any other text or more than `max` tokens.
inline bool split_plain(const std::string& s, std::string_view* tok, size_t max, size_t& n) {
    if (split_short(s, tok, max, n)) return true;
    const char* p = s.c_str();
    const auto cls = [&](size_t i) { return byte_class.c[uint8_t(p[i])]; };
    n = 0;
    for (size_t i = 0;;) {
        while (cls(i) == ByteClass::blank) ++i;
        if (cls(i) == ByteClass::other) return i == s.size();  // the terminating NUL, or not plain
        const size_t start = i;
        for (;;) {
            while (cls(i) == ByteClass::token) ++i;
            if (cls(i) != ByteClass::quote) break;
            // A quoted part, blanks included ("v=spf1 -all", alpn="h2,h3"); unterminated
            // runs to the end, as in next_token.
            for (++i; cls(i) != ByteClass::quote; ++i)
                if (cls(i) == ByteClass::other) {
                    if (i != s.size()) return false;
                    break;
                }
            if (i == s.size()) break;
            ++i;
        }
        if (cls(i) == ByteClass::other && i != s.size()) return false;
        if (n == max) return false;
        tok[n++] = std::string_view(p + start, i - start);
    }
}

inline bool ends_with_unescaped_dot(std::string_view n) {
    if (n.empty() || n.back() != '.') return false;
    size_t bs = 0;
    for (size_t i = n.size() - 1; i > 0 && n[i - 1] == '\\'; --i) ++bs;
    return bs % 2 == 0;
}

// Appends `name` made absolute: "@" (or nothing) is `origin`, a name ending in an unescaped
// dot is as written, any other is completed with `origin` (absolute, presentation).
inline void append_absolute(std::string& out, std::string_view name, std::string_view origin) {
    if (name.empty() || name == "@") {
        out += origin;
    } else if (ends_with_unescaped_dot(name)) {
        out += name;
    } else {
        (out += name) += '.';
        if (origin != ".") out += origin;
    }
}
inline std::string absolute(std::string_view name, std::string_view origin) {
    std::string out;
    append_absolute(out, name, origin);
    return out;
}

// ASCII case-insensitive equality (presentation format's rule; strncasecmp is a call into
// the locale machinery, and the parser asks this a dozen times per record).
inline bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        const auto x = uint8_t(a[i]), y = uint8_t(b[i]);
        if (x != y && ((x | 0x20) != (y | 0x20) || uint8_t((x | 0x20) - 'a') > 'z' - 'a'))
            return false;
    }
    return true;
}

inline bool is_class(std::string_view t) {
    return iequals(t, "IN") || iequals(t, "CH") || iequals(t, "HS") || iequals(t, "CS") ||
           (t.size() > 5 && iequals(t.substr(0, 5), "CLASS"));
}

}  // namespace anamed::master_text
