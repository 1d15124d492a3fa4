#include "anamed/dpdk_frontend.hpp"

#include <arpa/inet.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <cstring>
#include <stdexcept>

#include "frontend_impl.hpp"

namespace anamed {

using namespace dp;

namespace {

PortState make_port(const DpdkPortOptions& o) {
    PortState p;
    p.info.device = o.device;
    for (const auto& a : o.addresses) {
        const std::string ip = a.substr(0, a.find('/'));
        if (ip.find(':') != std::string::npos) {
            if (p.addrs.n_v6 == PortAddrs::max_addrs ||
                inet_pton(AF_INET6, ip.c_str(), p.addrs.v6[p.addrs.n_v6].data()) != 1)
                throw std::runtime_error("port " + o.device +
                                         ": bad or too many IPv6 addresses at " + a);
            ++p.addrs.n_v6;
        } else {
            if (p.addrs.n_v4 == PortAddrs::max_addrs ||
                inet_pton(AF_INET, ip.c_str(), &p.addrs.v4[p.addrs.n_v4]) != 1)
                throw std::runtime_error("port " + o.device +
                                         ": bad or too many IPv4 addresses at " + a);
            ++p.addrs.n_v4;
        }
        p.kernel_addrs.push_back(a);
    }
    for (unsigned v : o.vlans) {
        if (p.addrs.n_vlans == PortAddrs::max_vlans)
            throw std::runtime_error("port " + o.device + ": too many VLANs");
        p.addrs.vlans[p.addrs.n_vlans++] = uint16_t(v);
    }
    return p;
}

}  // namespace

DpdkFrontend::DpdkFrontend(Published<Snapshot>& snap, DpdkOptions opts)
    : impl_(std::make_unique<Impl>(snap, std::move(opts))) {}

DpdkFrontend::~DpdkFrontend() {
    stop();
}

void DpdkFrontend::start() {
    Impl& fe = *impl_;
    const unsigned nw = fe.opts.workers ? fe.opts.workers : 1;
    if (fe.opts.ports.empty()) throw std::runtime_error("dpdk: no ports configured");
    for (const auto& o : fe.opts.ports) fe.ports.push_back(make_port(o));

    log_info("EAL: " + init_eal(fe.opts.eal_args, nw));
    fe.eal_up = true;
    std::vector<unsigned> lcores;
    unsigned lc;
    RTE_LCORE_FOREACH_WORKER(lc) {
        if (lcores.size() < nw) lcores.push_back(lc);
    }
    if (lcores.size() < nw)
        throw std::runtime_error("dpdk.workers is " + std::to_string(nw) + " but the EAL has " +
                                 std::to_string(lcores.size()) +
                                 " worker lcores: give one more lcore than workers in -l (lcore 0 "
                                 "is the control thread's)");

    // Every queue's ring can hold a full set of mbufs at once, plus the per-lcore caches.
    const size_t rings = fe.ports.size() * nw * 2 + fe.ports.size() * (1 + nw);
    const unsigned n_mbufs =
        unsigned(std::min<size_t>(rings * 1024 + nw * 512 + 1024, 65535)) | 1023;
    fe.pool = rte_pktmbuf_pool_create("anamed_mbufs", n_mbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                      int(rte_socket_id()));
    if (fe.pool == nullptr)
        throw std::runtime_error("cannot create a pool of " + std::to_string(n_mbufs) + " mbufs (" +
                                 rte_strerror(rte_errno) +
                                 "); give the EAL more memory (-m) or hugepages");

    for (size_t i = 0; i < fe.ports.size(); ++i) {
        PortState& p = fe.ports[i];
        const DpdkPortOptions& o = fe.opts.ports[i];
        p.info.port_id = find_port(o.device);
        setup_port(p.info.port_id, uint16_t(nw), uint16_t(nw), fe.pool, p.offload);
        fe.started.push_back(p.info.port_id);
        rte_ether_addr mac{};
        rte_eth_macaddr_get(p.info.port_id, &mac);
        std::memcpy(p.addrs.mac.data(), mac.addr_bytes, 6);
        if (!o.mac.empty()) p.addrs.mac = parse_mac(o.mac);
        if (!o.exception.empty()) {
            try {
                setup_exception(p, o.exception, uint16_t(nw), fe.pool);
            } catch (...) {
                if (p.info.exception_port >= 0)
                    fe.started.push_back(uint16_t(p.info.exception_port));
                throw;
            }
            fe.started.push_back(uint16_t(p.info.exception_port));
        }
        log_link(p.info.port_id, o.device);
        std::string addrs;
        for (const auto& a : o.addresses) addrs += " " + a;
        log_info("port " + o.device + " answers for" + addrs +
                 (p.offload ? " (checksum offload)" : "") +
                 (p.info.exception_port >= 0 ? ", exception path via " + p.info.exception_iface
                                             : ", no exception path"));
    }
    for (size_t i = 0; i < nw * fe.ports.size(); ++i)
        fe.counters.push_back(std::make_unique<CounterBlock>());
    const uint64_t hz = rte_get_tsc_hz();
    fe.shared_rrl = ResponseGuard::shared_table(fe.opts.guard);
    for (unsigned w = 0; w < nw; ++w) {
        auto ctx = std::make_unique<WorkerCtx>();
        ctx->fe = &fe;
        ctx->index = w;
        ctx->lcore = lcores[w];
        ctx->buckets.resize(fe.ports.size());
        ctx->guard = std::make_unique<ResponseGuard>(fe.opts.guard, nw, fe.shared_rrl.get());
        if (RrlTable* t = ctx->guard->table()) fe.reporter.add(t);
        for (auto& b : ctx->buckets)
            b.init(fe.opts.exception_pps == 0 ? 0 : std::max(1u, fe.opts.exception_pps / nw), hz);
        fe.workers.push_back(std::move(ctx));
    }
    for (const auto& p : fe.ports) fe.infos.push_back(p.info);
    register_telemetry(&fe);
    for (auto& ctx : fe.workers) {
        if (rte_eal_remote_launch(worker_main, ctx.get(), ctx->lcore) != 0)
            throw std::runtime_error("cannot launch a worker on lcore " +
                                     std::to_string(ctx->lcore));
        fe.launched = true;
    }
    fe.reporter.start();
    log_info(std::to_string(nw) + " worker(s) running on lcore(s) " + [&] {
        std::string s;
        for (unsigned l : lcores) s += (s.empty() ? "" : ",") + std::to_string(l);
        return s;
    }());
}

void DpdkFrontend::stop() {
    Impl& fe = *impl_;
    if (!fe.eal_up) return;
    fe.quit.store(true);
    if (fe.launched) rte_eal_mp_wait_lcore();
    fe.reporter.stop();
    unregister_telemetry();
    for (uint16_t id : fe.started) {
        rte_eth_dev_stop(id);
        rte_eth_dev_close(id);
    }
    if (!fe.started.empty()) log_info("ports stopped and closed");
    fe.started.clear();
    rte_eal_cleanup();
    fe.eal_up = false;
    fe.launched = false;
}

size_t DpdkFrontend::workers() const {
    return impl_->workers.size();
}
const std::vector<DpdkPortInfo>& DpdkFrontend::ports() const {
    return impl_->infos;
}
std::vector<CounterSource> DpdkFrontend::counter_sources() const {
    return impl_->counter_sources();
}

std::vector<CounterSource> DpdkFrontend::Impl::counter_sources(size_t w, size_t p) const {
    std::vector<CounterSource> out;
    for (size_t wi = 0; wi < workers.size(); ++wi)
        for (size_t pi = 0; pi < ports.size(); ++pi)
            if ((w == all || w == wi) && (p == all || p == pi))
                out.push_back({"dpdk", "udp", ports[pi].info.device, unsigned(wi),
                               counters[wi * ports.size() + pi].get()});
    return out;
}

}  // namespace anamed
