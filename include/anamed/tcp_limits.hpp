// What DNS over TCP allows a client (RFC 7766 §6.2), so that slow or many connections from a
// few sources cannot keep the others out.
#pragma once

namespace anamed {

struct TcpLimits {
    unsigned idle_timeout_ms = 10000;    // no message and nothing sent for this long: closed
    unsigned max_connections = 1024;     // when full, the longest idle connection makes room
    unsigned message_timeout_ms = 2000;  // a message must arrive whole this soon after its
                                         // first byte
    unsigned max_per_source = 32;        // connections from one address
    unsigned max_lifetime_ms = 120000;   // then closed once no reply is under way
};

}  // namespace anamed
