// The control plane's truth for one zone: owner -> RRsets, in wire format.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "anamed/huge_array.hpp"
#include "anamed/rr_types.hpp"
#include "anamed/wire.hpp"

namespace anamed {

// The RDATAs of one RRset as packed in a ZoneNode, each as a 16-bit length and its bytes.
class RdataSpan {
public:
    class iterator {
    public:
        using iterator_category = std::forward_iterator_tag;
        using value_type = std::string_view;
        using difference_type = std::ptrdiff_t;
        using pointer = void;
        using reference = std::string_view;

        explicit iterator(const char* p = nullptr) : p_(p) {}
        std::string_view operator*() const { return {p_ + 2, len()}; }
        iterator& operator++() {
            p_ += 2 + len();
            return *this;
        }
        iterator operator++(int) {
            iterator t = *this;
            ++*this;
            return t;
        }
        bool operator==(const iterator& o) const { return p_ == o.p_; }

    private:
        size_t len() const { return size_t(uint8_t(p_[0])) << 8 | uint8_t(p_[1]); }
        const char* p_;
    };

    RdataSpan() = default;
    RdataSpan(const char* p, uint32_t bytes) : p_(p), bytes_(bytes) {}

    iterator begin() const { return iterator(p_); }
    iterator end() const { return iterator(p_ + bytes_); }
    bool empty() const { return bytes_ == 0; }
    size_t bytes() const { return bytes_; }  // the RDATAs and their 2-byte lengths
    size_t size() const { return size_t(std::distance(begin(), end())); }
    std::string_view operator[](size_t i) const { return *std::next(begin(), std::ptrdiff_t(i)); }
    bool contains(std::string_view rd) const { return std::find(begin(), end(), rd) != end(); }
    std::vector<std::string> to_vector() const { return {begin(), end()}; }

private:
    const char* p_ = nullptr;
    uint32_t bytes_ = 0;
};

// One RRset of a ZoneNode, read in place: valid until the node changes.
struct RRset {
    uint16_t type = 0;
    uint32_t ttl = 0;
    RdataSpan rdata;  // wire format, names uncompressed, case as written
};

// One record as read from a master file or a runtime change.
struct ParsedRecord {
    std::string owner;  // wire
    uint16_t type = 0;
    uint16_t klass = 0;
    uint32_t ttl = 0;
    std::string rdata;  // wire
};

// The RRsets of one name, sorted by type, in one exactly sized block:
//   [owner length: 1][owner, only when written with upper case]
//   then per RRset [type: 2][ttl: 4][RDATA bytes: 4] and its RDATAs as in RdataSpan.
// A 1M-customer zone has 2M names and ~5M RRsets, mostly of one short record; a vector of
// RRsets with a block per RDATA list spent ~290 bytes of heap on a customer's four RRsets,
// this ~150. The owner's spelling is kept only when it has upper case: otherwise it is the
// node's key (the map's), and 2M names do not carry a second copy of their name.
class ZoneNode {
public:
    class iterator {
    public:
        using iterator_category = std::forward_iterator_tag;
        using value_type = RRset;
        using difference_type = std::ptrdiff_t;
        using pointer = void;
        using reference = RRset;

        explicit iterator(const char* p = nullptr) : p_(p) {}
        RRset operator*() const {
            return {get16(p_), get32(p_ + 2), RdataSpan(p_ + header, rdata_bytes())};
        }
        iterator& operator++() {
            p_ += header + rdata_bytes();
            return *this;
        }
        bool operator==(const iterator& o) const { return p_ == o.p_; }
        bool operator!=(const iterator& o) const { return p_ != o.p_; }

    private:
        friend class ZoneNode;
        uint32_t rdata_bytes() const { return get32(p_ + 6); }
        const char* p_;
    };
    struct Range {
        iterator first, last;
        iterator begin() const { return first; }
        iterator end() const { return last; }
        bool empty() const { return first == last; }
    };

    ZoneNode() = default;
    ZoneNode(const ZoneNode& o) : marks_(o.marks_) { assign(o.data_, o.bytes_); }
    ZoneNode(ZoneNode&& o) noexcept
        : data_(std::exchange(o.data_, nullptr)),
          bytes_(std::exchange(o.bytes_, 0)),
          marks_(std::exchange(o.marks_, 0)) {}
    ZoneNode& operator=(const ZoneNode& o) {
        if (this != &o) {
            assign(o.data_, o.bytes_);
            marks_ = o.marks_;
        }
        return *this;
    }
    ZoneNode& operator=(ZoneNode&& o) noexcept {
        std::swap(data_, o.data_);
        std::swap(bytes_, o.bytes_);
        std::swap(marks_, o.marks_);
        return *this;
    }
    ~ZoneNode() { std::free(data_); }

