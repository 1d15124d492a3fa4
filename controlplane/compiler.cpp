// The compiler: node table and index per zone, closest-cut and wildcard links, then every
// node's answer block with its additional-section data decided ahead of time.
#include "compiler.hpp"

#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

namespace anamed {
namespace {

const NodeData empty_node_data{0, 0};

unsigned count_labels(std::string_view key) {
    unsigned n = 0;
    for (size_t pos = 0; pos < key.size() && key[pos] != 0; pos += 1 + uint8_t(key[pos])) ++n;
    return n;
}

std::string_view parent_of(std::string_view key) { return key.substr(1 + uint8_t(key[0])); }

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

class Compiler {
public:
    Compiler(const std::vector<const Zone*>& zones, Snapshot& snap) : src_(zones), snap_(snap) {}

    void run(const AliasProvider& provider) {
        for (const Zone* z : src_) build_zone_nodes(*z);
        std::vector<const ZoneTable*> tables;
        for (const auto& t : snap_.zones) tables.push_back(t.get());
        snap_.zone_index.build(tables);
        for (size_t i = 0; i < src_.size(); ++i) source_[tables[i]] = src_[i];
        for (size_t i = 0; i < src_.size(); ++i) build_zone_data(*src_[i], *snap_.zones[i]);
        for (auto& a : arenas_) snap_.arenas.push_back(std::move(a));
        link_aliases(provider);
    }

private:
    void build_zone_nodes(const Zone& z) {
        auto table = std::make_unique<ZoneTable>();
        ZoneTable& zt = *table;
        zt.apex_key = z.apex;
        zt.apex_text = z.apex_text;
        zt.serial = z.serial();

        // Every owner plus the empty non-terminals between it and the apex.
        std::vector<std::string_view> names;
        names.reserve(z.nodes.size());
        std::unordered_set<std::string_view> seen;
        seen.reserve(z.nodes.size() * 2);
        for (const auto& [key, node] : z.nodes) {
            names.push_back(key);
            seen.insert(key);
        }
        std::deque<std::string> ents;
        for (size_t i = 0, n = names.size(); i < n; ++i) {
            for (std::string_view k = names[i]; k.size() > z.apex.size();) {
                k = parent_of(k);
                if (!seen.insert(k).second) break;
                names.push_back(k);
            }
        }
        if (!seen.count(z.apex)) names.push_back(z.apex);

        Arena& arena = *arenas_.emplace_back(std::make_unique<Arena>());
        zt.nodes = HugeArray<Node>(names.size());
        std::vector<const Node*> ptrs(names.size());
        for (size_t i = 0; i < names.size(); ++i) {
            Node& n = zt.nodes[i];
            n.name_len = uint8_t(names[i].size());
            if (n.name_len <= Node::inline_name) {
                std::memcpy(n.name_inline, names[i].data(), n.name_len);
            } else {
                auto* name = static_cast<uint8_t*>(arena.alloc(n.name_len, 1));
                std::memcpy(name, names[i].data(), n.name_len);
                n.name_ptr = name;
            }
            n.labels = uint8_t(count_labels(names[i]));
            n.data = &empty_node_data;
            if (const ZoneNode* zn = z.find(std::string(names[i]))) {
                const bool apex = names[i] == z.apex;
                if (apex) n.flags |= node_flag::apex;
                if (!apex && zn->find(rrtype::NS)) n.flags |= node_flag::delegation;
                if (zn->find(rrtype::DNAME)) n.flags |= node_flag::dname;
                if (zn->find(rrtype::CNAME)) n.flags |= node_flag::cname;
                if (const RRset* alias = zn->find(rrtype::ALIAS)) n.alias = alias_id(alias->rdata[0]);
            }
            ptrs[i] = &n;
        }
        zt.index.build(ptrs);
        zt.apex = zt.index.find(z.apex);

        // Links: the topmost cut above each node, and each node's wildcard child.
        tbb::parallel_for(size_t(0), zt.nodes.size(), [&](size_t i) {
            Node& n = zt.nodes[i];
            for (std::string_view k = n.key(); k.size() > z.apex.size();) {
                k = parent_of(k);
                if (k.size() <= z.apex.size()) break;
                const Node* a = zt.index.find(k);
                if (a->flags & (node_flag::delegation | node_flag::dname)) n.cut = a;
            }
        });
        for (Node& n : zt.nodes) {
            if (n.name_len > 2 && n.name()[0] == 1 && n.name()[1] == '*' && n.key().size() > z.apex.size()) {
                const_cast<Node*>(zt.index.find(parent_of(n.key())))->wildcard = &n;
            }
        }

        const RRset* soa = z.find(z.apex)->find(rrtype::SOA);
        const std::string& rd = soa->rdata[0];
        const uint32_t minimum = load32(reinterpret_cast<const uint8_t*>(rd.data()) + rd.size() - 4);
        put_rr(zt.negative_soa, placeholder, rrtype::SOA, std::min(soa->ttl, minimum), rd);
        snap_.zones.push_back(std::move(table));
    }

    uint32_t alias_id(const std::string& target) {
        const std::string key = lower_key(target);
        auto [it, added] = alias_ids_.try_emplace(key, uint32_t(snap_.alias_targets.size() + 1));
        if (added) snap_.alias_targets.push_back(key);
        return it->second;
    }

