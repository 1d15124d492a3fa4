#include "node_builder.hpp"

#include <algorithm>
#include <cstring>

namespace anamed {

const NodeData empty_node_data{0, 0};

namespace {

void put_rr(std::string& out, std::string_view owner, uint16_t type, uint32_t ttl, std::string_view rdata) {
    uint8_t fixed[10];
    store16(fixed, type);
    store16(fixed + 2, class_in);
    store32(fixed + 4, ttl);
    store16(fixed + 8, uint16_t(rdata.size()));
    out.append(owner);
    out.append(reinterpret_cast<const char*>(fixed), sizeof fixed);
    out.append(rdata);
}
const std::string_view placeholder("\xC0\x0C", 2);

// Where the domain name inside an RDATA starts, for the types whose targets get
// additional-section addresses.
int target_offset(uint16_t type) {
    switch (type) {
    case rrtype::NS: return 0;
    case rrtype::MX: return 2;
    case rrtype::SRV: return 6;
    default: return -1;
    }
}

// A/AAAA of in-zone targets, owner written in full.
uint16_t add_addresses(const RRset& rs, const NodeLookup& lookup, std::string& out, std::vector<std::string>& targets) {
    const int off = target_offset(rs.type);
    if (off < 0) return 0;
    uint16_t count = 0;
    std::vector<std::string_view> done;
    for (const auto& rd : rs.rdata) {
        if (rd.size() <= size_t(off)) continue;
        const std::string_view target(rd.data() + off, rd.size() - off);
        if (std::find(done.begin(), done.end(), target) != done.end()) continue;
        done.push_back(target);
        const std::string key = lower_key(target);
        targets.push_back(key);
        const ZoneNode* zn = lookup(key, rs.type == rrtype::NS);
        if (zn == nullptr) continue;
        for (uint16_t type : {rrtype::A, rrtype::AAAA}) {
            const RRset* addr = zn->find(type);
            if (addr == nullptr) continue;
            for (const auto& a : addr->rdata) put_rr(out, target, type, addr->ttl, a);
            count += uint16_t(addr->rdata.size());
        }
    }
    return count;
}

}  // namespace

void build_node(const ZoneNode& zn, const RRset* apex_soa, const NodeLookup& lookup, BuiltNode& out) {
    out.targets.clear();
    std::vector<TypeEntry> entries;
    std::string bytes;
    if (apex_soa != nullptr && !apex_soa->rdata.empty()) {
        const std::string& rd = apex_soa->rdata[0];
        const uint32_t minimum = load32(reinterpret_cast<const uint8_t*>(rd.data()) + rd.size() - 4);
        entries.push_back(TypeEntry{negative_soa_type, 1, 0, 0, 0, 0, 0});
        put_rr(bytes, placeholder, rrtype::SOA, std::min(apex_soa->ttl, minimum), rd);
        entries.back().rr_len = uint32_t(bytes.size());
    }
    for (const RRset& rs : zn.rrsets) {
        TypeEntry e{rs.type, uint16_t(rs.rdata.size()), 0, 0, uint32_t(bytes.size()), 0, 0};
        for (const auto& rd : rs.rdata) put_rr(bytes, placeholder, rs.type, rs.ttl, rd);
        e.rr_len = uint32_t(bytes.size() - e.rr_off);
        const size_t add_start = bytes.size();
        e.add_count = add_addresses(rs, lookup, bytes, out.targets);
        e.add_len = uint32_t(bytes.size() - add_start);
        entries.push_back(e);
    }
    const NodeData header{uint32_t(entries.size()), uint32_t(bytes.size())};
    out.bytes.assign(reinterpret_cast<const char*>(&header), sizeof header);
    out.bytes.append(reinterpret_cast<const char*>(entries.data()), entries.size() * sizeof(TypeEntry));
    out.bytes += bytes;
}

const NodeData* place_node(const BuiltNode& b, void* mem) {
    std::memcpy(mem, b.bytes.data(), b.bytes.size());
    return static_cast<const NodeData*>(mem);
}

}  // namespace anamed
