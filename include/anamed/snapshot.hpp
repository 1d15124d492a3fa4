// The AnswerTable: an immutable, precompiled image of every zone, read by the dataplane.
//
// Built by the control plane's compiler, published whole through Published<Snapshot>.
// Per-node answer blocks (NodeData) sit behind one pointer each so that a later change to a
// single name can swap that block alone; the index and the zone list only change on a
// structural rebuild.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "anamed/huge_array.hpp"
#include "anamed/identity.hpp"
#include "anamed/rr_types.hpp"
#include "anamed/wire.hpp"

namespace anamed {

// Resource records are stored ready to copy into a response:
//   [C0 0C][type][class][ttl][rdlen][rdata]
// The first two bytes are an owner placeholder: a compression pointer that respond()
// rewrites when the owner is not the question name.
inline constexpr size_t rr_fixed = 12;  // placeholder(2) + type + class + ttl(4) + rdlen
inline constexpr size_t rr_ttl_at = 6;  // where a record's TTL starts

// Calls f(type, ttl, rdata) for each record of `rrs`, stored as above (a record cut short
// ends the walk). For the control plane, which reads stored answers back.
template <class F>
void for_each_stored_rr(std::string_view rrs, F&& f) {
    const auto* p = reinterpret_cast<const uint8_t*>(rrs.data());
    for (size_t at = 0; at + rr_fixed <= rrs.size();) {
        const size_t len = load16(p + at + 10);
        if (at + rr_fixed + len > rrs.size()) return;
        f(load16(p + at + 2), load32(p + at + rr_ttl_at), rrs.substr(at + rr_fixed, len));
        at += rr_fixed + len;
    }
}

// Names inside the RDATA of the types that compress them (rr_flag::compress: RFC 1035's
// own, RFC 3597 §4) and the owners of additional records are compressed (RFC 1035 §4.1.4) within
// their block: an RRset and its additional records, which respond() copies as one piece.
// Where a block lands in the packet is known only then, so each such pointer is stored as
// 0xC000 | v, listed in the block's fixups, and resolved by respond():
//   v < ptr_owner_suffix        offset v in the block itself;
//   v = ptr_owner_suffix | k    the suffix with k labels of the name being answered, where
//                               respond() wrote it (the question, or an earlier target).
// Matches are exact, so that RDATA keeps its case: an owner suffix is offered in lower case
// only, and respond() writes the name out in full when the client asked in another case.
inline constexpr uint16_t ptr_owner_suffix = 0x3F80;

struct TypeEntry {
    uint16_t type;
    uint16_t rr_count;  // records in the RRset
    // Precomputed additional records (A/AAAA of MX/NS/SRV targets). An RRSIG entry has
    // none: there it holds the type its signatures cover (covered()).
    uint16_t add_count;
    uint16_t fixups;  // compression pointers in the block to resolve (see above)
    uint32_t rr_off;  // into NodeData::bytes()
    uint32_t rr_len;
    uint32_t add_len;  // additional records follow the RRset directly, then the fixups:
                       // the pointers' offsets in the block, 16-bit big-endian, ascending
    const uint8_t* fixup_list(const uint8_t* bytes) const {
        return bytes + rr_off + rr_len + add_len;
    }
    uint16_t covered() const { return add_count; }
};

// One node's answers: a header, ntypes entries sorted by type, then the record bytes.
// A signed node's RRSIGs are entries of type RRSIG, one per type they cover (covered()), so
// that a DO=0 answer reads exactly the bytes it reads in an unsigned zone and a DO=1 answer
// adds one more block: the precompiled signatures of the RRset it wrote.
struct NodeData {
    // The negative-answer SOA (TTL = min(SOA TTL, MINIMUM), RFC 2308 §5) rides in the apex's
    // block under this pseudo-type, so that it changes with the apex (serial bumps) in one swap.
    static constexpr uint16_t negative_soa_type = 0;

    uint32_t ntypes;
    uint32_t bytes_len;
    // For a CNAME whose target is a name of the same zone: 1 + the target's index in the
    // zone's node table, so that respond_burst can fetch the target before the chase needs
    // it, and its direct path take the target from it once the name matches (0: none).
    // Answers never depend on the hint being right.
    uint32_t chase;

