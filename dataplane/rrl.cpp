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

// A bucket's state word: the time of its last update (ms) and its tokens (thousandths).
uint64_t pack(uint32_t stamp, int32_t tokens) {
    return uint64_t(stamp) << 32 | uint32_t(tokens);
}
uint32_t stamp_of(uint64_t state) {
    return uint32_t(state >> 32);
}
int64_t tokens_of(uint64_t state) {
    return int32_t(uint32_t(state));
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

RrlEventRing::RrlEventRing() : slots_(new Slot[size]) {
    for (size_t i = 0; i < size; ++i) slots_[i].seq.store(i, std::memory_order_relaxed);
}

// Vyukov's bounded queue: a producer claims a position whose slot is free for it, fills the
// slot, then publishes it by its sequence number.
bool RrlEventRing::push(const RrlEvent& e) noexcept {
    size_t pos = head_.load(std::memory_order_relaxed);
    while (true) {
        Slot& s = slots_[pos % size];
        const size_t seq = s.seq.load(std::memory_order_acquire);
        const auto diff = intptr_t(seq) - intptr_t(pos);
        if (diff < 0) return false;  // full: the reporter lags
        if (diff == 0) {
            if (head_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
                s.e = e;
                s.seq.store(pos + 1, std::memory_order_release);
                return true;
            }
        } else {
            pos = head_.load(std::memory_order_relaxed);
        }
    }
}

bool RrlEventRing::pop(RrlEvent& e) noexcept {
    Slot& s = slots_[tail_ % size];
    if (s.seq.load(std::memory_order_acquire) != tail_ + 1) return false;
    e = s.e;
    s.seq.store(tail_ + size, std::memory_order_release);
    ++tail_;
    return true;
}

RrlTable::RrlTable(const RrlConfig& cfg, unsigned share)
    : cfg_(cfg),
      shared_(cfg.table == RrlTableKind::shared),
      rate_(std::clamp<uint32_t>(cfg.rate / (shared_ ? 1 : std::max(1u, share)), 1, max_rate)) {
    lines_ = std::bit_ceil(std::max<size_t>(cfg.table_size, 4) / 4);
    table_.reset(new Line[lines_]);
    std::memset(static_cast<void*>(table_.get()), 0, lines_ * sizeof(Line));
    auto top_bits = [](unsigned bits) { return bits == 0 ? 0 : ~0ULL << (64 - bits); };
    mask4_ = top_bits(std::min<unsigned>(cfg.v4_prefix, 32));
    const unsigned v6 = std::min<unsigned>(cfg.v6_prefix, 128);
    mask6_[0] = top_bits(std::min(v6, 64u));
    mask6_[1] = top_bits(v6 > 64 ? v6 - 64 : 0);
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

bool RrlTable::exempt(const ClientAddr& client) const noexcept {
    for (const RrlPrefix& ex : cfg_.exempt)
        if (prefix_contains(ex, client)) return true;
    return false;
}

void RrlTable::report_end(uint32_t tag, uint32_t limited) noexcept {
    RrlEvent e;
    e.tag = tag;
    e.limited = limited;
    events_.push(e);
}

RrlTable::Verdict RrlTable::over_rate(uint32_t tag, uint32_t limited, const ClientAddr& client,
                                      RrlClass cls) noexcept {
    if (limited == 0) {
        RrlEvent e;
        e.tag = tag;
        e.start = true;
        e.cls = cls;
        const unsigned bits = client.len == 4 ? cfg_.v4_prefix : cfg_.v6_prefix;
        e.bits = uint8_t(std::min<unsigned>(bits, client.len * 8u));
        e.prefix = masked(client, bits);
        events_.push(e);
    }
    if (cfg_.slip != 0 && (limited + 1) % cfg_.slip == 0) return Verdict::slip;
    return Verdict::drop;
}

// ---- per-worker: plain loads and stores

// The bucket of hash h: the line's matching one, or the line's free or stalest one taken
// over (a bucket that was limiting reports its end).
RrlTable::Bucket& RrlTable::find_local(uint64_t h, uint32_t now_ms, bool& fresh) noexcept {
    Line& line = table_[(h >> 32) & (lines_ - 1)];
    const uint32_t tag = uint32_t(h) | 1;
    Bucket* victim = &line.b[0];
    for (Bucket& b : line.b) {
        if (b.tag == tag) {
            fresh = false;
            return b;
        }
        if (b.tag == 0 ||
            (victim->tag != 0 && now_ms - stamp_of(b.state) > now_ms - stamp_of(victim->state)))
            victim = &b;
    }
    if (victim->limited != 0) report_end(victim->tag, victim->limited);
    *victim = Bucket{tag, 0, pack(now_ms, int32_t(rate_ * 1000))};
    fresh = true;
    return *victim;
}

RrlTable::Verdict RrlTable::check_local(uint64_t h, const ClientAddr& client, RrlClass cls,
                                        uint32_t now_ms) noexcept {
    bool fresh = false;
    Bucket& b = find_local(h, now_ms, fresh);
    const int64_t cap = int64_t(rate_) * 1000;
    int64_t tokens = tokens_of(b.state);
    if (!fresh) {
        const uint32_t elapsed = std::min<uint32_t>(now_ms - stamp_of(b.state), 2000);
        tokens = std::min<int64_t>(cap, tokens + int64_t(elapsed) * rate_);
    }
    if (tokens >= 1000) {
        b.state = pack(now_ms, int32_t(tokens - 1000));
        // Limiting ends once the bucket has filled up again: a second without excess.
        if (b.limited != 0 && tokens >= cap) {
            report_end(b.tag, b.limited);
            b.limited = 0;
        }
        return Verdict::pass;
    }
    b.state = pack(now_ms, int32_t(tokens));
    if (exempt(client)) return Verdict::pass;
    return over_rate(b.tag, b.limited++, client, cls);
}

// ---- shared: relaxed atomics on the same buckets, a compare-and-swap on the state word

// The bucket of hash h, as find_local() but with the takeover of a stale bucket claimed by
// a compare-and-swap of its tag; null when another worker took it over first.
RrlTable::Bucket* RrlTable::find_shared(uint64_t h, uint32_t now_ms) noexcept {
    Line& line = table_[(h >> 32) & (lines_ - 1)];
    const uint32_t tag = uint32_t(h) | 1;
    Bucket* victim = nullptr;
    uint32_t victim_tag = 0, victim_age = 0;
    for (Bucket& b : line.b) {
        const uint32_t t = std::atomic_ref<uint32_t>(b.tag).load(std::memory_order_relaxed);
        if (t == tag) return &b;
        const uint64_t st = std::atomic_ref<uint64_t>(b.state).load(std::memory_order_relaxed);
        // Workers read the clock at different moments: a stamp a little ahead is age 0.
        const int32_t ago = int32_t(now_ms - stamp_of(st));
        const uint32_t age = t == 0 ? UINT32_MAX : uint32_t(std::max(ago, 0));
        if (victim == nullptr || age > victim_age) victim = &b, victim_tag = t, victim_age = age;
    }
    if (!std::atomic_ref<uint32_t>(victim->tag)
             .compare_exchange_strong(victim_tag, tag, std::memory_order_relaxed))
        return nullptr;
    const uint32_t limited =
        std::atomic_ref<uint32_t>(victim->limited).exchange(0, std::memory_order_relaxed);
    if (limited != 0) report_end(victim_tag, limited);
    std::atomic_ref<uint64_t>(victim->state)
        .store(pack(now_ms, int32_t(rate_ * 1000)), std::memory_order_relaxed);
    return victim;
}

RrlTable::Verdict RrlTable::check_shared(uint64_t h, const ClientAddr& client, RrlClass cls,
                                         uint32_t now_ms) noexcept {
    Bucket* b = find_shared(h, now_ms);
    if (b == nullptr) b = find_shared(h, now_ms);
    if (b == nullptr) return Verdict::pass;  // the line changes hands under a flood: let it go
    const int64_t cap = int64_t(rate_) * 1000;
    std::atomic_ref<uint64_t> state(b->state);
    uint64_t old = state.load(std::memory_order_relaxed), next;
    int64_t tokens;
    do {
        const int32_t ago = int32_t(now_ms - stamp_of(old));
        tokens = tokens_of(old);
        if (ago > 0) tokens = std::min<int64_t>(cap, tokens + int64_t(std::min(ago, 2000)) * rate_);
        next = pack(ago > 0 ? now_ms : stamp_of(old),
                    int32_t(tokens >= 1000 ? tokens - 1000 : tokens));
        if (next == old) break;  // limited and no time passed: nothing to write
    } while (!state.compare_exchange_weak(old, next, std::memory_order_relaxed));
    std::atomic_ref<uint32_t> limited(b->limited);
    if (tokens >= 1000) {
        if (tokens >= cap && limited.load(std::memory_order_relaxed) != 0) {
            const uint32_t n = limited.exchange(0, std::memory_order_relaxed);
            if (n != 0) report_end(uint32_t(h) | 1, n);
        }
        return Verdict::pass;
    }
    if (exempt(client)) return Verdict::pass;
    return over_rate(uint32_t(h) | 1, limited.fetch_add(1, std::memory_order_relaxed), client, cls);
}

}  // namespace anamed
