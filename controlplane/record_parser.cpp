// One record's text to wire format: the master reader's normalization (class/TTL order,
// types ldns lacks), a fast path for the types whose RDATA layout the RR type table spells
// out, and ldns's whole-record parser for everything else.
#include "record_parser.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <string>

#include "anamed/rr_types.hpp"
#include "anamed/wire.hpp"
#include "ldns.hpp"
#include "master_text.hpp"

namespace anamed {
using namespace master_text;

void normalize_record(MasterRecord& rec) {
    // RFC 1035 allows "<class> <TTL>" as well as "<TTL> <class>"; ldns reads only the latter.
    const Token owner = next_token(rec.text, 0);
    const Token a = next_token(rec.text, owner.pos + owner.len);
    const Token b = next_token(rec.text, a.pos + a.len);
    if (a.len && b.len && is_class(a.in(rec.text)) &&
        std::isdigit(static_cast<unsigned char>(rec.text[b.pos]))) {
        const std::string klass(a.in(rec.text)), ttl(b.in(rec.text));
        rec.text.replace(a.pos, b.pos + b.len - a.pos, ttl + " " + klass);
    }
    // A type ldns does not know (ALIAS), by name or as TYPEnnn with its own RDATA format
    // (not RFC 3597's \#): written as the type it shares its format with.
    size_t pos = owner.pos + owner.len;
    for (int i = 0; i < 3; ++i) {
        Token t = next_token(rec.text, pos);
        if (t.len == 0) return;
        std::string_view s = t.in(rec.text);
        if (std::isdigit(static_cast<unsigned char>(s[0])) || is_class(s)) {
            pos = t.pos + t.len;
            continue;
        }
        const RRType* type = rr_type(s);
        if (type == nullptr)
            if (const auto n = rr_type_number(s);
                n && next_token(rec.text, t.pos + t.len).in(rec.text) != "\\#")
                type = rr_type(*n);
        if (type != nullptr && type->text_as != 0) {
            rec.text.replace(t.pos, t.len, rr_type(type->text_as)->mnemonic);
            rec.written_as = type->number;
        }
        return;
    }
}

namespace {

// The common types' RDATA read field by field with ldns's own field parsers: what
// ldns_rr_new_frm_str does, without its per-record line buffers (several 64 KiB allocations
// each, most of a big zone's load time). Anything unusual returns false with `error` empty and
// takes the general path; a record that is certainly wrong returns false with `error` set.
class FastRecord {
public:
    FastRecord(const MasterRecord& rec, const std::string& origin) : rec_(rec), origin_(origin) {}

    bool parse(ParsedRecord& out) {
        constexpr size_t max_tokens = 16;  // SOA's 7 fields, owner, TTL, class and type fit
        std::string_view tok[max_tokens];
        size_t n = 0;
        if (!split_plain(rec_.text, tok, max_tokens, n)) {  // quotes or escapes: token by token
            n = 0;
            for (Token t = next_token(rec_.text, 0); t.len;
                 t = next_token(rec_.text, t.pos + t.len)) {
                if (n == max_tokens) return false;
                tok[n++] = t.in(rec_.text);
            }
        }
        if (n < 3 || !name(tok[0], out.owner)) return false;
        size_t i = 1;
        out.ttl = rec_.ttl;
        out.klass = LDNS_RR_CLASS_IN;
        auto ttl_field = [&](std::string_view ttl) { return period(ttl, out.ttl); };
        // [TTL] [IN] or IN TTL (RFC 1035 allows either order)
        const bool ttl_first = std::isdigit(static_cast<unsigned char>(tok[i][0]));
        if (ttl_first && !ttl_field(tok[i++])) return false;
        if (i < n && iequals(tok[i], "IN")) {
            ++i;
            if (!ttl_first && i < n && std::isdigit(static_cast<unsigned char>(tok[i][0])) &&
                !ttl_field(tok[i++]))
                return false;
        }
        if (i >= n) return false;
        const RRType* type = rr_type(tok[i++]);
        if (type == nullptr || !type->rdata.simple()) return false;
        // Normalized text names the type ldns reads in place of the one written.
        out.type = rec_.written_as != 0 && rr_type(rec_.written_as)->text_as == type->number
                       ? rec_.written_as
                       : type->number;
        out.rdata.clear();
        return rdata(type->rdata, tok + i, n - i, out.rdata);
    }

