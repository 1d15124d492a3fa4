// L2-L4 handling of one Ethernet frame on plain bytes: classify it, rewrite a DNS query
// frame into its reply, answer ARP, NS and echo in place. No DPDK type appears here so that
// the unit tests and the benchmark drive exactly the code the workers run, without an EAL.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "anamed/stats.hpp"

namespace anamed::dp {

using Mac = std::array<uint8_t, 6>;
using Ip6 = std::array<uint8_t, 16>;

// What one port answers for. Small fixed arrays: the hot path scans them linearly.
struct PortAddrs {
    static constexpr size_t max_addrs = 8, max_vlans = 16;
    Mac mac{};
    uint32_t v4[max_addrs]{};  // network byte order
    Ip6 v6[max_addrs]{};
    uint16_t vlans[max_vlans]{};  // accepted 802.1Q IDs; untagged frames are always accepted
    uint8_t n_v4 = 0, n_v6 = 0, n_vlans = 0;

    bool has_v4(uint32_t a) const {
        for (unsigned i = 0; i < n_v4; ++i)
            if (v4[i] == a) return true;
        return false;
    }
    bool has_v6(const uint8_t* a) const;
    bool has_vlan(uint16_t id) const {
        for (unsigned i = 0; i < n_vlans; ++i)
            if (vlans[i] == id) return true;
        return false;
    }
};

// Why a frame was not answered: the counters' reasons (anamed/stats.hpp).
using anamed::Drop;
using anamed::drop_names;

enum class Verdict : uint8_t {
    dns,     // UDP to port 53 of a service address: answer with respond()
    arp,     // rewritten in place into an ARP reply
    nd,      // rewritten in place into a neighbour advertisement
    echo,    // rewritten in place into an ICMP/ICMPv6 echo reply
    kernel,  // for the exception path (TCP, fragments, ARP/ND not for us, other ICMP...)
    drop,
};

struct Classified {
    Verdict verdict = Verdict::drop;
    Drop why = Drop::not_ours;
    bool v6 = false;
    bool fragment = false;  // an IP fragment (sent to the kernel, which reassembles)
    uint16_t l3 = 0;        // offset of the IP header
    uint16_t l4 = 0;        // offset of the UDP header
    uint16_t dns = 0;       // offset of the DNS message
    uint16_t dns_len = 0;
    uint32_t reply_len = 0;  // for arp/nd/echo: the new frame length
};

// The frame buffer must hold at least 96 bytes (a neighbour advertisement may be longer
// than the solicitation it answers).
// Looks at a frame and, for ARP requests, neighbour solicitations and echo requests to a
// service address, rewrites it into the reply at once (the reply is never larger).
Classified classify(uint8_t* frame, uint32_t len, const PortAddrs& port);

// Turns the query frame into the reply once respond() has written dns_len bytes at c.dns:
// swaps MACs, addresses and ports, sets lengths, TTL, and checksums. With offload, the
// UDP checksum field is left holding the pseudo-header sum the NIC expects and the IPv4
// header checksum zero. Returns the new frame length.
uint32_t rewrite_dns_reply(uint8_t* frame, const Classified& c, uint16_t dns_len, const Mac& src,
                           bool offload);

// One's-complement sum helpers (RFC 1071), exposed for tests and rewriting.
uint32_t sum16(const uint8_t* p, size_t n, uint32_t acc = 0);
uint16_t fold(uint32_t acc);
uint16_t ipv4_header_checksum(const uint8_t* ip, size_t ihl_bytes);  // ihl_bytes >= 20
// Full L4 checksum (UDP, ICMPv6...) including the pseudo-header; `l4` is the L4 header.
uint16_t l4_checksum_v4(const uint8_t* ip, const uint8_t* l4, uint16_t l4_len, uint8_t proto);
uint16_t l4_checksum_v6(const uint8_t* ip, const uint8_t* l4, uint16_t l4_len, uint8_t proto);
// The pseudo-header alone (what checksum offload wants in the field).
uint16_t pseudo_v4(const uint8_t* ip, uint16_t l4_len, uint8_t proto);
uint16_t pseudo_v6(const uint8_t* ip, uint16_t l4_len, uint8_t proto);

// Big-endian loads and stores on unaligned bytes.
inline uint16_t be16(const uint8_t* p) {
    return uint16_t(p[0] << 8 | p[1]);
}
inline void put16(uint8_t* p, uint16_t v) {
    p[0] = uint8_t(v >> 8);
    p[1] = uint8_t(v);
}

inline constexpr uint16_t eth_ipv4 = 0x0800, eth_arp = 0x0806, eth_vlan = 0x8100, eth_qinq = 0x88A8,
                          eth_ipv6 = 0x86DD;
inline constexpr uint8_t proto_icmp = 1, proto_tcp = 6, proto_udp = 17, proto_frag6 = 44,
                         proto_icmp6 = 58;

}  // namespace anamed::dp