    Range rrsets() const { return {iterator(data_ + first()), iterator(data_ + bytes_)}; }
    bool empty() const { return rrsets().empty(); }
    // Whether an RRset of `type` is here. For the types that shape the tree or are one to a
    // name (rr_marked_types: NS, CNAME, SOA, DNAME, ALIAS) it is answered from the node
    // itself, without reading its block: the compiler asks it of 2M names.
    bool has(uint16_t type) const {
        const uint8_t m = mark(type);
        return m ? (marks_ & m) != 0 : find(type).has_value();
    }
    std::optional<RRset> find(uint16_t type) const {
        if (const uint8_t m = mark(type); m && !(marks_ & m)) return std::nullopt;
        for (RRset rs : rrsets())
            if (rs.type >= type) return rs.type == type ? std::optional<RRset>(rs) : std::nullopt;
        return std::nullopt;
    }

    std::string owner(std::string_view key) const { return std::string(owner_view(key)); }
    std::string_view owner_view(std::string_view key) const { return owner_in(block(), key); }
    // The node's block as laid out above (read without touching it), for a copy read back
    // with owner_in() and rrsets_in().
    std::string_view block() const { return {data_, bytes_}; }
    static std::string_view owner_in(std::string_view block, std::string_view key) {
        return !block.empty() && block[0] ? block.substr(1, uint8_t(block[0])) : key;
    }
    static Range rrsets_in(std::string_view block) {
        const size_t skip = block.empty() ? 0 : 1 + uint8_t(block[0]);
        return {iterator(block.data() + skip), iterator(block.data() + block.size())};
    }
    void set_owner(std::string_view wire);
    // Adds `rd` to the RRset of `type` (created in type order when missing) and sets that
    // RRset's TTL. No checks: zone_edit.hpp's add_record holds the rules.
    void add(uint16_t type, uint32_t ttl, std::string_view rd);
    // Room for `more` bytes of records (RRset headers, RDATA lengths and RDATA) beyond what
    // the node holds, so that the adds that follow need no reallocation (the loader knows
    // the records of an owner in advance).
    void reserve(size_t more);
    // What one record can add: a new RRset's header, the RDATA's length and the RDATA.
    static constexpr size_t record_bytes(size_t rdata) { return header + 2 + rdata; }
    // Removes `*rd` (or every RDATA when null) from the RRset of `type` (or from every RRset
    // when 0). Returns how many records went.
    size_t erase(uint16_t type, const std::string_view* rd);

private:
    static constexpr size_t header = 10;
    static uint16_t get16(const char* p) { return load16(reinterpret_cast<const uint8_t*>(p)); }
    static uint32_t get32(const char* p) { return load32(reinterpret_cast<const uint8_t*>(p)); }
    size_t first() const { return data_ ? 1 + uint8_t(data_[0]) : 0; }
    static constexpr uint8_t mark(uint16_t type) {
        static_assert(rr_marked_types.size() <= 8, "one bit of marks_ per marked type");
        for (size_t i = 0; i < rr_marked_types.size(); ++i)
            if (rr_marked_types[i] == type && type != 0) return uint8_t(1u << i);
        return 0;
    }
    void assign(const char* p, size_t n);
    // Replaces bytes [at, at + remove) with `add` uninitialised bytes; returns where they start.
    char* splice(size_t at, size_t remove, size_t add);
    // Whether the allocation holds n bytes already (malloc rounds sizes up); realloc to n.
    bool has_room(size_t n) const;
    void realloc_to(size_t n);

    char* data_ =
        nullptr;  // malloc'ed, so that growing is a realloc (within malloc_usable_size: none)
    uint32_t bytes_ = 0;
    uint8_t marks_ = 0;  // mark() of each marked type with an RRset here (kept by add and erase)
};

// A lower-case wire name as the node map's key: names up to 31 bytes (nearly all: a customer
// name is ~27) sit inside the key, longer ones in an exactly sized block. A std::string key
// would put every name over 15 bytes in a heap block of its own.
class NameKey {
public:
    NameKey(std::string_view name) { assign(name); }  // NOLINT(google-explicit-constructor)
    NameKey(const std::string& name) : NameKey(std::string_view(name)) {}  // NOLINT
    NameKey(const NameKey& o) { assign(o.view()); }
    NameKey(NameKey&& o) noexcept : u_(o.u_), len_(std::exchange(o.len_, 0)) {}
    NameKey& operator=(const NameKey& o) {
        if (this != &o) {
            release();
            assign(o.view());
        }
        return *this;
    }
    NameKey& operator=(NameKey&& o) noexcept {
        std::swap(u_, o.u_);
        std::swap(len_, o.len_);
        return *this;
    }
    ~NameKey() { release(); }

