// respond() on a large zone with a mixed query set: ns/query and Mqps, single core.
//   respond_bench --zone FILE --origin NAME --queries FILE [--benchmark_* flags]
// The zone is loaded and compiled once; every query packet is prebuilt, so the loop
// measures respond() alone (plus a memcpy baseline of the same bytes, for a ratio).
#include <benchmark/benchmark.h>

#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "anamed/respond.hpp"
#include "bench_util.hpp"
#include "compiler.hpp"
#include "ldns.hpp"

namespace {

using namespace anamed;

struct Fixture {
    std::unique_ptr<Zone> zone;
    std::unique_ptr<Snapshot> snap;
    // All query packets back to back, as a NIC would leave them in a ring of buffers.
    std::vector<uint8_t> packets;
    std::vector<std::pair<uint32_t, uint16_t>> queries;  // offset, length
};
Fixture* fx = nullptr;

void BM_respond_mixed(benchmark::State& state) {
    uint8_t out[1232 + 64];
    size_t i = 0, bytes = 0;
    const ClientInfo udp{Transport::udp};
    for (auto _ : state) {
        const auto [off, len] = fx->queries[i];
        bytes += respond(fx->snap.get(), fx->packets.data() + off, len, out, sizeof out, udp);
        benchmark::DoNotOptimize(out);
        if (++i == fx->queries.size()) i = 0;
    }
    state.SetItemsProcessed(int64_t(state.iterations()));
    state.counters["ns/query"] = benchmark::Counter(
        double(state.iterations()), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    state.counters["bytes/reply"] = double(bytes) / double(state.iterations());
}

// The same queries in bursts of 32, as a DPDK rx burst or a recvmmsg batch delivers them.
void BM_respond_burst(benchmark::State& state) {
    constexpr size_t burst = 32;
    static uint8_t out[burst][1232 + 64];
    BurstItem items[burst];
    size_t i = 0;
    for (auto _ : state) {
        for (size_t k = 0; k < burst; ++k) {
            const auto [off, len] = fx->queries[i];
            items[k] = BurstItem{fx->packets.data() + off, len, out[k], sizeof out[k], 0, {}};
            if (++i == fx->queries.size()) i = 0;
        }
        respond_burst(fx->snap.get(), items, burst, ClientInfo{Transport::udp});
        benchmark::DoNotOptimize(items);
    }
    state.SetItemsProcessed(int64_t(state.iterations() * burst));
    state.counters["ns/query"] =
        benchmark::Counter(double(state.iterations() * burst),
                           benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// Baseline: touching the same query bytes and writing a reply-sized buffer, nothing else.
void BM_copy_baseline(benchmark::State& state) {
    uint8_t out[1232 + 64];
    size_t i = 0;
    for (auto _ : state) {
        const auto [off, len] = fx->queries[i];
        std::memcpy(out, fx->packets.data() + off, len);
        benchmark::DoNotOptimize(out);
        if (++i == fx->queries.size()) i = 0;
    }
    state.SetItemsProcessed(int64_t(state.iterations()));
}

}  // namespace

int main(int argc, char** argv) {
    bench::Args args = bench::parse_args(argc, argv);
    if (args.zone_file.empty() || args.query_file.empty()) {
        std::cerr
            << "usage: respond_bench --zone FILE [--origin NAME] --queries FILE [benchmark flags]\n"
               "       (bench/run_respond_bench.sh generates both)\n";
        return 2;
    }
    Fixture f;
    f.zone = bench::load_zone(args.origin, args.zone_file);
    f.snap = compile({f.zone.get()}, 1);
    f.snap->promote_huge_pages();  // as the daemon does once it serves
    uint16_t id = 0;
    for (const auto& [name, type] : bench::read_queries(args.query_file)) {
        const auto q = bench::build_query(name, type, ++id);
        f.queries.emplace_back(uint32_t(f.packets.size()), uint16_t(q.size()));
        f.packets.insert(f.packets.end(), q.begin(), q.end());
    }
    if (f.queries.empty()) {
        std::cerr << args.query_file << ": no queries\n";
        return 1;
    }
    std::cerr << "zone " << args.origin << ": " << f.zone->nodes.size() << " names; "
              << f.queries.size() << " queries\n";
    fx = &f;
    benchmark::RegisterBenchmark("respond/mixed", BM_respond_mixed);
    benchmark::RegisterBenchmark("respond_burst32/mixed", BM_respond_burst);
    benchmark::RegisterBenchmark("baseline/copy_query", BM_copy_baseline);
    int bargc = int(args.rest.size());
    benchmark::Initialize(&bargc, args.rest.data());
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
