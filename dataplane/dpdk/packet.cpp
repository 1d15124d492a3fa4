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
    // 64-bit words into a 128-bit sum: the compiler's add/adc pair, the carries counted in
    // the high half (RFC 1071 §2(B): any word size folds to the same 16-bit sum). A reply
    // is ~100-500 bytes: 32 bytes a step, then 8, then the 4/2/1-byte tail.
    unsigned __int128 s = acc;
    auto word = [](const uint8_t* q) {
        uint64_t w;
        std::memcpy(&w, q, 8);
        return w;
    };
    for (; n >= 32; p += 32, n -= 32)
        s += word(p), s += word(p + 8), s += word(p + 16), s += word(p + 24);
    for (; n >= 8; p += 8, n -= 8) s += word(p);
    uint64_t tail = 0;  // the last bytes keep their place in a word: even offsets stay even
    if (n & 4) {
        uint32_t w;
        std::memcpy(&w, p, 4);
        tail += w;
        p += 4;
    }
    if (n & 2) {
        uint16_t w;
        std::memcpy(&w, p, 2);
        tail += w;
        p += 2;
    }
    if (n & 1) {
        uint16_t w = 0;
        std::memcpy(&w, p, 1);  // the odd byte is the high half of a big-endian word
        tail += w;
    }
    s += tail;
    uint64_t r = uint64_t(s) + uint64_t(s >> 64);  // end-around carry: at most one more
    r += r < uint64_t(s >> 64);
    r = (r & 0xFFFFFFFF) + (r >> 32);
    r = (r & 0xFFFFFFFF) + (r >> 32);
    return uint32_t(r);
}

// Returns the folded sum in memory byte order, ready to memcpy into a header.
uint16_t fold(uint32_t acc) {
    acc = (acc & 0xFFFF) + (acc >> 16);  // at most 0x1FFFE
    acc = (acc & 0xFFFF) + (acc >> 16);  // at most 0xFFFF
    return uint16_t(acc);
}

namespace {

// a + b with the end-around carry, kept in 32 bits.
uint32_t add1c(uint32_t a, uint32_t b) {
    const uint64_t s = uint64_t(a) + b;
    return uint32_t(s) + uint32_t(s >> 32);
}
// The sum of N bytes (a multiple of 4: headers, addresses), unrolled by the compiler.
template <size_t N>
uint32_t sum_fixed(const uint8_t* p, uint32_t acc = 0) {
    static_assert(N % 4 == 0);
    uint64_t s = acc;
    for (size_t i = 0; i < N; i += 4) {
        uint32_t w;
        std::memcpy(&w, p + i, 4);
        s += w;
    }
    s = (s & 0xFFFFFFFF) + (s >> 32);
    return uint32_t(s) + uint32_t(s >> 32);
}
// Bytes as they sit in memory, read as one word (the pseudo-headers' tails).
uint32_t word4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    const uint8_t t[4] = {a, b, c, d};
    uint32_t w;
    std::memcpy(&w, t, 4);
    return w;
}
uint32_t pseudo_sum_v4(const uint8_t* ip, uint16_t l4_len, uint8_t proto) {
    return add1c(sum_fixed<8>(ip + 12), word4(0, proto, uint8_t(l4_len >> 8), uint8_t(l4_len)));
}
uint32_t pseudo_sum_v6(const uint8_t* ip, uint16_t l4_len, uint8_t proto) {
    return add1c(sum_fixed<32>(ip + 8),
                 add1c(word4(0, 0, uint8_t(l4_len >> 8), uint8_t(l4_len)), word4(0, 0, 0, proto)));
}
uint16_t finish_l4(uint32_t acc, uint8_t proto) {
    uint16_t c = uint16_t(~fold(acc));
    if (c == 0 && proto == proto_udp) c = 0xFFFF;  // 0 means "no checksum" in UDP
    return c;
}

}  // namespace

uint16_t ipv4_header_checksum(const uint8_t* ip, size_t ihl_bytes) {
    const uint32_t base = sum_fixed<20>(ip);
    return uint16_t(~fold(ihl_bytes == 20 ? base : sum16(ip + 20, ihl_bytes - 20, base)));
}
uint16_t pseudo_v4(const uint8_t* ip, uint16_t l4_len, uint8_t proto) {
    return fold(pseudo_sum_v4(ip, l4_len, proto));
}
uint16_t pseudo_v6(const uint8_t* ip, uint16_t l4_len, uint8_t proto) {
    return fold(pseudo_sum_v6(ip, l4_len, proto));
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

bool is_multicast(const uint8_t* mac) {
    return mac[0] & 1;
}

// A source no reply may go to: broadcast, multicast, zero, loopback (RFC 1122 3.2.1.3).
bool bad_source_v4(const uint8_t* a) {
    return a[0] == 0 || a[0] == 127 || a[0] >= 224;
}

Classified classify_v4(uint8_t* f, uint32_t len, const PortAddrs& port, Classified c,
                       bool unicast) {
    if (len < c.l3 + 20u) return drop(Drop::malformed);
    const uint8_t* ip = f + c.l3;
    const unsigned ihl = (ip[0] & 0xF) * 4u;
    if ((ip[0] >> 4) != 4 || ihl < 20) return drop(Drop::malformed);
    const uint16_t total = be16(ip + 2);
    if (total < ihl || c.l3 + total > len)
        return drop(Drop::bad_length);  // trailing padding is fine
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

Classified classify_v6(uint8_t* f, uint32_t len, const PortAddrs& port, Classified c,
                       bool unicast) {
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
        const bool link_scope =
            (dst[0] == 0xFF && (dst[1] & 0xF) == 2) || (dst[0] == 0xFE && (dst[1] & 0xC0) == 0x80);
        if (!link_scope || next != proto_icmp6 || plen < 8) return drop(Drop::not_ours);
        if (f[c.l4] == 135) {
            c.reply_len = answer_ns(f, c.l3, c.l4, plen, port);
            if (c.reply_len)
                c.verdict = Verdict::nd;
            else
                c.verdict = Verdict::kernel;
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
    if (is_multicast(f + 6)) return drop(Drop::not_ours);           // no frame comes from a group
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

uint32_t rewrite_dns_reply(uint8_t* f, const Classified& c, uint16_t dns_len, const Mac& src,
                           bool offload) {
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
        const uint16_t uc = offload ? pseudo_v6(ip, udp_len, proto_udp)
                                    : l4_checksum_v6(ip, udp, udp_len, proto_udp);
        std::memcpy(udp + 6, &uc, 2);
    }
    return uint32_t(c.dns + dns_len);
}

}  // namespace anamed::dp