    // Set when the record is certainly wrong (rather than just not for the fast path).
    std::string error;

private:
    bool fail(std::string why) {
        error = std::move(why);
        return false;
    }

    // The RDATA from its fields' tokens, by the type's layout. False (error set or not) as
    // parse() describes.
    bool rdata(const RdataLayout& layout, const std::string_view* tok, size_t n,
               std::string& wire) {
        size_t next = 0;
        for (RdataField f : layout) {
            if (f == RdataField::strings) {  // one or more, to the end
                if (next == n) return false;
                for (; next < n; ++next)
                    if (!char_string(tok[next], wire)) return false;
                return true;
            }
            if (next == n) return false;  // too few fields: ldns says which
            if (!field(f, tok[next++], wire)) return false;
        }
        return next == n;  // more fields than the type has: ldns's error
    }

    bool field(RdataField f, std::string_view text, std::string& wire) {
        switch (f) {
        case RdataField::name: return text.front() != '"' && name(text, wire);
        case RdataField::u8: return number(text, 0xFF, 1, wire);
        case RdataField::u16: return number(text, 0xFFFF, 2, wire);
        case RdataField::u32: return number(text, 0xFFFFFFFF, 4, wire);
        case RdataField::period: {
            uint32_t v = 0;
            if (!period(text, v)) return false;
            const uint8_t b[4] = {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)};
            wire.append(reinterpret_cast<const char*>(b), 4);
            return true;
        }
        case RdataField::ipv4: return address(AF_INET, text, wire);
        case RdataField::ipv6: return address(AF_INET6, text, wire);
        case RdataField::string: return char_string(text, wire);
        default: return false;
        }
    }

    // A decimal number of `bytes` octets. Digits only; anything else is ldns's (which reads
    // "-1" and "+1" as strtol does). A number above `max` is refused: ldns would wrap a 16-bit
    // field around, and for 32 bits leaves the overflow to strtoul's rules (its path).
    bool number(std::string_view text, uint32_t max, int bytes, std::string& wire) {
        uint64_t v = 0;
        if (text.size() > 10) return bytes == 4 ? false : fail_range(text, max);
        for (char c : text) {
            if (c < '0' || c > '9') return false;
            v = v * 10 + uint64_t(c - '0');
        }
        if (v > max) return bytes == 4 ? false : fail_range(text, max);
        for (int k = bytes - 1; k >= 0; --k) wire.push_back(char(v >> (8 * k)));
        return true;
    }
    bool fail_range(std::string_view text, uint32_t max) {
        if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return false;
        return fail("'" + std::string(text) + "' is not a number from 0 to " + std::to_string(max) +
                    " in '" + rec_.text + "'");
    }

    // A TTL-like value: up to 9 digits here, units (1h30m) or longer ones by ldns's rules.
    static bool period(std::string_view text, uint32_t& v) {
        if (text.size() <= 9 &&
            std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
            v = 0;
            for (char c : text) v = v * 10 + uint32_t(c - '0');
            return true;
        }
        const std::string s(text);
        const char* end = nullptr;
        v = ldns_str2period(s.c_str(), &end);
        return end != nullptr && *end == '\0';
    }

    // One <character-string>, quoted or not; escapes and long strings through ldns.
    bool char_string(std::string_view s, std::string& wire) {
        if (s.front() == '"') {
            if (s.size() < 2 || s.back() != '"')
                return fail("unterminated quoted string in '" + rec_.text + "'");
            s = s.substr(1, s.size() - 2);
        }
        if (s.find('"') != std::string_view::npos) return false;
        if (s.size() <= 255 && s.find('\\') == std::string_view::npos) {  // as is: no escapes
            wire.push_back(char(s.size()));
            wire.append(s);
            return true;
        }
        ldns_rdf* rdf = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_STR, std::string(s).c_str());
        if (rdf == nullptr) return false;
        wire.append(reinterpret_cast<const char*>(ldns_rdf_data(rdf)), ldns_rdf_size(rdf));
        ldns_rdf_deep_free(rdf);
        return true;
    }

