// NSEC and NSEC3 chains over a zone's authoritative names.
#include "dnssec_denial.hpp"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "dnssec_canonical.hpp"

namespace anamed {

namespace {

constexpr uint16_t type_ns = 2, type_soa = 6, type_dname = 39;

std::vector<std::string> sorted_canonically(std::vector<std::string> names) {
    std::vector<std::pair<std::string, size_t>> keys;
    keys.reserve(names.size());
    for (size_t i = 0; i < names.size(); ++i) keys.emplace_back(canonical_sort_key(names[i]), i);
    std::sort(keys.begin(), keys.end());
    std::vector<std::string> out;
    out.reserve(names.size());
    for (auto& k : keys) out.push_back(std::move(names[k.second]));
    return out;
}

}  // namespace

NodeKind node_kind(const Zone& zone, std::string_view key) {
    if (key == zone.apex) return NodeKind::authoritative;
    if (!is_subdomain(key, zone.apex)) return NodeKind::occluded;
    for (std::string_view up = parent_of(key); up.size() > zone.apex.size(); up = parent_of(up)) {
        const ZoneNode* n = zone.find(up);
        if (n && (n->has(type_ns) || n->has(type_dname))) return NodeKind::occluded;
    }
    const ZoneNode* self = zone.find(key);
    return self && self->has(type_ns) ? NodeKind::delegation : NodeKind::authoritative;
}

bool signs(NodeKind kind, uint16_t type) {
    if (type == type_rrsig || type == type_alias) return false;
    switch (kind) {
    case NodeKind::authoritative: return true;
    case NodeKind::delegation: return type == type_ds || type == type_nsec;
    case NodeKind::occluded: return false;
    }
    return false;
}

std::vector<uint16_t> bitmap_types_of(const ZoneNode& node, NodeKind kind, bool with_nsec,
                                      const AliasFamilies* families) {
    std::vector<uint16_t> types;
    bool signed_any = with_nsec;  // the NSEC itself is signed
    for (RRset rs : node.rrsets()) {
        if (rs.type == type_rrsig || rs.type == type_nsec || rs.type == type_nsec3) continue;
        if (rs.type == type_alias) {
            const uint8_t f =
                families && *families && kind == NodeKind::authoritative && !rs.rdata.empty()
                    ? (*families)(lower_key(rs.rdata[0]))
                    : 0;
            if (f & 1) types.push_back(type_a);
            if (f & 2) types.push_back(type_aaaa);
            signed_any = signed_any || f != 0;
            continue;
        }
        types.push_back(rs.type);
        signed_any = signed_any || signs(kind, rs.type);
    }
    if (with_nsec) types.push_back(type_nsec);
    if (signed_any) types.push_back(type_rrsig);
    return types;
}

uint32_t denial_ttl(const Zone& zone) {
    const ZoneNode* apex = zone.find(zone.apex);
    if (!apex) return 0;
    const std::optional<RRset> soa = apex->find(type_soa);
    if (!soa || soa->rdata.empty()) return 0;
    const std::string_view rd = soa->rdata[0];
    if (rd.size() < 4) return 0;
    const uint32_t minimum = load32(reinterpret_cast<const uint8_t*>(rd.data() + rd.size() - 4));
    return std::min(soa->ttl, minimum);
}

std::vector<std::string> nsec_names(const Zone& zone) {
    std::vector<std::string> names;
    names.reserve(zone.nodes.size());
    for (const auto& [key, node] : zone.nodes)
        if (!node.empty() && node_kind(zone, key) != NodeKind::occluded) names.push_back(key.str());
    return sorted_canonically(std::move(names));
}

std::string nsec_rdata(std::string_view next, const ZoneNode& node, NodeKind kind,
                       const AliasFamilies* families) {
    std::string rd(next);
    rd += type_bitmap(bitmap_types_of(node, kind, true, families));
    return rd;
}

void build_nsec_chain(Zone& zone, uint32_t ttl, const AliasFamilies* families) {
    const std::vector<std::string> names = nsec_names(zone);
    for (size_t i = 0; i < names.size(); ++i) {
        ZoneNode& node = zone.nodes.find(names[i])->second;
        const std::string& next = names[(i + 1) % names.size()];
        node.add(type_nsec, ttl, nsec_rdata(next, node, node_kind(zone, names[i]), families));
    }
}

std::string nsec3param_rdata(const Nsec3Params& p) {
    std::string rd;
    rd.push_back(1);  // SHA-1
    rd.push_back(0);  // flags: opt-out is the NSEC3's, not the parameters'
    rd.push_back(char(p.iterations >> 8));
    rd.push_back(char(p.iterations));
    rd.push_back(char(p.salt.size()));
    rd += p.salt;
    return rd;
}

std::string nsec3_owner(std::string_view name, std::string_view apex, const Nsec3Params& p) {
    const std::string label = base32hex(nsec3_hash(name, p.salt, p.iterations));
    std::string owner(1, char(label.size()));
    owner += label;
    owner += apex;
    return owner;
}

std::string nsec3_rdata(const Nsec3Params& p, std::string_view next_hash,
                        const std::vector<uint16_t>& types) {
    std::string rd = nsec3param_rdata(p);
    rd[1] = p.opt_out ? 1 : 0;
    rd.push_back(char(next_hash.size()));
    rd += next_hash;
    rd += type_bitmap(types);
    return rd;
}

bool in_nsec3_chain(const ZoneNode& node, NodeKind kind, const Nsec3Params& p) {
    if (kind == NodeKind::occluded) return false;
    return !(p.opt_out && kind == NodeKind::delegation && !node.has(type_ds));
}

void build_nsec3_chain(Zone& zone, uint32_t ttl, const Nsec3Params& p,
                       const AliasFamilies* families) {
    zone.nodes[zone.apex].add(type_nsec3param, 0, nsec3param_rdata(p));
    // Each covered name with its bitmap; empty non-terminals (ancestors without a node of
    // their own) with an empty one.
    std::unordered_map<std::string, std::vector<uint16_t>> covered;
    std::unordered_set<std::string> ents;
    for (const auto& [key, node] : zone.nodes) {
        const NodeKind kind = node_kind(zone, key);
        if (node.empty() || !in_nsec3_chain(node, kind, p)) continue;
        std::vector<uint16_t> types = bitmap_types_of(node, kind, false, families);
        if (kind == NodeKind::delegation && !node.has(type_ds))
            types.erase(std::remove(types.begin(), types.end(), type_rrsig), types.end());
        covered.emplace(key.str(), std::move(types));
        for (std::string_view up = key; up.size() > zone.apex.size();) {
            up = parent_of(up);
            if (up.size() <= zone.apex.size() || zone.find(up)) break;
            ents.emplace(up);
        }
    }
    for (const std::string& e : ents) covered.emplace(e, std::vector<uint16_t>{});
    std::vector<std::pair<std::string, const std::vector<uint16_t>*>> chain;
    chain.reserve(covered.size());
    for (const auto& [name, types] : covered)
        chain.emplace_back(nsec3_hash(name, p.salt, p.iterations), &types);
    std::sort(chain.begin(), chain.end());
    zone.nodes.reserve(zone.nodes.size() + chain.size());
    for (size_t i = 0; i < chain.size(); ++i) {
        const std::string& next = chain[(i + 1) % chain.size()].first;
        std::string owner(1, char(32));
        owner += base32hex(chain[i].first);
        owner += zone.apex;
        zone.nodes[owner].add(type_nsec3, ttl, nsec3_rdata(p, next, *chain[i].second));
    }
}

}  // namespace anamed
