// What an outgoing AXFR costs the primary, apart from the network and the client: taking the
// zone's image (the control thread's part) and building the messages from it (the transfer
// thread's part), on a large zone file.
//   xfr_build_bench --zone FILE [--origin NAME] [--benchmark_* flags]
// Reported per record of the zone (ns/record) and as records per second.
#include <benchmark/benchmark.h>

#include <chrono>
#include <iostream>

#include "anamed/wire.hpp"
#include "xfr_out.hpp"
#include "zone_image.hpp"
#include "zone_loader.hpp"

namespace {

using namespace anamed;

std::unique_ptr<Zone> zone;
std::string origin = "mywebservice.com.";
size_t records = 0;

TransferRequest request() {
    TransferRequest r;
    r.id = 1;
    r.qname = zone->apex;
    r.qtype = rrtype::AXFR;
    return r;
}

// The loop's own clock, for a figure per record beside the benchmark's per iteration.
void per_record(benchmark::State& state, std::chrono::steady_clock::time_point t0) {
    const double ns =
        std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
    const double done = double(records) * double(state.iterations());
    state.counters["ns/record"] = ns / done;
    state.counters["Mrecords/s"] = done / ns * 1e3;
}

void BM_take_image(benchmark::State& state) {
    const auto t0 = std::chrono::steady_clock::now();
    for (auto _ : state) {
        auto image = take_image(*zone);
        benchmark::DoNotOptimize(image->names.data());
    }
    per_record(state, t0);
}

void BM_build_messages(benchmark::State& state) {
    const auto image = take_image(*zone);
    const TransferRequest r = request();
    size_t bytes = 0, messages = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (auto _ : state) {
        bytes = messages = 0;
        const bool ok = axfr_stream(*image, r, [&](std::string m) {
            bytes += m.size();
            ++messages;
            return true;
        });
        if (!ok) state.SkipWithError("the AXFR could not be built");
    }
    state.counters["messages"] = double(messages);
    state.counters["MB"] = double(bytes) / 1e6;
    per_record(state, t0);
}

// The same messages read from the zone itself: what building them on the control thread,
// without an image, would cost.
void BM_build_from_zone(benchmark::State& state) {
    const TransferRequest r = request();
    const auto t0 = std::chrono::steady_clock::now();
    for (auto _ : state) {
        auto msgs = axfr_messages(*zone, r);
        if (msgs.empty()) state.SkipWithError("the AXFR could not be built");
    }
    per_record(state, t0);
}

BENCHMARK(BM_build_from_zone)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);
BENCHMARK(BM_take_image)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);
BENCHMARK(BM_build_messages)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    std::string path;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--zone" && i + 1 < argc)
            path = argv[++i];
        else if (a == "--origin" && i + 1 < argc)
            origin = argv[++i];
    }
    if (path.empty()) {
        std::cerr << "usage: xfr_build_bench --zone FILE [--origin NAME]\n";
        return 2;
    }
    LoadResult r = load_zone_file(origin, path);
    if (!r.zone) {
        std::cerr << path << ": the zone did not load\n";
        return 1;
    }
    zone = std::move(r.zone);
    for (const auto& [key, node] : zone->nodes)
        for (const RRset rs : node.rrsets()) records += rs.rdata.size();
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
