// The DPDK frontend's packet code on hand-built frames (no EAL): classification, the DNS
// reply rewrite and its checksums, ARP, ND and echo replies.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "packet.hpp"

using namespace anamed::dp;

namespace {

const Mac our_mac = {0x02, 0, 0, 0, 0x53, 0x01};
const Mac client_mac = {0x02, 0, 0, 0, 0x53, 0x02};

PortAddrs port() {
    PortAddrs p;
    p.mac = our_mac;
    inet_pton(AF_INET, "10.53.0.1", &p.v4[p.n_v4++]);
    inet_pton(AF_INET6, "fd53::1", p.v6[p.n_v6++].data());
    p.vlans[p.n_vlans++] = 100;
    return p;
}

struct Frame {
    std::vector<uint8_t> b = std::vector<uint8_t>(2048);
    uint32_t len = 0;
    void put(const void* p, size_t n) {
        std::memcpy(b.data() + len, p, n);
        len += uint32_t(n);
    }
    void u8(uint8_t v) { put(&v, 1); }
    void u16(uint16_t v) {
        const uint8_t x[2] = {uint8_t(v >> 8), uint8_t(v)};
        put(x, 2);
    }
};

Frame eth(const Mac& dst, uint16_t type, int vlan = -1) {
    Frame f;
    f.put(dst.data(), 6);
    f.put(client_mac.data(), 6);
    if (vlan >= 0) {
        f.u16(eth_vlan);
        f.u16(uint16_t(vlan));
    }
    f.u16(type);
    return f;
}

const uint8_t dns_q[] = {0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 'w', 'w', 'w', 0, 0, 1, 0, 1};

Frame udp4(const char* dst, uint16_t dport, int vlan = -1, uint16_t frag = 0) {
    Frame f = eth(our_mac, eth_ipv4, vlan);
    const uint16_t udp_len = uint16_t(8 + sizeof dns_q);
    const uint8_t ip[] = {0x45,
                          0,
                          uint8_t((20 + udp_len) >> 8),
                          uint8_t(20 + udp_len),
                          0,
                          1,
                          uint8_t(frag >> 8),
                          uint8_t(frag),
                          64,
                          17,
                          0,
                          0,
                          10,
                          53,
                          0,
                          2};
    f.put(ip, sizeof ip);
    in_addr d;
    inet_pton(AF_INET, dst, &d);
    f.put(&d, 4);
    f.u16(40000);
    f.u16(dport);
    f.u16(udp_len);
    f.u16(0);
    f.put(dns_q, sizeof dns_q);
    return f;
}

Frame udp6(const char* dst) {
    Frame f = eth(our_mac, eth_ipv6);
    const uint16_t udp_len = uint16_t(8 + sizeof dns_q);
    const uint8_t hdr[] = {0x60, 0, 0, 0, uint8_t(udp_len >> 8), uint8_t(udp_len), 17, 64};
    f.put(hdr, sizeof hdr);
    in6_addr s, d;
    inet_pton(AF_INET6, "fd53::2", &s);
    inet_pton(AF_INET6, dst, &d);
    f.put(&s, 16);
    f.put(&d, 16);
    f.u16(40000);
    f.u16(53);
    f.u16(udp_len);
    f.u16(0);
    f.put(dns_q, sizeof dns_q);
    return f;
}

// A correct checksum sums (with the pseudo-header) to 0xFFFF.
bool udp4_ok(const uint8_t* ip) {
    const uint16_t len = be16(ip + 24);
    return fold(sum16(ip + 20, len, sum16(ip + 12, 8) + htons(17) + htons(len))) == 0xFFFF;
}

}  // namespace

