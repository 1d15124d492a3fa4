// The compiler: node table and index per zone, closest-cut and wildcard links, then every
// node's answer block with its additional-section data decided ahead of time.
#include "compiler.hpp"

#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <deque>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "denial_chain.hpp"
#include "node_builder.hpp"

namespace anamed {
namespace {

class Compiler {
public:
    Compiler(const std::vector<const Zone*>& zones, LiveSnapshot& snap, const OwnedAliases* owned)
        : src_(zones), snap_(snap), owned_(owned) {}

    void run(const AliasProvider& provider) {
        for (const Zone* z : src_) build_zone_nodes(*z);
        std::vector<const ZoneTable*> tables;
        for (const auto& t : snap_.zones) tables.push_back(t.get());
        snap_.zone_index.build(tables);
        if (tables.size() <= Snapshot::few_zones_max) {
            for (const ZoneTable* t : tables)
                snap_.few_zones.push_back({reinterpret_cast<const uint8_t*>(t->apex_key.data()),
                                           uint32_t(t->apex_key.size()), t->apex->labels, t});
            std::sort(snap_.few_zones.begin(), snap_.few_zones.end(),
                      [](const Snapshot::ZoneKey& a, const Snapshot::ZoneKey& b) {
                          return a.len > b.len;
                      });
        }
        snap_.nested_zones = any_nested(tables);
        for (size_t i = 0; i < src_.size(); ++i) source_[tables[i]] = sources_[i].data();
        for (size_t i = 0; i < src_.size(); ++i) {
            build_zone_data(*src_[i], *snap_.zones[i], sources_[i]);
            snap_.zones[i]->denial = build_denial_chain(*src_[i], *snap_.zones[i], sources_[i]);
        }
        for (auto& a : arenas_) snap_.arenas.push_back(std::move(a));
        link_aliases(provider);
        // Fault in the first page of the runtime-change arena now, not on the first change.
        std::memset(snap_.patch_nodes.alloc(sizeof(Node), alignof(Node)), 0, sizeof(Node));
    }

private:
    // Whether some apex lies below another: each apex's ancestors looked up among the apexes
    // (linear in the zones: a server may have 100,000).
    static bool any_nested(const std::vector<const ZoneTable*>& tables) {
        std::unordered_set<std::string_view> apexes;
        for (const ZoneTable* t : tables) apexes.insert(t->apex_key);
        for (const ZoneTable* t : tables)
            for (std::string_view k = t->apex_key; k.size() > 1;)
                if (apexes.count(k = parent_of(k))) return true;
        return false;
    }

    void build_zone_nodes(const Zone& z) {
        auto table = std::make_unique<ZoneTable>();
        ZoneTable& zt = *table;
        zt.apex_key = z.apex;
        zt.apex_text = z.apex_text;
        zt.serial = z.serial();
        std::vector<std::string_view> names;
        std::vector<const ZoneNode*> data;
        collect_names(z, names, data);
        zt.index.build(fill_nodes(z, zt, names, data));
        zt.apex = zt.index.find(z.apex);
        link_nodes(z, zt);
        snap_.zones.push_back(std::move(table));
        sources_.push_back(std::move(data));
    }

    // Every owner plus the empty non-terminals between it and the apex (data null), in the
    // zone's order, which is the order the loader added them in: every pass below walks the
    // zone data forwards through memory.
    static void collect_names(const Zone& z, std::vector<std::string_view>& names,
                              std::vector<const ZoneNode*>& data) {
        names.reserve(z.nodes.size());
        data.reserve(z.nodes.size());
        for (const auto& [key, node] : z.nodes) {
            names.push_back(key);
            data.push_back(&node);
        }
        tbb::enumerable_thread_specific<std::vector<std::string_view>>
            missing;  // parents without data
        tbb::parallel_for(tbb::blocked_range<size_t>(0, names.size(), 4096),
                          [&](const tbb::blocked_range<size_t>& r) {
                              auto& m = missing.local();
                              for (size_t i = r.begin(); i < r.end(); ++i)
                                  for (std::string_view k = names[i]; k.size() > z.apex.size();) {
                                      k = parent_of(k);
                                      // In file order a name often follows its parent (www.c1 after
                                      // c1).
                                      if ((i > 0 && names[i - 1] == k) || z.find(k) != nullptr)
                                          break;
                                      m.push_back(k);
                                  }
                          });
        std::unordered_set<std::string_view> ents;
        for (const auto& m : missing)
            for (std::string_view k : m)
                if (ents.insert(k).second) {
                    names.push_back(k);
                    data.push_back(nullptr);
                }
        if (z.find(z.apex) == nullptr) {
            names.push_back(z.apex);
            data.push_back(nullptr);
        }
    }

