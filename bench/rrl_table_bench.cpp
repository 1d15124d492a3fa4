// The rate limiter's two kinds of table (rrl.hpp) side by side, with 1 and 2 threads:
//   per_worker  each thread its own table with its share of the rate (plain loads/stores);
//   shared      one table for all threads at the full rate (relaxed atomics, a CAS a check).
// Two kinds of traffic:
//   no_limit    4,096 (client /24, name) keys in random order at a rate none reaches, every
//               thread over the same keys (RSS spreads one resolver's queries over the
//               workers): the cost of RRL on but not limiting;
//   flood_1m    a spoofed flood from 1M distinct /24s, each thread its own part of them:
//               nearly every response takes over the stalest bucket of its line.
// An iteration is a burst of 32 responses checked as the DPDK worker does: every key
// computed and its line prefetched, then the checks. The clock is read once a burst.
// cpu_ns/check is each thread's own CPU time per check (averaged over the threads): on a
// busy machine it is the figure to compare; Mchecks (all threads, wall clock) is the rate.
//   rrl_table_bench [--benchmark_* flags]
#include <benchmark/benchmark.h>

#include <algorithm>
#include <ctime>
#include <memory>
#include <random>
#include <vector>

#include "anamed/rrl.hpp"

namespace {

using namespace anamed;
constexpr size_t burst = 32;

struct Response {
    ClientAddr client;
    uintptr_t name;
};

struct Traffic {
    std::vector<Response> no_limit, flood;
};
Traffic* traffic = nullptr;

ClientAddr v4(uint32_t a) {
    ClientAddr x;
    x.len = 4;
    for (int i = 0; i < 4; ++i) x.bytes[i] = uint8_t(a >> (24 - 8 * i));
    return x;
}

Traffic make_traffic() {
    Traffic t;
    std::mt19937 rng(53);
    // 64 resolvers' /24s asking for 64 names: 4,096 keys, a million responses over them.
    std::uniform_int_distribution<uint32_t> pick(0, 4095);
    t.no_limit.reserve(1 << 20);
    for (size_t i = 0; i < (1 << 20); ++i) {
        const uint32_t k = pick(rng);
        t.no_limit.push_back({v4(0x0A000000u | (k >> 6) << 8 | (k & 0xFF)), 0x1000 + (k & 63)});
    }
    // 1M distinct /24s (1.0.0.0 up), in random order, asking for one name.
    t.flood.reserve(1000000);
    for (uint32_t i = 0; i < 1000000; ++i) t.flood.push_back({v4((0x010000u + i) << 8 | 7), 0x42});
    std::shuffle(t.flood.begin(), t.flood.end(), rng);
    return t;
}

// This thread's CPU time: what a check costs, whatever else the machine runs meanwhile.
double thread_cpu_ns() {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) * 1e9 + double(ts.tv_nsec);
}

uint32_t now_ms() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return uint32_t(uint64_t(ts.tv_sec) * 1000 + uint64_t(ts.tv_nsec) / 1000000);
}

enum class Mix { no_limit, flood_1m };

RrlConfig config(RrlTableKind kind, Mix mix) {
    RrlConfig cfg;
    cfg.enabled = true;
    cfg.table = kind;
    cfg.rate = mix == Mix::no_limit ? 1000000 : 5;
    return cfg;
}

// The shared runs' table and its configuration, made by thread 0 before the loop; the other
// threads reach them once every thread has reached the loop.
RrlConfig shared_cfg;
std::unique_ptr<RrlTable> shared_table;

template <RrlTableKind kind, Mix mix>
void BM_rrl(benchmark::State& state) {
    const std::vector<Response>& resp = mix == Mix::no_limit ? traffic->no_limit : traffic->flood;
    const unsigned threads = unsigned(state.threads());
    const RrlConfig cfg = config(kind, mix);
    std::unique_ptr<RrlTable> own;
    if (kind == RrlTableKind::per_worker) {
        own = std::make_unique<RrlTable>(cfg, threads);
    } else if (state.thread_index() == 0) {
        shared_cfg = cfg;
        shared_table = std::make_unique<RrlTable>(shared_cfg);
    }
    // Each thread starts its walk elsewhere: the flood's sources are split between them.
    size_t i = resp.size() / threads * unsigned(state.thread_index());
    uint64_t keys[burst];
    size_t passed = 0, checked = 0;
    double cpu_ns = 0;
    for (auto _ : state) {
        if (checked == 0) cpu_ns = thread_cpu_ns();
        RrlTable& t = own ? *own : *shared_table;
        const uint32_t now = now_ms();
        const size_t start = i;
        for (size_t k = 0; k < burst; ++k) {
            const Response& r = resp[(start + k) % resp.size()];
            keys[k] = t.key(r.client, RrlClass::positive, r.name);
            t.prefetch(keys[k]);
        }
        for (size_t k = 0; k < burst; ++k) {
            const Response& r = resp[(start + k) % resp.size()];
            passed +=
                t.check(keys[k], r.client, RrlClass::positive, now) == RrlTable::Verdict::pass;
        }
        i = (start + burst) % resp.size();
        checked += burst;
    }
    cpu_ns = thread_cpu_ns() - cpu_ns;
    state.SetItemsProcessed(int64_t(checked));
    state.counters["cpu_ns/check"] =
        benchmark::Counter(checked ? cpu_ns / double(checked) : 0, benchmark::Counter::kAvgThreads);
    state.counters["Mchecks"] =
        benchmark::Counter(double(checked) / 1e6, benchmark::Counter::kIsRate);
    state.counters["passed"] = benchmark::Counter(checked ? double(passed) / double(checked) : 0,
                                                  benchmark::Counter::kAvgThreads);
    state.counters["table_bytes"] = benchmark::Counter(
        double((own ? *own : *shared_table).memory_bytes()), benchmark::Counter::kAvgThreads);
}

}  // namespace

int main(int argc, char** argv) {
    Traffic t = make_traffic();
    traffic = &t;
    auto reg = [](const char* name, void (*fn)(benchmark::State&)) {
        benchmark::RegisterBenchmark(name, fn)->Threads(1)->Threads(2)->UseRealTime();
    };
    reg("rrl/per_worker/no_limit", BM_rrl<RrlTableKind::per_worker, Mix::no_limit>);
    reg("rrl/shared/no_limit", BM_rrl<RrlTableKind::shared, Mix::no_limit>);
    reg("rrl/per_worker/flood_1m", BM_rrl<RrlTableKind::per_worker, Mix::flood_1m>);
    reg("rrl/shared/flood_1m", BM_rrl<RrlTableKind::shared, Mix::flood_1m>);
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
