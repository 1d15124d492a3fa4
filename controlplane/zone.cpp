#include "zone.hpp"

#include <malloc.h>

#include <new>
#include <stdexcept>

#include "anamed/wire.hpp"
#include "ldns.hpp"

namespace anamed {

void ZoneNode::assign(const char* p, size_t n) {
    char* next = nullptr;
    if (n != 0) {
        next = static_cast<char*>(std::malloc(n));
        if (next == nullptr) throw std::bad_alloc();
        std::memcpy(next, p, n);
    }
    std::free(data_);
    data_ = next;
    bytes_ = uint32_t(n);
}

char* ZoneNode::splice(size_t at, size_t remove, size_t add) {
    const size_t tail = bytes_ - at - remove;
    const size_t n = bytes_ - remove + add;
    if (add < remove) std::memmove(data_ + at + add, data_ + at + remove, tail);
    if (n == 0 && bytes_ != 0) {
        std::free(data_);
        data_ = nullptr;
    } else if (n < bytes_ || (n > bytes_ && !has_room(n))) {
        realloc_to(n);
    }
    if (add > remove) std::memmove(data_ + at + add, data_ + at + remove, tail);
    bytes_ = uint32_t(n);
    return data_ + at;
}

void ZoneNode::set_owner(std::string_view wire) {
    // Label lengths (< 64) never look like letters.
    const bool upper =
        std::any_of(wire.begin(), wire.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
    const size_t len = upper ? std::min<size_t>(wire.size(), 255) : 0;
    char* p = splice(0, first(), 1 + len);
    p[0] = char(len);
    if (len) std::memcpy(p + 1, wire.data(), len);
}

void ZoneNode::reserve(size_t more) {
    if (data_ == nullptr) {  // what set_owner({}) makes, in one allocation with the room
        data_ = static_cast<char*>(std::malloc(1 + more));
        if (data_ == nullptr) throw std::bad_alloc();
        data_[0] = 0;
        bytes_ = 1;
        return;
    }
    if (!has_room(bytes_ + more)) realloc_to(bytes_ + more);
}

bool ZoneNode::has_room(size_t n) const {
    return data_ != nullptr && n <= malloc_usable_size(data_);
}

void ZoneNode::realloc_to(size_t n) {
    char* next = static_cast<char*>(std::realloc(data_, n));
    if (next == nullptr) throw std::bad_alloc();
    data_ = next;
}

void ZoneNode::add(uint16_t type, uint32_t ttl, std::string_view rd) {
    if (rd.size() > 65535)
        throw std::length_error("RDATA longer than 65535 octets");  // add_record refuses it earlier
    if (data_ == nullptr) set_owner({});
    size_t at = first();
    while (at < bytes_ && get16(data_ + at) < type) at += header + get32(data_ + at + 6);
    const bool exists = at < bytes_ && get16(data_ + at) == type;
    const uint32_t had = exists ? get32(data_ + at + 6) : 0;
    const size_t add = (exists ? 0 : header) + 2 + rd.size();
    char* p = splice(at + (exists ? header + had : 0), 0, add);
    if (!exists) p += header;
    p[0] = char(rd.size() >> 8);
    p[1] = char(rd.size());
    if (!rd.empty()) std::memcpy(p + 2, rd.data(), rd.size());
    marks_ |= mark(type);
    auto* h = reinterpret_cast<uint8_t*>(data_ + at);  // the RRset's header: type, TTL, RDATA bytes
    store16(h, type);
    store32(h + 2, ttl);
    store32(h + 6, had + 2 + uint32_t(rd.size()));
}

size_t ZoneNode::erase(uint16_t type, const std::string_view* rd) {
    size_t removed = 0;
    ZoneNode kept;
    if (data_ != nullptr) kept.assign(data_, first());
    for (const RRset rs : rrsets())
        for (std::string_view r : rs.rdata) {
            if ((type == 0 || rs.type == type) && (rd == nullptr || r == *rd))
                ++removed;
            else
                kept.add(rs.type, rs.ttl, r);
        }
    if (removed) *this = std::move(kept);
    return removed;
}

void NodeMap::reserve(size_t n) {
    entries_.reserve(n);
    size_t want = 16;
    while (want * 7 < n * 10) want <<= 1;
    if (want > slots_.size()) rebuild(want);
}

size_t NodeMap::probe(std::string_view key, uint64_t h) const {
    const size_t mask = slots_.size() - 1;
    const auto tag = uint32_t(h >> 32);
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const Slot s = slots_[i];
        if (s.pos == 0 || (s.tag == tag && entries_[s.pos - 1].first.view() == key)) return i;
    }
}

void NodeMap::rebuild(size_t slots) {
    slots_ = HugeArray<Slot>(slots);
    const size_t mask = slots - 1;
    for (size_t p = 0; p < entries_.size(); ++p) {
        const uint64_t h = hash_name(entries_[p].first.view());
        size_t i = h & mask;
        while (slots_[i].pos != 0) i = (i + 1) & mask;
        slots_[i] = Slot{uint32_t(h >> 32), uint32_t(p + 1)};
    }
}

const NodeMap::value_type* NodeMap::find(std::string_view key) const {
    if (slots_.empty()) return nullptr;
    const Slot s = slots_[probe(key, hash_name(key))];
    return s.pos ? &entries_[s.pos - 1] : nullptr;
}

ZoneNode& NodeMap::at_or_add(std::string_view key, uint64_t h) {
    if (10 * (entries_.size() + 1) > 7 * slots_.size())
        rebuild(std::max<size_t>(16, 2 * slots_.size()));
    Slot& s = slots_[probe(key, h)];
    if (s.pos == 0) {
        if (entries_.size() >= UINT32_MAX) throw std::length_error("too many names in one zone");
        entries_.emplace_back(NameKey(key), ZoneNode());
        s = Slot{uint32_t(h >> 32), uint32_t(entries_.size())};
    }
    return entries_[s.pos - 1].second;
}

bool NodeMap::erase(std::string_view key) {
    if (slots_.empty()) return false;
    const size_t mask = slots_.size() - 1;
    size_t hole = probe(key, hash_name(key));
    const uint32_t pos = slots_[hole].pos;
    if (pos == 0) return false;
    // Linear probing without tombstones: pull later slots of the run back over the hole
    // when their home is not between the hole and them.
    for (size_t i = (hole + 1) & mask; slots_[i].pos != 0; i = (i + 1) & mask) {
        const size_t home = hash_name(entries_[slots_[i].pos - 1].first.view()) & mask;
        if (((i - home) & mask) >= ((i - hole) & mask)) {
            slots_[hole] = slots_[i];
            hole = i;
        }
    }
    slots_[hole] = Slot{0, 0};
    // The last entry moves into the erased one's place.
    if (pos != entries_.size()) {
        value_type& last = entries_.back();
        slots_[probe(last.first.view(), hash_name(last.first.view()))].pos = pos;
        entries_[pos - 1] = std::move(last);
    }
    entries_.pop_back();
    return true;
}

void lower_in_place(std::string& wire) {
    ascii_lower_in_place(wire.data(), wire.size());
}

unsigned count_labels(std::string_view key) {
    unsigned n = 0;
    for (size_t pos = 0; pos < key.size() && key[pos] != 0; pos += 1 + uint8_t(key[pos])) ++n;
    return n;
}

std::string lower_key(std::string_view wire) {
    std::string out(wire);
    lower_in_place(out);
    return out;
}

bool is_subdomain(std::string_view name, std::string_view apex) {
    if (name.size() < apex.size()) return false;
    if (name.substr(name.size() - apex.size()) != apex) return false;
    // The match must start on a label boundary.
    size_t pos = 0;
    while (pos < name.size() - apex.size()) pos += 1 + uint8_t(name[pos]);
    return pos == name.size() - apex.size();
}

std::string text_to_wire(std::string_view text) {
    ldns_rdf* rdf = nullptr;
    std::string s(text);
    if (ldns_str2rdf_dname(&rdf, s.c_str()) != LDNS_STATUS_OK) return {};
    std::string out(reinterpret_cast<const char*>(ldns_rdf_data(rdf)), ldns_rdf_size(rdf));
    ldns_rdf_deep_free(rdf);
    return out;
}

std::string apex_key(std::string_view name) {
    std::string text(name);
    if (text.empty() || text.back() != '.') text += '.';
    const std::string wire = text_to_wire(text);
    return wire.empty() ? "" : lower_key(wire);
}

size_t soa_serial_offset(std::string_view rd) {
    size_t pos = 0;  // after MNAME and RNAME
    for (int names = 0; names < 2 && pos < rd.size(); ++names) {
        while (pos < rd.size() && rd[pos] != 0) pos += 1 + uint8_t(rd[pos]);
        ++pos;
    }
    return pos + 4 <= rd.size() ? pos : std::string_view::npos;
}

uint32_t Zone::serial() const {
    const ZoneNode* n = find(apex);
    const std::optional<RRset> soa = n ? n->find(rrtype::SOA) : std::nullopt;
    if (!soa || soa->rdata.empty()) return 0;
    const std::string_view rd = soa->rdata[0];
    const size_t at = soa_serial_offset(rd);
    return at == std::string_view::npos ? 0
                                        : load32(reinterpret_cast<const uint8_t*>(rd.data()) + at);
}

}  // namespace anamed
