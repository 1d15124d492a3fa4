#include "record_text.hpp"

#include <arpa/inet.h>

#include <cstdlib>

#include "anamed/rr_types.hpp"
#include "anamed/wire.hpp"
#include "ldns.hpp"

namespace anamed {
namespace {

bool plain_char(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '*' || c == '/';
}

// Appends the presentation form of the wire name at the start of `wire` when it is whole and
// needs no escaping; its wire length, or 0 (nothing appended).
size_t append_plain_name(std::string& out, std::string_view wire) {
    const size_t start = out.size();
    size_t pos = 0;
    while (pos < wire.size()) {
        const uint8_t l = uint8_t(wire[pos]);
        if (l == 0) {
            if (pos == 0) out += '.';
            return pos + 1;
        }
        if (l > 63 || pos + 1 + l > wire.size()) break;
        for (size_t i = pos + 1; i <= pos + l; ++i) {
            if (!plain_char(uint8_t(wire[i]))) {
                out.resize(start);
                return 0;
            }
        }
        out.append(wire.data() + pos + 1, l);
        out += '.';
        pos += 1 + l;
    }
    out.resize(start);
    return 0;
}

// An RDATA that is exactly one name.
bool append_name_rdata(std::string& out, std::string_view rd) {
    const size_t start = out.size();
    if (append_plain_name(out, rd) == rd.size()) return true;
    out.resize(start);
    return false;
}

// TXT's character-strings, quoted, as ldns escapes them.
bool append_txt(std::string& out, std::string_view rd) {
    size_t pos = 0;
    if (rd.empty()) return false;
    while (pos < rd.size()) {
        const size_t l = uint8_t(rd[pos]);
        if (pos + 1 + l > rd.size()) return false;
        if (pos) out += ' ';
        out += '"';
        for (size_t i = pos + 1; i <= pos + l; ++i) {
            const unsigned char c = uint8_t(rd[i]);
            if (c == '"' || c == '\\') {
                out += '\\';
                out += char(c);
            } else if ((c >= 0x20 && c < 0x7F) || c == '\t') {  // ldns keeps a tab as it is
                out += char(c);
            } else {
                char buf[5];
                snprintf(buf, sizeof buf, "\\%03u", c);
                out += buf;
            }
        }
        out += '"';
        pos += 1 + l;
    }
    return true;
}

// The RDATA's presentation form appended to `out` for the types printed here; false (out
// unchanged) for the rest, or when the RDATA is not what its type says.
bool append_rdata(std::string& out, uint16_t type, std::string_view rd) {
    const size_t start = out.size();
    char buf[INET6_ADDRSTRLEN];
    bool ok = false;
    switch (type) {
    case rrtype::A:
        ok = rd.size() == 4 && inet_ntop(AF_INET, rd.data(), buf, sizeof buf);
        if (ok) out += buf;
        break;
    case rrtype::AAAA:
        ok = rd.size() == 16 && inet_ntop(AF_INET6, rd.data(), buf, sizeof buf);
        if (ok) out += buf;
        break;
    case rrtype::NS:
    case rrtype::CNAME:
    case rrtype::PTR:
    case rrtype::DNAME:
    case rrtype::ALIAS: ok = append_name_rdata(out, rd); break;
    case rrtype::MX:
        if (rd.size() > 2) {
            out += std::to_string(load16(reinterpret_cast<const uint8_t*>(rd.data())));
            out += ' ';
            ok = append_name_rdata(out, rd.substr(2));
        }
        break;
    case rrtype::TXT: ok = append_txt(out, rd); break;
    default: break;
    }
    if (!ok) out.resize(start);
    return ok;
}

}  // namespace

// One record as ldns prints it, from its wire parts.
std::string record_text_ldns(std::string_view owner, uint16_t type, uint32_t ttl,
                             std::string_view rdata) {
    // A type ldns does not know is printed as the one it shares its format with, renamed.
    const RRType* t = rr_type(type);
    const uint16_t as = t && t->text_as ? t->text_as : 0;
    std::string wire(owner);
    uint8_t fixed[10];
    store16(fixed, as ? as : type);
    store16(fixed + 2, class_in);
    store32(fixed + 4, ttl);
    store16(fixed + 8, uint16_t(rdata.size()));
    wire.append(reinterpret_cast<const char*>(fixed), sizeof fixed);
    wire += rdata;
    ldns_rr* rr = nullptr;
    size_t pos = 0;
    if (ldns_wire2rr(&rr, reinterpret_cast<const uint8_t*>(wire.data()), wire.size(), &pos,
                     LDNS_SECTION_ANSWER) != LDNS_STATUS_OK)
        return "; (unprintable record at " + name_to_text(owner) + ")\n";
    char* s = ldns_rr2str(rr);
    std::string text = s ? s : "";
    free(s);
    ldns_rr_free(rr);
    if (as) {
        const std::string printed = "\t" + std::string(rr_type(as)->mnemonic) + "\t";
        const size_t at = text.find(printed);
        if (at != std::string::npos)
            text.replace(at, printed.size(), "\t" + std::string(t->mnemonic) + "\t");
    }
    if (text.empty() || text.back() != '\n') text += '\n';
    return text;
}

std::string plain_name_text(std::string_view wire) {
    std::string out;
    return append_plain_name(out, wire) == wire.size() ? out : "";
}

void append_record_text(std::string& out, std::string_view owner_wire, std::string_view owner_text,
                        uint16_t type, uint32_t ttl, std::string_view rdata) {
    const RRType* t = rr_type(type);
    if (!owner_text.empty() && t) {
        const size_t start = out.size();
        out += owner_text;
        out += '\t';
        out += std::to_string(ttl);
        out += "\tIN\t";
        out += t->mnemonic;
        out += '\t';
        if (append_rdata(out, type, rdata)) {
            out += '\n';
            return;
        }
        out.resize(start);
    }
    out += record_text_ldns(owner_wire, type, ttl, rdata);
}

std::string record_text(std::string_view owner, uint16_t type, uint32_t ttl,
                        std::string_view rdata) {
    std::string out;
    append_record_text(out, owner, plain_name_text(owner), type, ttl, rdata);
    return out;
}

}  // namespace anamed