TEST(DpdkPacket, ChecksumKnownVector) {
    // RFC 1071 example words 0001 f203 f4f5 f6f7 sum to ddf2 (checksum 220d).
    const uint8_t d[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    EXPECT_EQ(ntohs(fold(sum16(d, sizeof d))), 0xddf2);
    const uint8_t odd[] = {0x01, 0x02, 0x03};
    EXPECT_EQ(ntohs(fold(sum16(odd, 3))), 0x0102 + 0x0300);
}

// sum16 against RFC 1071's definition, big-endian 16-bit words added with end-around
// carry, for every length up to 600 at every alignment and with a carried-in sum.
TEST(DpdkPacket, ChecksumMatchesTheDefinition) {
    std::vector<uint8_t> buf(600 + 8);
    uint32_t x = 12345;
    for (auto& b : buf) b = uint8_t((x = x * 1103515245 + 12345) >> 16);
    std::fill(buf.begin() + 300, buf.begin() + 340, 0xFF);  // runs of 0xFFFF carry the most
    for (size_t off = 0; off < 8; ++off)
        for (size_t n = 0; n + off <= buf.size(); ++n) {
            const uint16_t carried = uint16_t(n * 7919 + off);  // a partial sum, network order
            uint32_t ref = carried;
            for (size_t i = 0; i < n; i += 2) {
                ref += uint32_t(buf[off + i]) << 8 | (i + 1 < n ? buf[off + i + 1] : 0);
                ref = (ref & 0xFFFF) + (ref >> 16);
            }
            // sum16 adds the words as they sit in memory, which commutes with the byte swap.
            const uint16_t got = ntohs(fold(sum16(buf.data() + off, n, htons(carried))));
            ASSERT_EQ(got, uint16_t(ref)) << "length " << n << " at offset " << off;
        }
    // Carried-in sums that fill all 32 bits (what the pseudo-header sums hand over), over the
    // run of 0xFF: every word add carries.
    for (const uint32_t acc : {0xFFFFFFFFu, 0xFFFEFFFFu, 0x0001FFFFu, 0x80008000u, 1u})
        for (size_t n = 0; n <= 40; ++n) {
            uint32_t ref = ntohs(uint16_t(acc)) +
                           ntohs(uint16_t(acc >> 16));  // memory order: both halves swapped
            ref = (ref & 0xFFFF) + (ref >> 16);
            for (size_t i = 0; i < n; i += 2) {
                ref += uint32_t(buf[300 + i]) << 8 | (i + 1 < n ? buf[300 + i + 1] : 0);
                ref = (ref & 0xFFFF) + (ref >> 16);
            }
            ASSERT_EQ(ntohs(fold(sum16(buf.data() + 300, n, acc))), uint16_t(ref))
                << "length " << n << " carrying " << acc;
        }
}

TEST(DpdkPacket, Ipv4QueryClassifiedAndRewritten) {
    Frame f = udp4("10.53.0.1", 53);
    const PortAddrs p = port();
    const Classified c = classify(f.b.data(), f.len, p);
    ASSERT_EQ(c.verdict, Verdict::dns);
    EXPECT_EQ(c.dns, 14 + 20 + 8);
    EXPECT_EQ(c.dns_len, sizeof dns_q);
    // Pretend respond() wrote a 40-byte reply.
    const uint32_t n = rewrite_dns_reply(f.b.data(), c, 40, p.mac, false);
    EXPECT_EQ(n, 14u + 20 + 8 + 40);
    const uint8_t* ip = f.b.data() + 14;
    EXPECT_EQ(0, std::memcmp(f.b.data(), client_mac.data(), 6));
    EXPECT_EQ(0, std::memcmp(f.b.data() + 6, our_mac.data(), 6));
    EXPECT_EQ(be16(ip + 2), 20 + 8 + 40);
    EXPECT_EQ(ip[12], 10);
    EXPECT_EQ(ip[15], 1);  // source is now the service address
    EXPECT_EQ(ip[19], 2);
    EXPECT_EQ(fold(sum16(ip, 20)), 0xFFFF) << "IPv4 header checksum";
    EXPECT_EQ(be16(ip + 20), 53);
    EXPECT_EQ(be16(ip + 22), 40000);
    EXPECT_EQ(be16(ip + 24), 48);
    EXPECT_TRUE(udp4_ok(ip));
}

// A header with options (IHL 6): the reply's header checksum covers them, the UDP header
// and the DNS message sit 4 bytes further.
TEST(DpdkPacket, Ipv4OptionsAreKeptAndChecksummed) {
    Frame f = udp4("10.53.0.1", 53);
    const uint8_t nops[4] = {1, 1, 1, 0};  // NOP, NOP, NOP, end of options
    f.b.insert(f.b.begin() + 14 + 20, nops, nops + 4);
    f.len += 4;
    uint8_t* ip = f.b.data() + 14;
    ip[0] = 0x46;
    put16(ip + 2, uint16_t(be16(ip + 2) + 4));
    const PortAddrs p = port();
    const Classified c = classify(f.b.data(), f.len, p);
    ASSERT_EQ(c.verdict, Verdict::dns);
    EXPECT_EQ(c.dns, 14 + 24 + 8);
    const uint32_t n = rewrite_dns_reply(f.b.data(), c, 40, p.mac, false);
    EXPECT_EQ(n, 14u + 24 + 8 + 40);
    EXPECT_EQ(be16(ip + 2), 24 + 8 + 40);
    EXPECT_EQ(0, std::memcmp(ip + 20, nops, 4));
    EXPECT_EQ(fold(sum16(ip, 24)), 0xFFFF) << "IPv4 header checksum over the options";
    EXPECT_NE(fold(sum16(ip, 20)), 0xFFFF);
    const uint8_t* udp = ip + 24;
    EXPECT_EQ(be16(udp + 4), 48);
    EXPECT_EQ(fold(sum16(udp, 48, sum16(ip + 12, 8) + htons(17) + htons(48))), 0xFFFF)
        << "UDP checksum";
}

TEST(DpdkPacket, OffloadLeavesPseudoHeader) {
    Frame f = udp4("10.53.0.1", 53);
    const Classified c = classify(f.b.data(), f.len, port());
    rewrite_dns_reply(f.b.data(), c, 40, our_mac, true);
    const uint8_t* ip = f.b.data() + 14;
    EXPECT_EQ(be16(ip + 10), 0);
    uint16_t field;
    std::memcpy(&field, ip + 26, 2);
    EXPECT_EQ(field, pseudo_v4(ip, 48, proto_udp));
}

TEST(DpdkPacket, Ipv6QueryChecksumMandatory) {
    Frame f = udp6("fd53::1");
    const PortAddrs p = port();
    const Classified c = classify(f.b.data(), f.len, p);
    ASSERT_EQ(c.verdict, Verdict::dns);
    ASSERT_TRUE(c.v6);
    rewrite_dns_reply(f.b.data(), c, 33, p.mac, false);
    const uint8_t* ip = f.b.data() + 14;
    EXPECT_EQ(be16(ip + 4), 41);
    EXPECT_EQ(ip[23], 1);  // source fd53::1
    const uint8_t* udp = ip + 40;
    EXPECT_NE(be16(udp + 6), 0);
    EXPECT_EQ(fold(sum16(udp, 41, sum16(ip + 8, 32) + htons(41) + htons(17))), 0xFFFF);
}

TEST(DpdkPacket, VlanTagKeptAndFiltered) {
    const PortAddrs p = port();
    Frame f = udp4("10.53.0.1", 53, 100);
    Classified c = classify(f.b.data(), f.len, p);
    ASSERT_EQ(c.verdict, Verdict::dns);
    EXPECT_EQ(c.l3, 18);
    rewrite_dns_reply(f.b.data(), c, 40, p.mac, false);
    EXPECT_EQ(be16(f.b.data() + 12), eth_vlan);
    EXPECT_EQ(be16(f.b.data() + 14), 100);
    EXPECT_TRUE(udp4_ok(f.b.data() + 18));
    Frame g = udp4("10.53.0.1", 53, 200);
    c = classify(g.b.data(), g.len, p);
    EXPECT_EQ(c.verdict, Verdict::drop);
    EXPECT_EQ(c.why, Drop::vlan);
}

TEST(DpdkPacket, DropsWhatIsNotOursOrBroken) {
    const PortAddrs p = port();
    Frame f = udp4("10.53.0.9", 53);
    EXPECT_EQ(classify(f.b.data(), f.len, p).why, Drop::not_ours);
    Frame g = udp4("10.53.0.1", 53);
    g.b[14 + 3] = 200;  // IP total length beyond the frame
    EXPECT_EQ(classify(g.b.data(), g.len, p).why, Drop::bad_length);
    Frame h = udp4("10.53.0.1", 53);
    h.b[14 + 20 + 5] = 9;  // UDP length disagrees
    EXPECT_EQ(classify(h.b.data(), h.len, p).why, Drop::bad_length);
    Frame b = udp4("10.53.0.1", 53);
    std::memset(b.b.data(), 0xFF, 6);  // broadcast DNS
    EXPECT_EQ(classify(b.b.data(), b.len, p).why, Drop::not_ours);
    EXPECT_EQ(classify(b.b.data(), 20, p).why, Drop::malformed);
    Frame other = udp4("10.53.0.1", 53);
    other.b[0] = 0x04;  // another host's unicast MAC
    EXPECT_EQ(classify(other.b.data(), other.len, p).why, Drop::not_ours);
}

TEST(DpdkPacket, FragmentsAndOtherTrafficGoToTheKernel) {
    const PortAddrs p = port();
    Frame f = udp4("10.53.0.1", 53, -1, 0x2000);  // MF
    Classified c = classify(f.b.data(), f.len, p);
    EXPECT_EQ(c.verdict, Verdict::kernel);
    EXPECT_TRUE(c.fragment);
    Frame g = udp4("10.53.0.1", 123);
    EXPECT_EQ(classify(g.b.data(), g.len, p).verdict, Verdict::kernel);
    Frame t = udp4("10.53.0.1", 53);
    t.b[14 + 9] = proto_tcp;
    EXPECT_EQ(classify(t.b.data(), t.len, p).verdict, Verdict::kernel);
}

TEST(DpdkPacket, ArpRequestAnswered) {
    const PortAddrs p = port();
    Frame f = eth({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, eth_arp);
    f.u16(1);
    f.u16(0x0800);
    f.u8(6);
    f.u8(4);
    f.u16(1);
    f.put(client_mac.data(), 6);
    const uint8_t spa[] = {10, 53, 0, 2}, tpa[] = {10, 53, 0, 1};
    f.put(spa, 4);
    f.put("\0\0\0\0\0\0", 6);
    f.put(tpa, 4);
    const Classified c = classify(f.b.data(), f.len, p);
    ASSERT_EQ(c.verdict, Verdict::arp);
    const uint8_t* a = f.b.data() + 14;
    EXPECT_EQ(be16(a + 6), 2);
    EXPECT_EQ(0, std::memcmp(a + 8, our_mac.data(), 6));
    EXPECT_EQ(0, std::memcmp(a + 14, tpa, 4));
    EXPECT_EQ(0, std::memcmp(a + 18, client_mac.data(), 6));
    EXPECT_EQ(0, std::memcmp(a + 24, spa, 4));
    EXPECT_EQ(0, std::memcmp(f.b.data(), client_mac.data(), 6));
    // A request for someone else goes to the kernel (never answered by us).
    f.b[14 + 27] = 99;
    f.b[14 + 7] = 1;
    std::memset(f.b.data(), 0xFF, 6);
    EXPECT_EQ(classify(f.b.data(), f.len, p).verdict, Verdict::kernel);
}

TEST(DpdkPacket, NeighbourSolicitationAnswered) {
    const PortAddrs p = port();
    const Mac solicited = {0x33, 0x33, 0xFF, 0, 0, 1};
    Frame f = eth(solicited, eth_ipv6);
    const uint8_t hdr[] = {0x60, 0, 0, 0, 0, 32, proto_icmp6, 255};
    f.put(hdr, sizeof hdr);
    in6_addr src, dst, target;
    inet_pton(AF_INET6, "fd53::2", &src);
    inet_pton(AF_INET6, "ff02::1:ff00:1", &dst);
    inet_pton(AF_INET6, "fd53::1", &target);
    f.put(&src, 16);
    f.put(&dst, 16);
    const uint32_t l4 = f.len;
    f.u8(135);
    f.u8(0);
    f.u16(0);
    f.put("\0\0\0\0", 4);
    f.put(&target, 16);
    f.u8(1);
    f.u8(1);
    f.put(client_mac.data(), 6);
    const Classified c = classify(f.b.data(), f.len, p);
    ASSERT_EQ(c.verdict, Verdict::nd);
    EXPECT_EQ(c.reply_len, l4 + 32);
    const uint8_t* ip = f.b.data() + 14;
    const uint8_t* icmp = f.b.data() + l4;
    EXPECT_EQ(icmp[0], 136);
    EXPECT_EQ(icmp[4], 0x60);  // solicited + override
    EXPECT_EQ(0, std::memcmp(ip + 8, &target, 16));
    EXPECT_EQ(0, std::memcmp(ip + 24, &src, 16));
    EXPECT_EQ(icmp[24], 2);
    EXPECT_EQ(0, std::memcmp(icmp + 26, our_mac.data(), 6));
    EXPECT_EQ(fold(sum16(icmp, 32, sum16(ip + 8, 32) + htons(32) + htons(proto_icmp6))), 0xFFFF);
    EXPECT_EQ(0, std::memcmp(f.b.data(), client_mac.data(), 6));
}

TEST(DpdkPacket, EchoRepliesBothFamilies) {
    const PortAddrs p = port();
    Frame f = udp4("10.53.0.1", 0);
    uint8_t* ip = f.b.data() + 14;
    ip[9] = proto_icmp;
    uint8_t* icmp = ip + 20;
    icmp[0] = 8;
    icmp[1] = 0;
    icmp[2] = icmp[3] = 0;
    const uint16_t cc = uint16_t(~fold(sum16(icmp, be16(ip + 2) - 20)));
    std::memcpy(icmp + 2, &cc, 2);
    Classified c = classify(f.b.data(), f.len, p);
    ASSERT_EQ(c.verdict, Verdict::echo);
    EXPECT_EQ(icmp[0], 0);
    EXPECT_EQ(fold(sum16(icmp, be16(ip + 2) - 20)), 0xFFFF);
    EXPECT_EQ(fold(sum16(ip, 20)), 0xFFFF);
    EXPECT_EQ(ip[15], 1);

    Frame g = udp6("fd53::1");
    uint8_t* ip6 = g.b.data() + 14;
    ip6[6] = proto_icmp6;
    uint8_t* e = ip6 + 40;
    e[0] = 128;
    e[1] = 0;
    c = classify(g.b.data(), g.len, p);
    ASSERT_EQ(c.verdict, Verdict::echo);
    EXPECT_EQ(e[0], 129);
    const uint16_t len = be16(ip6 + 4);
    EXPECT_EQ(fold(sum16(e, len, sum16(ip6 + 8, 32) + htons(len) + htons(proto_icmp6))), 0xFFFF);
}