    // The node table: names, label counts and flags, in parallel but for the names too long
    // to sit inline (arena) and the ALIAS owners (alias_ids_), marked there and done after in
    // node order.
    // Returns the nodes' addresses, for the index.
    std::vector<const Node*> fill_nodes(const Zone& z, ZoneTable& zt,
                                        const std::vector<std::string_view>& names,
                                        const std::vector<const ZoneNode*>& data) {
        if (names_arena_ == nullptr) names_arena_ = new_arena();
        Arena& arena = *names_arena_;
        zt.nodes = HugeArray<Node>(names.size(), /*defer_huge=*/true);  // written in order
        std::vector<const Node*> ptrs(names.size());
        std::vector<uint8_t> serial(names.size());
        const bool owns_aliases = owned_ && owned_->owns && owned_->owns(lower_key(z.apex));
        tbb::parallel_for(tbb::blocked_range<size_t>(0, names.size(), 4096),
                          [&](const tbb::blocked_range<size_t>& r) {
                              for (size_t i = r.begin(); i < r.end(); ++i) {
                                  Node& n = zt.nodes[i];
                                  ptrs[i] = &n;
                                  n.name_len = uint8_t(names[i].size());
                                  n.labels = uint8_t(count_labels(names[i]));
                                  n.data = &empty_node_data;
                                  if (n.name_len <= Node::inline_name)
                                      std::memcpy(n.name_inline, names[i].data(), n.name_len);
                                  else
                                      serial[i] = 1;
                                  if (const ZoneNode* zn = data[i]) {
                                      n.flags = node_flags(*zn, names[i] == z.apex);
                                      if (zn->has(rrtype::ALIAS)) serial[i] = 1;
                                  }
                              }
                          });
        for (size_t i = 0; i < names.size(); ++i) {
            if (!serial[i]) continue;
            Node& n = zt.nodes[i];
            if (n.name_len > Node::inline_name) {
                auto* name = static_cast<uint8_t*>(arena.alloc(n.name_len, 1));
                std::memcpy(name, names[i].data(), n.name_len);
                std::memcpy(n.name_inline, &name, sizeof name);
            }
            if (data[i] != nullptr)
                if (const auto alias = data[i]->find(rrtype::ALIAS))
                    n.alias = owns_aliases ? owned_alias_id(*alias, z.apex, names[i])
                                           : alias_id(alias->rdata[0]);
        }
        return ptrs;
    }

    // Links: the topmost cut above each node, each node's wildcard child, and how many
    // children each node has (for the patcher).
    void link_nodes(const Zone& z, ZoneTable& zt) {
        // An ancestor of node i: often the node just before it (see collect_names), or the apex.
        auto ancestor = [&](size_t i, std::string_view k) -> Node& {
            if (i > 0 && same_bytes(zt.nodes[i - 1].key(), k)) return zt.nodes[i - 1];
            const Node* a =
                zt.apex != nullptr && same_bytes(zt.apex->key(), k) ? zt.apex : zt.index.find(k);
            return zt.nodes[size_t(a - zt.nodes.begin())];  // every ancestor is in the table
        };
        tbb::parallel_for(size_t(0), zt.nodes.size(), [&](size_t i) {
            Node& n = zt.nodes[i];
            for (std::string_view k = n.key(); k.size() > z.apex.size();) {
                k = parent_of(k);
                if (k.size() <= z.apex.size()) break;
                const Node& a = ancestor(i, k);
                if (a.flags & (node_flag::delegation | node_flag::dname)) n.cut = &a;
            }
        });
        std::vector<uint32_t> children(zt.nodes.size(), 0);
        for (size_t i = 0; i < zt.nodes.size(); ++i) {
            Node& n = zt.nodes[i];
            if (n.key().size() <= z.apex.size()) continue;
            Node& parent = ancestor(i, parent_of(n.key()));
            ++children[size_t(&parent - zt.nodes.begin())];
            if (n.name_len > 2 && n.name()[0] == 1 && n.name()[1] == '*') parent.wildcard = &n;
        }
        snap_.add_zone(zt, std::move(children));
    }

