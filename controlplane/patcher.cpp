#include "patcher.hpp"

#include <algorithm>
#include <cstring>

#include "anamed/denial.hpp"

namespace anamed {
namespace {

const Node tombstone{};  // name_len 0: matches no key, keeps probe chains intact

std::string_view entry_bytes(const NodeData* d, uint16_t type) {
    const TypeEntry* e = d->find(type);
    return e ? std::string_view(reinterpret_cast<const char*>(d->bytes()) + e->rr_off, e->rr_len)
             : std::string_view();
}

}  // namespace

const ZoneNode* Patcher::lookup(std::string_view key, bool glue_ok) const {
    const ZoneTable* zt = nullptr;
    if (find_served(live_, key, glue_ok, zt) == nullptr) return nullptr;
    const Zone* z = zones_(zt->apex_text);
    return z ? z->find(key) : nullptr;
}

std::string Patcher::plan(const ChangeOutcome& outcome) {
    steps_.clear();
    planned_.clear();
    for (const auto& [apex, keys] : outcome.changed) {
        const ZoneTable* found = live_.zone_index.find(apex);
        ZoneTable* zt = found ? &live_.table(found) : nullptr;
        const Zone* z = zt ? zones_(zt->apex_text) : nullptr;
        if (z == nullptr) return "zone not in the live snapshot";
        const size_t before = steps_.size();
        for (const auto& key : keys)
            if (std::string why = plan_one(*zt, *z, key); !why.empty())
                return name_to_text(key) + ": " + why;
        size_t inserts = 0;
        for (size_t i = before; i < steps_.size(); ++i) inserts += steps_[i].kind == Kind::insert;
        if (!zt->index.can_insert(inserts)) return "the name index is full";
    }
    return "";
}

std::string Patcher::plan_one(ZoneTable& zt, const Zone& z, const std::string& key) {
    Step s;
    s.zone = &zt;
    s.key = key;
    if (const Node* n = zt.index.find(key)) s.node = &live_.node(zt, n);
    const ZoneNode* zn = z.find(key);
    if (zn && zn->empty()) zn = nullptr;
    if (live_.additional_targets.count(key) && !s.node)
        return "named in other records' additional data";
    if (zn) {
        const bool apex = key == z.apex;
        s.flags = node_flags(*zn, apex);
        const DenialChain* chain = zt.denial_chain();
        if (chain)
            s.in_chain =
                zn->has(chain->kind == DenialChain::nsec3_chain ? rrtype::NSEC3 : rrtype::NSEC);
        if (const auto a = zn->find(rrtype::ALIAS); a && !chain) {
            auto it = alias_slot_.find(lower_key(a->rdata[0]));
            if (it == alias_slot_.end()) return "a new ALIAS target";
            s.alias = it->second + 1;
        }
        build_node(
            *zn, key, apex ? zn->find(rrtype::SOA) : std::nullopt,
            [this](std::string_view k, bool glue) { return lookup(k, glue); }, s.built);
        // An ALIAS owner in a signed zone answers from a slot of its own (its signed
        // addresses), which it keeps while its ALIAS record stays as it was.
        if (chain && zn->has(rrtype::ALIAS)) {
            if (s.node == nullptr || s.node->alias == 0 ||
                entry_bytes(s.node->load_data(), rrtype::ALIAS) !=
                    entry_bytes(reinterpret_cast<const NodeData*>(s.built.bytes.data()),
                                rrtype::ALIAS))
                return "an ALIAS record in a signed zone changes";
            s.alias = s.node->alias;
        }
    }
    if (s.node) {
        if (zn) {
            if (s.flags != s.node->flags) return "its delegation/DNAME/CNAME status changes";
            s.kind = Kind::replace;
        } else if (live_.children(zt, s.node) == 0) {
            s.kind = Kind::remove;
        } else {
            if (s.node->flags & (node_flag::delegation | node_flag::dname | node_flag::cname))
                return "its delegation/DNAME/CNAME status changes";
            s.kind = Kind::to_ent;
        }
        if (live_.additional_targets.count(key)) {
            const NodeData* old = s.node->load_data();
            const NodeData* now = s.kind == Kind::replace
                                      ? reinterpret_cast<const NodeData*>(s.built.bytes.data())
                                      : &empty_node_data;
            for (uint16_t t : {rrtype::A, rrtype::AAAA})
                if (entry_bytes(old, t) != entry_bytes(now, t))
                    return "its addresses are copied into other answers";
        }
        if (s.kind == Kind::remove) {
            const Node* parent = zt.index.find(parent_of(key));
            if (parent && live_.children(zt, parent) == 1 && parent->load_data()->ntypes == 0 &&
                !(parent->flags & node_flag::apex))
                return "removing it empties a non-terminal";
        }
    } else {
        if (!zn) return "";  // nothing there, nothing to do
        // Empty non-terminals between the new name and its closest existing ancestor.
        for (std::string_view k = parent_of(key); k.size() > z.apex.size() && !zt.index.find(k);
             k = parent_of(k)) {
            if (planned_.count(std::string(k))) break;
            if (live_.additional_targets.count(std::string(k)))
                return "named in other records' additional data";
            Step ent{Kind::insert, &zt, nullptr, std::string(k)};
            planned_[ent.key] = steps_.size();
            steps_.push_back(std::move(ent));
        }
        s.kind = Kind::insert;
        if (auto it = planned_.find(key); it != planned_.end()) {  // planned as an ENT already
            steps_[it->second] = std::move(s);
            return "";
        }
        planned_[key] = steps_.size();
    }
    steps_.push_back(std::move(s));
    return "";
}

Node* Patcher::parent_node(ZoneTable& zt, std::string_view key) {
    const Node* p = zt.index.find(parent_of(key));
    return p ? &live_.node(zt, p) : nullptr;
}

namespace {

const Node* node_of(const Node* n) {
    return n;
}
const Node* node_of(const DenialChain::Hashed& h) {
    return h.node;
}

// One name in a chain kept in `before` order: `item` in it when `in`, out of it when not
// (`same`: an entry for the same name). `edit` gives the vector to change, copied at its
// first use; nothing is copied when the chain already holds what it should.
template <class T, class Before, class Same, class Edit>
void keep_in_chain(const std::vector<T>& now, const T& item, bool in, Before before, Same same,
                   Edit edit) {
    const auto at = std::lower_bound(now.begin(), now.end(), item, before);
    const bool there = at != now.end() && same(*at, item);
    if (in == there && (!there || node_of(*at) == node_of(item))) return;
    const ptrdiff_t i = at - now.begin();
    std::vector<T>& v = edit();
    if (!there)
        v.insert(v.begin() + i, item);
    else if (!in)
        v.erase(v.begin() + i);
    else
        v[size_t(i)] = item;  // the name left and came back as a new node
}

}  // namespace

std::unique_ptr<const DenialChain> Patcher::patched_chain(const ZoneTable& zt) const {
    const DenialChain* old = zt.denial_chain();
    if (old == nullptr || old->kind == DenialChain::none) return nullptr;
    std::unique_ptr<DenialChain> next;
    auto copy = [&]() -> DenialChain& {
        if (!next) next = std::make_unique<DenialChain>(*old);
        return *next;
    };
    for (const Step& s : steps_) {
        if (s.zone != &zt || s.node == nullptr) continue;
        const DenialChain& now = next ? *next : *old;
        if (old->kind == DenialChain::nsec_chain) {
            keep_in_chain(
                now.nsec, static_cast<const Node*>(s.node), s.in_chain,
                [](const Node* a, const Node* b) {
                    return canonical_compare(a->key(), b->key()) < 0;
                },
                [](const Node* a, const Node* b) { return a->key() == b->key(); },
                [&]() -> auto& { return copy().nsec; });
            continue;
        }
        DenialChain::Hashed h{};
        const std::string_view key = s.key;
        if (!nsec3_label_hash(key.substr(1, uint8_t(key[0])), h.hash)) continue;
        h.node = s.node;
        using H = DenialChain::Hashed;
        keep_in_chain(
            now.nsec3, h, s.in_chain,
            [](const H& a, const H& b) { return std::memcmp(a.hash, b.hash, sizeof a.hash) < 0; },
            [](const H& a, const H& b) { return std::memcmp(a.hash, b.hash, sizeof a.hash) == 0; },
            [&]() -> auto& { return copy().nsec3; });
    }
    return next;
}

void Patcher::apply(Retired& retired) {
    // Parents before children, so that every insert finds its parent in the index.
    auto depth = [](const Step& s) { return s.kind == Kind::insert ? s.key.size() : 0; };
    std::stable_sort(steps_.begin(), steps_.end(),
                     [&](const Step& a, const Step& b) { return depth(a) < depth(b); });
    auto swap_data = [&](Node* n, const BuiltNode* b) {
        const NodeData* d = &empty_node_data;
        if (b) {
            std::unique_ptr<uint8_t[]> block(new uint8_t[node_alloc_size(*b)]);
            d = place_node(*b, block.get());
            auto& owned = live_.patched_data[n];
            if (owned) retired.blocks.push_back(std::move(owned));
            owned = std::move(block);
        }
        std::atomic_ref<const NodeData*>(n->data).store(d, std::memory_order_release);
    };
    for (Step& s : steps_) {
        live_.additional_targets.insert(s.built.targets.begin(), s.built.targets.end());
        switch (s.kind) {
        case Kind::replace:
            swap_data(s.node, &s.built);
            std::atomic_ref<uint32_t>(s.node->alias).store(s.alias, std::memory_order_relaxed);
            break;
        case Kind::to_ent:
            std::atomic_ref<uint32_t>(s.node->alias).store(0, std::memory_order_relaxed);
            swap_data(s.node, nullptr);
            break;
        case Kind::remove: {
            Node* parent = parent_node(*s.zone, s.key);
            s.zone->index.remove(s.key, &tombstone);
            std::atomic_ref<const NodeData*>(s.node->data)
                .store(&removed_node_data, std::memory_order_release);
            if (parent) {
                --live_.children(*s.zone, parent);
                if (parent->load_wildcard() == s.node)
                    std::atomic_ref<const Node*>(parent->wildcard)
                        .store(nullptr, std::memory_order_release);
            }
            break;
        }
        case Kind::insert: {
            Node* parent = parent_node(*s.zone, s.key);
            Node* n = new (live_.patch_nodes.alloc(sizeof(Node), alignof(Node))) Node{};
            n->name_len = uint8_t(s.key.size());
            if (n->name_len <= Node::inline_name) {
                std::memcpy(n->name_inline, s.key.data(), s.key.size());
            } else {
                auto* name = static_cast<uint8_t*>(live_.patch_nodes.alloc(s.key.size(), 1));
                std::memcpy(name, s.key.data(), s.key.size());
                std::memcpy(n->name_inline, &name, sizeof name);
            }
            n->labels = uint8_t(count_labels(s.key));
            n->flags = s.flags;
            n->alias = s.alias;
            const bool parent_cuts = (parent->flags & (node_flag::delegation | node_flag::dname)) &&
                                     !(parent->flags & node_flag::apex);
            n->cut = parent->cut ? parent->cut : parent_cuts ? parent : nullptr;
            n->data = &empty_node_data;
            if (!s.built.bytes.empty()) swap_data(n, &s.built);  // else an empty non-terminal
            live_.add_patched(*n);
            s.node = n;
            s.zone->index.insert(n);  // publishes the node (release)
            ++live_.children(*s.zone, parent);
            if (s.key.size() > 2 && s.key[0] == 1 && s.key[1] == '*')
                std::atomic_ref<const Node*>(parent->wildcard).store(n, std::memory_order_release);
            break;
        }
        }
    }
    // The chains last: for the moment between, a proof may name a neighbour's record that
    // the change has just rewritten.
    std::vector<ZoneTable*> zones;
    for (const Step& s : steps_)
        if (std::find(zones.begin(), zones.end(), s.zone) == zones.end()) zones.push_back(s.zone);
    for (ZoneTable* zt : zones) {
        std::unique_ptr<const DenialChain> chain = patched_chain(*zt);
        if (!chain) continue;
        zt->patched_denial.store(chain.get(), std::memory_order_release);
        auto& owned = live_.patched_denial[zt];
        if (owned) retired.chains.push_back(std::move(owned));
        owned = std::move(chain);
    }
    steps_.clear();
}

}  // namespace anamed
