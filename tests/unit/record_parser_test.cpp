// parse_master_record: one record's text to wire, the fast path checked against ldns.
#include "record_parser.hpp"

#include <gtest/gtest.h>
#include <strings.h>

#include <random>

#include "master_text.hpp"
#include "test_util.hpp"

namespace anamed::test {
namespace {

// What ldns_rr_new_frm_str makes of a record: the reference for parse_master_record's fast path.
ParsedRecord ldns_reference(const MasterRecord& rec, const std::string& origin) {
    ParsedRecord out;
    ldns_rdf* o = ldns_dname_new_frm_str(origin.c_str());
    ldns_rr* rr = nullptr;
    EXPECT_EQ(ldns_rr_new_frm_str(&rr, rec.text.c_str(), rec.ttl, o, nullptr), LDNS_STATUS_OK)
        << rec.text;
    ldns_rdf_deep_free(o);
    if (rr == nullptr) return out;
    out.owner.assign(reinterpret_cast<const char*>(ldns_rdf_data(ldns_rr_owner(rr))),
                     ldns_rdf_size(ldns_rr_owner(rr)));
    out.type = uint16_t(ldns_rr_get_type(rr));
    out.ttl = ldns_rr_ttl(rr);
    ldns_buffer* buf = ldns_buffer_new(512);
    ldns_rr_rdata2buffer_wire(buf, rr);
    out.rdata.assign(reinterpret_cast<const char*>(ldns_buffer_begin(buf)),
                     ldns_buffer_position(buf));
    ldns_buffer_free(buf);
    ldns_rr_free(rr);
    return out;
}

// iequals is ASCII case folding, as strncasecmp is in the C locale: every pair of bytes.
TEST(MasterText, IequalsFoldsAsciiCaseLikeStrncasecmp) {
    for (int a = 1; a < 256; ++a)
        for (int b = 1; b < 256; ++b) {
            const char x[] = {'t', char(a)}, y[] = {'T', char(b)};
            const std::string_view xs(x, 2), ys(y, 2);
            ASSERT_EQ(master_text::iequals(xs, ys), strncasecmp(x, y, 2) == 0) << a << " " << b;
        }
    EXPECT_FALSE(master_text::iequals("IN", "INN"));
    EXPECT_TRUE(master_text::iequals("aAaA", "AaAa"));
}

// next_token skips 8 ordinary bytes a step: against the byte-at-a-time rule, on random text
// of the bytes that matter (blanks, quotes, backslashes, '!', bytes above 0x7F) at every start.
TEST(MasterText, NextTokenMatchesTheByteRule) {
    auto reference = [](const std::string& s, size_t from) {
        size_t i = from;
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
        const size_t pos = i;
        bool quoted = false;
        while (i < s.size()) {
            const char c = s[i];
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
        return std::pair<size_t, size_t>(pos, i - pos);
    };
    const std::string alphabet =
        std::string("ab.9 \t\"\\!#") + char(0x80) + char(0xFF) + char(0x5B) + char(1);
    std::mt19937 rng(11);
    for (int round = 0; round < 20000; ++round) {
        std::string s(rng() % 40, 'x');
        for (char& c : s)
            if (rng() % 4 == 0) c = alphabet[rng() % alphabet.size()];
        for (size_t from = 0; from <= s.size(); ++from) {
            const master_text::Token t = master_text::next_token(s, from);
            ASSERT_EQ(std::pair(t.pos, t.len), reference(s, from)) << round << " " << from;
        }
    }
}

// split_plain, the parser's one-pass tokenizer, against next_token on random text: the same
// tokens whenever it accepts the text, and it accepts all text without escapes or NUL bytes
// (quoted parts included, closed or not) that has at most `max` tokens.
TEST(MasterText, SplitPlainMatchesNextToken) {
    const std::string alphabet = std::string("ab.9 \t\"\\!#;") + char(0x80) + char(0xFF) + char(0);
    std::mt19937 rng(13);
    constexpr size_t max = 8;
    for (int round = 0; round < 50000; ++round) {
        std::string s(rng() % 100, 'x');  // both sides of split_short's 64 bytes
        for (char& c : s)
            if (rng() % 3 == 0) c = alphabet[rng() % alphabet.size()];
        if (round % 2 == 0)  // half of them without what split_short leaves to the byte loop
            for (char& c : s)
                if (c == '"' || c == '\\' || c == 0) c = 'q';
        std::vector<std::string_view> want;
        for (master_text::Token t = master_text::next_token(s, 0); t.len;
             t = master_text::next_token(s, t.pos + t.len))
            want.push_back(t.in(s));
        std::string_view got[max];
        size_t n = 0;
        const bool plain = s.find_first_of(std::string("\\") + char(0)) == std::string::npos;
        const bool ok = master_text::split_plain(s, got, max, n);
        ASSERT_EQ(ok, plain && want.size() <= max) << round;
        if (ok) {
            ASSERT_EQ(std::vector<std::string_view>(got, got + n), want) << round;
        }
    }
}

TEST(MasterRecord, CommonTypesParseExactlyAsLdnsDoes) {
    const std::string origin = "example.test.";
    for (const char* text :
         {"www A 192.0.2.1", "www.example.test. 60 IN A 192.0.2.1", "www IN 1h A 192.0.2.1",
          "@ AAAA 2001:db8::1", "x 300 AAAA ::ffff:192.0.2.1", "x MX 10 mail", "x MX 0 .",
          "x MX 65535 mail.other.", "x NS ns1", "x CNAME @", "x PTR host.example.",
          "x TXT \"v=spf1 ip4:192.0.2.1 -all\"", "x TXT one \"two three\" \"\"",
          "x TXT \"a \\\"quoted\\\" word\\059 and \\255\"", "Mixed.Case A 192.0.2.9",
          "x 1w2d TXT plain", "x SRV 1 2 3 target", "x CAA 0 issue \"ca.example\"",
          // names at the fast path's edges: escapes, the root, 63-octet labels,
          // near 255 octets in all, and TTLs around the 9 digits it reads itself
          "x CNAME .", "x CNAME a\\.b", "x CNAME \\065bc.example.", "x NS @",
          "x 999999999 A 192.0.2.1", "x 4294967295 A 192.0.2.1", "x 0 A 192.0.2.1"}) {
        MasterRecord rec{text, 1, 0, 0, 3600, false};
        normalize_record(rec);
        ParsedRecord got;
        ASSERT_EQ(parse_master_record(rec, origin, got), "") << text;
        const ParsedRecord want = ldns_reference(rec, origin);
        EXPECT_EQ(got.owner, want.owner) << text;
        EXPECT_EQ(got.type, want.type) << text;
        EXPECT_EQ(got.ttl, want.ttl) << text;
        EXPECT_EQ(got.klass, 1) << text;
        EXPECT_EQ(got.rdata, want.rdata) << text;
    }
}

// The fast path reads canonical dotted quads itself and leaves the rest to inet_pton: every
// form, odd or random, must come out as ldns's A parser makes it, or be refused as it is.
TEST(MasterRecord, Ipv4AddressesParseAsLdnsDoes) {
    std::vector<std::string> addrs = {"0.0.0.0",    "255.255.255.255", "1.2.3.4",   "01.2.3.4",
                                      "1.2.3.04",   "1.2.3.0",         "256.1.1.1", "1.2.3",
                                      "1.2.3.4.5",  "1..2.3",          "1.2.3.",    ".1.2.3",
                                      "1234.1.1.1", "0x1.2.3.4",       "1.2.3.-4",  "00.1.1.1",
                                      "1.2.3.4a",   "9.99.199.249",    "1.2.3.300"};
    std::mt19937 rng(5);
    for (int i = 0; i < 5000; ++i) {
        std::string a;
        for (int part = 0, parts = 3 + int(rng() % 3); part < parts; ++part) {
            if (part) a += '.';
            for (int d = 0, digits = int(rng() % 5); d < digits; ++d)
                a += char('0' + rng() % (d == 0 && rng() % 3 ? 3 : 10));
        }
        addrs.push_back(a);
    }
    for (const std::string& a : addrs) {
        MasterRecord rec{"x A " + a, 1, 0, 0, 3600, false};
        ParsedRecord got;
        const bool ok = parse_master_record(rec, "example.test.", got).empty();
        ldns_rdf* rdf = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_A, a.c_str());
        ASSERT_EQ(ok, rdf != nullptr) << a;
        if (rdf) {
            EXPECT_EQ(got.rdata, std::string(reinterpret_cast<const char*>(ldns_rdf_data(rdf)),
                                             ldns_rdf_size(rdf)))
                << a;
        }
        ldns_rdf_deep_free(rdf);
    }
}

// Relative names end in the origin, whose wire form the parser keeps between records: a
// record under another origin must not get the last one's.
TEST(MasterRecord, RelativeNamesFollowTheirOwnOrigin) {
    for (int round = 0; round < 3; ++round)
        for (const std::string origin : {"example.test.", "other.example.", "a.b.c.d.", "."}) {
            MasterRecord rec{"x CNAME target", 1, 0, 0, 3600, false};
            ParsedRecord got;
            ASSERT_EQ(parse_master_record(rec, origin, got), "") << origin;
            EXPECT_EQ(got.owner, ldns_reference(rec, origin).owner) << origin;
            EXPECT_EQ(got.rdata, ldns_reference(rec, origin).rdata) << origin;
        }
}

TEST(MasterRecord, NamesNearTheLimitsParseAsLdnsNamesDo) {
    const std::string l63(63, 'a'), l62(62, 'b');
    // 3 x 63-octet labels and a 62-octet one make 255 octets; the third name is over 255 only
    // once completed with the origin, which ldns's record parser let through unchecked.
    for (const std::string& target :
         {l63 + "." + l63 + "." + l63 + "." + l62 + ".", l63 + "." + l63 + "." + l63 + ".",
          l63 + "." + l63 + "." + l63 + "." + std::string(60, 'c'), "UPPER." + l63}) {
        ldns_rdf* dn = nullptr;
        const std::string abs = target.back() == '.' ? target : target + ".example.test.";
        std::string want;  // empty: not a name
        if (ldns_str2rdf_dname(&dn, abs.c_str()) == LDNS_STATUS_OK)
            want.assign(reinterpret_cast<const char*>(ldns_rdf_data(dn)), ldns_rdf_size(dn));
        ldns_rdf_deep_free(dn);
        for (const std::string& text :
             {"x CNAME " + target, "x SRV 0 0 1 " + target, target + " A 192.0.2.1"}) {
            MasterRecord rec{text, 1, 0, 0, 3600, false};
            normalize_record(rec);
            ParsedRecord got;
            const std::string err = parse_master_record(rec, "example.test.", got);
            EXPECT_EQ(err.empty(), !want.empty()) << text << ": " << err;
            if (!err.empty()) continue;
            EXPECT_EQ(text[0] == 'x' ? got.rdata.substr(got.rdata.size() - want.size()) : got.owner,
                      want)
                << text;
        }
    }
}

TEST(MasterRecord, BadFieldsAreErrorsOnEveryPath) {
    for (const std::string& text : std::vector<std::string>{
             "x A 192.0.2.256", "x A 192.0.2", "x AAAA 2001:db8::g", "x MX 70000 mail",
             "x MX ten mail", "x MX 10", "x A", "x CNAME a..b", "x NS ", "x CNAME .a",
             "x CNAME " + std::string(64, 'a'), "x A 192.0.2.1 extra", "x AAAA 192.0.2.1",
             "x NAPTR 100 \\# 4 c0000209",  // ldns took it, as a NAPTR no client parses "x TXT
                                            // \"unterminated",
             "x TXT \""
             "0123456789012345678901234567890123456789012345678901234567890123456789"
             "0123456789012345678901234567890123456789012345678901234567890123456789"
             "0123456789012345678901234567890123456789012345678901234567890123456789"
             "01234567890123456789012345678901234567890123456789\""}) {
        MasterRecord rec{text, 1, 0, 0, 3600, false};
        normalize_record(rec);
        ParsedRecord got;
        EXPECT_NE(parse_master_record(rec, "example.test.", got), "") << text;
    }
}

// The reader hands records over as written; parse_master_record normalizes only what goes
// to ldns. Either way a record must parse the same.
TEST(MasterRecord, ParsesTheSameNormalizedOrNot) {
    for (const std::string text :
         {"x IN 300 A 192.0.2.1", "x 300 IN A 192.0.2.1", "x IN A 192.0.2.1", "x in 1h MX 10 mail",
          "x ALIAS lb.example.", "x 300 IN ALIAS lb", "x IN 300 ANAME lb", "x aname lb.",
          "x TYPE65401 lb.example.", "x IN 300 MX 70000 mail", "x CH A 192.0.2.1",
          "x IN 300 300 A 192.0.2.1", "x IN 300 SRV 1 2 3 t", "x CLASS1 300 TXT hi",
          "x 300 IN IN A 192.0.2.1", "x ALIAS", "x ALIAS a b"}) {
        MasterRecord raw{text, 1, 0, 0, 3600, false};
        MasterRecord norm = raw;
        normalize_record(norm);
        ParsedRecord a, b;
        const std::string ea = parse_master_record(raw, "example.test.", a);
        const std::string eb = parse_master_record(norm, "example.test.", b);
        EXPECT_EQ(ea.empty(), eb.empty()) << text << ": " << ea << " / " << eb;
        if (!ea.empty() || !eb.empty()) continue;
        EXPECT_EQ(a.owner, b.owner) << text;
        EXPECT_EQ(a.type, b.type) << text;
        EXPECT_EQ(a.ttl, b.ttl) << text;
        EXPECT_EQ(a.klass, b.klass) << text;
        EXPECT_EQ(a.rdata, b.rdata) << text;
    }
}

TEST(MasterRecord, AliasKeepsItsTypeOnTheFastPath) {
    MasterRecord rec{"c ALIAS lb.offsite.example.", 1, 0, 0, 300, false};
    normalize_record(rec);
    ParsedRecord got;
    ASSERT_EQ(parse_master_record(rec, "example.test.", got), "");
    EXPECT_EQ(got.type, rrtype::ALIAS);
    EXPECT_EQ(got.rdata, text_to_wire("lb.offsite.example."));
    EXPECT_EQ(got.ttl, 300u);
}

}  // namespace
}  // namespace anamed::test
