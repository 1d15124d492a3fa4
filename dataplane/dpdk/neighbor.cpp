#include "neighbor.hpp"

#include <cstring>

namespace anamed::dp {
namespace {

void set_l2(uint8_t* f, const Mac& src) {
    std::memcpy(f, f + 6, 6);
    std::memcpy(f + 6, src.data(), 6);
}

}  // namespace

uint32_t answer_arp(uint8_t* f, uint32_t len, uint16_t l3, const PortAddrs& port) {
    (void)len;
    uint8_t* a = f + l3;
    // Ethernet/IPv4 requests only (RFC 826); anything else is the kernel's business.
    if (be16(a) != 1 || be16(a + 2) != 0x0800 || a[4] != 6 || a[5] != 4 || be16(a + 6) != 1)
        return 0;
    uint32_t tpa;
    std::memcpy(&tpa, a + 24, 4);
    if (!port.has_v4(tpa)) return 0;
    put16(a + 6, 2);
    std::memcpy(a + 18, a + 8, 10);  // requester's MAC and IP become the target
    std::memcpy(a + 8, port.mac.data(), 6);
    std::memcpy(a + 14, &tpa, 4);
    std::memcpy(f, a + 18, 6);  // unicast back to the requester
    std::memcpy(f + 6, port.mac.data(), 6);
    return l3 + 28u;
}

uint32_t answer_echo4(uint8_t* f, uint16_t l3, uint16_t l4, uint16_t icmp_len, const Mac& src) {
    set_l2(f, src);
    uint8_t* ip = f + l3;
    uint8_t tmp[4];
    std::memcpy(tmp, ip + 12, 4);
    std::memcpy(ip + 12, ip + 16, 4);
    std::memcpy(ip + 16, tmp, 4);
    ip[8] = 64;
    ip[10] = ip[11] = 0;
    const uint16_t ic = ipv4_header_checksum(ip, size_t(l4 - l3));
    std::memcpy(ip + 10, &ic, 2);
    uint8_t* icmp = f + l4;
    icmp[0] = 0;  // echo reply; identifier, sequence and data are echoed as they came
    icmp[2] = icmp[3] = 0;
    const uint16_t cc = uint16_t(~fold(sum16(icmp, icmp_len)));
    std::memcpy(icmp + 2, &cc, 2);
    return uint32_t(l4 + icmp_len);
}

uint32_t answer_echo6(uint8_t* f, uint16_t l3, uint16_t l4, uint16_t icmp_len, const Mac& src) {
    set_l2(f, src);
    uint8_t* ip = f + l3;
    uint8_t tmp[16];
    std::memcpy(tmp, ip + 8, 16);
    std::memcpy(ip + 8, ip + 24, 16);
    std::memcpy(ip + 24, tmp, 16);
    ip[7] = 64;
    uint8_t* icmp = f + l4;
    icmp[0] = 129;
    icmp[2] = icmp[3] = 0;
    const uint16_t cc = l4_checksum_v6(ip, icmp, icmp_len, proto_icmp6);
    std::memcpy(icmp + 2, &cc, 2);
    return uint32_t(l4 + icmp_len);
}

uint32_t answer_ns(uint8_t* f, uint16_t l3, uint16_t l4, uint16_t icmp_len, const PortAddrs& port) {
    uint8_t* ip = f + l3;
    uint8_t* icmp = f + l4;
    // RFC 4861 7.1.1 validity: hop limit 255, code 0, at least the target.
    if (ip[7] != 255 || icmp[1] != 0 || icmp_len < 24) return 0;
    const uint8_t* target = icmp + 8;
    if (!port.has_v6(target)) return 0;
    static constexpr uint8_t unspecified[16] = {};
    const bool dad = std::memcmp(ip + 8, unspecified, 16) == 0;
    // Solicited: back to the asker. DAD probe (source ::): to all-nodes, not solicited.
    if (dad) {
        static constexpr uint8_t all_nodes[16] = {0xFF, 2, 0, 0, 0, 0, 0, 0,
                                                  0,    0, 0, 0, 0, 0, 0, 1};
        std::memcpy(ip + 24, all_nodes, 16);
        const uint8_t mac[6] = {0x33, 0x33, 0, 0, 0, 1};
        std::memcpy(f, mac, 6);
    } else {
        std::memcpy(ip + 24, ip + 8, 16);
        std::memcpy(f, f + 6, 6);
    }
    std::memcpy(f + 6, port.mac.data(), 6);
    std::memmove(ip + 8, target, 16);
    put16(ip + 4, 32);
    ip[6] = proto_icmp6;
    ip[7] = 255;
    icmp[0] = 136;
    icmp[1] = 0;
    icmp[4] = dad ? 0x20 : 0x60;  // S only when solicited; O: override the cache entry
    icmp[5] = icmp[6] = icmp[7] = 0;
    // icmp + 8 keeps the target; then the target link-layer address option.
    icmp[24] = 2;
    icmp[25] = 1;
    std::memcpy(icmp + 26, port.mac.data(), 6);
    icmp[2] = icmp[3] = 0;
    const uint16_t cc = l4_checksum_v6(ip, icmp, 32, proto_icmp6);
    std::memcpy(icmp + 2, &cc, 2);
    return uint32_t(l4 + 32);
}

}  // namespace anamed::dp