    // A dotted quad in its canonical form (1-3 digits, at most 255, no leading zero), which
    // inet_pton reads the same; anything else is left to it.
    static bool canonical_ipv4(std::string_view s, std::string& wire) {
        uint8_t out[4];
        size_t i = 0;
        for (int part = 0; part < 4; ++part) {
            if (part > 0 && (i >= s.size() || s[i++] != '.')) return false;
            const size_t from = i;
            unsigned v = 0;
            while (i < s.size() && i - from < 3 && s[i] >= '0' && s[i] <= '9')
                v = v * 10 + unsigned(s[i++] - '0');
            if (i == from || v > 255 || (s[from] == '0' && i - from > 1)) return false;
            out[part] = uint8_t(v);
        }
        if (i != s.size()) return false;
        wire.append(reinterpret_cast<const char*>(out), 4);
        return true;
    }

    // inet_pton is what ldns's A and AAAA parsers use.
    static bool address(int family, std::string_view text, std::string& wire) {
        if (family == AF_INET && canonical_ipv4(text, wire)) return true;
        char buf[64];
        unsigned char bin[16];
        if (text.size() >= sizeof buf) return false;
        std::memcpy(buf, text.data(), text.size());
        buf[text.size()] = '\0';
        if (inet_pton(family, buf, bin) != 1) return false;
        wire.append(reinterpret_cast<const char*>(bin), family == AF_INET ? 4 : 16);
        return true;
    }

    // Plain names (no escapes, labels of 1 to 63 octets, well under 255 in all) are converted
    // here; anything else goes to ldns, which accepts or refuses it with its own rules.
    static bool plain_name(std::string_view text, std::string_view origin, std::string& wire) {
        const size_t start = wire.size();
        bool ok = !text.empty();
        if (ok && text.back() == '.') {
            if (text.size() > 1) ok = labels(text.substr(0, text.size() - 1), wire);
        } else if (ok) {
            ok = labels(text, wire);
            if (ok && origin.size() > 1) {
                // The origin's labels, converted once per origin and thread (every relative
                // name of a zone ends in them).
                thread_local std::string origin_text, origin_wire;
                thread_local bool origin_ok = false;
                if (origin != origin_text) {
                    origin_text = origin;
                    origin_wire.clear();
                    origin_ok = labels(origin.substr(0, origin.size() - 1), origin_wire);
                }
                ok = origin_ok;
                wire += origin_wire;
            }
        }
        if (!ok || wire.size() - start > 250) {
            wire.resize(start);
            return false;
        }
        wire.push_back('\0');
        return true;
    }
    // "a.b.c" (no leading or trailing dot, no escapes) appended as labels, in one pass: each
    // dot becomes the length of the label before it, so the wire form is one byte longer.
    static bool labels(std::string_view s, std::string& wire) {
        if (std::memchr(s.data(), '\\', s.size()) != nullptr) return false;  // escapes are ldns's
        const size_t at = wire.size();
        wire.resize(at + 1 + s.size());
        char* out = wire.data() + at;
        std::memcpy(out + 1, s.data(), s.size());
        for (size_t from = 0;;) {  // label [from, end) gets its length at out[from]
            const auto* dot =
                static_cast<const char*>(std::memchr(s.data() + from, '.', s.size() - from));
            const size_t end = dot ? size_t(dot - s.data()) : s.size();
            if (end == from || end - from > 63) return false;
            out[from] = char(end - from);
            if (dot == nullptr) return true;
            from = end + 1;
        }
    }

    bool name(std::string_view text, std::string& wire) {
        if (text == "@") text = origin_;
        if (plain_name(text, origin_, wire)) return true;
        ldns_rdf* rdf = nullptr;
        if (ldns_str2rdf_dname(&rdf, absolute(text, origin_).c_str()) != LDNS_STATUS_OK)
            return false;
        wire.append(reinterpret_cast<const char*>(ldns_rdf_data(rdf)), ldns_rdf_size(rdf));
        ldns_rdf_deep_free(rdf);
        return true;
    }

    const MasterRecord& rec_;
    const std::string& origin_;
};

