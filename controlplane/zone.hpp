// The control plane's truth for one zone: owner -> RRsets, in wire format.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace anamed {

// The RDATAs of one RRset in one exactly sized allocation, each as a 16-bit length and its
// bytes. A 1M-customer zone has ~5M RRsets, most of one short record: a vector of strings
// spent a vector block and a string block on each, three times the data.
class RdataList {
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
        friend class RdataList;
        size_t len() const { return size_t(uint8_t(p_[0])) << 8 | uint8_t(p_[1]); }
        const char* p_;
    };

    RdataList() = default;
    RdataList(std::initializer_list<std::string_view> rdatas) {
        for (std::string_view rd : rdatas) push_back(rd);
    }
    RdataList(const RdataList& o) { assign(o.data_.get(), o.bytes_); }
    RdataList(RdataList&& o) noexcept : data_(std::move(o.data_)), bytes_(std::exchange(o.bytes_, 0)) {}
    RdataList& operator=(const RdataList& o) {
        if (this != &o) assign(o.data_.get(), o.bytes_);
        return *this;
    }
    RdataList& operator=(RdataList&& o) noexcept {
        data_ = std::move(o.data_);
        bytes_ = std::exchange(o.bytes_, 0);
        return *this;
    }

    iterator begin() const { return iterator(data_.get()); }
    iterator end() const { return iterator(data_.get() + bytes_); }
    bool empty() const { return bytes_ == 0; }
    size_t size() const { return size_t(std::distance(begin(), end())); }
    std::string_view operator[](size_t i) const { return *std::next(begin(), std::ptrdiff_t(i)); }
    bool contains(std::string_view rd) const { return std::find(begin(), end(), rd) != end(); }
    std::vector<std::string> to_vector() const { return {begin(), end()}; }
    bool operator==(const RdataList& o) const {
        return bytes_ == o.bytes_ && std::equal(data_.get(), data_.get() + bytes_, o.data_.get());
    }

    // rd must be shorter than 64 KiB (any RDATA is).
    void push_back(std::string_view rd) { splice(bytes_, 0, &rd); }
    // Returns the position after the removed RDATA.
    iterator erase(iterator it) {
        const size_t at = size_t(it.p_ - data_.get());
        splice(at, 2 + it.len(), nullptr);
        return iterator(data_.get() + at);
    }
    void clear() {
        data_.reset();
        bytes_ = 0;
    }
    // Replaces the i-th RDATA.
    void set(size_t i, std::string_view rd) {
        const iterator it = std::next(begin(), std::ptrdiff_t(i));
        splice(size_t(it.p_ - data_.get()), 2 + it.len(), &rd);
    }

private:
    void assign(const char* p, size_t n) {
        data_.reset(n ? new char[n] : nullptr);
        if (n) std::memcpy(data_.get(), p, n);
        bytes_ = uint32_t(n);
    }
    // Replaces bytes [at, at + remove) with *rd, length-prefixed (with nothing if rd is null).
    void splice(size_t at, size_t remove, const std::string_view* rd) {
        const size_t add = rd ? 2 + rd->size() : 0;
        const size_t tail = bytes_ - at - remove;
        const size_t n = at + add + tail;
        if (n == 0) return clear();
        std::unique_ptr<char[]> next(new char[n]);
        char* q = next.get();
        if (at) std::memcpy(q, data_.get(), at);
        if (rd) {
            const uint8_t len[2] = {uint8_t(rd->size() >> 8), uint8_t(rd->size())};
            std::memcpy(q + at, len, 2);
            if (!rd->empty()) std::memcpy(q + at + 2, rd->data(), rd->size());
        }
        if (tail) std::memcpy(q + at + add, data_.get() + at + remove, tail);
        data_ = std::move(next);
        bytes_ = uint32_t(n);
    }

    std::unique_ptr<char[]> data_;
    uint32_t bytes_ = 0;
};

struct RRset {
    uint16_t type = 0;
    uint32_t ttl = 0;
    RdataList rdata;  // wire format, names uncompressed, case as written
};

// One record as read from a master file or a runtime change.
struct ParsedRecord {
    std::string owner;  // wire
    uint16_t type = 0;
    uint16_t klass = 0;
    uint32_t ttl = 0;
    std::string rdata;  // wire
};

struct ZoneNode {
    std::vector<RRset> rrsets;  // sorted by type
    // The owner as first written, kept only when that had upper case: otherwise it is the
    // node's key (the map's), and 2M names do not carry a second copy of their name.
    std::string owner_case;

    std::string owner(std::string_view key) const { return owner_case.empty() ? std::string(key) : owner_case; }
    void set_owner(std::string_view wire) {
        const bool upper = std::any_of(wire.begin(), wire.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
        owner_case = upper ? std::string(wire) : std::string();  // label lengths (< 64) never look like letters
    }

    const RRset* find(uint16_t type) const {
        for (const auto& r : rrsets)
            if (r.type == type) return &r;
        return nullptr;
    }
};

// A lower-case wire name as the node map's key: names up to 31 bytes (nearly all: a customer
// name is ~27) sit inside the key, longer ones in an exactly sized block. A std::string key
// would put every name over 15 bytes in a heap block of its own.
class NameKey {
public:
    NameKey(std::string_view name) { assign(name); }  // NOLINT(google-explicit-constructor)
    NameKey(const std::string& name) : NameKey(std::string_view(name)) {}  // NOLINT
    NameKey(const NameKey& o) { assign(o.view()); }
    NameKey& operator=(const NameKey& o) {
        if (this != &o) {
            release();
            assign(o.view());
        }
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

// Lets the node map be searched with a string_view (no temporary key per lookup).
struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
struct KeyEq {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const { return a == b; }
};

struct Zone {
    std::string apex;       // lower-case wire name
    std::string apex_text;  // presentation form, with the trailing dot
    std::string file;
    std::unordered_map<NameKey, ZoneNode, KeyHash, KeyEq> nodes;  // key: lower-case wire owner

    const ZoneNode* find(std::string_view key) const {
        auto it = nodes.find(key);
        return it == nodes.end() ? nullptr : &it->second;
    }
    uint32_t serial() const;
};

// Lower-case wire key of a wire name; true when `name` is `apex` or below it.
std::string lower_key(std::string_view wire);
bool is_subdomain(std::string_view name, std::string_view apex);
// Where the SERIAL field sits in an SOA's RDATA; npos when the RDATA is too short.
size_t soa_serial_offset(std::string_view rd);
// Presentation text to wire (absolute names only). Empty on error.
std::string text_to_wire(std::string_view text);

}  // namespace anamed