    uint32_t alias_id(std::string_view target) {
        const std::string key = lower_key(target);
        auto [it, added] = alias_ids_.try_emplace(key, uint32_t(snap_.alias_targets.size() + 1));
        if (added) snap_.alias_targets.push_back(key);
        return it->second;
    }

    // A slot of the owner's own: its answer is made from the target's in link_aliases.
    uint32_t owned_alias_id(const RRset& alias, std::string_view apex, std::string_view owner) {
        const uint32_t slot = uint32_t(snap_.alias_targets.size());
        snap_.alias_targets.push_back(lower_key(alias.rdata[0]));
        snap_.owned_aliases.push_back({lower_key(apex), std::string(owner), alias.ttl, slot});
        return slot + 1;
    }

    void link_aliases(const AliasProvider& provider) {
        static const auto unresolved = std::make_shared<const AliasAnswer>();
        const size_t n = snap_.alias_targets.size();
        snap_.aliases = HugeArray<AliasSlot>(n);
        snap_.alias_owners.resize(n);
        std::unordered_map<std::string_view, std::shared_ptr<const AliasAnswer>> shared;
        for (size_t i = 0; i < n; ++i) {
            auto [it, added] = shared.try_emplace(snap_.alias_targets[i]);
            if (added) {
                auto a = provider ? provider(snap_.alias_targets[i]) : nullptr;
                it->second = a ? a : unresolved;
            }
            snap_.alias_owners[i] = it->second;
        }
        // Owners' own answers (signing them is the slow part): in parallel.
        tbb::parallel_for(size_t(0), snap_.owned_aliases.size(), [&](size_t k) {
            const AliasOwner& o = snap_.owned_aliases[k];
            auto& slot = snap_.alias_owners[o.slot];
            if (auto a = owned_->answer ? owned_->answer(o, slot) : nullptr) slot = std::move(a);
        });
        for (size_t i = 0; i < n; ++i) snap_.aliases[i].answer = snap_.alias_owners[i].get();
    }

