#include "zone_edit.hpp"

#include <algorithm>

#include "anamed/rr_types.hpp"
#include "anamed/wire.hpp"
#include "ldns.hpp"
#include "record_parser.hpp"

namespace anamed {
namespace {
bool dnssec_meta(uint16_t type) {
    const RRType* t = rr_type(type);
    return t != nullptr && t->has(rr_flag::dnssec);
}

// RFC 9460 §2.2/§7: parameters in ascending key order, each value well-formed. ldns accepts
// some malformed ones (an alpn without a value), which resolvers then reject as FORMERR.
bool valid_svcb(const std::string& rd) {
    const auto* p = reinterpret_cast<const uint8_t*>(rd.data());
    size_t pos = 2;
    while (pos < rd.size() && p[pos] != 0) pos += 1 + p[pos];
    if (++pos > rd.size()) return false;
    int last = -1;
    while (pos < rd.size()) {
        if (pos + 4 > rd.size()) return false;
        const uint16_t key = load16(p + pos), len = load16(p + pos + 2);
        pos += 4;
        if (int(key) <= last || pos + len > rd.size()) return false;
        last = key;
        switch (key) {
        case 0:
            if (len == 0 || len % 2) return false;
            break;  // mandatory
        case 1:     // alpn: non-empty ids
            if (len == 0) return false;
            for (size_t i = pos; i < pos + len; i += 1 + p[i])
                if (p[i] == 0 || i + 1 + p[i] > pos + len) return false;
            break;
        case 2:
            if (len != 0) return false;
            break;  // no-default-alpn
        case 3:
            if (len != 2) return false;
            break;  // port
        case 4:
            if (len == 0 || len % 4) return false;
            break;  // ipv4hint
        case 6:
            if (len == 0 || len % 16) return false;
            break;  // ipv6hint
        default: break;
        }
        pos += len;
    }
    return true;
}
}  // namespace

std::string parse_record(const std::string& text, const std::string& origin, uint32_t default_ttl,
                         ParsedRecord& out) {
    MasterRecord rec{text, 0, 0, 0, default_ttl};
    normalize_record(rec);
    return parse_master_record(rec, origin, out);
}

uint16_t type_from_text(std::string_view text) {
    if (const auto n = rr_type_number(text)) return *n;
    return uint16_t(ldns_get_rr_type_by_name(std::string(text).c_str()));
}

std::vector<std::string> apex_problems(const ZoneNode* apex) {
    std::vector<std::string> out;
    if (apex == nullptr || !apex->has(rrtype::SOA)) out.push_back("SOA record");
    if (apex == nullptr || !apex->has(rrtype::NS)) out.push_back("NS records");
    return out;
}

std::string add_record(ZoneNode& node, const ParsedRecord& p, std::string* warning) {
    const auto owner = [&p] { return name_to_text(p.owner); };  // only for messages
    const RRType* type = rr_type(p.type);
    if (type && type->has(rr_flag::meta))
        return std::string(type->mnemonic) +
               " is a query type (RFC 6895 §3.1), not zone data, at " + owner();
    if ((p.type == rrtype::SVCB || p.type == rrtype::HTTPS) && !valid_svcb(p.rdata))
        return "malformed SVCB/HTTPS parameters at " + owner() +
               " (RFC 9460: keys in ascending order, each with a valid value)";
    if (node.empty()) node.set_owner(p.owner);
    if (p.type == rrtype::CNAME) {
        for (const RRset rs : node.rrsets())
            if (rs.type != rrtype::CNAME && !dnssec_meta(rs.type))
                return "CNAME beside other data at " + owner() +
                       " (RFC 1034 §3.6.2); to point a name that has other records at another "
                       "host, "
                       "use ALIAS instead of CNAME";
    } else if (node.find(rrtype::CNAME) && !dnssec_meta(p.type)) {
        return "data beside a CNAME at " + owner() +
               " (RFC 1034 §3.6.2); use ALIAS instead of CNAME to keep both";
    }
    const std::optional<RRset> rs = node.find(p.type);
    if (rs) {
        if (rs->rdata.contains(p.rdata)) return "";  // a set
        if (type && type->has(rr_flag::single))
            return "more than one " + std::string(type->mnemonic) + " at " + owner() +
                   " (a name holds one)";
    }
    // In a message each record takes 10 octets more than here (type, class, TTL; a compressed
    // owner for the length): an RRset that no 64 KiB message holds can never be answered, and
    // its counts and lengths would not fit their 16-bit fields. Each record takes 2 octets
    // here at the least, so only a large RRset needs counting.
    const size_t packed = (rs ? rs->rdata.bytes() : 0) + 2 + p.rdata.size();
    if (packed * 6 > 65535) {
        const size_t wire = packed + 10 * ((rs ? rs->rdata.size() : 0) + 1);
        if (wire > 65535)
            return "this record would make the RRset of type " + rr_type_text(p.type) + " at " +
                   owner() + " take " + std::to_string(wire) +
                   " octets, more than a DNS message holds (65535)";
    }
    uint32_t ttl = p.ttl;
    if (rs && rs->ttl != p.ttl) {
        ttl = std::min(rs->ttl, p.ttl);
        if (warning != nullptr)
            *warning = "TTL " + std::to_string(p.ttl) + " differs from the RRset's TTL " +
                       std::to_string(rs->ttl) + " at " + owner() + "; using " +
                       std::to_string(ttl);
    }
    node.add(p.type, ttl, p.rdata);
    return "";
}

size_t remove_records(ZoneNode& node, uint16_t type, const std::string* rdata) {
    const std::string_view rd = rdata ? std::string_view(*rdata) : std::string_view();
    return node.erase(type, rdata ? &rd : nullptr);
}

void bump_serial(ZoneNode& apex) {
    const std::optional<RRset> soa = apex.find(rrtype::SOA);
    if (!soa || soa->rdata.empty()) return;
    const std::string old(soa->rdata[0]);
    const uint32_t ttl = soa->ttl;
    std::string rd = old;
    const size_t at = soa_serial_offset(rd);
    if (at == std::string::npos) return;
    auto* p = reinterpret_cast<uint8_t*>(rd.data()) + at;
    store32(p, load32(p) + 1);  // unsigned wrap is RFC 1982 serial arithmetic
    const std::string_view old_view = old;
    apex.erase(rrtype::SOA, &old_view);
    apex.add(rrtype::SOA, ttl, rd);
}

}  // namespace anamed
