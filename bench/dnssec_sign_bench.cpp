// Signing a customer zone: names of the 1M-customer zone's shape (a customer has A, AAAA,
// MX and TXT, and a www CNAME), NSEC or NSEC3, with 1 or 2 threads. Counters: names and
// signatures per second (per core with one thread).
//   dnssec_sign_bench --benchmark_filter=Sign/100000
#include <benchmark/benchmark.h>
#include <tbb/global_control.h>

#include <ctime>

#include "dnssec_signer.hpp"

namespace anamed {
namespace {

std::unique_ptr<Zone> customer_zone(size_t names) {
    auto z = std::make_unique<Zone>();
    z->apex_text = "mywebservice.com.";
    z->apex = text_to_wire(z->apex_text);
    ZoneNode& apex = z->nodes[z->apex];
    const std::string soa = text_to_wire("ns1.mywebservice.com.") +
                            text_to_wire("hostmaster.mywebservice.com.") +
                            std::string(
                                "\x00\x00\x00\x01\x00\x00\x1c\x20\x00\x00\x0e\x10"
                                "\x00\x12\x75\x00\x00\x00\x01\x2c",
                                20);
    apex.add(6, 3600, soa);
    apex.add(2, 3600, text_to_wire("ns1.mywebservice.com."));
    z->nodes[text_to_wire("ns1.mywebservice.com.")].add(1, 3600,
                                                        std::string("\xC6\x12\x00\x01", 4));
    const std::string mx = std::string("\x00\x0a", 2) + text_to_wire("mx.mywebservice.com.");
    z->nodes.reserve(names + 2);
    for (size_t i = 0; z->nodes.size() < names; ++i) {
        char name[64];
        std::snprintf(name, sizeof name, "c%07zu.mywebservice.com.", i);
        const std::string key = text_to_wire(name);
        ZoneNode& n = z->nodes[key];
        const uint32_t a = 0xC6120000u + uint32_t(i);
        n.add(1, 300, std::string{char(a >> 24), char(a >> 16), char(a >> 8), char(a)});
        n.add(28, 300, std::string("\x20\x01\x0d\xb8", 4) + std::string(12, char(i)));
        n.add(15, 3600, mx);
        n.add(16, 3600, "\x0fv=spf1 ip4:x -all");
        z->nodes[std::string("\x03www", 4) + key].add(5, 300, key);
    }
    return z;
}

void Sign(benchmark::State& state) {
    const size_t names = size_t(state.range(0));
    const bool nsec3 = state.range(1) != 0;
    const int threads = int(state.range(2));
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, size_t(threads));
    const std::unique_ptr<Zone> base = customer_zone(names);
    DnssecKey key;
    if (!generate_key(base->apex, dnssec_alg::ecdsap256sha256, KeyRole::csk, 0, key).empty())
        state.SkipWithError("no key");
    SignPolicy policy;
    policy.nsec3 = nsec3;
    const ZoneSigner signer(base->apex, {key}, policy, std::time(nullptr));
    size_t sigs = 0;
    for (auto _ : state) {
        state.PauseTiming();
        Zone z;
        z.apex = base->apex;
        z.apex_text = base->apex_text;
        z.nodes.reserve(base->nodes.size());
        for (const auto& [key, node] : base->nodes) z.nodes[key] = node;
        state.ResumeTiming();
        if (!signer.sign_zone(z).empty()) state.SkipWithError("sign failed");
        state.PauseTiming();
        sigs = 0;
        for (const auto& [k, n] : z.nodes)
            if (const std::optional<RRset> s = n.find(46)) sigs += s->rdata.size();
        state.ResumeTiming();
    }
    state.counters["names/s"] =
        benchmark::Counter(double(names), benchmark::Counter::kIsIterationInvariantRate);
    state.counters["sigs/s"] =
        benchmark::Counter(double(sigs), benchmark::Counter::kIsIterationInvariantRate);
    state.counters["threads"] = threads;
}
// names, NSEC3, threads
BENCHMARK(Sign)
    ->Args({100000, 0, 1})
    ->Args({100000, 1, 1})
    ->Args({100000, 0, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1);

}  // namespace
}  // namespace anamed

BENCHMARK_MAIN();