    const TypeEntry* entries() const { return reinterpret_cast<const TypeEntry*>(this + 1); }
    const uint8_t* bytes() const { return reinterpret_cast<const uint8_t*>(entries() + ntypes); }
    const TypeEntry* find(uint16_t type) const {
        const TypeEntry* e = entries();
        for (uint32_t i = 0; i < ntypes; ++i)
            if (e[i].type == type) return &e[i];
        return nullptr;
    }
    const TypeEntry* negative_soa() const { return find(negative_soa_type); }
    // The RRSIGs covering `type` (negative_soa_type: the negative SOA's, with its TTL).
    const TypeEntry* find_sig(uint16_t type) const {
        const TypeEntry* e = entries();
        for (uint32_t i = 0; i < ntypes; ++i)
            if (e[i].type == rrtype::RRSIG && e[i].covered() == type) return &e[i];
        return nullptr;
    }
    // The TTL of e's records: an RRset's records share one (RFC 2181 §5.2).
    uint32_t ttl(const TypeEntry& e) const { return load32(bytes() + e.rr_off + rr_ttl_at); }
    static size_t size_for(uint32_t ntypes, uint32_t bytes_len) {
        return sizeof(NodeData) + ntypes * sizeof(TypeEntry) + bytes_len;
    }
};
static_assert(sizeof(NodeData) % alignof(TypeEntry) == 0);

// The answers of a node whose name was deleted at runtime. No lookup reaches it any more (its
// index slot is a tombstone), but a CNAME's chase hint may still name it, so respond_burst
// checks for this block before it answers from a hinted node.
extern const NodeData removed_node_data;

// The flattened addresses of one ALIAS target, shared by every name that points at it, so
// that a target whose addresses move is republished by swapping one pointer.
struct AliasAnswer {
    enum State : uint8_t {
        unresolved,  // never resolved: names serve their own A/AAAA (fallback) or SERVFAIL
        resolved,    // addresses (possibly none: NODATA) below, TTL = min along the chain
        failed,      // upstreams failed past the stale limit: SERVFAIL for A/AAAA
    };
    State state = unresolved;
    uint16_t a_count = 0, aaaa_count = 0;
    std::string a, aaaa;  // records with the owner placeholder, like NodeData bytes
    // An owner in a zone signed here has an answer of its own: the target's addresses and
    // the owner's RRSIGs over them, made before the answer is published, so that one swap
    // moves addresses and signatures together. Empty for shared answers.
    uint16_t a_sig_count = 0, aaaa_sig_count = 0;
    std::string a_sigs, aaaa_sigs;
};

// One cache line: a lookup that finds its slot reads the node's name and links from the
// same line. Names up to 32 octets (most customer names, "www." ones included) sit inline;
// longer ones in the arena. data, wildcard and alias may be swapped by the control plane
// while workers read them.
struct alignas(64) Node {
    static constexpr size_t inline_name = 32;

    const NodeData* data;  // never null; swapped whole, read with load_data()
    // The topmost strict ancestor (below the apex) that is a delegation or carries a DNAME:
    // where a lookup walking down from the apex would leave the zone's data.
    const Node* cut;
    const Node* wildcard;  // the "*" child, if any (RFC 4592 source of synthesis)
    uint32_t alias;        // 1 + index into Snapshot::aliases when the node has an ALIAS, else 0
    uint16_t flags;
    uint8_t labels;
    uint8_t name_len;
    // The lower-case wire name, or (when longer than inline_name) a pointer to it, memcpy'd.
    uint8_t name_inline[inline_name];

    const uint8_t* name() const {
        if (name_len <= inline_name) return name_inline;
        const uint8_t* p;
        std::memcpy(&p, name_inline, sizeof p);
        return p;
    }
    const NodeData* load_data() const {
        return std::atomic_ref<const NodeData* const>(data).load(std::memory_order_acquire);
    }
    const Node* load_wildcard() const {
        return std::atomic_ref<const Node* const>(wildcard).load(std::memory_order_acquire);
    }
    uint32_t load_alias() const {
        return std::atomic_ref<const uint32_t>(alias).load(std::memory_order_relaxed);
    }
    std::string_view key() const { return {reinterpret_cast<const char*>(name()), name_len}; }
};
static_assert(sizeof(Node) == 64);

// Flat open-addressing index: lower-case wire name -> T (anything with key()).
template <class T>
class NameIndex {
public:
    void build(const std::vector<const T*>& items) {
        size_t cap = 16;
        while (cap < items.size() * 2) cap <<= 1;
        slots_ = HugeArray<Slot>(cap);
        mask_ = cap - 1;
        // The slots are written in a random order: each is fetched `ahead` items early.
        constexpr size_t ahead = 16;
        uint64_t next[ahead];
        for (size_t j = 0; j < std::min(ahead, items.size()); ++j) {
            next[j] = hash_name(items[j]->key());
            anamed::prefetch(&slots_[next[j] & mask_]);
        }
        for (size_t j = 0; j < items.size(); ++j) {
            const uint64_t h = next[j % ahead];
            if (j + ahead < items.size()) {
                next[j % ahead] = hash_name(items[j + ahead]->key());
                anamed::prefetch(&slots_[next[j % ahead] & mask_]);
            }
            size_t i = h & mask_;
            while (slots_[i].item != nullptr) i = (i + 1) & mask_;
            slots_[i] = Slot{items[j], uint32_t(h >> 32)};
        }
        used_ = items.size();
    }
    const T* find(std::string_view key) const { return find(key, hash_name(key)); }
    const T* find(std::string_view key, uint64_t h) const {
        if (slots_.empty()) return nullptr;
        const uint32_t tag = uint32_t(h >> 32);
        for (size_t i = h & mask_;; i = (i + 1) & mask_) {
            const T* item = load_item(slots_[i]);
            if (item == nullptr) return nullptr;
            if (load_tag(slots_[i]) == tag && same_bytes(item->key(), key)) return item;
        }
    }
    size_t memory() const { return slots_.size() * sizeof(Slot); }

