// The exception path: a TAP (or virtio-user) port per DPDK port that carries everything
// the dataplane does not answer (TCP above all) to the kernel, whose replies go back out
// the DPDK port. The kernel side gets the port's MAC and the service addresses, so that
// the kernel frontend's TCP listener serves the same address as the dataplane.
#include <arpa/inet.h>
#include <net/if.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <stdexcept>

#include "frontend_impl.hpp"

namespace anamed::dp {

namespace {

struct Ifreq6 {  // struct in6_ifreq from <linux/ipv6.h>, which clashes with <netinet/in.h>
    in6_addr addr;
    uint32_t prefixlen;
    int ifindex;
};

void configure_kernel_side(const std::string& ifname, unsigned ifindex,
                           const std::vector<std::string>& addrs) {
    const int s4 = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    const int s6 = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    // Duplicate address detection would hold the address back for a second; it is ours.
    std::ofstream("/proc/sys/net/ipv6/conf/" + ifname + "/accept_dad") << "0\n";
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
    if (ioctl(s4, SIOCGIFFLAGS, &ifr) == 0) {
        ifr.ifr_flags |= IFF_UP;
        ioctl(s4, SIOCSIFFLAGS, &ifr);
    }
    unsigned n4 = 0;
    for (const auto& a : addrs) {
        const size_t slash = a.find('/');
        const std::string ip = a.substr(0, slash);
        const bool v6 = ip.find(':') != std::string::npos;
        unsigned prefix = v6 ? 64 : 24;
        if (slash != std::string::npos) prefix = unsigned(std::stoul(a.substr(slash + 1)));
        int rc;
        if (v6) {
            Ifreq6 r{};
            inet_pton(AF_INET6, ip.c_str(), &r.addr);
            r.prefixlen = prefix;
            r.ifindex = int(ifindex);
            rc = ioctl(s6, SIOCSIFADDR, &r);
        } else {
            ifreq q{};
            // The second and later IPv4 addresses need an alias label (ioctl has no "add").
            const std::string label = n4++ ? ifname + ":" + std::to_string(n4 - 1) : ifname;
            std::strncpy(q.ifr_name, label.c_str(), IFNAMSIZ - 1);
            auto* sin = reinterpret_cast<sockaddr_in*>(&q.ifr_addr);
            sin->sin_family = AF_INET;
            inet_pton(AF_INET, ip.c_str(), &sin->sin_addr);
            rc = ioctl(s4, SIOCSIFADDR, &q);
            if (rc == 0) {
                sin->sin_addr.s_addr = prefix ? htonl(~uint32_t(0) << (32 - prefix)) : 0;
                rc = ioctl(s4, SIOCSIFNETMASK, &q);
            }
        }
        if (rc != 0 && errno != EEXIST)
            log_warning("exception interface " + ifname + ": cannot add " + a + " (" +
                        std::strerror(errno) + "); TCP to that address will not reach the kernel");
    }
    close(s4);
    close(s6);
}

}  // namespace

void setup_exception(PortState& p, const std::string& device, uint16_t queues, rte_mempool* pool) {
    const uint16_t id = find_port(device);
    bool offload = false;
    p.info.exception_port = id;  // set first: stop() closes it even if setup fails halfway
    // One queue pair per worker: a multi-queue TAP spreads the kernel's replies over its
    // queues, and each worker forwards what arrives on its own.
    setup_port(id, queues, queues, pool, offload);
    rte_ether_addr mac;
    std::memcpy(mac.addr_bytes, p.addrs.mac.data(), 6);
    // Kernel replies must leave with the port's MAC, and frames we pass in must be for it.
    if (rte_eth_dev_default_mac_addr_set(id, &mac) != 0)
        log_warning("exception port " + device + ": cannot set its MAC to the port's");
    rte_eth_dev_info info{};
    rte_eth_dev_info_get(id, &info);
    char ifname[IF_NAMESIZE] = {};
    if (info.if_index == 0 || if_indextoname(info.if_index, ifname) == nullptr) {
        log_warning("exception port " + device +
                    " has no kernel interface name; configure the service addresses on its kernel "
                    "side yourself");
        return;
    }
    configure_kernel_side(ifname, info.if_index, p.kernel_addrs);
    log_info("exception path of " + p.info.device + ": " + device + " = kernel interface " +
             ifname);
    p.info.exception_iface = ifname;
}

}  // namespace anamed::dp
