// Per-worker counters: written by one thread, summed by the control plane.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <utility>

namespace anamed {

struct alignas(64) WorkerStats {
    std::atomic<uint64_t> queries{0};
    std::atomic<uint64_t> responses{0};
    std::atomic<uint64_t> dropped{0};    // no reply: QR=1, runt, unparseable
    std::atomic<uint64_t> truncated{0};  // TC=1 replies
    std::array<std::atomic<uint64_t>, 24> rcode{};
    std::array<std::atomic<uint64_t>, 16> qtype{};  // by qtype_bucket()

    // Single writer: a relaxed load+store is enough and costs no locked instruction.
    static void bump(std::atomic<uint64_t>& c, uint64_t n = 1) {
        c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
};

// Query types counted one by one; the rest share "other".
inline constexpr std::array<std::pair<uint16_t, const char*>, 15> qtype_buckets{{
    {1, "A"}, {28, "AAAA"}, {15, "MX"}, {16, "TXT"}, {5, "CNAME"}, {2, "NS"}, {6, "SOA"}, {33, "SRV"},
    {12, "PTR"}, {43, "DS"}, {65, "HTTPS"}, {64, "SVCB"}, {257, "CAA"}, {255, "ANY"}, {65401, "ALIAS"}}};
inline size_t qtype_bucket(uint16_t qtype) {
    for (size_t i = 0; i < qtype_buckets.size(); ++i)
        if (qtype_buckets[i].first == qtype) return i;
    return qtype_buckets.size();  // "other"
}

}  // namespace anamed
