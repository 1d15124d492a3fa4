#include "message_builder.hpp"

#include <cstring>

#include "anamed/wire.hpp"

namespace anamed {
namespace {

constexpr size_t table_slots = 8192;  // a power of two, well above the names of 64 KiB
constexpr size_t max_pointer = 0x3FFF;
// The most one record can take: its owner, the fixed fields and its RDATA.
constexpr size_t max_record = max_name_len + 10 + 65535;

// The wire names in the RDATA of RFC 1035's own types, the only ones compressed (RFC 3597 §4):
// where the first sits, and how many follow it back to back.
struct RdataNames {
    size_t first = 0;
    unsigned count = 0;
};
RdataNames compressed_names(uint16_t type) {
    switch (type) {
    case rrtype::NS:
    case rrtype::CNAME:
    case rrtype::PTR: return {0, 1};
    case rrtype::MX: return {2, 1};
    case rrtype::SOA: return {0, 2};
    default: return {};
    }
}

// The length of the uncompressed wire name at the start of `s`, or 0 when there is none.
size_t name_length(std::string_view s) {
    size_t pos = 0;
    while (pos < s.size() && pos < max_name_len) {
        const uint8_t l = uint8_t(s[pos]);
        if (l == 0) return pos + 1;
        if (l > 63) return 0;
        pos += 1 + l;
    }
    return 0;
}

}  // namespace

MessageBuilder::MessageBuilder(size_t limit)
    : limit_(limit), buf_(new uint8_t[limit + max_record]), table_(table_slots) {}

void MessageBuilder::put(const void* p, size_t n) {
    std::memcpy(buf_.get() + len_, p, n);
    len_ += n;
}
void MessageBuilder::put16(uint16_t v) {
    store16(buf_.get() + len_, v);
    len_ += 2;
}
void MessageBuilder::put32(uint32_t v) {
    store32(buf_.get() + len_, v);
    len_ += 4;
}

void MessageBuilder::begin(uint16_t id, uint16_t flags, std::string_view qname, uint16_t qtype,
                           uint16_t qclass) {
    len_ = 0;
    count_[0] = count_[1] = count_[2] = 0;
    section_ = answer;
    last_owner_at_ = 0;
    if (++gen_ == 0) {  // the generation wrapped: forget every slot for real
        for (Slot& s : table_) s.gen = 0;
        gen_ = 1;
    }
    put16(id);
    put16(flags);
    put16(qname.empty() ? 0 : 1);
    std::memset(buf_.get() + len_, 0, 6);
    len_ += 6;
    if (!qname.empty()) {
        put_name(qname);
        put16(qtype);
        put16(qclass);
    }
}

bool MessageBuilder::add(std::string_view owner, uint16_t type, uint16_t klass, uint32_t ttl,
                         std::string_view rdata, Section section) {
    if (section < section_ || owner.size() > max_name_len || rdata.size() > 65535) return false;
    const size_t mark = len_;
    if (last_owner_at_ && owner.size() == last_owner_len_ &&
        std::memcmp(owner.data(), last_owner_, owner.size()) == 0) {
        put16(uint16_t(0xC000 | last_owner_at_));
    } else {
        put_name(owner);
        std::memcpy(last_owner_, owner.data(), owner.size());
        last_owner_len_ = owner.size();
        // Where the name's first byte is, or the first label the pointer written leads to.
        const uint8_t* p = buf_.get() + mark;
        last_owner_at_ = (p[0] & 0xC0) == 0xC0 ? uint16_t(load16(p) & 0x3FFF)
                         : mark <= max_pointer ? uint16_t(mark)
                                               : 0;
    }
    put16(type);
    put16(klass);
    put32(ttl);
    const size_t rdlen_at = len_;
    len_ += 2;
    const bool ok = put_rdata(type, rdata);
    const size_t rdlen = len_ - rdlen_at - 2;
    if (!ok || len_ > limit_) {
        len_ = mark;
        // Suffixes remembered past the mark point at bytes that are gone: forget them.
        for (Slot& s : table_)
            if (s.gen == gen_ && s.off >= mark) s.gen = 0;
        if (last_owner_at_ >= mark) last_owner_at_ = 0;
        return false;
    }
    store16(buf_.get() + rdlen_at, uint16_t(rdlen));
    section_ = section;
    ++count_[section];
    return true;
}

std::string MessageBuilder::finish(size_t spare) {
    for (int i = 0; i < 3; ++i) store16(buf_.get() + 6 + 2 * i, count_[i]);
    std::string out;
    out.reserve(len_ + spare);
    out.assign(reinterpret_cast<const char*>(buf_.get()), len_);
    len_ = 0;
    last_owner_at_ = 0;
    return out;
}

bool MessageBuilder::put_rdata(uint16_t type, std::string_view rd) {
    const RdataNames names = compressed_names(type);
    if (names.count == 0 || rd.size() < names.first) {
        put(rd.data(), rd.size());
        return true;
    }
    put(rd.data(), names.first);
    size_t pos = names.first;
    for (unsigned i = 0; i < names.count; ++i) {
        const size_t n = name_length(rd.substr(pos));
        if (n == 0) return false;  // the zone's checks make this unreachable
        put_name(rd.substr(pos, n));
        pos += n;
    }
    put(rd.data() + pos, rd.size() - pos);
    return true;
}

// Each suffix of the name is looked up, longest first; the labels before the first one
// found are written out and remembered, then a pointer to it.
void MessageBuilder::put_name(std::string_view name) {
    size_t pos = 0;
    while (pos < name.size() && name[pos] != 0) {
        const std::string_view suffix = name.substr(pos);
        const uint64_t h = hash_name(suffix);
        if (const uint16_t off = find(suffix, h)) {
            put16(uint16_t(0xC000 | off));
            return;
        }
        remember(h, len_);
        const size_t l = 1 + uint8_t(name[pos]);
        put(name.data() + pos, l);
        pos += l;
    }
    buf_[len_++] = 0;
}

uint16_t MessageBuilder::find(std::string_view name, uint64_t h) const {
    for (size_t i = h & (table_slots - 1);; i = (i + 1) & (table_slots - 1)) {
        const Slot& s = table_[i];
        if (s.gen != gen_) return 0;
        if (s.hash == h && same_name_at(s.off, name)) return s.off;
    }
}

void MessageBuilder::remember(uint64_t h, size_t at) {
    if (at > max_pointer) return;
    for (size_t i = h & (table_slots - 1), probes = 0; probes < 64;
         i = (i + 1) & (table_slots - 1), ++probes) {
        Slot& s = table_[i];
        if (s.gen != gen_) {
            s = Slot{h, gen_, uint16_t(at)};
            return;
        }
    }
}

// Whether the (possibly compressed) name at `at` has exactly the bytes of `name`.
bool MessageBuilder::same_name_at(size_t at, std::string_view name) const {
    const uint8_t* msg = buf_.get();
    const auto* want = reinterpret_cast<const uint8_t*>(name.data());
    size_t pos = 0;
    for (unsigned hops = 0; at < len_ && hops < 128;) {
        const uint8_t l = msg[at];
        if ((l & 0xC0) == 0xC0) {
            if (at + 1 >= len_) return false;
            at = size_t(l & 0x3F) << 8 | msg[at + 1];
            ++hops;
            continue;
        }
        if (pos + 1 + l > name.size() || at + 1 + l > len_) return false;
        for (size_t i = 0; i <= l; ++i)
            if (msg[at + i] != want[pos + i]) return false;
        if (l == 0) return pos + 1 == name.size();
        pos += 1 + l;
        at += 1 + l;
    }
    return false;
}

}  // namespace anamed