    void link_aliases(const AliasProvider& provider) {
        static const auto unresolved = std::make_shared<const AliasAnswer>();
        const size_t n = snap_.alias_targets.size();
        snap_.aliases = HugeArray<AliasSlot>(n);
        snap_.alias_owners.resize(n);
        for (size_t i = 0; i < n; ++i) {
            auto a = provider ? provider(snap_.alias_targets[i]) : nullptr;
            snap_.alias_owners[i] = a ? a : unresolved;
            snap_.aliases[i].answer = snap_.alias_owners[i].get();
        }
    }

    void build_zone_data(const Zone& z, ZoneTable& zt) {
        tbb::enumerable_thread_specific<Arena*> local([&] { return new_arena(); });
        tbb::enumerable_thread_specific<std::string> scratch;
        tbb::parallel_for(size_t(0), zt.nodes.size(), [&](size_t i) {
            Node& n = zt.nodes[i];
            const ZoneNode* zn = z.find(std::string(n.key()));
            if (zn == nullptr || zn->rrsets.empty()) return;
            n.data = build_node_data(*zn, *local.local(), scratch.local());
        });
    }

    Arena* new_arena() {
        std::lock_guard<std::mutex> lock(arena_mu_);  // once per thread per zone
        return arenas_.emplace_back(std::make_unique<Arena>()).get();
    }

    const NodeData* build_node_data(const ZoneNode& zn, Arena& arena, std::string& bytes) {
        bytes.clear();
        const uint32_t ntypes = uint32_t(zn.rrsets.size());
        TypeEntry entries[64];
        std::vector<TypeEntry> big;
        TypeEntry* e = ntypes <= 64 ? entries : (big.resize(ntypes), big.data());
        for (uint32_t t = 0; t < ntypes; ++t) {
            const RRset& rs = zn.rrsets[t];
            e[t] = TypeEntry{rs.type, uint16_t(rs.rdata.size()), 0, 0, uint32_t(bytes.size()), 0, 0};
            for (const auto& rd : rs.rdata) put_rr(bytes, placeholder, rs.type, rs.ttl, rd);
            e[t].rr_len = uint32_t(bytes.size() - e[t].rr_off);
            const size_t add_start = bytes.size();
            e[t].add_count = add_addresses(rs, bytes);
            e[t].add_len = uint32_t(bytes.size() - add_start);
        }
        void* mem = arena.alloc(NodeData::size_for(ntypes, uint32_t(bytes.size())), alignof(NodeData));
        auto* d = new (mem) NodeData{ntypes, uint32_t(bytes.size())};
        std::memcpy(const_cast<TypeEntry*>(d->entries()), e, ntypes * sizeof(TypeEntry));
        std::memcpy(const_cast<uint8_t*>(d->bytes()), bytes.data(), bytes.size());
        return d;
    }

    // A/AAAA of in-zone targets, owner written in full.
    uint16_t add_addresses(const RRset& rs, std::string& out) {
        const int off = target_offset(rs.type);
        if (off < 0) return 0;
        uint16_t count = 0;
        std::vector<std::string_view> done;
        for (const auto& rd : rs.rdata) {
            if (rd.size() <= size_t(off)) continue;
            const std::string_view target(rd.data() + off, rd.size() - off);
            if (std::find(done.begin(), done.end(), target) != done.end()) continue;
            done.push_back(target);
            const ZoneNode* zn = lookup(lower_key(target), rs.type == rrtype::NS);
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

    // Data for a name in any zone served. Glue (below a cut) only when asked for.
    const ZoneNode* lookup(const std::string& key, bool glue_ok) const {
        Name n;
        if (parse_name(reinterpret_cast<const uint8_t*>(key.data()), key.size(), n) == 0) return nullptr;
        const ZoneTable* zt = snap_.find_zone(n);
        if (zt == nullptr) return nullptr;
        const Node* node = zt->index.find(key);
        if (node == nullptr) return nullptr;
        if (!glue_ok && (node->cut != nullptr || (node->flags & node_flag::delegation))) return nullptr;
        return source_.at(zt)->find(key);
    }

    const std::vector<const Zone*>& src_;
    Snapshot& snap_;
    std::vector<std::unique_ptr<Arena>> arenas_;
    std::mutex arena_mu_;
    std::unordered_map<const ZoneTable*, const Zone*> source_;
    std::unordered_map<std::string, uint32_t> alias_ids_;
};

}  // namespace

std::unique_ptr<Snapshot> compile(const std::vector<const Zone*>& zones, uint64_t generation,
                                  const AliasProvider& aliases) {
    auto snap = std::make_unique<Snapshot>();
    snap->generation = generation;
    Compiler(zones, *snap).run(aliases);
    return snap;
}

std::vector<std::string> alias_targets(const std::vector<const Zone*>& zones) {
    std::vector<std::string> out;
    std::unordered_set<std::string> seen;
    for (const Zone* z : zones)
        for (const auto& [key, node] : z->nodes)
            if (const RRset* a = node.find(rrtype::ALIAS))
                if (seen.insert(lower_key(a->rdata[0])).second) out.push_back(lower_key(a->rdata[0]));
    return out;
}

}  // namespace anamed
