// State shared by the DPDK frontend's files: set up before the workers launch, read-only
// while they run (counters excepted, each written by one worker).
#pragma once

#include <rte_mbuf.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "anamed/dpdk_frontend.hpp"
#include "anamed/log_line.hpp"
#include "anamed/response_guard.hpp"
#include "anamed/rrl_reporter.hpp"
#include "packet.hpp"

namespace anamed {

namespace dp {

inline void log_info(const std::string& m) {
    write_log_line("info", "dpdk: " + m);
}
inline void log_warning(const std::string& m) {
    write_log_line("warning", "dpdk: " + m);
}

struct PortState {
    DpdkPortInfo info;
    PortAddrs addrs;
    bool offload = false;                   // IPv4 header + UDP checksums done by the NIC
    std::vector<std::string> kernel_addrs;  // "ADDR/PREFIX" for the exception interface
};

// A token bucket in TSC cycles: the kernel path is slow and must not be flooded.
class TokenBucket {
public:
    void init(uint64_t rate_per_s, uint64_t hz);
    bool take();

private:
    uint64_t rate_ = 0, hz_ = 1, burst_ = 0, tokens_ = 0, last_ = 0;
};

struct alignas(64) WorkerCtx {
    DpdkFrontend::Impl* fe = nullptr;
    unsigned index = 0;  // also the queue number on every port
    unsigned lcore = 0;
    std::vector<TokenBucket> buckets;  // per port
    std::unique_ptr<ResponseGuard> guard;
};

int worker_main(void* arg);

// port.cpp
std::string init_eal(std::vector<std::string> args, unsigned workers);
uint16_t find_port(const std::string& device);
void setup_port(uint16_t port, uint16_t rxq, uint16_t txq, rte_mempool* pool, bool& offload);
void log_link(uint16_t port, const std::string& device);
Mac parse_mac(const std::string& s);
// exception.cpp
void setup_exception(PortState& p, const std::string& device, uint16_t queues, rte_mempool* pool);
// telemetry.cpp
void register_telemetry(DpdkFrontend::Impl* fe);
void unregister_telemetry();

}  // namespace dp

struct DpdkFrontend::Impl {
    Impl(Published<Snapshot>& s, DpdkOptions o) : snap(s), opts(std::move(o)) {}

    Published<Snapshot>& snap;
    DpdkOptions opts;
    std::vector<dp::PortState> ports;
    std::vector<DpdkPortInfo> infos;
    std::vector<std::unique_ptr<CounterBlock>> counters;  // [worker * ports + port]
    std::unique_ptr<RrlTable> shared_rrl;  // every worker's, with `rrl: {table: shared}`
    std::vector<std::unique_ptr<dp::WorkerCtx>> workers;
    std::vector<uint16_t> started;  // ports to stop and close
    rte_mempool* pool = nullptr;
    std::atomic<bool> quit{false};
    RrlReporter reporter;  // the workers' rate limiting events, as log lines
    bool eal_up = false, launched = false;

    CounterBlock& counter(size_t w, size_t p) { return *counters[w * ports.size() + p]; }
    // The blocks of worker `w` (or every worker) on port `p` (or every port).
    static constexpr size_t all = size_t(-1);
    std::vector<CounterSource> counter_sources(size_t w = all, size_t p = all) const;
};

}  // namespace anamed
