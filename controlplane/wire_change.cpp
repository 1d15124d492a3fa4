#include "wire_change.hpp"

#include <stdexcept>

#include "anamed/rr_types.hpp"
#include "anamed/wire.hpp"
#include "ldns.hpp"
#include "zone.hpp"

namespace anamed {
namespace {

const char* const op_names[] = {"add", "del-rrset", "del-name", "del-rr"};

std::string to_hex(std::string_view s) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(s.size() * 2);
    for (const char c : s) {
        out += digits[uint8_t(c) >> 4];
        out += digits[uint8_t(c) & 15];
    }
    return out;
}

std::string from_hex(const std::string& s, const char* field) {
    auto nibble = [&](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        throw std::invalid_argument(std::string("\"") + field + "\" is not hex");
    };
    if (s.size() % 2) throw std::invalid_argument(std::string("\"") + field + "\" is not hex");
    std::string out(s.size() / 2, '\0');
    for (size_t i = 0; i < out.size(); ++i)
        out[i] = char(nibble(s[2 * i]) << 4 | nibble(s[2 * i + 1]));
    return out;
}

}  // namespace

std::string read_rdata_fields(const RRType& t, const uint8_t* msg, size_t pos, size_t end,
                              std::string& out) {
    for (const RdataField f : t.rdata) {
        size_t n = 0;
        switch (f) {
        case RdataField::name: {
            std::string name;
            const size_t next = read_message_name(msg, end, pos, name);
            if (next == 0) return "a malformed name in the RDATA";
            out += name;
            pos = next;
            continue;
        }
        case RdataField::u8: n = 1; break;
        case RdataField::u16: n = 2; break;
        case RdataField::u32:
        case RdataField::period:
        case RdataField::ipv4: n = 4; break;
        case RdataField::ipv6: n = 16; break;
        case RdataField::string:
            if (pos >= end) return "the RDATA ends inside a character-string";
            n = 1 + size_t(msg[pos]);
            break;
        case RdataField::strings:
            if (pos >= end) return "the RDATA holds no character-string";
            for (size_t at = pos; at < end; at += 1 + msg[at])
                if (at + 1 + msg[at] > end) return "the RDATA ends inside a character-string";
            n = end - pos;
            break;
        case RdataField::other: return "unreachable";
        }
        if (pos + n > end) return "the RDATA is shorter than its type's fields";
        out.append(reinterpret_cast<const char*>(msg + pos), n);
        pos += n;
    }
    if (pos != end) return "the RDATA is longer than its type's fields";
    return "";
}

namespace {

// ldns checks a type whose fields it reads itself (the table's `other`).
std::string check_with_ldns(uint16_t type, std::string_view rd) {
    std::string rr(1, '\0');  // the root as owner
    uint8_t fixed[10];
    store16(fixed, type);
    store16(fixed + 2, class_in);
    store32(fixed + 4, 0);
    store16(fixed + 8, uint16_t(rd.size()));
    rr.append(reinterpret_cast<const char*>(fixed), sizeof fixed);
    rr.append(rd);
    ldns_rr* parsed = nullptr;
    size_t pos = 0;
    const ldns_status s = ldns_wire2rr(&parsed, reinterpret_cast<const uint8_t*>(rr.data()),
                                       rr.size(), &pos, LDNS_SECTION_ANSWER);
    // ldns reads fields until the RDATA ends: fewer than the type has is no error to it.
    const ldns_rr_descriptor* d = ldns_rr_descript(type);
    const size_t fields = parsed ? ldns_rr_rd_count(parsed) : 0;
    if (parsed) ldns_rr_free(parsed);
    if (s != LDNS_STATUS_OK) return std::string("malformed RDATA: ") + ldns_get_errorstr_by_id(s);
    if (pos != rr.size()) return "the RDATA is longer than its type's fields";
    if (d && d->_type == ldns_rr_type(type) && fields < ldns_rr_descriptor_minimum(d))
        return "the RDATA is shorter than its type's fields";
    return "";
}

// The RDATA with the names of a simple layout lower-cased.
std::string canonical(uint16_t type, std::string_view rd) {
    std::string out(rd);
    const RRType* t = rr_type(type);
    if (t == nullptr || !t->rdata.simple()) return out;
    size_t pos = 0;
    for (const RdataField f : t->rdata) {
        if (pos > out.size()) break;
        switch (f) {
        case RdataField::name:
            while (pos < out.size() && out[pos] != 0) {
                const size_t l = uint8_t(out[pos]);
                for (size_t i = pos + 1; i <= pos + l && i < out.size(); ++i)
                    out[i] = char(ascii_lower(uint8_t(out[i])));
                pos += 1 + l;
            }
            ++pos;
            break;
        case RdataField::u8: pos += 1; break;
        case RdataField::u16: pos += 2; break;
        case RdataField::u32:
        case RdataField::period:
        case RdataField::ipv4: pos += 4; break;
        case RdataField::ipv6: pos += 16; break;
        case RdataField::string: pos += pos < out.size() ? 1 + uint8_t(out[pos]) : 1; break;
        case RdataField::strings:
        case RdataField::other: return out;
        }
    }
    return out;
}

}  // namespace

