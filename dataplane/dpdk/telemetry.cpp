// Counters through DPDK telemetry, so that `dpdk-telemetry.py -f PREFIX` reads them:
//   /anamed/stats          totals over every worker and port
//   /anamed/port,N         one port (index in the configuration), summed over workers
//   /anamed/worker,N       one worker, summed over ports
//   /anamed/zones          per zone: ZONE (queries answered from it) and ZONE_RCODE, the
//                          zone's name with '_' for its dots (example_com_NXDOMAIN)
#include <rte_telemetry.h>

#include <cctype>
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

// Telemetry names take letters, digits, '_' and '-' only: a zone's dots become '_' (the
// root's and the trailing one dropped).
std::string telemetry_name(const std::string& zone) {
    std::string out;
    for (char c : zone) out += std::isalnum(uint8_t(c)) || c == '-' ? c : '_';
    while (!out.empty() && out.back() == '_') out.pop_back();
    return out.empty() ? "root" : out;
}

int zones_reply(const char*, const char*, rte_tel_data* d) {
    std::lock_guard<std::mutex> lock(mu);
    if (live == nullptr) return -1;
    const CounterSnapshot c = read_counters(live->counter_sources(), live->opts.zone_slots);
    rte_tel_data_start_dict(d);
    for (const auto& [slot, zone] : c.zones) {
        const std::string name = telemetry_name(zone);
        rte_tel_data_add_dict_u64(d, name.c_str(), c.total.zone_total(slot));
        for (size_t i = 0; i < zone_rcode_names.size(); ++i)
            rte_tel_data_add_dict_u64(d, (name + "_" + zone_rcode_names[i]).c_str(),
                                      c.total.zone_value(slot, i));
    }
    return 0;
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
    rte_telemetry_register_cmd("/anamed/zones", zones_reply,
                               "anamed DPDK queries per zone (and by RCODE), all workers");
}

void unregister_telemetry() {
    std::lock_guard<std::mutex> lock(mu);
    live = nullptr;
}

}  // namespace anamed::dp
