// Per-worker counters: written by one thread, summed by the control plane.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace anamed {

struct alignas(64) WorkerStats {
    std::atomic<uint64_t> queries{0};
    std::atomic<uint64_t> responses{0};
    std::atomic<uint64_t> dropped{0};    // no reply: QR=1, runt, unparseable
    std::atomic<uint64_t> truncated{0};  // TC=1 replies
    std::array<std::atomic<uint64_t>, 24> rcode{};

    // Single writer: a relaxed load+store is enough and costs no locked instruction.
    static void bump(std::atomic<uint64_t>& c, uint64_t n = 1) {
        c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
};

}  // namespace anamed