// ldns's text parser takes some RDATA that its own wire parser, and every client, refuses
// (NAPTR 100 \# 4 c0000209 became a NAPTR of 4 octets). The bytes must read back as their
// type, field by field, and encode again to exactly themselves (no compression pointers).
bool rdata_round_trips(uint16_t type, const std::string& rdata) {
    if (rdata.size() > 65535) return false;
    std::string wire(11, '\0');  // root owner, type, class IN, TTL 0, RDLENGTH
    auto* w = reinterpret_cast<uint8_t*>(wire.data());
    store16(w + 1, type);
    store16(w + 3, class_in);
    store16(w + 9, uint16_t(rdata.size()));
    wire += rdata;
    ldns_rr* rr = nullptr;
    size_t pos = 0;
    bool ok = ldns_wire2rr(&rr, reinterpret_cast<const uint8_t*>(wire.data()), wire.size(), &pos,
                           LDNS_SECTION_ANSWER) == LDNS_STATUS_OK &&
              pos == wire.size();
    if (ok) {
        ldns_buffer* buf = ldns_buffer_new(rdata.size() + 16);
        ok = ldns_rr_rdata2buffer_wire(buf, rr) == LDNS_STATUS_OK &&
             ldns_buffer_position(buf) == rdata.size() &&
             std::memcmp(ldns_buffer_begin(buf), rdata.data(), rdata.size()) == 0;
        ldns_buffer_free(buf);
    }
    ldns_rr_free(rr);
    return ok;
}

}  // namespace

std::string parse_master_record(const MasterRecord& given, const std::string& origin,
                                ParsedRecord& out) {
    out.owner.clear();
    FastRecord fast(given, origin);
    if (fast.parse(out)) return "";
    if (!fast.error.empty()) return fast.error;
    // ldns reads normalized text (TTL before class, ALIAS as CNAME). The reader leaves that to
    // here: only the records the fast path cannot read need it, and here it runs in parallel.
    MasterRecord rec = given;
    normalize_record(rec);
    // ldns reads at most LDNS_MAX_RDFLEN characters of RDATA and silently drops the rest.
    if (rec.text.size() > LDNS_MAX_RDFLEN)
        return "a record of " + std::to_string(rec.text.size()) +
               " characters, longer than the parser reads (" + std::to_string(LDNS_MAX_RDFLEN) +
               ")";
    out.owner.clear();
    ldns_rdf* origin_rdf = ldns_dname_new_frm_str(origin.c_str());
    ldns_rr* rr = nullptr;
    const ldns_status st = ldns_rr_new_frm_str(&rr, rec.text.c_str(), rec.ttl, origin_rdf, nullptr);
    ldns_rdf_deep_free(origin_rdf);
    if (st != LDNS_STATUS_OK)
        return std::string(ldns_get_errorstr_by_id(st)) + " in '" + rec.text + "'";
    // ldns completes a relative name with the origin without checking the sum's length.
    bool too_long = ldns_rdf_size(ldns_rr_owner(rr)) > 255;
    for (size_t i = 0; i < ldns_rr_rd_count(rr); ++i) {
        const ldns_rdf* f = ldns_rr_rdf(rr, i);
        too_long |= ldns_rdf_get_type(f) == LDNS_RDF_TYPE_DNAME && ldns_rdf_size(f) > 255;
    }
    if (too_long) {
        ldns_rr_free(rr);
        return "a name longer than 255 octets (RFC 1035 §2.3.4) in '" + rec.text + "'";
    }
    const ldns_rdf* owner = ldns_rr_owner(rr);
    out.owner.assign(reinterpret_cast<const char*>(ldns_rdf_data(owner)), ldns_rdf_size(owner));
    out.type = rec.written_as ? rec.written_as : uint16_t(ldns_rr_get_type(rr));
    out.klass = uint16_t(ldns_rr_get_class(rr));
    out.ttl = ldns_rr_ttl(rr);
    ldns_buffer* buf = ldns_buffer_new(512);
    const bool ok = ldns_rr_rdata2buffer_wire(buf, rr) == LDNS_STATUS_OK;
    out.rdata.clear();
    if (ok)
        out.rdata.assign(reinterpret_cast<const char*>(ldns_buffer_begin(buf)),
                         ldns_buffer_position(buf));
    ldns_buffer_free(buf);
    ldns_rr_free(rr);
    if (!ok) return "cannot encode the RDATA of '" + rec.text + "'";
    const RRType* t = rr_type(out.type);
    if (!rdata_round_trips(t && t->text_as ? t->text_as : out.type, out.rdata))
        return "the RDATA of '" + rec.text + "' does not have its type's format";
    return "";
}

}  // namespace anamed