    std::string_view view() const { return {len_ <= inline_max ? u_.bytes : u_.heap, len_}; }
    operator std::string_view() const { return view(); }  // NOLINT(google-explicit-constructor)
    std::string str() const { return std::string(view()); }

private:
    static constexpr size_t inline_max = 31;
    void assign(std::string_view name) {
        len_ = uint8_t(std::min<size_t>(name.size(), 255));  // wire names are at most 255 bytes
        char* dst = len_ <= inline_max ? u_.bytes : (u_.heap = new char[len_]);
        std::memcpy(dst, name.data(), len_);
    }
    void release() {
        if (len_ > inline_max) delete[] u_.heap;
    }
    union {
        char bytes[inline_max];
        char* heap;
    } u_;
    uint8_t len_ = 0;
};

// A zone's names and their data. The entries sit in one array in the order they were added
// (a master file's order), so that a walk over the zone walks forwards through memory; an
// open-addressing index of (hash tag, position) finds them. Loading 2M names into a
// std::unordered_map cost ~3 cache misses per new name (bucket, the node before it, the
// chain) and a heap node each; here a new name costs one miss in the index and an append.
// Adding a name may move every entry, erasing one moves the last into its place: pointers
// into the map hold only while it does not change.
class NodeMap {
public:
    using value_type = std::pair<NameKey, ZoneNode>;
    using const_iterator = std::vector<value_type>::const_iterator;

    size_t size() const { return entries_.size(); }
    bool empty() const { return entries_.empty(); }
    const_iterator begin() const { return entries_.begin(); }
    const_iterator end() const { return entries_.end(); }
    // Room for n names without moving entries or rebuilding the index.
    void reserve(size_t n);

    const value_type* find(std::string_view key) const;
    value_type* find(std::string_view key) {
        return const_cast<value_type*>(std::as_const(*this).find(key));
    }
    // The node of `key`, added empty when missing.
    ZoneNode& operator[](std::string_view key) { return at_or_add(key, hash(key)); }
    // The same with hash(key) already known: a loader hashes names a few ahead and calls
    // prefetch() on them, so that the index's cache miss is paid while it works.
    ZoneNode& at_or_add(std::string_view key, uint64_t h);
    static uint64_t hash(std::string_view key) { return hash_name(key); }
    void prefetch(uint64_t h) const {
        if (!slots_.empty()) anamed::prefetch(&slots_[h & (slots_.size() - 1)]);
    }
    // Whether `key` was there.
    bool erase(std::string_view key);

private:
    struct Slot {
        uint32_t tag;  // high half of the name's hash
        uint32_t pos;  // 1 + index into entries_; 0: free
    };
    // The slot holding `key`, or the free slot where it would go.
    size_t probe(std::string_view key, uint64_t h) const;
    void rebuild(size_t slots);

    std::vector<value_type> entries_;
    HugeArray<Slot> slots_;  // a power of two, at most 70% full; huge pages: it is read at random
};

struct Zone {
    std::string apex;       // lower-case wire name
    std::string apex_text;  // presentation form, with the trailing dot
    std::string file;
    NodeMap nodes;  // key: lower-case wire owner

    const ZoneNode* find(std::string_view key) const {
        const NodeMap::value_type* e = nodes.find(key);
        return e ? &e->second : nullptr;
    }
    uint32_t serial() const;
};

// Lower-case wire key of a wire name.
std::string lower_key(std::string_view wire);
// A wire key's parent (all but its first label; the key must not be the root) and its
// number of labels (the root has none).
inline std::string_view parent_of(std::string_view key) {
    return key.substr(1 + uint8_t(key[0]));
}
unsigned count_labels(std::string_view key);
void lower_in_place(std::string& wire);
// True when `name` is `apex` or below it (wire keys of one case).
bool is_subdomain(std::string_view name, std::string_view apex);
// Where the SERIAL field sits in an SOA's RDATA; npos when the RDATA is too short.
size_t soa_serial_offset(std::string_view rd);
// Presentation text to wire (absolute names only). Empty on error.
std::string text_to_wire(std::string_view text);
// The lower-case wire apex of a zone name as a user writes it, with or without the final
// dot ("" when it is not a name).
std::string apex_key(std::string_view name);

}  // namespace anamed
