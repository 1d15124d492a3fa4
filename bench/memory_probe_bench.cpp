// The machine's memory as the 1M-name answer table meets it, for bench/compare's machine
// description: what one dependent load costs (a pointer chase over a random cycle of cache
// lines), what random prefetches cost when issued back to back, one or two lines per page,
// and what one costs the core when it sits among other work, as respond_burst's do.
// Memory comes from huge_alloc (transparent huge pages), as the table's does.
//   memory_probe_bench [--benchmark_* flags]
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <random>
#include <vector>

#include "anamed/huge_array.hpp"
#include "anamed/wire.hpp"

namespace {

constexpr size_t line = 64, page = 4096;

struct Region {
    explicit Region(size_t bytes)
        : bytes(bytes), p(static_cast<uint8_t*>(anamed::huge_alloc(bytes))) {
        std::memset(p, 0, bytes);  // fault it in before timing
    }
    ~Region() { anamed::huge_free(p, bytes); }
    Region(const Region&) = delete;
    Region& operator=(const Region&) = delete;
    size_t bytes;
    uint8_t* p;
};

// Arg: MiB. Each line holds the offset of the next line of one random cycle through all.
void BM_dependent_load(benchmark::State& state) {
    Region r(size_t(state.range(0)) << 20);
    const size_t n = r.bytes / line;
    std::vector<uint32_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin() + 1, order.end(), std::mt19937(1));
    for (size_t i = 0; i < n; ++i) {
        const uint64_t next = uint64_t(order[(i + 1) % n]) * line;
        std::memcpy(r.p + size_t(order[i]) * line, &next, sizeof next);
    }
    constexpr int chase = 1024;
    uint64_t at = 0;
    for (auto _ : state) {
        for (int i = 0; i < chase; ++i) std::memcpy(&at, r.p + at, sizeof at);
        benchmark::DoNotOptimize(at);
    }
    state.SetItemsProcessed(int64_t(state.iterations()) * chase);
    state.counters["ns_per_load"] =
        benchmark::Counter(double(state.iterations()) * chase,
                           benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// Args: MiB, lines per page. Prefetches to random pages, back to back, `lines` adjacent
// lines in each: the first line pays the page's translation, the rest only the fetch.
void BM_random_prefetch(benchmark::State& state) {
    Region r(size_t(state.range(0)) << 20);
    const int lines = int(state.range(1));
    std::vector<uint32_t> pages(1 << 22);  // their lines (256 MiB) are beyond every cache
    std::mt19937 rng(2);
    for (auto& pg : pages) pg = uint32_t(rng() % (r.bytes / page));
    for (auto _ : state) {
        for (uint32_t pg : pages) {
            const uint8_t* at =
                r.p + size_t(pg) * page + (pg % 32) * line;  // a line in the page's first half
            for (int l = 0; l < lines; ++l) anamed::prefetch(at + l * line);
        }
    }
    state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(pages.size()));
    state.counters["ns_per_page"] =
        benchmark::Counter(double(state.iterations()) * double(pages.size()),
                           benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// Args: MiB, multiplies. A chain of dependent multiplies (few instructions for their time,
// so the reorder buffer fills slowly), run once alone and once with a prefetch of a random line
// before each link, in every iteration. The difference per prefetch is what it costs the core
// beside the work, as respond_burst's stages sit among its answers: nearly nothing when the
// prefetch is translated from the TLB (a small region), the wait for the page walk when not.
void BM_prefetch_among_work(benchmark::State& state) {
    Region r(size_t(state.range(0)) << 20);
    std::vector<uint64_t> lines(1 << 16);
    std::mt19937_64 rng(3);
    for (auto& l : lines) l = (rng() % (r.bytes / line)) * line;
    const int mults = int(state.range(1));
    auto work = [mults](uint64_t x) {
        for (int k = 0; k < mults; ++k) {
            x = x * 0x9E3779B97F4A7C15ull + uint64_t(k);
            benchmark::DoNotOptimize(x);
        }
        return x;
    };
    using clock = std::chrono::steady_clock;
    clock::duration alone{}, with{};
    uint64_t x = 1;
    size_t at = 0;
    constexpr size_t steps = 4096;
    for (auto _ : state) {
        const auto t0 = clock::now();
        for (size_t i = 0; i < steps; ++i) x = work(x);
        const auto t1 = clock::now();
        for (size_t i = 0; i < steps; ++i) {
            anamed::prefetch(r.p + lines[at++ & (lines.size() - 1)]);
            x = work(x);
        }
        alone += t1 - t0;
        with += clock::now() - t1;
    }
    benchmark::DoNotOptimize(x);
    const double prefetches = double(state.iterations()) * steps;
    state.counters["ns_per_prefetch"] =
        std::chrono::duration<double, std::nano>(with - alone).count() / prefetches;
    state.counters["ns_work_step"] =
        std::chrono::duration<double, std::nano>(alone).count() / prefetches;
}

}  // namespace

BENCHMARK(BM_dependent_load)->Arg(1)->Arg(512)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_random_prefetch)->Args({512, 1})->Args({512, 2})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_prefetch_among_work)
    ->Args({2, 32})
    ->Args({512, 32})
    ->Args({512, 96})
    ->Args({512, 192})
    ->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