nlohmann::json wire_change_to_json(const WireChange& c) {
    nlohmann::json j{{"update", op_names[int(c.op)]}, {"zone", c.zone}, {"owner", to_hex(c.owner)}};
    if (c.op != WireChange::Op::del_name) j["type"] = c.type;
    if (c.op == WireChange::Op::add) j["ttl"] = c.ttl;
    if (c.op == WireChange::Op::add || c.op == WireChange::Op::del_rr) j["rdata"] = to_hex(c.rdata);
    return j;
}

bool is_wire_change_json(const nlohmann::json& j) {
    return j.is_object() && j.contains("update");
}

WireChange wire_change_from_json(const nlohmann::json& j) {
    if (!is_wire_change_json(j)) throw std::invalid_argument("not a wire change");
    auto str = [&](const char* k) -> std::string {
        if (!j.contains(k) || !j[k].is_string())
            throw std::invalid_argument(std::string("\"") + k + "\" must be a string");
        return j[k].get<std::string>();
    };
    auto num = [&](const char* k, uint64_t max) -> uint64_t {
        if (!j.contains(k) || !j[k].is_number_unsigned() || j[k].get<uint64_t>() > max)
            throw std::invalid_argument(std::string("\"") + k + "\" must be a number up to " +
                                        std::to_string(max));
        return j[k].get<uint64_t>();
    };
    WireChange c;
    const std::string op = str("update");
    size_t i = 0;
    while (i < std::size(op_names) && op != op_names[i]) ++i;
    if (i == std::size(op_names)) throw std::invalid_argument("unknown update \"" + op + "\"");
    c.op = WireChange::Op(i);
    c.zone = str("zone");
    c.owner = from_hex(str("owner"), "owner");
    Name n;
    if (c.owner.empty() || parse_name(reinterpret_cast<const uint8_t*>(c.owner.data()),
                                      c.owner.size(), n) != c.owner.size())
        throw std::invalid_argument("\"owner\" is not a wire name");
    if (c.op != WireChange::Op::del_name) c.type = uint16_t(num("type", 65535));
    if (c.op == WireChange::Op::add) c.ttl = uint32_t(num("ttl", 0x7FFFFFFF));
    if (c.op == WireChange::Op::add || c.op == WireChange::Op::del_rr)
        c.rdata = from_hex(str("rdata"), "rdata");
    return c;
}

size_t read_message_name(const uint8_t* msg, size_t len, size_t pos, std::string& out) {
    uint8_t name[max_name_len];
    size_t n = 0;
    const size_t after = read_name(msg, len, pos, name, n);
    out.assign(reinterpret_cast<const char*>(name), after ? n : 0);
    return after;
}

std::string read_rdata(const uint8_t* msg, size_t len, size_t pos, size_t rdlen, uint16_t type,
                       std::string& out) {
    out.clear();
    if (pos + rdlen > len) return "the RDATA runs past the message";
    const RRType* t = rr_type(type);
    if (t && t->rdata.simple()) return read_rdata_fields(*t, msg, pos, pos + rdlen, out);
    out.assign(reinterpret_cast<const char*>(msg + pos), rdlen);
    return check_with_ldns(type, out);
}

bool same_rdata(uint16_t type, std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    if (a == b) return true;
    return canonical(type, a) == canonical(type, b);
}

}  // namespace anamed
