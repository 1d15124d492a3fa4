#include "master_reader.hpp"

#include "anamed/wire.hpp"

#include <ldns/ldns.h>

#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <strings.h>

namespace anamed {
namespace {

constexpr int max_include_depth = 8;
constexpr uint32_t fallback_ttl = 3600;

struct Token {
    size_t pos = 0, len = 0;
    std::string_view in(const std::string& s) const { return std::string_view(s).substr(pos, len); }
};

// Next whitespace-separated token, honouring quotes and backslash escapes.
Token next_token(const std::string& s, size_t from) {
    size_t i = from;
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    Token t{i, 0};
    bool quoted = false;
    while (i < s.size()) {
        const char c = s[i];
        if (c == '\\' && i + 1 < s.size()) {
            i += 2;
            continue;
        }
        if (c == '"') quoted = !quoted;
        else if (!quoted && (c == ' ' || c == '\t')) break;
        ++i;
    }
    t.len = i - t.pos;
    return t;
}

bool ends_with_unescaped_dot(std::string_view n) {
    if (n.empty() || n.back() != '.') return false;
    size_t bs = 0;
    for (size_t i = n.size() - 1; i > 0 && n[i - 1] == '\\'; --i) ++bs;
    return bs % 2 == 0;
}

std::string absolute(std::string_view name, const std::string& origin) {
    if (name == "@") return origin;
    if (ends_with_unescaped_dot(name)) return std::string(name);
    return std::string(name) + (origin == "." ? "." : "." + origin);
}

bool iequals(std::string_view a, std::string_view b);

bool is_class(std::string_view t) {
    return iequals(t, "IN") || iequals(t, "CH") || iequals(t, "HS") || iequals(t, "CS") ||
           (t.size() > 5 && iequals(t.substr(0, 5), "CLASS"));
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

class Reader {
public:
    Reader(MasterFile& out, std::vector<Diagnostic>& diags, const std::function<void(MasterRecord&&)>& sink)
        : out_(out), diags_(diags), sink_(sink) {}

    void read(const std::string& path, uint32_t origin, int depth) {
        std::ifstream in(path, std::ios::binary);
        if (!in) {
            diags_.push_back({path, 0, "cannot open zone file: " + std::string(strerror(errno)), true});
            return;
        }
        std::stringstream ss;
        ss << in.rdbuf();
        const std::string data = ss.str();
        const uint32_t file = uint32_t(out_.files.size());
        out_.files.push_back(path);
        split(data, file, origin, depth);
    }

private:
    // Splits the file into logical entries and hands each to entry().
    void split(const std::string& d, uint32_t file, uint32_t origin, int depth) {
        std::string cur;
        int line = 1, start_line = 1, paren = 0;
        bool quoted = false, blank_owner = false, at_line_start = true;
        std::string bad;  // why the current entry cannot be handed to ldns
        auto finish = [&]() {
            if (!bad.empty()) {
                diag(file, start_line, bad);
                bad.clear();
            } else {
                origin = entry(cur, file, start_line, blank_owner, origin, depth);
            }
            cur.clear();
        };
        for (size_t i = 0; i < d.size(); ++i) {
            const char c = d[i];
            if (cur.empty() && at_line_start) {
                start_line = line;
                blank_owner = (c == ' ' || c == '\t');
            }
            at_line_start = false;
            if (quoted) {
                if (c == '\n') {  // strings end on their line; never hand ldns a raw newline
                    bad = "newline inside a quoted string (close the quote on the same line)";
                    quoted = false;
                    --i;  // let the newline end the entry as usual
                    continue;
                }
                cur += c;
                if (c == '\\' && i + 1 < d.size() && d[i + 1] != '\n') cur += d[++i];
                else if (c == '"') quoted = false;
                continue;
            }
            switch (c) {
            case ';':
                while (i + 1 < d.size() && d[i + 1] != '\n') ++i;
                break;
            case '"':  // also inside a word: SVCB's alpn="h2,h3"
                quoted = true;
                cur += c;
                break;
            case '\\':
                cur += c;
                if (i + 1 < d.size() && d[i + 1] != '\n') cur += d[++i];
                break;
            case '(':
                ++paren;
                cur += ' ';
                break;
            case ')':
                if (--paren < 0) {
                    diag(file, line, "')' without '('");
                    paren = 0;
                }
                cur += ' ';
                break;
            case '\r':
                break;
            case '\n':
                ++line;
                if (paren > 0) {
                    cur += ' ';
                    break;
                }
                finish();
                at_line_start = true;
                break;
            default:
                cur += c;
            }
        }
        if (paren > 0 || quoted) diag(file, start_line, "unterminated '(' or '\"' at end of file");
        finish();
    }

    // Returns the origin in force after the entry.
    uint32_t entry(std::string& text, uint32_t file, int line, bool blank_owner, uint32_t origin, int depth) {
        Token first = next_token(text, 0);
        if (first.len == 0) return origin;
        const std::string& orig = out_.origins[origin];
        if (!blank_owner && text[first.pos] == '$') return directive(text, first, file, line, origin, depth);

        std::string owner;
        size_t rest = 0;
        if (blank_owner) {
            if (prev_owner_.empty()) {
                diag(file, line, "record without an owner name and no previous owner");
                return origin;
            }
            owner = prev_owner_;
        } else {
            owner = absolute(first.in(text), orig);
            rest = first.pos + first.len;
        }
        prev_owner_ = owner;
        MasterRecord rec{owner + " " + text.substr(rest), line, file, origin, ttl_, false};
        normalize_record(rec);
        sink_(std::move(rec));
        return origin;
    }

    uint32_t directive(const std::string& text, Token first, uint32_t file, int line, uint32_t origin,
                       int depth) {
        const std::string_view name = first.in(text);
        Token arg = next_token(text, first.pos + first.len);
        Token arg2 = next_token(text, arg.pos + arg.len);
        if (arg.len == 0) {
            diag(file, line, std::string(name) + " needs an argument");
            return origin;
        }
        const std::string a(arg.in(text));
        if (iequals(name, "$ORIGIN")) {
            out_.origins.push_back(absolute(a, out_.origins[origin]));
            return uint32_t(out_.origins.size() - 1);
        }
        if (iequals(name, "$TTL")) {
            const char* end = nullptr;
            uint32_t v = ldns_str2period(a.c_str(), &end);
            if (end == nullptr || *end != '\0') diag(file, line, "bad $TTL value '" + a + "'");
            else ttl_ = v;
            return origin;
        }
        if (iequals(name, "$INCLUDE")) {
            if (depth >= max_include_depth) {
                diag(file, line, "$INCLUDE nested too deeply (limit " + std::to_string(max_include_depth) + ")");
                return origin;
            }
            std::filesystem::path p(a);
            if (p.is_relative()) p = std::filesystem::path(out_.files[file]).parent_path() / p;
            uint32_t inc_origin = origin;
            if (arg2.len) {
                out_.origins.push_back(absolute(arg2.in(text), out_.origins[origin]));
                inc_origin = uint32_t(out_.origins.size() - 1);
            }
            read(p.string(), inc_origin, depth + 1);
            return origin;  // RFC 1035 §5.1: the include does not change the parent's origin
        }
        diag(file, line, "unknown directive " + std::string(name));
        return origin;
    }

    void diag(uint32_t file, int line, std::string msg) {
        diags_.push_back({out_.files[file], line, std::move(msg), true});
    }

    MasterFile& out_;
    std::vector<Diagnostic>& diags_;
    const std::function<void(MasterRecord&&)>& sink_;
    uint32_t ttl_ = fallback_ttl;
    std::string prev_owner_;
};

}  // namespace

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

void read_master_file(const std::string& path, const std::string& origin, MasterFile& out,
                      std::vector<Diagnostic>& diags, const std::function<void(MasterRecord&&)>& sink) {
    out.origins.push_back(origin);
    Reader(out, diags, sink).read(path, 0, 0);
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
        for (Token t = next_token(rec_.text, 0); t.len; t = next_token(rec_.text, t.pos + t.len)) {
            if (n == max_tokens) return false;
            tok[n++] = t.in(rec_.text);
        }
        if (n < 3 || !name(tok[0], out.owner)) return false;
        size_t i = 1;
        out.ttl = rec_.ttl;
        out.klass = LDNS_RR_CLASS_IN;
        if (std::isdigit(static_cast<unsigned char>(tok[i][0]))) {
            const std::string ttl(tok[i++]);
            const char* end = nullptr;
            out.ttl = ldns_str2period(ttl.c_str(), &end);
            if (end == nullptr || *end != '\0') return false;
        }
        if (i < n && iequals(tok[i], "IN")) ++i;
        if (i >= n) return false;
        const std::string_view type = tok[i++];
        const std::string_view* rd = tok + i;
        const size_t fields = n - i;
        out.rdata.clear();
        if (iequals(type, "A") && fields == 1) return field(LDNS_RDF_TYPE_A, rd[0], out, LDNS_RR_TYPE_A);
        if (iequals(type, "AAAA") && fields == 1) return field(LDNS_RDF_TYPE_AAAA, rd[0], out, LDNS_RR_TYPE_AAAA);
        if (iequals(type, "CNAME") && fields == 1)
            return set(out, rec_.alias ? rrtype::ALIAS : uint16_t(LDNS_RR_TYPE_CNAME)) && name(rd[0], out.rdata);
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
                if (s.find('"') != std::string_view::npos || !field(LDNS_RDF_TYPE_STR, s, out, LDNS_RR_TYPE_TXT))
                    return false;
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

    bool name(std::string_view text, std::string& wire) {
        ldns_rdf* rdf = nullptr;
        if (ldns_str2rdf_dname(&rdf, absolute(text, origin_).c_str()) != LDNS_STATUS_OK) return false;
        wire.append(reinterpret_cast<const char*>(ldns_rdf_data(rdf)), ldns_rdf_size(rdf));
        ldns_rdf_deep_free(rdf);
        return true;
    }

    const MasterRecord& rec_;
    const std::string& origin_;
};

}  // namespace

std::string parse_master_record(const MasterRecord& rec, const std::string& origin, ParsedRecord& out) {
    out.owner.clear();
    FastRecord fast(rec, origin);
    if (fast.parse(out)) return "";
    if (!fast.error.empty()) return fast.error;
    out.owner.clear();
    ldns_rdf* origin_rdf = ldns_dname_new_frm_str(origin.c_str());
    ldns_rr* rr = nullptr;
    const ldns_status st = ldns_rr_new_frm_str(&rr, rec.text.c_str(), rec.ttl, origin_rdf, nullptr);
    ldns_rdf_deep_free(origin_rdf);
    if (st != LDNS_STATUS_OK) return std::string(ldns_get_errorstr_by_id(st)) + " in '" + rec.text + "'";
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
    return ok ? "" : "cannot encode the RDATA of '" + rec.text + "'";
}

}  // namespace anamed
