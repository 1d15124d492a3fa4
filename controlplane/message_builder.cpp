#include "message_builder.hpp"

#include "anamed/wire.hpp"

namespace anamed {
namespace {

constexpr size_t table_slots = 8192;  // a power of two, well above the names of 64 KiB
constexpr size_t max_pointer = 0x3FFF;

void put16(std::string& s, uint16_t v) {
    s.push_back(char(v >> 8));
    s.push_back(char(v));
}
void put32(std::string& s, uint32_t v) {
    put16(s, uint16_t(v >> 16));
    put16(s, uint16_t(v));
}

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

MessageBuilder::MessageBuilder(size_t limit) : limit_(limit), table_(table_slots) {
    msg_.reserve(limit);
}

void MessageBuilder::begin(uint16_t id, uint16_t flags, std::string_view qname, uint16_t qtype,
                           uint16_t qclass) {
    msg_.clear();
    count_[0] = count_[1] = count_[2] = 0;
    section_ = answer;
    if (++gen_ == 0) {  // the generation wrapped: forget every slot for real
        for (Slot& s : table_) s.gen = 0;
        gen_ = 1;
    }
    put16(msg_, id);
    put16(msg_, flags);
    put16(msg_, qname.empty() ? 0 : 1);
    msg_.append(6, '\0');
    if (!qname.empty()) {
        put_name(qname);
        put16(msg_, qtype);
        put16(msg_, qclass);
    }
}

bool MessageBuilder::add(std::string_view owner, uint16_t type, uint16_t klass, uint32_t ttl,
                         std::string_view rdata, Section section) {
    if (section < section_) return false;
    const size_t mark = msg_.size();
    put_name(owner);
    put16(msg_, type);
    put16(msg_, klass);
    put32(msg_, ttl);
    const size_t rdlen_at = msg_.size();
    put16(msg_, 0);
    const bool ok = put_rdata(type, rdata);
    const size_t rdlen = msg_.size() - rdlen_at - 2;
    if (!ok || rdlen > 0xFFFF || msg_.size() > limit_) {
        msg_.resize(mark);
        // Suffixes remembered past the mark point at bytes that are gone: forget them.
        for (Slot& s : table_)
            if (s.gen == gen_ && s.off >= mark) s.gen = 0;
        return false;
    }
    msg_[rdlen_at] = char(rdlen >> 8);
    msg_[rdlen_at + 1] = char(rdlen);
    section_ = section;
    ++count_[section];
    return true;
}

std::string MessageBuilder::finish() {
    for (int i = 0; i < 3; ++i) {
        msg_[6 + 2 * i] = char(count_[i] >> 8);
        msg_[7 + 2 * i] = char(count_[i]);
    }
    std::string out = std::move(msg_);
    msg_ = std::string();
    msg_.reserve(limit_);
    return out;
}

bool MessageBuilder::put_rdata(uint16_t type, std::string_view rd) {
    const RdataNames names = compressed_names(type);
    if (names.count == 0 || rd.size() < names.first) {
        msg_.append(rd);
        return true;
    }
    msg_.append(rd.substr(0, names.first));
    size_t pos = names.first;
    for (unsigned i = 0; i < names.count; ++i) {
        const size_t n = name_length(rd.substr(pos));
        if (n == 0) return false;  // the zone's checks make this unreachable
        put_name(rd.substr(pos, n));
        pos += n;
    }
    msg_.append(rd.substr(pos));
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
            put16(msg_, uint16_t(0xC000 | off));
            return;
        }
        remember(suffix, h, msg_.size());
        const size_t l = 1 + uint8_t(name[pos]);
        msg_.append(name.substr(pos, l));
        pos += l;
    }
    msg_.push_back('\0');
}

uint16_t MessageBuilder::find(std::string_view name, uint64_t h) const {
    for (size_t i = h & (table_slots - 1);; i = (i + 1) & (table_slots - 1)) {
        const Slot& s = table_[i];
        if (s.gen != gen_) return 0;
        if (s.hash == h && same_name_at(s.off, name)) return s.off;
    }
}

void MessageBuilder::remember(std::string_view, uint64_t h, size_t at) {
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
    size_t pos = 0;
    for (unsigned hops = 0; at < msg_.size() && hops < 128;) {
        const uint8_t l = uint8_t(msg_[at]);
        if ((l & 0xC0) == 0xC0) {
            if (at + 1 >= msg_.size()) return false;
            at = size_t(l & 0x3F) << 8 | uint8_t(msg_[at + 1]);
            ++hops;
            continue;
        }
        if (pos + 1 + l > name.size() || at + 1 + l > msg_.size()) return false;
        if (msg_.compare(at, 1 + l, name, pos, 1 + l) != 0) return false;
        if (l == 0) return pos + 1 == name.size();
        pos += 1 + l;
        at += 1 + l;
    }
    return false;
}

}  // namespace anamed
