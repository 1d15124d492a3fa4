// The DPDK frontend's packet path in process: parse + respond + rewrite + checksums over
// bursts of 32 prebuilt query frames (IPv4 and IPv6, mixed names) on a large zone, with a
// null-forwarder baseline (the same frames, MACs/addresses/ports swapped, as testpmd
// 5tswap does) in the same run. Frames sit in 2 KiB buffers like mbuf data rooms and are
// refreshed from templates before every burst, as a NIC would have written them.
//   packet_path_bench --zone FILE [--origin NAME] --queries FILE [--benchmark_* flags]
#include <arpa/inet.h>
#include <benchmark/benchmark.h>

#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "anamed/respond.hpp"
#include "anamed/response_guard.hpp"
#include "bench_util.hpp"
#include "compiler.hpp"
#include "ldns.hpp"
#include "packet.hpp"

namespace {

using namespace anamed;
constexpr size_t burst = 32, room = 2048;

struct Fixture {
    std::unique_ptr<Zone> zone;
    std::unique_ptr<Snapshot> snap;
    dp::PortAddrs port;
    // The templates back to back in one buffer, as a NIC's rx ring would hold them: reading
    // them streams through memory instead of visiting 100k separate heap blocks.
    std::vector<uint8_t> frame_bytes;
    std::vector<std::pair<size_t, uint32_t>> frames;  // offset and length in frame_bytes
    std::basic_string_view<uint8_t> frame(size_t i) const {
        return {frame_bytes.data() + frames[i].first, frames[i].second};
    }
};
Fixture* fx = nullptr;

std::vector<uint8_t> frame_for(const std::vector<uint8_t>& q, bool v6, const dp::PortAddrs& port,
                               uint16_t sport) {
    std::vector<uint8_t> f(port.mac.begin(), port.mac.end());
    const uint8_t client[6] = {0x02, 0, 0, 0, 0, 0x02};
    f.insert(f.end(), client, client + 6);
    const uint16_t udp_len = uint16_t(8 + q.size());
    auto u16 = [&](uint16_t v) {
        f.push_back(uint8_t(v >> 8));
        f.push_back(uint8_t(v));
    };
    if (!v6) {
        u16(dp::eth_ipv4);
        const uint8_t ip[] = {
            0x45, 0,  uint8_t((20 + udp_len) >> 8), uint8_t(20 + udp_len), 0, 0, 0, 0, 64, 17, 0, 0,
            10,   53, uint8_t(sport >> 8),          uint8_t(sport)};
        f.insert(f.end(), ip, ip + sizeof ip);
        const auto* d = reinterpret_cast<const uint8_t*>(&port.v4[0]);
        f.insert(f.end(), d, d + 4);
    } else {
        u16(dp::eth_ipv6);
        const uint8_t ip[] = {0x60, 0, 0, 0, uint8_t(udp_len >> 8), uint8_t(udp_len), 17, 64};
        f.insert(f.end(), ip, ip + sizeof ip);
        uint8_t src[16] = {
            0xfd, 0x53, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, uint8_t(sport >> 8), uint8_t(sport)};
        f.insert(f.end(), src, src + 16);
        f.insert(f.end(), port.v6[0].begin(), port.v6[0].end());
    }
    u16(sport);
    u16(53);
    u16(udp_len);
    u16(0);
    f.insert(f.end(), q.begin(), q.end());
    return f;
}

// What the guard stage is given in each run: none (RRL off), RRL on at a rate no source
// reaches, or RRL on under a flood of 1M distinct /24s (every response a new bucket, each
// replacing the stalest of its line); the RRL runs with either kind of table.
enum class Rrl { off, not_limiting, flood_1m };

// The DPDK worker's per-burst work minus the PMD: refresh frames, classify, respond_burst
// in place (each reply over its query in the frame), the guard (as worker.cpp), rewrite.
template <Rrl mode, RrlTableKind table = RrlTableKind::per_worker>
void BM_packet_path(benchmark::State& state) {
    static uint8_t bufs[burst][room];
    BurstItem items[burst];
    dp::Classified cls[burst];
    size_t i = 0, bytes = 0;
    GuardPolicy policy;
    policy.rrl.enabled = mode != Rrl::off;
    policy.rrl.rate = mode == Rrl::flood_1m ? 5 : 1000000;
    policy.rrl.table = table;
    ClientAddr src[burst];
    uint64_t keys[burst];
    ResponseGuard guard(&policy);
    CounterBlock ctr;
    uint32_t flood_src = 0;
    for (auto _ : state) {
        unsigned nq = 0;
        for (size_t k = 0; k < burst; ++k) {
            const auto t = fx->frame(i);
            if (++i == fx->frames.size()) i = 0;
            std::memcpy(bufs[k], t.data(), t.size());
            const dp::Classified c = dp::classify(bufs[k], uint32_t(t.size()), fx->port);
            if (c.verdict != dp::Verdict::dns) continue;
            items[nq] = BurstItem{bufs[k] + c.dns, c.dns_len, bufs[k] + c.dns, room - c.dns, 0, {}};
            cls[nq++] = c;
        }
        respond_burst(fx->snap.get(), items, nq, ClientInfo{Transport::udp, guard.cookies()});
        if constexpr (mode != Rrl::off) {  // as worker.cpp: keys and prefetches, then checks
            guard.tick();
            for (unsigned k = 0; k < nq; ++k) {
                if (items[k].out_len == 0) continue;
                ClientAddr& a = src[k];
                a.len = cls[k].v6 ? 16 : 4;
                std::memcpy(a.bytes, bufs[k] + cls[k].l3 + (cls[k].v6 ? 8 : 12), a.len);
                if constexpr (mode == Rrl::flood_1m) {
                    const uint32_t n = flood_src++ % 1000000;
                    a.len = 4;
                    a.bytes[0] = uint8_t(1 + (n >> 16)), a.bytes[1] = uint8_t(n >> 8);
                    a.bytes[2] = uint8_t(n);
                }
                keys[k] = guard.prepare(items[k].info, items[k].out_len, a);
            }
            for (unsigned k = 0; k < nq; ++k)
                if (items[k].out_len != 0)
                    items[k].out_len = guard.check(items[k].out, items[k].out_len, items[k].info,
                                                   src[k], Transport::udp, ctr, keys[k]);
        }
        for (unsigned k = 0; k < nq; ++k)
            if (items[k].out_len)
                bytes += dp::rewrite_dns_reply(bufs[k], cls[k], uint16_t(items[k].out_len),
                                               fx->port.mac, false);
        benchmark::DoNotOptimize(bufs);
    }
    state.SetItemsProcessed(int64_t(state.iterations() * burst));
    state.counters["Mqps"] =
        benchmark::Counter(double(state.iterations() * burst) / 1e6, benchmark::Counter::kIsRate);
    state.counters["bytes/frame"] = double(bytes) / double(state.iterations() * burst);
    if (RrlTable* t = guard.table()) state.counters["rrl_table_bytes"] = double(t->memory_bytes());
}

// Baseline: a null forwarder (testpmd 5tswap) over the same frames: swap MACs, IPs, ports.
void BM_5tswap_baseline(benchmark::State& state) {
    static uint8_t bufs[burst][room];
    size_t i = 0;
    for (auto _ : state) {
        for (size_t k = 0; k < burst; ++k) {
            const auto t = fx->frame(i);
            if (++i == fx->frames.size()) i = 0;
            std::memcpy(bufs[k], t.data(), t.size());
            uint8_t* f = bufs[k];
            uint8_t tmp[16];
            std::memcpy(tmp, f, 6), std::memcpy(f, f + 6, 6), std::memcpy(f + 6, tmp, 6);
            const bool v6 = f[12] == 0x86;
            const size_t a = v6 ? 22 : 26, n = v6 ? 16 : 4, l4 = v6 ? 54 : 34;
            std::memcpy(tmp, f + a, n), std::memcpy(f + a, f + a + n, n),
                std::memcpy(f + a + n, tmp, n);
            std::memcpy(tmp, f + l4, 2), std::memcpy(f + l4, f + l4 + 2, 2),
                std::memcpy(f + l4 + 2, tmp, 2);
        }
        benchmark::DoNotOptimize(bufs);
    }
    state.SetItemsProcessed(int64_t(state.iterations() * burst));
    state.counters["Mqps"] =
        benchmark::Counter(double(state.iterations() * burst) / 1e6, benchmark::Counter::kIsRate);
}

}  // namespace