    // Control plane only, while workers read: false when the table is too full (rebuild).
    bool can_insert(size_t n) const { return (used_ + n) * 4 <= slots_.size() * 3; }
    bool insert(const T* item) {
        if (!can_insert(1)) return false;
        const uint64_t h = hash_name(item->key());
        size_t i = h & mask_;
        while (slots_[i].item != nullptr) i = (i + 1) & mask_;
        std::atomic_ref<uint32_t>(slots_[i].tag)
            .store(uint32_t(h >> 32), std::memory_order_relaxed);
        std::atomic_ref<const T*>(slots_[i].item).store(item, std::memory_order_release);
        ++used_;
        return true;
    }
    // Replaces the entry by `tombstone` (an item whose key matches nothing), keeping probe chains.
    void remove(std::string_view key, const T* tombstone) {
        const uint64_t h = hash_name(key);
        for (size_t i = h & mask_; slots_[i].item != nullptr; i = (i + 1) & mask_) {
            if (slots_[i].item != tombstone && slots_[i].item->key() == key) {
                std::atomic_ref<const T*>(slots_[i].item)
                    .store(tombstone, std::memory_order_release);
                return;
            }
        }
    }

    // For burst processing: start loading the slot a lookup of hash h reads first, and
    // guess the item it will find (the first slot with h's tag), to prefetch it too.
    void prefetch(uint64_t h) const {
        if (!slots_.empty()) anamed::prefetch(&slots_[h & mask_]);
    }
    const T* peek(uint64_t h) const {
        if (slots_.empty()) return nullptr;
        const uint32_t tag = uint32_t(h >> 32);
        for (size_t i = h & mask_;; i = (i + 1) & mask_) {
            const T* item = load_item(slots_[i]);
            if (item == nullptr || load_tag(slots_[i]) == tag) return item;
        }
    }

private:
    struct Slot {
        const T* item;
        uint32_t tag;
    };
    static const T* load_item(const Slot& s) {
        return std::atomic_ref<const T* const>(s.item).load(std::memory_order_acquire);
    }
    static uint32_t load_tag(const Slot& s) {
        return std::atomic_ref<const uint32_t>(s.tag).load(std::memory_order_relaxed);
    }
    HugeArray<Slot> slots_;
    size_t mask_ = 0;
    size_t used_ = 0;  // items and tombstones
};

// How a signed zone denies existence: its NSEC chain in canonical order (RFC 4034 §6.1), or
// its NSEC3 chain in hash order with the parameters to hash a name (RFC 5155). Built by the
// compiler from the zone's own records; respond() searches it for the covering record of a
// name that does not exist.
struct DenialChain {
    enum Kind : uint8_t { none, nsec_chain, nsec3_chain };
    static constexpr size_t hash_len = 20;  // SHA-1, the one NSEC3 hash algorithm
    struct Hashed {
        uint8_t hash[hash_len];
        const Node* node;
    };
    Kind kind = none;
    uint16_t iterations = 0;
    std::string salt;
    std::vector<const Node*> nsec;  // the nodes with an NSEC, in canonical order
    std::vector<Hashed> nsec3;      // the nodes with an NSEC3, by the hash their owner names
    size_t memory() const {
        return sizeof(DenialChain) + nsec.capacity() * sizeof(const Node*) +
               nsec3.capacity() * sizeof(Hashed);
    }
};

struct ZoneTable {
    std::string apex_key;   // lower-case wire name
    std::string apex_text;  // for logs
    uint32_t serial = 0;
    // A secondary zone whose primaries have not answered for its SOA's expire time: its
    // names are answered SERVFAIL (RFC 1035 §4.3.5). Set by the control plane in place
    // (Publisher::set_expired); beside the index, which every lookup reads anyway.
    uint8_t expired = 0;
    uint16_t stats_slot = 0;  // its per-zone counters (zone_slots.hpp); 0: not counted
    bool is_expired() const {
        return std::atomic_ref<const uint8_t>(expired).load(std::memory_order_relaxed) != 0;
    }
    const Node* apex = nullptr;
    NameIndex<Node> index;
    HugeArray<Node> nodes;
    // Null when the zone is not signed (its apex has no RRSIG): DO=1 answers are DO=0's.
    // `denial` is the compiler's chain; a runtime change may publish a patched one in its
    // place (kept by the control plane, freed after a grace period). Readers ask
    // denial_chain().
    std::unique_ptr<const DenialChain> denial;
    std::atomic<const DenialChain*> patched_denial{nullptr};
    const DenialChain* denial_chain() const {
        const DenialChain* p = patched_denial.load(std::memory_order_acquire);
        return p ? p : denial.get();
    }

