// One record's text to wire format: the master reader's normalization (class/TTL order,
// ALIAS), a fast path for the common types through ldns's field parsers, and ldns's whole-record
// parser for everything else.
#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <string>

#include "anamed/wire.hpp"
#include "master_reader.hpp"
#include "master_text.hpp"

#include "ldns.hpp"

namespace anamed {
using namespace master_text;

void normalize_record(MasterRecord& rec) {
    // RFC 1035 allows "<class> <TTL>" as well as "<TTL> <class>"; ldns reads only the latter.
    const Token owner = next_token(rec.text, 0);
    const Token a = next_token(rec.text, owner.pos + owner.len);
    const Token b = next_token(rec.text, a.pos + a.len);
    if (a.len && b.len && is_class(a.in(rec.text)) && std::isdigit(static_cast<unsigned char>(rec.text[b.pos]))) {
        const std::string klass(a.in(rec.text)), ttl(b.in(rec.text));
        rec.text.replace(a.pos, b.pos + b.len - a.pos, ttl + " " + klass);
    }
    // ALIAS <target> has CNAME's RDATA format: parse it as CNAME and remember the type.
    size_t pos = owner.pos + owner.len;
    for (int i = 0; i < 3; ++i) {
        Token t = next_token(rec.text, pos);
        if (t.len == 0) return;
        std::string_view s = t.in(rec.text);
        if (std::isdigit(static_cast<unsigned char>(s[0])) || is_class(s)) {
            pos = t.pos + t.len;
            continue;
        }
        const bool generic = iequals(s, "TYPE65401") && next_token(rec.text, t.pos + t.len).in(rec.text) != "\\#";
        if (iequals(s, "ALIAS") || iequals(s, "ANAME") || generic) {
            rec.text.replace(t.pos, t.len, "CNAME");
            rec.alias = true;
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
        constexpr size_t max_tokens = 8;
        std::string_view tok[max_tokens];
        size_t n = 0;
        if (!split_plain(rec_.text, tok, max_tokens, n)) {  // quotes or escapes: token by token
            n = 0;
            for (Token t = next_token(rec_.text, 0); t.len; t = next_token(rec_.text, t.pos + t.len)) {
                if (n == max_tokens) return false;
                tok[n++] = t.in(rec_.text);
            }
        }
        if (n < 3 || !name(tok[0], out.owner)) return false;
        size_t i = 1;
        out.ttl = rec_.ttl;
        out.klass = LDNS_RR_CLASS_IN;
        auto ttl_field = [&](std::string_view ttl) {
            if (ttl.size() <= 9 && std::all_of(ttl.begin(), ttl.end(), [](char c) { return c >= '0' && c <= '9'; })) {
                out.ttl = 0;
                for (char c : ttl) out.ttl = out.ttl * 10 + uint32_t(c - '0');
                return true;
            }
            // units (1h30m), or long enough for ldns's own overflow rules
            const std::string text(ttl);
            const char* end = nullptr;
            out.ttl = ldns_str2period(text.c_str(), &end);
            return end != nullptr && *end == '\0';
        };
        // [TTL] [IN] or IN TTL (RFC 1035 allows either order)
        const bool ttl_first = std::isdigit(static_cast<unsigned char>(tok[i][0]));
        if (ttl_first && !ttl_field(tok[i++])) return false;
        if (i < n && iequals(tok[i], "IN")) {
            ++i;
            if (!ttl_first && i < n && std::isdigit(static_cast<unsigned char>(tok[i][0])) && !ttl_field(tok[i++]))
                return false;
        }
        if (i >= n) return false;
        const std::string_view type = tok[i++];
        const std::string_view* rd = tok + i;
        const size_t fields = n - i;
        out.rdata.clear();
        if (iequals(type, "A") && fields == 1) return set(out, LDNS_RR_TYPE_A) && address(AF_INET, rd[0], out.rdata);
        if (iequals(type, "AAAA") && fields == 1) return set(out, LDNS_RR_TYPE_AAAA) && address(AF_INET6, rd[0], out.rdata);
        if (iequals(type, "CNAME") && fields == 1)
            return set(out, rec_.alias ? rrtype::ALIAS : uint16_t(LDNS_RR_TYPE_CNAME)) && name(rd[0], out.rdata);
        if ((iequals(type, "ALIAS") || iequals(type, "ANAME")) && fields == 1)  // not normalized yet
            return set(out, rrtype::ALIAS) && name(rd[0], out.rdata);
        if (iequals(type, "NS") && fields == 1) return set(out, LDNS_RR_TYPE_NS) && name(rd[0], out.rdata);
        if (iequals(type, "PTR") && fields == 1) return set(out, LDNS_RR_TYPE_PTR) && name(rd[0], out.rdata);
        if (iequals(type, "MX") && fields == 2) {
            // ldns would wrap a preference above 65535 around; refuse it instead.
            uint32_t pref = 0;
            for (char c : rd[0]) pref = std::isdigit(static_cast<unsigned char>(c)) ? pref * 10 + (c - '0') : 1u << 20;
            if (pref > 65535) return fail("MX preference '" + std::string(rd[0]) + "' is not a number from 0 to 65535");
            out.type = LDNS_RR_TYPE_MX;
            out.rdata.push_back(char(pref >> 8));
            out.rdata.push_back(char(pref & 0xff));
            return name(rd[1], out.rdata);
        }
        if (iequals(type, "TXT") && fields >= 1) {
            for (size_t f = 0; f < fields; ++f) {
                std::string_view s = rd[f];
                if (s.front() == '"') {
                    if (s.size() < 2 || s.back() != '"') return fail("unterminated quoted string in '" + rec_.text + "'");
                    s = s.substr(1, s.size() - 2);
                }
                if (s.find('"') != std::string_view::npos) return false;
                out.type = LDNS_RR_TYPE_TXT;
                if (s.size() <= 255 && s.find('\\') == std::string_view::npos) {  // as is: no escapes
                    out.rdata.push_back(char(s.size()));
                    out.rdata.append(s);
                } else if (!field(LDNS_RDF_TYPE_STR, s, out, LDNS_RR_TYPE_TXT)) {
                    return false;
                }
            }
            return true;
        }
        return false;
    }

    // Set when the record is certainly wrong (rather than just not for the fast path).
    std::string error;

private:
    bool fail(std::string why) {
        error = std::move(why);
        return false;
    }

    static bool set(ParsedRecord& out, uint16_t type) {
        out.type = type;
        return true;
    }

    bool field(ldns_rdf_type kind, std::string_view text, ParsedRecord& out, uint16_t type) {
        out.type = type;
        ldns_rdf* rdf = ldns_rdf_new_frm_str(kind, std::string(text).c_str());
        if (rdf == nullptr) return false;
        out.rdata.append(reinterpret_cast<const char*>(ldns_rdf_data(rdf)), ldns_rdf_size(rdf));
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
            while (i < s.size() && i - from < 3 && s[i] >= '0' && s[i] <= '9') v = v * 10 + unsigned(s[i++] - '0');
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
            const auto* dot = static_cast<const char*>(std::memchr(s.data() + from, '.', s.size() - from));
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
        if (ldns_str2rdf_dname(&rdf, absolute(text, origin_).c_str()) != LDNS_STATUS_OK) return false;
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
        ok = ldns_rr_rdata2buffer_wire(buf, rr) == LDNS_STATUS_OK && ldns_buffer_position(buf) == rdata.size() &&
             std::memcmp(ldns_buffer_begin(buf), rdata.data(), rdata.size()) == 0;
        ldns_buffer_free(buf);
    }
    ldns_rr_free(rr);
    return ok;
}

}  // namespace

std::string parse_master_record(const MasterRecord& given, const std::string& origin, ParsedRecord& out) {
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
        return "a record of " + std::to_string(rec.text.size()) + " characters, longer than the parser reads (" +
               std::to_string(LDNS_MAX_RDFLEN) + ")";
    out.owner.clear();
    ldns_rdf* origin_rdf = ldns_dname_new_frm_str(origin.c_str());
    ldns_rr* rr = nullptr;
    const ldns_status st = ldns_rr_new_frm_str(&rr, rec.text.c_str(), rec.ttl, origin_rdf, nullptr);
    ldns_rdf_deep_free(origin_rdf);
    if (st != LDNS_STATUS_OK) return std::string(ldns_get_errorstr_by_id(st)) + " in '" + rec.text + "'";
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
    out.type = rec.alias ? rrtype::ALIAS : uint16_t(ldns_rr_get_type(rr));
    out.klass = uint16_t(ldns_rr_get_class(rr));
    out.ttl = ldns_rr_ttl(rr);
    ldns_buffer* buf = ldns_buffer_new(512);
    const bool ok = ldns_rr_rdata2buffer_wire(buf, rr) == LDNS_STATUS_OK;
    out.rdata.clear();
    if (ok) out.rdata.assign(reinterpret_cast<const char*>(ldns_buffer_begin(buf)), ldns_buffer_position(buf));
    ldns_buffer_free(buf);
    ldns_rr_free(rr);
    if (!ok) return "cannot encode the RDATA of '" + rec.text + "'";
    if (!rdata_round_trips(out.type == rrtype::ALIAS ? rrtype::CNAME : out.type, out.rdata))
        return "the RDATA of '" + rec.text + "' does not have its type's format";
    return "";
}

}  // namespace anamed
