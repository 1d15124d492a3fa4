#include "packet.hpp"

#include <cstring>

#include "neighbor.hpp"

namespace anamed::dp {

bool PortAddrs::has_v6(const uint8_t* a) const {
    for (unsigned i = 0; i < n_v6; ++i)
        if (std::memcmp(v6[i].data(), a, 16) == 0) return true;
    return false;
}

uint32_t sum16(const uint8_t* p, size_t n, uint32_t acc) {
    // 32-bit words into 64-bit accumulators (no carry to fold until the end), 16 bytes a step
    // into four independent sums so that the adds run in parallel: a reply is ~100-500 bytes.
    uint64_t s0 = acc, s1 = 0, s2 = 0, s3 = 0;
    for (; n >= 16; p += 16, n -= 16) {
        uint32_t w[4];
        std::memcpy(w, p, 16);
        s0 += w[0];
        s1 += w[1];
        s2 += w[2];
        s3 += w[3];
    }
    uint64_t s = s0 + s1 + s2 + s3;
    for (; n >= 4; p += 4, n -= 4) {
        uint32_t w;
        std::memcpy(&w, p, 4);
        s += w;
    }
    if (n >= 2) {
        uint16_t w;
        std::memcpy(&w, p, 2);
        s += w;
        p += 2;
        n -= 2;
    }
    if (n) {
        uint16_t w = 0;
        std::memcpy(&w, p, 1);  // the odd byte is the high half of a big-endian word
        s += w;
    }
    while (s >> 32) s = (s & 0xFFFFFFFF) + (s >> 32);
    return uint32_t(s);
}

// Returns the folded sum in memory byte order, ready to memcpy into a header.
uint16_t fold(uint32_t acc) {
    while (acc >> 16) acc = (acc & 0xFFFF) + (acc >> 16);
    return uint16_t(acc);
}

uint16_t ipv4_header_checksum(const uint8_t* ip, size_t ihl_bytes) {
    return uint16_t(~fold(sum16(ip, ihl_bytes)));
}

static uint32_t pseudo_sum_v4(const uint8_t* ip, uint16_t l4_len, uint8_t proto) {
    uint8_t tail[4] = {0, proto, uint8_t(l4_len >> 8), uint8_t(l4_len)};
    return sum16(tail, 4, sum16(ip + 12, 8));
}
static uint32_t pseudo_sum_v6(const uint8_t* ip, uint16_t l4_len, uint8_t proto) {
    uint8_t tail[8] = {0, 0, uint8_t(l4_len >> 8), uint8_t(l4_len), 0, 0, 0, proto};
    return sum16(tail, 8, sum16(ip + 8, 32));
}
uint16_t pseudo_v4(const uint8_t* ip, uint16_t l4_len, uint8_t proto) { return fold(pseudo_sum_v4(ip, l4_len, proto)); }
uint16_t pseudo_v6(const uint8_t* ip, uint16_t l4_len, uint8_t proto) { return fold(pseudo_sum_v6(ip, l4_len, proto)); }

static uint16_t finish_l4(uint32_t acc, uint8_t proto) {
    uint16_t c = uint16_t(~fold(acc));
    if (c == 0 && proto == proto_udp) c = 0xFFFF;  // 0 means "no checksum" in UDP
    return c;
}
uint16_t l4_checksum_v4(const uint8_t* ip, const uint8_t* l4, uint16_t l4_len, uint8_t proto) {
    return finish_l4(sum16(l4, l4_len, pseudo_sum_v4(ip, l4_len, proto)), proto);
}
uint16_t l4_checksum_v6(const uint8_t* ip, const uint8_t* l4, uint16_t l4_len, uint8_t proto) {
    return finish_l4(sum16(l4, l4_len, pseudo_sum_v6(ip, l4_len, proto)), proto);
}

namespace {

Classified drop(Drop why) {
    Classified c;
    c.verdict = Verdict::drop;
    c.why = why;
    return c;
}
Classified to_kernel(Classified c) {
    c.verdict = Verdict::kernel;
    return c;
}

bool is_multicast(const uint8_t* mac) { return mac[0] & 1; }

// A source no reply may go to: broadcast, multicast, zero, loopback (RFC 1122 3.2.1.3).
bool bad_source_v4(const uint8_t* a) { return a[0] == 0 || a[0] == 127 || a[0] >= 224; }

Classified classify_v4(uint8_t* f, uint32_t len, const PortAddrs& port, Classified c, bool unicast) {
    if (len < c.l3 + 20u) return drop(Drop::malformed);
    const uint8_t* ip = f + c.l3;
    const unsigned ihl = (ip[0] & 0xF) * 4u;
    if ((ip[0] >> 4) != 4 || ihl < 20) return drop(Drop::malformed);
    const uint16_t total = be16(ip + 2);
    if (total < ihl || c.l3 + total > len) return drop(Drop::bad_length);  // trailing padding is fine
    uint32_t dst;
    std::memcpy(&dst, ip + 16, 4);
    if (!unicast || !port.has_v4(dst)) return drop(Drop::not_ours);
    if (bad_source_v4(ip + 12)) return drop(Drop::not_ours);
    c.l4 = uint16_t(c.l3 + ihl);
    if ((be16(ip + 6) & 0x3FFF) != 0) {  // MF or an offset: the kernel reassembles
        c.fragment = true;
        return to_kernel(c);
    }
    const uint16_t l4_len = uint16_t(total - ihl);
    if (ip[9] == proto_udp) {
        if (l4_len < 8) return drop(Drop::malformed);
        const uint8_t* udp = f + c.l4;
        if (be16(udp + 4) != l4_len) return drop(Drop::bad_length);
        if (be16(udp + 2) != 53) return to_kernel(c);
        if (be16(udp) == 0) return drop(Drop::malformed);  // no port to answer to
        c.verdict = Verdict::dns;
        c.dns = uint16_t(c.l4 + 8);
        c.dns_len = uint16_t(l4_len - 8);
        return c;
    }
    if (ip[9] == proto_icmp && l4_len >= 8 && f[c.l4] == 8 && f[c.l4 + 1] == 0) {
        c.reply_len = answer_echo4(f, c.l3, c.l4, l4_len, port.mac);
        c.verdict = Verdict::echo;
        return c;
    }
    return to_kernel(c);
}

Classified classify_v6(uint8_t* f, uint32_t len, const PortAddrs& port, Classified c, bool unicast) {
    c.v6 = true;
    if (len < c.l3 + 40u) return drop(Drop::malformed);
    const uint8_t* ip = f + c.l3;
    if ((ip[0] >> 4) != 6) return drop(Drop::malformed);
    const uint16_t plen = be16(ip + 4);
    if (c.l3 + 40u + plen > len) return drop(Drop::bad_length);
    const uint8_t* dst = ip + 24;
    const uint8_t next = ip[6];
    c.l4 = uint16_t(c.l3 + 40);
    if (ip[8] == 0xFF) return drop(Drop::not_ours);  // a multicast source gets no reply
    if (!port.has_v6(dst)) {
        // Neighbour discovery to solicited-node/all-nodes multicast or to the kernel's
        // link-local address: ours if it asks for a service address, else the kernel's.
        const bool link_scope = (dst[0] == 0xFF && (dst[1] & 0xF) == 2) || (dst[0] == 0xFE && (dst[1] & 0xC0) == 0x80);
        if (!link_scope || next != proto_icmp6 || plen < 8) return drop(Drop::not_ours);
        if (f[c.l4] == 135) {
            c.reply_len = answer_ns(f, c.l3, c.l4, plen, port);
            if (c.reply_len) c.verdict = Verdict::nd;
            else c.verdict = Verdict::kernel;
            return c;
        }
        return to_kernel(c);
    }
    if (!unicast) return drop(Drop::not_ours);
    if (next == proto_frag6) {
        c.fragment = true;
        return to_kernel(c);
    }
    if (next == proto_udp) {
        if (plen < 8) return drop(Drop::malformed);
        const uint8_t* udp = f + c.l4;
        if (be16(udp + 4) != plen) return drop(Drop::bad_length);
        if (be16(udp + 2) != 53) return to_kernel(c);
        if (be16(udp) == 0) return drop(Drop::malformed);
        c.verdict = Verdict::dns;
        c.dns = uint16_t(c.l4 + 8);
        c.dns_len = uint16_t(plen - 8);
        return c;
    }
    if (next == proto_icmp6 && plen >= 8) {
        if (f[c.l4] == 128 && f[c.l4 + 1] == 0) {
            c.reply_len = answer_echo6(f, c.l3, c.l4, plen, port.mac);
            c.verdict = Verdict::echo;
            return c;
        }
        if (f[c.l4] == 135 && (c.reply_len = answer_ns(f, c.l3, c.l4, plen, port)) != 0) {
            c.verdict = Verdict::nd;
            return c;
        }
    }
    return to_kernel(c);
}

}  // namespace

Classified classify(uint8_t* f, uint32_t len, const PortAddrs& port) {
    if (len < 14) return drop(Drop::malformed);
    const bool unicast = std::memcmp(f, port.mac.data(), 6) == 0;
    if (!unicast && !is_multicast(f)) return drop(Drop::not_ours);  // another host's unicast
    if (is_multicast(f + 6)) return drop(Drop::not_ours);          // no frame comes from a group
    Classified c;
    uint16_t type = be16(f + 12);
    c.l3 = 14;
    if (type == eth_vlan) {
        if (len < 18) return drop(Drop::malformed);
        if (!port.has_vlan(be16(f + 14) & 0x0FFF)) return drop(Drop::vlan);
        type = be16(f + 16);
        c.l3 = 18;
    }
    switch (type) {
    case eth_ipv4: return classify_v4(f, len, port, c, unicast);
    case eth_ipv6: return classify_v6(f, len, port, c, unicast);
    case eth_arp:
        if (len < c.l3 + 28u) return drop(Drop::malformed);
        if ((c.reply_len = answer_arp(f, len, c.l3, port)) != 0) {
            c.verdict = Verdict::arp;
            return c;
        }
        return to_kernel(c);  // replies to the kernel's own requests, gratuitous ARP
    case eth_vlan:
    case eth_qinq: return drop(Drop::vlan);
    default: return drop(Drop::not_ours);
    }
}

uint32_t rewrite_dns_reply(uint8_t* f, const Classified& c, uint16_t dns_len, const Mac& src, bool offload) {
    std::memcpy(f, f + 6, 6);
    std::memcpy(f + 6, src.data(), 6);
    uint8_t* ip = f + c.l3;
    uint8_t* udp = f + c.l4;
    const uint16_t udp_len = uint16_t(8 + dns_len);
    uint8_t tmp[16];
    // Ports: the reply goes from 53 back to the client's port.
    std::memcpy(tmp, udp, 2);
    std::memcpy(udp, udp + 2, 2);
    std::memcpy(udp + 2, tmp, 2);
    put16(udp + 4, udp_len);
    udp[6] = udp[7] = 0;
    if (!c.v6) {
        std::memcpy(tmp, ip + 12, 4);
        std::memcpy(ip + 12, ip + 16, 4);
        std::memcpy(ip + 16, tmp, 4);
        const unsigned ihl = (ip[0] & 0xF) * 4u;
        put16(ip + 2, uint16_t(ihl + udp_len));
        put16(ip + 6, 0);  // fragments never reach here; DF off like the kernel's DNS replies
        ip[8] = 64;
        ip[10] = ip[11] = 0;
        if (offload) {
            const uint16_t ph = pseudo_v4(ip, udp_len, proto_udp);
            std::memcpy(udp + 6, &ph, 2);
        } else {
            const uint16_t ic = ipv4_header_checksum(ip, ihl);
            std::memcpy(ip + 10, &ic, 2);
            const uint16_t uc = l4_checksum_v4(ip, udp, udp_len, proto_udp);
            std::memcpy(udp + 6, &uc, 2);
        }
    } else {
        std::memcpy(tmp, ip + 8, 16);
        std::memcpy(ip + 8, ip + 24, 16);
        std::memcpy(ip + 24, tmp, 16);
        put16(ip + 4, udp_len);
        ip[7] = 64;
        const uint16_t uc = offload ? pseudo_v6(ip, udp_len, proto_udp) : l4_checksum_v6(ip, udp, udp_len, proto_udp);
        std::memcpy(udp + 6, &uc, 2);
    }
    return uint32_t(c.dns + dns_len);
}

}  // namespace anamed::dp
