// Answers that the dataplane gives on its own, in place: ARP replies and IPv6 neighbour
// advertisements for the service addresses (so that clients find us with no static
// entries), and ICMP/ICMPv6 echo replies. Each returns the reply's frame length, or 0 when
// the frame is not one it answers (the caller then hands it to the kernel).
#pragma once

#include <cstdint>

#include "packet.hpp"

namespace anamed::dp {

// `l3` is the offset of the ARP / IP header; `l4` the ICMP header; lengths are validated.
uint32_t answer_arp(uint8_t* frame, uint32_t len, uint16_t l3, const PortAddrs& port);
uint32_t answer_echo4(uint8_t* frame, uint16_t l3, uint16_t l4, uint16_t icmp_len, const Mac& src);
uint32_t answer_echo6(uint8_t* frame, uint16_t l3, uint16_t l4, uint16_t icmp_len, const Mac& src);
// A neighbour solicitation (any destination: unicast or solicited-node multicast).
uint32_t answer_ns(uint8_t* frame, uint16_t l3, uint16_t l4, uint16_t icmp_len,
                   const PortAddrs& port);

}  // namespace anamed::dp