    // data[i]: the source of zt.nodes[i] (null for an empty non-terminal).
    void build_zone_data(const Zone& z, ZoneTable& zt, const std::vector<const ZoneNode*>& data) {
        tbb::enumerable_thread_specific<BuiltNode> scratch;
        tbb::enumerable_thread_specific<std::unordered_set<std::string>>
            targets;  // most repeat (one MX host)
        // Most targets repeat from node to node (every customer's MX host): the last answer
        // per thread is kept.
        struct LastLookup {
            std::string key;
            bool glue_ok = false, valid = false;
            const ZoneNode* found = nullptr;
        };
        tbb::enumerable_thread_specific<LastLookup> last;
        const std::optional<RRset> soa = z.find(z.apex)->find(rrtype::SOA);
        // The thread's locals are looked up once per range (a lookup per node was 5% of a
        // load's instructions).
        tbb::parallel_for(
            tbb::blocked_range<size_t>(0, zt.nodes.size(), 1024),
            [&](const tbb::blocked_range<size_t>& r) {
                LastLookup& l = last.local();
                const NodeLookup lookup = [this, &l](std::string_view key, bool glue_ok) {
                    if (!l.valid || l.glue_ok != glue_ok || l.key != key) {
                        l.key = key;
                        l.glue_ok = glue_ok;
                        l.found = this->lookup(key, glue_ok);
                        l.valid = true;
                    }
                    return l.found;
                };
                BuiltNode& b = scratch.local();
                Arena& arena = *thread_arena_.local();
                auto& seen = targets.local();
                for (size_t i = r.begin(); i < r.end(); ++i) {
                    Node& n = zt.nodes[i];
                    const ZoneNode* zn = data[i];
                    if (zn == nullptr || zn->empty()) continue;
                    build_node(*zn, n.key(), (n.flags & node_flag::apex) ? soa : std::nullopt,
                               lookup, b);
                    // A CNAME's target often comes just before it in the file (www.c1 CNAME c1).
                    auto chase_target = [&]() -> const Node* {
                        if (i > 0 && same_bytes(zt.nodes[i - 1].key(), b.chase))
                            return &zt.nodes[i - 1];
                        return zt.index.find(b.chase);
                    };
                    if (!b.chase.empty())
                        if (const Node* t = chase_target();
                            t != nullptr && t >= zt.nodes.begin() && t < zt.nodes.end()) {
                            const uint32_t hint = uint32_t(t - zt.nodes.begin()) + 1;
                            std::memcpy(b.bytes.data() + offsetof(NodeData, chase), &hint,
                                        sizeof hint);
                        }
                    n.data = place_node(b, arena.alloc(node_alloc_size(b), alignof(NodeData)));
                    seen.insert(b.targets.begin(), b.targets.end());
                }
            });
        for (const auto& t : targets) snap_.additional_targets.insert(t.begin(), t.end());
    }

    Arena* new_arena() {
        std::lock_guard<std::mutex> lock(arena_mu_);  // once per thread per compile
        return arenas_.emplace_back(std::make_unique<Arena>(/*defer_huge=*/true)).get();
    }

    // Data for a name in any zone served. Glue (below a cut) only when asked for.
    const ZoneNode* lookup(std::string_view key, bool glue_ok) const {
        const ZoneTable* zt = nullptr;
        const Node* node = find_served(snap_, key, glue_ok, zt);
        return node ? source_.at(zt)[size_t(node - zt->nodes.begin())] : nullptr;
    }

    const std::vector<const Zone*>& src_;
    LiveSnapshot& snap_;
    const OwnedAliases* owned_;
    // Shared by all zones: a small zone takes a few hundred bytes of them, not a chunk.
    std::vector<std::unique_ptr<Arena>> arenas_;
    std::mutex arena_mu_;
    Arena* names_arena_ = nullptr;  // names too long to sit in their node
    tbb::enumerable_thread_specific<Arena*> thread_arena_{[this] { return new_arena(); }};
    std::unordered_map<const ZoneTable*, const ZoneNode* const*>
        source_;                                         // aligned with the table's nodes
    std::vector<std::vector<const ZoneNode*>> sources_;  // per zone, aligned with its nodes
    std::unordered_map<std::string, uint32_t> alias_ids_;
};

}  // namespace

std::unique_ptr<LiveSnapshot> compile(const std::vector<const Zone*>& zones, uint64_t generation,
                                      const AliasProvider& aliases, const OwnedAliases* owned) {
    auto snap = std::make_unique<LiveSnapshot>();
    snap->generation = generation;
    Compiler(zones, *snap, owned).run(aliases);
    return snap;
}

std::vector<std::string> alias_targets(const std::vector<const Zone*>& zones) {
    std::vector<std::string> out;
    std::unordered_set<std::string> seen;
    for (const Zone* z : zones)
        for (const auto& [key, node] : z->nodes)
            if (node.has(rrtype::ALIAS))  // without reading the node's block
                if (const auto a = node.find(rrtype::ALIAS);
                    seen.insert(lower_key(a->rdata[0])).second)
                    out.push_back(lower_key(a->rdata[0]));
    return out;
}

}  // namespace anamed
