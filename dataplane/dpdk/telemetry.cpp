// Counters through DPDK telemetry, so that `dpdk-telemetry.py -f PREFIX` reads them:
//   /anamed/stats          totals over every worker and port
//   /anamed/port,N         one port (index in the configuration), summed over workers
//   /anamed/worker,N       one worker, summed over ports
#include <rte_telemetry.h>

#include <cstdlib>
#include <mutex>
#include <string>

#include "frontend_impl.hpp"

namespace anamed::dp {
namespace {

std::mutex mu;  // stop() must not free what a telemetry callback is reading
DpdkFrontend::Impl* live = nullptr;

// Every counter of the registry: a scalar under its name, a labelled one under NAME_VALUE
// for each value and NAME for their sum. Every key is always present, so that a reader can
// subtract two replies key by key.
void put(const CounterValues& v, rte_tel_data* d) {
    rte_tel_data_start_dict(d);
    for (const CounterDef& def : counter_defs) {
        rte_tel_data_add_dict_u64(d, def.name, v.total(def));
        if (def.label == Label::none) continue;
        for (size_t i = 0; i < def.width; ++i)
            rte_tel_data_add_dict_u64(
                d, (std::string(def.name) + "_" + label_value(def.label, i)).c_str(),
                v.v[def.first + i]);
    }
}

int reply(const char* cmd, const char* params, rte_tel_data* d) {
    std::lock_guard<std::mutex> lock(mu);
    if (live == nullptr) return -1;
    const size_t np = live->ports.size(), nw = live->workers.size();
    const std::string c = cmd;
    std::vector<CounterSource> sources;
    if (c == "/anamed/stats") {
        sources = live->counter_sources();
    } else {
        if (params == nullptr || *params == '\0') return -1;
        char* end = nullptr;
        const unsigned long i = std::strtoul(params, &end, 10);
        if (*end != '\0') return -1;
        if (c == "/anamed/port") {
            if (i >= np) return -1;
            sources = live->counter_sources(DpdkFrontend::Impl::all, i);
        } else {
            if (i >= nw) return -1;
            sources = live->counter_sources(i, DpdkFrontend::Impl::all);
        }
    }
    put(read_counters(std::move(sources)).total, d);
    return 0;
}

}  // namespace

void register_telemetry(DpdkFrontend::Impl* fe) {
    {
        std::lock_guard<std::mutex> lock(mu);
        live = fe;
    }
    rte_telemetry_register_cmd("/anamed/stats", reply,
                               "anamed DPDK counters, all workers and ports");
    rte_telemetry_register_cmd("/anamed/port", reply,
                               "anamed DPDK counters of one port. Parameters: int port index");
    rte_telemetry_register_cmd("/anamed/worker", reply,
                               "anamed DPDK counters of one worker. Parameters: int worker");
}

void unregister_telemetry() {
    std::lock_guard<std::mutex> lock(mu);
    live = nullptr;
}

}  // namespace anamed::dp
