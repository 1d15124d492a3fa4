// Response rate limiting with the semantics of Knot's mod-rrl and BIND: responses are
// classified (positive answers by name, NXDOMAIN by zone, referrals by delegation, errors,
// ANY and large answers), and each class, name and client prefix (/24, /56) has a token
// bucket of `rate` responses a second. A response over the rate is dropped, except every
// `slip`th, which goes out empty with TC=1 so that a real client retries over TCP.
//
// Each worker has its own table (no sharing, no locked instruction, no cache line moving
// between cores under a flood) with its share of the rate: a fixed number of
// buckets in 64-byte lines of four, a new key replacing the line's stalest bucket, so many
// sources cannot exhaust memory. A bucket that starts or stops limiting leaves an event in
// the table's ring, which RrlReporter (off the answer path) turns into log lines.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "anamed/cookie.hpp"

namespace anamed {

enum class RrlClass : uint8_t { positive, nxdomain, referral, error, any, large, count };
const char* rrl_class_name(RrlClass c) noexcept;

struct RrlPrefix {
    ClientAddr addr;
    uint8_t bits = 0;
};
bool prefix_contains(const RrlPrefix& p, const ClientAddr& a) noexcept;

struct RrlConfig {
    bool enabled = false;
    uint32_t rate = 20;  // responses per second per bucket
    uint32_t slip = 2;   // every slip-th limited response slips (TC=1); 0: none, 1: all
    uint8_t v4_prefix = 24, v6_prefix = 56;
    uint32_t table_size = 65536;  // buckets per worker (rounded up to a power of two)
    uint32_t large_size = 1024;   // a response longer than this is of class `large`
    std::vector<RrlPrefix> exempt;
};

// A bucket that starts limiting (start: with its prefix and class) or stops (after
// `limited` responses were dropped or slipped).
struct RrlEvent {
    uint32_t tag = 0;
    bool start = false;
    RrlClass cls = RrlClass::positive;
    uint8_t bits = 0;
    ClientAddr prefix;
    uint32_t limited = 0;
};

class RrlTable {
public:
    enum class Verdict : uint8_t { pass, drop, slip };

    // `share`: the number of workers the traffic is spread over (RSS, SO_REUSEPORT); each
    // table allows that share of the rate, so that together they allow the rate.
    explicit RrlTable(const RrlConfig& cfg, unsigned share = 1);
    RrlTable(const RrlTable&) = delete;
    RrlTable& operator=(const RrlTable&) = delete;

    // One response of class `cls` for name key `name` (a node or zone of the snapshot; 0 for
    // errors) to `client`, at `now_ms` (a monotonic clock).
    Verdict check(const ClientAddr& client, RrlClass cls, uintptr_t name,
                  uint32_t now_ms) noexcept {
        return check(key(client, cls, name), client, cls, now_ms);
    }
    // The same in two steps, for bursts: every response's key computed and its bucket line
    // fetched first, then each checked, so that the lines' cache misses overlap.
    uint64_t key(const ClientAddr& client, RrlClass cls, uintptr_t name) const noexcept;
    void prefetch(uint64_t key) const noexcept {
        __builtin_prefetch(&table_[(key >> 32) & (lines_ - 1)], 1);
    }
    Verdict check(uint64_t key, const ClientAddr& client, RrlClass cls, uint32_t now_ms) noexcept;

    // The reporter's side of the event ring (single consumer).
    bool pop_event(RrlEvent& e) noexcept;
    size_t memory_bytes() const { return lines_ * sizeof(Line); }

private:
    struct Bucket {
        uint32_t tag;      // 0: free
        uint32_t stamp;    // last update, ms
        int32_t tokens;    // thousandths of a response
        uint32_t limited;  // responses limited since it started limiting; 0: not limiting
    };
    struct alignas(64) Line {
        Bucket b[4];
    };
    static constexpr size_t ring_size = 1024;
    static constexpr uint32_t max_rate = 1000000;  // tokens are thousandths in 32 bits

    void push_event(const RrlEvent& e) noexcept;
    Bucket& find(uint64_t h, uint32_t now_ms, bool& fresh) noexcept;

    const RrlConfig& cfg_;
    const uint32_t rate_;
    uint64_t mask4_ = 0, mask6_[2] = {};  // the prefixes' bits, as big-endian words
    size_t lines_ = 0;
    std::unique_ptr<Line[]> table_;
    std::unique_ptr<RrlEvent[]> ring_;
    alignas(64) std::atomic<size_t> head_{0};  // written by the worker
    alignas(64) std::atomic<size_t> tail_{0};  // written by the reporter
};

}  // namespace anamed
