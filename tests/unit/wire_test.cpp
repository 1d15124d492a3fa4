#include "anamed/wire.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

namespace anamed {
namespace {

std::vector<uint8_t> wire(std::initializer_list<std::string> labels) {
    std::vector<uint8_t> out;
    for (const auto& l : labels) {
        out.push_back(uint8_t(l.size()));
        out.insert(out.end(), l.begin(), l.end());
    }
    out.push_back(0);
    return out;
}

TEST(Wire, ParseNameLowercasesAndIndexesLabels) {
    auto w = wire({"WwW", "Example", "COM"});
    Name n;
    ASSERT_EQ(parse_name(w.data(), w.size(), n), w.size());
    EXPECT_EQ(n.labels, 3);
    EXPECT_EQ(n.len, w.size());
    EXPECT_EQ(name_to_text(n.key()), "www.example.com.");
    EXPECT_EQ(name_to_text(n.suffix(1)), "example.com.");
    EXPECT_EQ(name_to_text(n.suffix(3)), ".");
}

// The lower-case copy is made 16 bytes at a time (the last 16 overlapping the step before),
// then 8, then byte by byte: every byte value at every offset, in names of 17 to 56 octets
// (the 16-byte path) and of 3 to 22 (the 8-byte and byte paths), against the byte-at-a-time
// rule, with where upper case last appears.
TEST(Wire, ParseNameLowercasesEveryByteAndNotesTheLastUpperCaseLabel) {
    for (size_t len = 1; len <= 40; ++len)
        for (size_t at = 0; at < len; ++at)
            for (int c = 0; c < 256; ++c) {
                std::string label(len, 'x');
                label[at] = char(c);
                auto w = wire({"Ab", label, "cd12345678"});
                Name n;
                ASSERT_EQ(parse_name(w.data(), w.size(), n), w.size());
                for (size_t i = 0; i < w.size(); ++i)
                    ASSERT_EQ(n.lower[i], ascii_lower(w[i])) << len << " " << at << " " << i;
                const bool upper = c >= 'A' && c <= 'Z';
                EXPECT_EQ(n.lower_from, upper ? 2 : 1)
                    << len << " " << at << " " << int(c);  // "Ab" is label 0
            }
    for (size_t len = 1; len <= 20; ++len)  // one label
        for (size_t at = 0; at < len; ++at)
            for (int c = 0; c < 256; ++c) {
                std::string label(len, 'x');
                label[at] = char(c);
                auto w = wire({label});
                Name n;
                ASSERT_EQ(parse_name(w.data(), w.size(), n), w.size());
                for (size_t i = 0; i < w.size(); ++i)
                    ASSERT_EQ(n.lower[i], ascii_lower(w[i])) << len << " " << at << " " << i;
                EXPECT_EQ(n.lower_from, c >= 'A' && c <= 'Z' ? 1 : 0)
                    << len << " " << at << " " << c;
            }
    auto w = wire({"www", "example", "com"});
    Name n;
    ASSERT_NE(parse_name(w.data(), w.size(), n), 0u);
    EXPECT_EQ(n.lower_from, 0);
    w = wire({"www", "example", "coM"});
    ASSERT_NE(parse_name(w.data(), w.size(), n), 0u);
    EXPECT_EQ(n.lower_from, 3);
}

// ascii_lower_in_place works 8 bytes a step: every byte value, at every offset of buffers of
// every length up to 24, against the byte-at-a-time rule.
TEST(Wire, AsciiLowerInPlaceMatchesTheByteRuleForEveryByteEverywhere) {
    for (size_t len = 1; len <= 24; ++len)
        for (size_t at = 0; at < len; ++at)
            for (int c = 0; c < 256; ++c) {
                std::string s(len, 'Q');
                s[at] = char(c);
                std::string expect = s;
                for (char& x : expect) x = char(ascii_lower(uint8_t(x)));
                ascii_lower_in_place(s.data(), s.size());
                ASSERT_EQ(s, expect) << len << " " << at << " " << c;
            }
}

// ascii_lower_copy (CNAME targets' labels): every byte value at every offset of lengths up to
// 24 among lower-case letters, copied into another buffer; it reports upper case exactly
// when there was some, and writes nothing outside the n bytes.
TEST(Wire, AsciiLowerCopyReportsUpperCaseAndStaysInBounds) {
    for (size_t len = 0; len <= 24; ++len)
        for (size_t at = 0; at < std::max<size_t>(len, 1); ++at)
            for (int c = 0; c < 256; ++c) {
                std::string src(len, 'q');
                if (len) src[at] = char(c);
                uint8_t dst[40];
                std::memset(dst, 0xEE, sizeof dst);
                const bool upper =
                    ascii_lower_copy(dst + 8, reinterpret_cast<const uint8_t*>(src.data()), len);
                ASSERT_EQ(upper, len > 0 && c >= 'A' && c <= 'Z') << len << " " << at << " " << c;
                for (size_t i = 0; i < len; ++i)
                    ASSERT_EQ(dst[8 + i], ascii_lower(uint8_t(src[i]))) << len << " " << i;
                for (size_t i = 0; i < sizeof dst; ++i) {
                    if (i >= 8 && i < 8 + len) continue;
                    ASSERT_EQ(dst[i], 0xEE) << len << " " << i;
                }
            }
}

TEST(Wire, ParseNameRejectsPointersTruncationAndOverlength) {
    Name n;
    const uint8_t ptr[] = {0xC0, 0x0C};
    EXPECT_EQ(parse_name(ptr, sizeof ptr, n), 0u);
    const uint8_t ext[] = {0x41, 0};
    EXPECT_EQ(parse_name(ext, sizeof ext, n), 0u);
    auto w = wire({"abc"});
    EXPECT_EQ(parse_name(w.data(), w.size() - 1, n), 0u);
    std::vector<uint8_t> longname;
    for (int i = 0; i < 5; ++i) {
        longname.push_back(63);
        longname.insert(longname.end(), 63, 'a');
    }
    longname.push_back(0);
    EXPECT_EQ(parse_name(longname.data(), longname.size(), n), 0u);  // 321 octets
    longname.erase(longname.begin(), longname.begin() + 64);
    EXPECT_EQ(parse_name(longname.data(), longname.size(), n), 0u);  // 257 octets
    longname.erase(longname.begin(), longname.begin() + 2);
    longname[0] = 61;
    EXPECT_EQ(parse_name(longname.data(), longname.size(), n), 255u);  // exactly the maximum
}

// copy_bytes copies in overlapping words: every length up to 80, every byte landing where it
// belongs and nothing written on either side.
TEST(Wire, CopyBytesCopiesExactlyTheBytesAskedFor) {
    uint8_t src[80];
    for (size_t i = 0; i < sizeof src; ++i) src[i] = uint8_t(i * 7 + 1);
    for (size_t n = 0; n <= sizeof src; ++n) {
        uint8_t dst[96];
        std::memset(dst, 0xEE, sizeof dst);
        copy_bytes(dst + 8, src, n);
        for (size_t i = 0; i < 8; ++i) ASSERT_EQ(dst[i], 0xEE) << n;
        for (size_t i = 0; i < n; ++i) ASSERT_EQ(dst[8 + i], src[i]) << n << " " << i;
        for (size_t i = 8 + n; i < sizeof dst; ++i) ASSERT_EQ(dst[i], 0xEE) << n << " " << i;
    }
}

TEST(Wire, SkipNameFollowsLabelsAndStopsAtPointers) {
    const uint8_t msg[] = {3, 'f', 'o', 'o', 0xC0, 0x00, 9};
    EXPECT_EQ(skip_name(msg, sizeof msg, 0), 6u);
    EXPECT_EQ(skip_name(msg, 5, 0), 0u);
}

TEST(Wire, HashIsCaseSensitiveOnlyThroughInput) {
    auto a = wire({"customer1", "mywebservice", "com"});
    auto b = wire({"customer2", "mywebservice", "com"});
    EXPECT_NE(hash_name(a.data(), a.size()), hash_name(b.data(), b.size()));
    EXPECT_EQ(hash_name(a.data(), a.size()), hash_name(a.data(), a.size()));
}

TEST(Wire, NameToTextEscapes) {
    auto w = wire({"a.b", "x y"});
    EXPECT_EQ(name_to_text(std::string_view(reinterpret_cast<const char*>(w.data()), w.size())),
              "a\\.b.x\\032y.");
}

TEST(Wire, ReadNameFollowsBackwardPointersOnly) {
    // "Www.X." at 12, then "a" + a pointer to it at 20.
    const uint8_t msg[] = {0,   0,   0,   0, 0,   0, 0, 0, 0,   0,    0,  0,    3,
                           'W', 'w', 'w', 1, 'X', 0, 0, 1, 'a', 0xC0, 12, 0xC0, 24};
    uint8_t out[max_name_len];
    size_t n = 0;
    ASSERT_EQ(read_name(msg, sizeof msg, 20, out, n), 24u);  // after the pointer
    EXPECT_EQ(std::string(reinterpret_cast<char*>(out), n), std::string("\1a\3Www\1X\0", 9));
    ASSERT_EQ(read_name(msg, sizeof msg, 20, out, n, true), 24u);
    EXPECT_EQ(std::string(reinterpret_cast<char*>(out), n), std::string("\1a\3www\1x\0", 9));
    EXPECT_EQ(read_name(msg, sizeof msg, 24, out, n), 0u) << "a pointer to itself";
    EXPECT_EQ(read_name(msg, 15, 12, out, n), 0u) << "truncated";
    uint8_t forward[] = {0xC0, 2, 0};
    EXPECT_EQ(read_name(forward, sizeof forward, 0, out, n), 0u) << "a forward pointer";
    std::vector<uint8_t> longname;
    for (int i = 0; i < 5; ++i) {
        longname.push_back(63);
        longname.insert(longname.end(), 63, 'a');
    }
    longname.push_back(0);
    EXPECT_EQ(read_name(longname.data(), longname.size(), 0, out, n), 0u) << "over 255 octets";
}

}  // namespace
}  // namespace anamed
