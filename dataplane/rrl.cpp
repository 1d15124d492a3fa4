#include "anamed/rrl.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace anamed {
namespace {

uint64_t mix(uint64_t x) {  // the murmur3 finaliser
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

// The client's prefix: its first `bits` bits, the rest zero.
ClientAddr masked(const ClientAddr& a, unsigned bits) {
    ClientAddr m;
    m.len = a.len;
    bits = std::min<unsigned>(bits, a.len * 8u);
    for (unsigned i = 0; i < bits / 8; ++i) m.bytes[i] = a.bytes[i];
    if (bits % 8) m.bytes[bits / 8] = uint8_t(a.bytes[bits / 8] & (0xFF00 >> (bits % 8)));
    return m;
}

uint64_t load_u64(const uint8_t* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
}

}  // namespace

const char* rrl_class_name(RrlClass c) noexcept {
    switch (c) {
    case RrlClass::positive: return "positive";
    case RrlClass::nxdomain: return "nxdomain";
    case RrlClass::referral: return "referral";
    case RrlClass::error: return "error";
    case RrlClass::any: return "any";
    case RrlClass::large: return "large";
    case RrlClass::count: break;
    }
    return "?";
}

bool prefix_contains(const RrlPrefix& p, const ClientAddr& a) noexcept {
    if (p.addr.len != a.len) return false;
    const ClientAddr m = masked(a, p.bits);
    return std::memcmp(m.bytes, p.addr.bytes, a.len) == 0;
}

RrlTable::RrlTable(const RrlConfig& cfg, unsigned share)
    : cfg_(cfg), rate_(std::clamp<uint32_t>(cfg.rate / std::max(1u, share), 1, max_rate)) {
    lines_ = std::bit_ceil(std::max<size_t>(cfg.table_size, 4) / 4);
    table_.reset(new Line[lines_]);
    std::memset(static_cast<void*>(table_.get()), 0, lines_ * sizeof(Line));
    ring_.reset(new RrlEvent[ring_size]);
    auto top_bits = [](unsigned bits) { return bits == 0 ? 0 : ~0ULL << (64 - bits); };
    mask4_ = top_bits(std::min<unsigned>(cfg.v4_prefix, 32));
    const unsigned v6 = std::min<unsigned>(cfg.v6_prefix, 128);
    mask6_[0] = top_bits(std::min(v6, 64u));
    mask6_[1] = top_bits(v6 > 64 ? v6 - 64 : 0);
}

void RrlTable::push_event(const RrlEvent& e) noexcept {
    const size_t h = head_.load(std::memory_order_relaxed);
    if (h - tail_.load(std::memory_order_acquire) >= ring_size) return;  // the reporter lags
    ring_[h % ring_size] = e;
    head_.store(h + 1, std::memory_order_release);
}

bool RrlTable::pop_event(RrlEvent& e) noexcept {
    const size_t t = tail_.load(std::memory_order_relaxed);
    if (t == head_.load(std::memory_order_acquire)) return false;
    e = ring_[t % ring_size];
    tail_.store(t + 1, std::memory_order_release);
    return true;
}

// The bucket of hash h: the line's matching one, or the line's free or stalest one taken
// over (a bucket that was limiting reports its end).
RrlTable::Bucket& RrlTable::find(uint64_t h, uint32_t now_ms, bool& fresh) noexcept {
    Line& line = table_[(h >> 32) & (lines_ - 1)];
    const uint32_t tag = uint32_t(h) | 1;
    Bucket* victim = &line.b[0];
    for (Bucket& b : line.b) {
        if (b.tag == tag) {
            fresh = false;
            return b;
        }
        if (b.tag == 0 || (victim->tag != 0 && now_ms - b.stamp > now_ms - victim->stamp))
            victim = &b;
    }
    if (victim->limited != 0) {
        RrlEvent e;
        e.tag = victim->tag;
        e.limited = victim->limited;
        push_event(e);
    }
    *victim = Bucket{tag, now_ms, int32_t(rate_ * 1000), 0};
    fresh = true;
    return *victim;
}

// The prefix (the first bits of the address, as big-endian words, masked) and the name and
// class, in one mix.
uint64_t RrlTable::key(const ClientAddr& client, RrlClass cls, uintptr_t name) const noexcept {
    uint64_t hi, lo = 0;
    if (client.len == 4) {
        uint32_t v;
        std::memcpy(&v, client.bytes, 4);
        hi = (uint64_t(__builtin_bswap32(v)) << 32) & mask4_;
    } else {
        hi = __builtin_bswap64(load_u64(client.bytes)) & mask6_[0];
        lo = __builtin_bswap64(load_u64(client.bytes + 8)) & mask6_[1];
    }
    return mix(hi * 0x9E3779B97F4A7C15ULL ^ (lo + client.len) * 0xC2B2AE3D27D4EB4FULL ^
               (uint64_t(name) + uint8_t(cls)) * 0x165667B19E3779F9ULL);
}

RrlTable::Verdict RrlTable::check(uint64_t h, const ClientAddr& client, RrlClass cls,
                                  uint32_t now_ms) noexcept {
    bool fresh = false;
    Bucket& b = find(h, now_ms, fresh);
    const int64_t cap = int64_t(rate_) * 1000;
    if (!fresh) {
        const uint32_t elapsed = std::min<uint32_t>(now_ms - b.stamp, 2000);
        b.tokens = int32_t(std::min<int64_t>(cap, b.tokens + int64_t(elapsed) * rate_));
        b.stamp = now_ms;
    }
    if (b.tokens >= 1000) {
        b.tokens -= 1000;
        // Limiting ends once the bucket has filled up again: a second without excess.
        if (b.limited != 0 && b.tokens + 1000 >= cap) {
            RrlEvent e;
            e.tag = b.tag;
            e.limited = b.limited;
            push_event(e);
            b.limited = 0;
        }
        return Verdict::pass;
    }
    for (const RrlPrefix& ex : cfg_.exempt)
        if (prefix_contains(ex, client)) return Verdict::pass;
    if (b.limited++ == 0) {
        RrlEvent e;
        e.tag = b.tag;
        e.start = true;
        e.cls = cls;
        const unsigned bits = client.len == 4 ? cfg_.v4_prefix : cfg_.v6_prefix;
        e.bits = uint8_t(std::min<unsigned>(bits, client.len * 8u));
        e.prefix = masked(client, bits);
        push_event(e);
    }
    if (cfg_.slip != 0 && b.limited % cfg_.slip == 0) return Verdict::slip;
    return Verdict::drop;
}

}  // namespace anamed
