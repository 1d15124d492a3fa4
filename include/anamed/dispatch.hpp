// The seam every received message passes: its opcode and type choose where it is handled.
//
//   QUERY (no TSIG, not AXFR/IXFR)  respond() / respond_burst(), on the worker, from the snapshot
//   everything else                 handed off (ResponseInfo::handoff) to the control plane's
//                                   message handler, over a bounded queue (handoff.hpp):
//     AXFR, IXFR                      the transfer streamer (many messages per request over TCP)
//     NOTIFY                          the secondary's refresh logic
//     UPDATE                          dynamic updates
//     a QUERY signed with TSIG        verified, answered by respond(), and the reply signed
//
// The DPDK workers pass what they hand off to the kernel through the exception path (rate-
// limited), where the kernel frontend receives it like any other message.
#pragma once

#include <cstddef>
#include <cstdint>

namespace anamed {

enum class MessageClass : uint8_t { query, transfer, notify, update, signed_query, other };

namespace opcode {
inline constexpr uint8_t QUERY = 0, NOTIFY = 4, UPDATE = 5;
}

inline uint8_t opcode_of(const uint8_t* msg) {
    return (msg[2] >> 3) & 0xF;
}

// The class of a message respond() handed off (or of any message with a header and a
// well-formed question; `other` when it has neither).
MessageClass classify(const uint8_t* msg, size_t len) noexcept;
const char* class_name(MessageClass c) noexcept;

// A reply of just the header and the question (and an OPT when the query had one) with
// `rcode`: what a handler answers when it refuses or does not implement a message.
// Returns its length; 0 when the message has no parseable header.
size_t error_reply(const uint8_t* msg, size_t len, uint8_t rcode, uint8_t* out,
                   size_t cap) noexcept;

}  // namespace anamed
