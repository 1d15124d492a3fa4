// The `dpdk:` section of the configuration file:
//
//   dpdk:
//     eal-args: ["--no-huge", "-m", "512", "--no-pci", "-l", "0,1",
//                "--vdev=net_af_packet0,iface=eth1", "--vdev=net_tap0,iface=anamed-exc0"]
//     workers: 1
//     exception-pps: 10000
//     update-pps: 200
//     idle-sleep-us: 0
//     ports:
//       - device: net_af_packet0
//         addresses: ["192.0.2.53/24", "2001:db8::53/64"]
//         exception: net_tap0
//         mac: "02:00:00:00:00:53"
//         vlans: [100]
#include <arpa/inet.h>

#include <set>

#include "config.hpp"
#include "yaml_reader.hpp"

namespace anamed {
namespace {

class DpdkReader : public YamlReader {
public:
    explicit DpdkReader(const std::string& path) : YamlReader(path, "dpdk: ") {}

    // "ADDR" or "ADDR/PREFIX"; the prefix gives the exception interface its on-link route.
    void check_address(const YAML::Node& n, const std::string& a) const {
        const size_t slash = a.find('/');
        const std::string ip = a.substr(0, slash);
        unsigned char buf[16];
        const bool v6 = ip.find(':') != std::string::npos;
        if (inet_pton(v6 ? AF_INET6 : AF_INET, ip.c_str(), buf) != 1)
            fail(n,
                 "'" + a +
                     "' is not an IPv4 or IPv6 address (write 192.0.2.53/24 or 2001:db8::53/64)");
        if (slash != std::string::npos) {
            const std::string p = a.substr(slash + 1);
            const unsigned max = v6 ? 128 : 32;
            if (p.empty() || p.size() > 3 ||
                p.find_first_not_of("0123456789") != std::string::npos ||
                unsigned(std::stoul(p)) > max)
                fail(n, "'" + a + "': the prefix length must be 0.." + std::to_string(max));
        }
    }

    DpdkPortOptions port(const YAML::Node& n) const {
        only_keys(n, {"device", "addresses", "exception", "mac", "vlans"});
        DpdkPortOptions p;
        if (!n["device"]) fail(n, "each port needs a device (a --vdev name or a PCI address)");
        p.device = str(n["device"], "device");
        if (!n["addresses"])
            fail(n, "port " + p.device + " needs addresses: the service addresses it answers");
        p.addresses = strings(n["addresses"], "addresses");
        if (p.addresses.empty())
            fail(n["addresses"], "port " + p.device + " has no service address");
        unsigned v4 = 0, v6 = 0;
        for (size_t i = 0; i < p.addresses.size(); ++i) {
            check_address(n["addresses"][i], p.addresses[i]);
            (p.addresses[i].find(':') != std::string::npos ? v6 : v4)++;
        }
        if (v4 > 8 || v6 > 8) fail(n["addresses"], "at most 8 IPv4 and 8 IPv6 addresses per port");
        if (auto e = n["exception"]) p.exception = str(e, "exception");
        if (auto m = n["mac"]) {
            p.mac = str(m, "mac");
            unsigned b[6];
            char tail;
            if (std::sscanf(p.mac.c_str(), "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
                            &b[5], &tail) != 6)
                fail(m, "mac '" + p.mac + "' must look like 02:00:00:00:00:53");
            if (b[0] & 1) fail(m, "mac '" + p.mac + "' is a multicast address");
        }
        if (auto v = n["vlans"]) {
            if (!v.IsSequence()) fail(v, "vlans must be a list of 802.1Q IDs");
            for (const auto& id : v) p.vlans.push_back(uint(id, "a VLAN ID", 1, 4094));
            if (p.vlans.size() > 16) fail(v, "at most 16 VLANs per port");
        }
        return p;
    }

    void read(const YAML::Node& n, Config& cfg) const {
        only_keys(n, {"enabled", "eal-args", "workers", "ports", "exception-pps", "update-pps",
                      "idle-sleep-us"});
        DpdkOptions c;
        bool enabled = true;
        if (auto e = n["enabled"]) {
            try {
                enabled = e.as<bool>();
            } catch (const YAML::Exception&) {
                fail(e, "enabled must be true or false");
            }
        }
        if (auto a = n["eal-args"]) c.eal_args = strings(a, "eal-args");
        if (auto w = n["workers"]) c.workers = uint(w, "workers", 1, 128);
        if (auto r = n["exception-pps"]) c.exception_pps = uint(r, "exception-pps", 0, 10000000);
        if (auto r = n["update-pps"]) c.update_pps = uint(r, "update-pps", 0, 10000000);
        if (auto s = n["idle-sleep-us"]) c.idle_sleep_us = uint(s, "idle-sleep-us", 0, 100000);
        const auto ports = n["ports"];
        if (enabled && (!ports || !ports.IsSequence() || ports.size() == 0))
            fail(n, "ports: a list of {device, addresses, exception} is required");
        std::set<std::string> seen;
        if (ports)
            for (const auto& p : ports) {
                c.ports.push_back(port(p));
                if (!seen.insert(c.ports.back().device).second)
                    fail(p, "port " + c.ports.back().device + " is listed twice");
            }
        cfg.dpdk_enabled = enabled;
        cfg.dpdk = std::move(c);
    }
};

}  // namespace

void parse_dpdk_config(const YAML::Node& n, const std::string& path, Config& c) {
    DpdkReader(path).read(n, c);
}

}  // namespace anamed
