// ALIAS change latency: from "new addresses for a target are known" (the upstream reply
// has been parsed) to "a dataplane thread answers with them", on a large ALIAS zone.
//   alias_publish_bench --zone FILE [--origin NAME] [--benchmark_* flags]
// A reader thread runs respond() in a loop like a worker; the main thread swaps one target's
// slot the way Publisher::publish_aliases does. Baseline in the same run: recompiling the whole
// table, the cost a design without per-target slots would pay for the same change.
#include <benchmark/benchmark.h>

#include <atomic>
#include <iostream>
#include <thread>

#include "alias_resolver.hpp"
#include "anamed/publish.hpp"
#include "anamed/respond.hpp"
#include "bench_util.hpp"
#include "compiler.hpp"
#include "ldns.hpp"

namespace {

using namespace anamed;
using Clock = std::chrono::steady_clock;

std::unique_ptr<Zone> zone;
std::string origin = "mywebservice.com.";

std::shared_ptr<const AliasAnswer> answer_for(uint32_t n) {
    const std::string a{char(10), char(n >> 16), char(n >> 8), char(n)};
    return make_alias_answer(AliasAnswer::resolved, {a}, {}, 300);
}

void BM_alias_change_visible(benchmark::State& state) {
    auto snap = compile({zone.get()}, 1, [](const std::string&) { return answer_for(0); });
    Rcu rcu;
    const auto q = bench::build_query("c0000001." + origin, "A", 1, false);
    std::atomic<uint32_t> seen{0};
    std::atomic<bool> stop{false};
    std::thread reader([&] {
        const int id = rcu.register_reader();
        uint8_t out[512];
        while (!stop.load(std::memory_order_relaxed)) {
            rcu.online(id);
            const size_t n = respond(snap.get(), q.data(), q.size(), out, sizeof out, ClientInfo{});
            if (n >= 4)
                seen.store(uint32_t(out[n - 3]) << 16 | uint32_t(out[n - 2]) << 8 | out[n - 1]);
            rcu.quiescent(id);
        }
        rcu.unregister_reader(id);
    });
    // The slot of c0000001's target: every customer on that target changes with it.
    const std::string key = lower_key(text_to_wire("c0000001." + origin));
    const Node* node = snap->zones[0]->index.find(key);
    if (node == nullptr || node->alias == 0) {
        state.SkipWithError("c0000001 has no ALIAS: generate the zone with --alias-targets");
        stop.store(true);
        reader.join();
        return;
    }
    const uint32_t slot = node->alias - 1;
    uint32_t version = 0;
    double worst = 0;
    for (auto _ : state) {
        auto next = answer_for(++version & 0xFFFFFF);
        const auto t0 = Clock::now();
        auto old = std::move(snap->alias_owners[slot]);
        snap->aliases[slot].store(next.get());
        snap->alias_owners[slot] = std::move(next);
        while (seen.load() != (version & 0xFFFFFF)) {
        }
        const double s = std::chrono::duration<double>(Clock::now() - t0).count();
        worst = std::max(worst, s);
        state.SetIterationTime(s);
        rcu.synchronize();  // the old answer is freed after the grace period, off the clock
    }
    stop.store(true);
    reader.join();
    state.counters["worst_us"] = worst * 1e6;
}

void BM_full_recompile_baseline(benchmark::State& state) {
    for (auto _ : state) {
        auto snap = compile({zone.get()}, 1, [](const std::string&) { return answer_for(1); });
        benchmark::DoNotOptimize(snap.get());
    }
}

}  // namespace

int main(int argc, char** argv) {
    bench::Args args = bench::parse_args(argc, argv);
    if (args.zone_file.empty()) {
        std::cerr << "usage: alias_publish_bench --zone FILE [--origin NAME] [benchmark flags]\n";
        return 2;
    }
    origin = args.origin;
    zone = bench::load_zone(origin, args.zone_file);
    std::cerr << "zone " << origin << ": " << zone->nodes.size() << " names, "
              << alias_targets({zone.get()}).size() << " ALIAS targets\n";
    benchmark::RegisterBenchmark("alias/change_visible_in_dataplane", BM_alias_change_visible)
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond)
        ->Iterations(200);
    benchmark::RegisterBenchmark("baseline/full_recompile", BM_full_recompile_baseline)
        ->Unit(benchmark::kMillisecond)
        ->Iterations(2);
    int bargc = int(args.rest.size());
    benchmark::Initialize(&bargc, args.rest.data());
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
