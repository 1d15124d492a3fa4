// A token bucket in TSC cycles, one per worker and port (single writer, no atomics): the
// kernel path is slow and must not be flooded, and UPDATE messages handed to the control
// plane have a bucket of their own, so that a flood of them cannot starve NOTIFY, transfers
// or TCP. Plain arithmetic: the clock is passed in (rte_rdtsc on the workers, a counter in
// the unit tests) and read only when the bucket is empty.
#pragma once

#include <cstdint>

namespace anamed::dp {

class TokenBucket {
public:
    // rate_per_s 0: unlimited. Up to 100 ms of traffic (at least 32) may arrive at once.
    void init(uint64_t rate_per_s, uint64_t hz, uint64_t now) {
        rate_ = rate_per_s;
        hz_ = hz ? hz : 1;
        burst_ = rate_ / 10 > 32 ? rate_ / 10 : 32;
        tokens_ = burst_;
        last_ = now;
    }
    template <typename Now>
    bool take(Now now) {
        if (rate_ == 0) return true;
        if (tokens_ == 0) {
            const uint64_t t = now();
            uint64_t elapsed = t - last_;
            if (elapsed > hz_) elapsed = hz_;  // keeps the product below 2^64
            const uint64_t add = elapsed * rate_ / hz_;
            if (add == 0) return false;
            last_ = t;
            tokens_ = add < burst_ ? add : burst_;
        }
        --tokens_;
        return true;
    }

private:
    uint64_t rate_ = 0, hz_ = 1, burst_ = 0, tokens_ = 0, last_ = 0;
};

}  // namespace anamed::dp
