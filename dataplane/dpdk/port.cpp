// EAL start and port setup: one RX/TX queue pair per worker, RSS over the 5-tuple when
// there is more than one, checksum offload when the device offers it.
#include <pthread.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <unistd.h>

#include <stdexcept>

#include "frontend_impl.hpp"

namespace anamed::dp {

namespace {
bool has_arg(const std::vector<std::string>& args, std::initializer_list<const char*> names) {
    for (const auto& a : args)
        for (const char* n : names)
            if (a == n || a.rfind(std::string(n) + "=", 0) == 0) return true;
    return false;
}
}  // namespace

std::string init_eal(std::vector<std::string> args, unsigned workers) {
    // Two anamed (or testpmd) processes must not share runtime files.
    if (!has_arg(args, {"--file-prefix"}))
        args.push_back("--file-prefix=anamed-" + std::to_string(getpid()));
    if (!has_arg(args, {"-l", "-c", "--lcores"})) {
        args.push_back("-l");
        args.push_back("0-" + std::to_string(workers));
    }
    std::string line = "anamed";
    std::vector<char*> argv{const_cast<char*>("anamed")};
    for (auto& a : args) {
        argv.push_back(a.data());
        line += " " + a;
    }
    argv.push_back(nullptr);
    // rte_eal_init pins the calling thread to the main lcore; the control plane is not a
    // dataplane thread, so it keeps the CPUs it had.
    cpu_set_t before;
    const bool saved = pthread_getaffinity_np(pthread_self(), sizeof before, &before) == 0;
    if (rte_eal_init(int(argv.size() - 1), argv.data()) < 0)
        throw std::runtime_error(
            "DPDK EAL initialisation failed (" + std::string(rte_strerror(rte_errno)) +
            ") with arguments: " + line + "; check dpdk.eal-args (see docs/DEPLOYMENT.md)");
    if (saved) pthread_setaffinity_np(pthread_self(), sizeof before, &before);
    return line;
}

uint16_t find_port(const std::string& device) {
    uint16_t id = 0;
    if (rte_eth_dev_get_port_by_name(device.c_str(), &id) != 0)
        throw std::runtime_error(
            "DPDK device '" + device + "' not found: add --vdev=" + device +
            ",... to dpdk.eal-args, or bind the NIC to vfio-pci and use its PCI address");
    return id;
}

Mac parse_mac(const std::string& s) {
    unsigned b[6];
    Mac m{};
    if (std::sscanf(s.c_str(), "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
        throw std::runtime_error("bad MAC address '" + s + "'");
    for (int i = 0; i < 6; ++i) m[i] = uint8_t(b[i]);
    return m;
}

void setup_port(uint16_t port, uint16_t rxq, uint16_t txq, rte_mempool* pool, bool& offload) {
    char name[RTE_ETH_NAME_MAX_LEN] = "?";
    rte_eth_dev_get_name_by_port(port, name);
    const std::string dev = name;
    auto fail = [&](const std::string& what, int rc) {
        throw std::runtime_error("DPDK port " + dev + ": " + what + " failed (" +
                                 rte_strerror(-rc) + ")");
    };
    rte_eth_dev_info info{};
    if (int rc = rte_eth_dev_info_get(port, &info); rc != 0) fail("reading device info", rc);
    if (rxq > info.max_rx_queues || txq > info.max_tx_queues)
        throw std::runtime_error("DPDK port " + dev + " has " + std::to_string(info.max_rx_queues) +
                                 " RX / " + std::to_string(info.max_tx_queues) +
                                 " TX queues but needs " + std::to_string(rxq) + "/" +
                                 std::to_string(txq) +
                                 " (one per worker): lower dpdk.workers or give the vdev more "
                                 "queues (af_packet: qpairs=N)");
    rte_eth_conf conf{};
    if (rxq > 1 && info.flow_type_rss_offloads != 0) {
        conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
        conf.rx_adv_conf.rss_conf.rss_hf =
            (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP | RTE_ETH_RSS_TCP) & info.flow_type_rss_offloads;
    }
    const uint64_t want = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
    offload = (info.tx_offload_capa & want) == want;
    if (offload) conf.txmode.offloads |= want;
    if (int rc = rte_eth_dev_configure(port, rxq, txq, &conf); rc != 0) fail("configure", rc);
    uint16_t nrxd = 1024, ntxd = 1024;
    rte_eth_dev_adjust_nb_rx_tx_desc(port, &nrxd, &ntxd);
    const int socket = rte_eth_dev_socket_id(port);
    for (uint16_t q = 0; q < rxq; ++q)
        if (int rc = rte_eth_rx_queue_setup(port, q, nrxd, socket, nullptr, pool); rc != 0)
            fail("RX queue setup", rc);
    rte_eth_txconf txc = info.default_txconf;
    txc.offloads = conf.txmode.offloads;
    for (uint16_t q = 0; q < txq; ++q)
        if (int rc = rte_eth_tx_queue_setup(port, q, ntxd, socket, &txc); rc != 0)
            fail("TX queue setup", rc);
    if (int rc = rte_eth_dev_start(port); rc != 0) fail("start", rc);
    // Replies go to whatever MAC we answer with, and ND needs multicast: filter in software.
    rte_eth_promiscuous_enable(port);
    rte_eth_allmulticast_enable(port);
}

void log_link(uint16_t port, const std::string& device) {
    rte_eth_link link{};
    rte_eth_link_get_nowait(port, &link);
    char text[RTE_ETH_LINK_MAX_STR_LEN];
    rte_eth_link_to_str(text, sizeof text, &link);
    rte_ether_addr mac{};
    rte_eth_macaddr_get(port, &mac);
    char m[RTE_ETHER_ADDR_FMT_SIZE];
    rte_ether_format_addr(m, sizeof m, &mac);
    log_info("port " + device + " (id " + std::to_string(port) + ", " + m + "): " + text);
}

}  // namespace anamed::dp