    std::string_view key() const { return apex_key; }
};

// Bump allocator; a snapshot owns the chunks its nodes live in.
class Arena {
public:
    // defer_huge: chunks start in small pages (see huge_alloc); promote them with huge_promote.
    explicit Arena(bool defer_huge = false) : defer_huge_(defer_huge) {}
    Arena(const Arena&) = delete;
    Arena& operator=(const Arena&) = delete;
    ~Arena();
    void* alloc(size_t n, size_t align = 8);
    size_t used() const { return used_; }
    size_t reserved() const { return reserved_; }  // what its chunks take (huge_footprint)
    const std::vector<std::pair<uint8_t*, size_t>>& chunks() const { return chunks_; }

private:
    bool defer_huge_;
    std::vector<std::pair<uint8_t*, size_t>> chunks_;
    size_t left_ = 0;
    uint8_t* cur_ = nullptr;
    size_t used_ = 0, reserved_ = 0;
};

// The one part of a published snapshot that changes: the control plane swaps a slot's
// answer (store) and retires the old one after a grace period; workers load().
struct AliasSlot {
    mutable const AliasAnswer* answer = nullptr;
    const AliasAnswer* load() const {
        return std::atomic_ref<const AliasAnswer*>(answer).load(std::memory_order_acquire);
    }
    void store(const AliasAnswer* a) const {
        std::atomic_ref<const AliasAnswer*>(answer).store(a, std::memory_order_release);
    }
};

// The dataplane's view. The control plane derives its own bookkeeping from it (the alias
// answers the slots point at, the nodes patched in later): the publisher frees a snapshot
// through this base after the grace period, and the bookkeeping with it.
struct Snapshot {
    Snapshot() = default;
    Snapshot(const Snapshot&) = delete;
    Snapshot& operator=(const Snapshot&) = delete;
    virtual ~Snapshot() = default;

    uint64_t generation = 0;
    Identity identity;  // NSID and the CH TXT answers (anamed/identity.hpp)
    HugeArray<AliasSlot> aliases;
    std::vector<std::unique_ptr<ZoneTable>> zones;
    NameIndex<ZoneTable> zone_index;
    // The compiled answer blocks. They and the zones' node tables are written in small pages
    // (see huge_alloc): the owner promotes deferred_huge() to huge pages once the snapshot
    // serves (promote_huge_pages() does it all at once).
    std::vector<std::unique_ptr<Arena>> arenas;
    std::vector<std::pair<uint8_t*, size_t>> deferred_huge() const;
    void promote_huge_pages() const;

    // Longest-match zone for a name: tries each suffix, longest first (from label `first`).
    // With a handful of zones (the usual case) comparing suffixes beats hashing each one.
    [[gnu::always_inline]] const ZoneTable* find_zone(const Name& q, unsigned first = 0) const {
        if (!few_zones.empty() || zones.empty()) {
            for (const ZoneKey& z : few_zones) {  // longest apex first
                if (z.labels + first > q.labels) continue;
                const size_t at = q.label_off[q.labels - z.labels];
                if (q.len - at == z.len && same_bytes(q.lower + at, z.key, z.len)) return z.zone;
            }
            return nullptr;
        }
        for (unsigned i = first; i <= q.labels; ++i) {
            if (const ZoneTable* z = zone_index.find(q.suffix(i))) return z;
        }
        return nullptr;
    }
    static constexpr size_t few_zones_max = 8;
    // All zones, longest apex first, when few: each apex's key and label count beside it, so
    // that matching a name reads this array alone.
    struct ZoneKey {
        const uint8_t* key;
        uint32_t len, labels;
        const ZoneTable* zone;
    };
    std::vector<ZoneKey> few_zones;
    // Some served apex lies below another's: a name in one zone's table may then be answered
    // from another zone (the longest match), so respond_burst's CNAME chase asks find_zone.
    bool nested_zones = false;
    size_t memory() const;
};

}  // namespace anamed
