// RRSIGs over a zone's RRsets, in parallel.
#include "dnssec_signer.hpp"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <atomic>

#include "anamed/wire.hpp"
#include "dnssec_canonical.hpp"

namespace anamed {

namespace {

constexpr uint16_t type_soa = 6;

void put16(std::string& s, uint16_t v) {
    s.push_back(char(v >> 8));
    s.push_back(char(v));
}
void put32(std::string& s, uint32_t v) {
    put16(s, uint16_t(v >> 16));
    put16(s, uint16_t(v));
}

// RFC 4034 §3.1.3: the owner's labels, a leading wildcard label not counted.
uint8_t rrsig_labels(std::string_view owner) {
    const unsigned n = count_labels(owner);
    const bool wildcard = owner.size() >= 2 && owner[0] == 1 && owner[1] == '*';
    return uint8_t(wildcard ? n - 1 : n);
}

struct RRsetCopy {
    uint16_t type;
    uint32_t ttl;
    std::vector<std::string> rdatas;
};

uint16_t covered_type(std::string_view rrsig) {
    return rrsig.size() >= 2 ? load16(reinterpret_cast<const uint8_t*>(rrsig.data())) : 0;
}

// Adds RRSIG RDATAs to a node; the RRSIG RRset's TTL is the lowest of the RRsets it covers.
void add_rrsigs(ZoneNode& node, const std::vector<std::string>& sigs, uint32_t ttl) {
    if (sigs.empty()) return;
    if (const std::optional<RRset> old = node.find(type_rrsig); old && !old->rdata.empty())
        ttl = std::min(ttl, old->ttl);
    for (const std::string& s : sigs) node.add(type_rrsig, ttl, s);
}

}  // namespace

ZoneSigner::ZoneSigner(std::string apex, std::vector<DnssecKey> keys, SignPolicy policy,
                       int64_t now)
    : apex_(lower_key(apex)), keys_(std::move(keys)), policy_(policy), now_(now) {}

std::vector<const DnssecKey*> ZoneSigner::signers_for(uint16_t type) const {
    std::vector<const DnssecKey*> out;
    for (const DnssecKey& k : keys_) {
        if (!k.active(now_) || !k.pkey || k.owner != apex_) continue;
        bool has_sep = false, has_zsk = false;
        for (const DnssecKey& o : keys_)
            if (o.algorithm == k.algorithm && o.active(now_) && o.pkey && o.owner == apex_)
                (o.sep() ? has_sep : has_zsk) = true;
        const bool want_sep = type == type_dnskey ? has_sep : !has_zsk;
        if (k.sep() == want_sep) out.push_back(&k);
    }
    return out;
}

std::vector<uint16_t> ZoneSigner::signing_tags(uint16_t type) const {
    std::vector<uint16_t> out;
    for (const DnssecKey* k : signers_for(type)) out.push_back(k->tag);
    return out;
}

uint32_t ZoneSigner::expiration(std::string_view owner, uint16_t type) const {
    const uint64_t h = hash_name(owner) ^ (uint64_t(type) * 0x9E3779B97F4A7C15ull);
    const uint32_t spread = policy_.jitter ? uint32_t(h % (uint64_t(policy_.jitter) + 1)) : 0;
    return uint32_t(now_ + policy_.validity - std::min(spread, policy_.validity / 2));
}

bool ZoneSigner::sign_rrset(std::string_view owner, uint16_t type, uint32_t ttl,
                            const std::vector<std::string_view>& rdatas,
                            std::vector<std::string>& out) const {
    // RFC 4034 §3.1.8.1: the RRSIG RDATA without its signature, then every RR in canonical
    // form and order.
    std::vector<std::string> canon;
    canon.reserve(rdatas.size());
    for (std::string_view rd : rdatas) canon.push_back(canonical_rdata(type, rd));
    std::sort(canon.begin(), canon.end());
    canon.erase(std::unique(canon.begin(), canon.end()), canon.end());
    std::string records;
    for (const std::string& rd : canon) {
        records += owner;
        put16(records, type);
        put16(records, 1);  // IN
        put32(records, ttl);
        put16(records, uint16_t(rd.size()));
        records += rd;
    }
    bool ok = true;
    for (const DnssecKey* k : signers_for(type)) {
        std::string rrsig;
        put16(rrsig, type);
        rrsig.push_back(char(k->algorithm));
        rrsig.push_back(char(rrsig_labels(owner)));
        put32(rrsig, ttl);
        put32(rrsig, expiration(owner, type));
        put32(rrsig, inception());
        put16(rrsig, k->tag);
        rrsig += apex_;
        const std::string data = rrsig + records;
        ok = k->sign(data, rrsig) && ok;
        out.push_back(std::move(rrsig));
    }
    return ok;
}

bool ZoneSigner::sign_node(std::string_view key, ZoneNode& node, NodeKind kind) const {
    std::vector<RRsetCopy> sets;
    for (RRset rs : node.rrsets())
        if (signs(kind, rs.type)) sets.push_back({rs.type, rs.ttl, rs.rdata.to_vector()});
    std::vector<std::string> sigs;
    uint32_t ttl = UINT32_MAX;
    bool ok = true;
    for (const RRsetCopy& s : sets) {
        const std::vector<std::string_view> views(s.rdatas.begin(), s.rdatas.end());
        ok = sign_rrset(key, s.type, s.ttl, views, sigs) && ok;
        ttl = std::min(ttl, s.ttl);
    }
    add_rrsigs(node, sigs, ttl);
    return ok;
}

std::string ZoneSigner::sign_zone(Zone& zone) const {
    if (lower_key(zone.apex) != apex_) return "the signer was made for another zone";
    if (signers_for(type_soa).empty() || signers_for(type_dnskey).empty())
        return "no active key signs the zone (generate one: anamectl zone key generate)";
    ZoneNode* apex = nullptr;
    if (auto* e = zone.nodes.find(apex_)) apex = &e->second;
    const std::optional<RRset> soa = apex ? apex->find(type_soa) : std::nullopt;
    if (!soa) return "the zone has no SOA at its apex";
    strip_dnssec(zone);
    apex = &zone.nodes.find(apex_)->second;
    const std::optional<RRset> dnskeys = apex->find(type_dnskey);
    const uint32_t dnskey_ttl = dnskeys ? dnskeys->ttl : soa->ttl;
    for (const DnssecKey& k : keys_) {
        const std::string rd = k.dnskey_rdata();
        if (k.owner == apex_ && k.published(now_) &&
            !apex->find(type_dnskey).value_or(RRset{}).rdata.contains(rd))
            apex->add(type_dnskey, dnskey_ttl, rd);
    }
    const uint32_t ttl = denial_ttl(zone);
    if (policy_.nsec3)
        build_nsec3_chain(zone, ttl, Nsec3Params{policy_.nsec3_opt_out, 0, {}}, &families_);
    else
        build_nsec_chain(zone, ttl, &families_);

    struct Item {
        NodeMap::value_type* entry;
        NodeKind kind;
    };
    std::vector<Item> items;
    items.reserve(zone.nodes.size());
    for (const auto& e : zone.nodes) {
        const NodeKind kind = node_kind(zone, e.first);
        if (kind != NodeKind::occluded) items.push_back({zone.nodes.find(e.first), kind});
    }
    std::atomic<bool> failed{false};
    tbb::parallel_for(tbb::blocked_range<size_t>(0, items.size(), 64),
                      [&](const tbb::blocked_range<size_t>& r) {
                          for (size_t i = r.begin(); i != r.end(); ++i) {
                              auto& [key, node] = *items[i].entry;
                              if (!sign_node(key, node, items[i].kind)) failed = true;
                          }
                      });
    return failed ? "libcrypto failed to sign" : "";
}

std::string ZoneSigner::resign(Zone& zone, std::string_view owner_in, uint16_t type) const {
    const std::string owner = lower_key(owner_in);
    NodeMap::value_type* e = zone.nodes.find(owner);
    if (!e) return "";
    ZoneNode& node = e->second;
    if (const std::optional<RRset> sigs = node.find(type_rrsig)) {
        std::vector<std::string> old;
        for (std::string_view rd : sigs->rdata)
            if (covered_type(rd) == type) old.emplace_back(rd);
        for (const std::string& rd : old) {
            const std::string_view v = rd;
            node.erase(type_rrsig, &v);
        }
    }
    const std::optional<RRset> rs = node.find(type);
    if (!rs || !signs(node_kind(zone, owner), type)) return "";
    const std::vector<std::string> copy = rs->rdata.to_vector();
    const uint32_t ttl = rs->ttl;
    std::vector<std::string> sigs;
    const bool ok = sign_rrset(owner, type, ttl, {copy.begin(), copy.end()}, sigs);
    add_rrsigs(node, sigs, ttl);
    return ok ? "" : "libcrypto failed to sign";
}

std::string ZoneSigner::sign_name(Zone& zone, std::string_view owner_in) const {
    const std::string owner = lower_key(owner_in);
    NodeMap::value_type* e = zone.nodes.find(owner);
    if (!e) return "";
    e->second.erase(type_rrsig, nullptr);
    return sign_node(owner, e->second, node_kind(zone, owner)) ? "" : "libcrypto failed to sign";
}

std::string ZoneSigner::resign_addresses(Zone& zone, std::string_view owner) const {
    std::string err = resign(zone, owner, type_a);
    if (err.empty()) err = resign(zone, owner, type_aaaa);
    return err;
}

void strip_dnssec(Zone& zone) {
    std::vector<std::string> emptied;
    for (const auto& e : zone.nodes) {
        ZoneNode& node = zone.nodes.find(e.first)->second;
        bool had = false;
        for (uint16_t t : {type_rrsig, type_nsec, type_nsec3, type_nsec3param})
            had = node.erase(t, nullptr) > 0 || had;
        if (had && node.empty()) emptied.push_back(e.first.str());
    }
    for (const std::string& k : emptied) zone.nodes.erase(k);
}

}  // namespace anamed