int main(int argc, char** argv) {
    bench::Args args = bench::parse_args(argc, argv);
    if (args.zone_file.empty() || args.query_file.empty()) {
        std::cerr << "usage: packet_path_bench --zone FILE [--origin NAME] --queries FILE "
                     "[benchmark flags]\n"
                     "       (tools/gen_bench_zone.py makes both)\n";
        return 2;
    }
    Fixture f;
    f.zone = bench::load_zone(args.origin, args.zone_file);
    f.snap = compile({f.zone.get()}, 1);
    f.snap->promote_huge_pages();  // as the daemon does once it serves
    f.port.mac = {0x02, 0, 0, 0, 0x53, 0x01};
    inet_pton(AF_INET, "10.53.0.1", &f.port.v4[f.port.n_v4++]);
    inet_pton(AF_INET6, "fd53::1", f.port.v6[f.port.n_v6++].data());
    uint16_t id = 0;
    for (const auto& [name, type] : bench::read_queries(args.query_file)) {
        ++id;
        const auto frame = frame_for(bench::build_query(name, type, id), id % 4 == 0, f.port,
                                     uint16_t(1024 + id % 60000));
        f.frames.push_back({f.frame_bytes.size(), uint32_t(frame.size())});
        f.frame_bytes.insert(f.frame_bytes.end(), frame.begin(), frame.end());
    }
    if (f.frames.empty()) {
        std::cerr << args.query_file << ": no queries\n";
        return 1;
    }
    std::cerr << "zone " << args.origin << ": " << f.zone->nodes.size() << " names; "
              << f.frames.size() << " query frames (1/4 IPv6)\n";
    fx = &f;
    benchmark::RegisterBenchmark("packet_path/burst32", BM_packet_path<Rrl::off>);
    benchmark::RegisterBenchmark("packet_path_rrl_not_limiting/burst32",
                                 BM_packet_path<Rrl::not_limiting>);
    benchmark::RegisterBenchmark("packet_path_rrl_flood_1m_sources/burst32",
                                 BM_packet_path<Rrl::flood_1m>);
    benchmark::RegisterBenchmark("packet_path_rrl_shared_not_limiting/burst32",
                                 BM_packet_path<Rrl::not_limiting, RrlTableKind::shared>);
    benchmark::RegisterBenchmark("packet_path_rrl_shared_flood_1m_sources/burst32",
                                 BM_packet_path<Rrl::flood_1m, RrlTableKind::shared>);
    benchmark::RegisterBenchmark("baseline/5tswap_burst32", BM_5tswap_baseline);
    int bargc = int(args.rest.size());
    benchmark::Initialize(&bargc, args.rest.data());
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
