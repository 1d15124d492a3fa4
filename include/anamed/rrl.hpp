// Response rate limiting with the semantics of Knot's mod-rrl and BIND: responses are
// classified (positive answers by name, NXDOMAIN by zone, referrals by delegation, errors,
// ANY and large answers), and each class, name and client prefix (/24, /56) has a token
// bucket of `rate` responses a second. A response over the rate is dropped, except every
// `slip`th, which goes out empty with TC=1 so that a real client retries over TCP.
//
// The buckets sit in 64-byte lines of four; a new key replaces its line's stalest bucket, so
// many sources cannot exhaust the fixed memory. A table is one of two kinds (`rrl: table:`):
// - per-worker: each worker its own table with its share of the rate; plain loads and
//   stores, no cache line moving between cores;
// - shared: one table for all workers at the full rate, updated with relaxed atomics (a
//   compare-and-swap on a bucket's tokens, no lock); a race between two workers costs at
//   most one response's worth of accuracy.
// A bucket that starts or stops limiting leaves an event in the table's ring, which
// RrlReporter (off the answer path) turns into log lines.
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

enum class RrlTableKind : uint8_t { per_worker, shared };

struct RrlConfig {
    bool enabled = false;
    RrlTableKind table = RrlTableKind::per_worker;  // cheaper under a flood: PERFORMANCE.md
    uint32_t rate = 20;                             // responses per second per bucket
    uint32_t slip = 2;  // every slip-th limited response slips (TC=1); 0: none, 1: all
    uint8_t v4_prefix = 24, v6_prefix = 56;
    uint32_t table_size = 65536;  // buckets per table (rounded up to a power of two)
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

// A bounded ring of events: any number of producers (the workers sharing a table), one
// consumer (the reporter). A full ring drops the event: the reporter lags, the answer path
// does not wait.
class RrlEventRing {
public:
    RrlEventRing();
    bool push(const RrlEvent& e) noexcept;
    bool pop(RrlEvent& e) noexcept;

private:
    struct Slot {
        std::atomic<size_t> seq;  // == position: free for it; position + 1: holds its event
        RrlEvent e;
    };
    static constexpr size_t size = 1024;
    std::unique_ptr<Slot[]> slots_;
    alignas(64) std::atomic<size_t> head_{0};  // claimed by producers
    alignas(64) size_t tail_ = 0;              // the consumer's
};

class RrlTable {
public:
    enum class Verdict : uint8_t { pass, drop, slip };

    // `share`: the number of workers the traffic is spread over (RSS, SO_REUSEPORT); a
    // per-worker table allows that share of the rate, so that together they allow the rate.
    // A shared table (cfg.table) allows the whole rate whatever `share` says.
    explicit RrlTable(const RrlConfig& cfg, unsigned share = 1);
    RrlTable(const RrlTable&) = delete;
    RrlTable& operator=(const RrlTable&) = delete;

    bool shared() const { return shared_; }

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
    Verdict check(uint64_t key, const ClientAddr& client, RrlClass cls, uint32_t now_ms) noexcept {
        return shared_ ? check_shared(key, client, cls, now_ms)
                       : check_local(key, client, cls, now_ms);
    }

    // The reporter's side of the event ring (single consumer).
    bool pop_event(RrlEvent& e) noexcept { return events_.pop(e); }
    size_t memory_bytes() const { return lines_ * sizeof(Line); }

private:
    struct Bucket {
        uint32_t tag;      // 0: free
        uint32_t limited;  // responses limited since it started limiting; 0: not limiting
        uint64_t state;    // last update in ms (high half), tokens in thousandths (low half)
    };
    struct alignas(64) Line {
        Bucket b[4];
    };
    static constexpr uint32_t max_rate = 1000000;  // tokens are thousandths in 32 bits

    Verdict check_local(uint64_t key, const ClientAddr& client, RrlClass cls,
                        uint32_t now_ms) noexcept;
    Verdict check_shared(uint64_t key, const ClientAddr& client, RrlClass cls,
                         uint32_t now_ms) noexcept;
    Bucket& find_local(uint64_t h, uint32_t now_ms, bool& fresh) noexcept;
    Bucket* find_shared(uint64_t h, uint32_t now_ms) noexcept;
    // Over the rate: exempt, or counted (the first one reports the start) and dropped or
    // slipped. `limited`: the bucket's count before this response.
    Verdict over_rate(uint32_t tag, uint32_t limited, const ClientAddr& client,
                      RrlClass cls) noexcept;
    bool exempt(const ClientAddr& client) const noexcept;
    void report_end(uint32_t tag, uint32_t limited) noexcept;

    const RrlConfig& cfg_;
    const bool shared_;
    const uint32_t rate_;
    uint64_t mask4_ = 0, mask6_[2] = {};  // the prefixes' bits, as big-endian words
    size_t lines_ = 0;
    std::unique_ptr<Line[]> table_;
    RrlEventRing events_;
};

}  // namespace anamed
