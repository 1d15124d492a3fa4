// Counters through DPDK telemetry, so that `dpdk-telemetry.py -f PREFIX` reads them:
//   /anamed/stats          totals over every worker and port
//   /anamed/port,N         one port (index in the configuration), summed over workers
//   /anamed/worker,N       one worker, summed over ports
#include <rte_telemetry.h>

#include <cstdlib>
#include <mutex>

#include "frontend_impl.hpp"

namespace anamed::dp {
namespace {

std::mutex mu;  // stop() must not free what a telemetry callback is reading
DpdkFrontend::Impl* live = nullptr;

const char* rcode_names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",  "REFUSED",
                             "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE", "rcode11",
                             "rcode12",  "rcode13", "rcode14", "rcode15", "BADVERS"};

struct Sum {
    uint64_t rx = 0, tx = 0, queries = 0, answered = 0, truncated = 0, arp = 0, nd = 0, echo = 0;
    uint64_t to_kernel = 0, from_kernel = 0, fragments = 0;
    uint64_t rcode[DpdkPortCounters::n_rcodes] = {}, dropped[DpdkPortCounters::n_drops] = {};

    void add(const DpdkPortCounters& c) {
        rx += c.rx.load();
        tx += c.tx.load();
        queries += c.queries.load();
        answered += c.answered.load();
        truncated += c.truncated.load();
        arp += c.arp.load();
        nd += c.nd.load();
        echo += c.echo.load();
        to_kernel += c.to_kernel.load();
        from_kernel += c.from_kernel.load();
        fragments += c.fragments.load();
        for (size_t i = 0; i < DpdkPortCounters::n_rcodes; ++i) rcode[i] += c.rcode[i].load();
        for (size_t i = 0; i < DpdkPortCounters::n_drops; ++i) dropped[i] += c.dropped[i].load();
    }
    void put(rte_tel_data* d) const {
        rte_tel_data_start_dict(d);
        auto u = [&](const char* k, uint64_t v) { rte_tel_data_add_dict_u64(d, k, v); };
        u("rx", rx);
        u("tx", tx);
        u("queries", queries);
        u("answered", answered);
        u("truncated", truncated);
        for (size_t i = 0; i < std::size(rcode_names); ++i)
            if (rcode[i] || i < 6) u((std::string("answered_") + rcode_names[i]).c_str(), rcode[i]);
        u("arp_replies", arp);
        u("nd_advertisements", nd);
        u("echo_replies", echo);
        u("to_kernel", to_kernel);
        u("from_kernel", from_kernel);
        u("fragments_to_kernel", fragments);
        uint64_t all = 0;
        for (size_t i = 0; i < DpdkPortCounters::n_drops; ++i) {
            u((std::string("dropped_") + drop_names[i]).c_str(), dropped[i]);
            all += dropped[i];
        }
        u("dropped", all);
    }
};

int reply(const char* cmd, const char* params, rte_tel_data* d) {
    std::lock_guard<std::mutex> lock(mu);
    if (live == nullptr) return -1;
    const size_t np = live->ports.size(), nw = live->workers.size();
    const std::string c = cmd;
    Sum s;
    if (c == "/anamed/stats") {
        for (size_t w = 0; w < nw; ++w)
            for (size_t p = 0; p < np; ++p) s.add(live->counter(w, p));
    } else {
        if (params == nullptr || *params == '\0') return -1;
        char* end = nullptr;
        const unsigned long i = std::strtoul(params, &end, 10);
        if (*end != '\0') return -1;
        if (c == "/anamed/port") {
            if (i >= np) return -1;
            for (size_t w = 0; w < nw; ++w) s.add(live->counter(w, i));
        } else {
            if (i >= nw) return -1;
            for (size_t p = 0; p < np; ++p) s.add(live->counter(i, p));
        }
    }
    s.put(d);
    return 0;
}

}  // namespace

void register_telemetry(DpdkFrontend::Impl* fe) {
    {
        std::lock_guard<std::mutex> lock(mu);
        live = fe;
    }
    rte_telemetry_register_cmd("/anamed/stats", reply, "anamed DPDK counters, all workers and ports");
    rte_telemetry_register_cmd("/anamed/port", reply, "anamed DPDK counters of one port. Parameters: int port index");
    rte_telemetry_register_cmd("/anamed/worker", reply, "anamed DPDK counters of one worker. Parameters: int worker");
}

void unregister_telemetry() {
    std::lock_guard<std::mutex> lock(mu);
    live = nullptr;
}

}  // namespace anamed::dp
