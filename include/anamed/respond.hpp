// The one answer function every frontend, test, fuzzer and benchmark calls.
#pragma once

#include <cstddef>
#include <cstdint>

#include "anamed/snapshot.hpp"

namespace anamed {

enum class Transport : uint8_t { udp, tcp };

struct ClientInfo {
    Transport transport = Transport::udp;
    // DNS cookies are on (cookie.hpp): a query's COOKIE option is echoed at the end of the
    // reply, with room for the server cookie the frontend writes there.
    bool cookies = false;
};

// What respond() tells the frontend besides the bytes, for counters.
struct ResponseInfo {
    uint16_t rcode = 0;  // extended rcode (BADVERS = 16)
    uint16_t qtype = 0;
    bool truncated = false;
    // No reply was written: the message is not a plain query (see dispatch.hpp) and goes
    // to the control plane.
    bool handoff = false;
    bool referral = false;  // a delegation answered the name (rate limiting's class)
    uint8_t cookie = 0;     // the echoed COOKIE option's data length, at the reply's end
    // What the rate limiter keys the response by: the node answered, the zone for NXDOMAIN.
    uintptr_t name_key = 0;
    uint16_t zone_slot = 0;  // the zone's per-zone counters (ZoneTable::stats_slot); 0: none
};

// Answers one DNS message. `snap` may be null (nothing loaded: REFUSED). Writes at most
// out_cap bytes (and never more than the client's limit: 512 without EDNS, its payload
// size up to 1232 with EDNS, 65535 over TCP). Returns the response length, or 0 when the
// packet deserves no reply (QR=1, shorter than a header). Pure: no allocation, no lock, no
// syscall, no exception. Messages that are not plain queries (NOTIFY, UPDATE, AXFR, IXFR, and
// anything signed with TSIG) get no reply here: 0, with info->handoff set (dispatch.hpp).
size_t respond(const Snapshot* snap, const uint8_t* query, size_t query_len, uint8_t* out,
               size_t out_cap, const ClientInfo& client, ResponseInfo* info = nullptr) noexcept;

// A burst of queries answered together: the lookups' memory is prefetched for the whole
// burst first, so that the cache misses of a large table overlap instead of adding up.
// An item's out may be its query itself (out_cap >= query_len): every query of the burst
// is parsed before any reply is written, and a reply starts with its query's header and
// question, so the DPDK worker answers in the mbuf the query arrived in.
struct BurstItem {
    const uint8_t* query;
    size_t query_len;
    uint8_t* out;
    size_t out_cap;
    size_t out_len;  // set by respond_burst (0 = no reply)
    ResponseInfo info;
};
inline constexpr size_t max_burst = 64;

void respond_burst(const Snapshot* snap, BurstItem* items, size_t n,
                   const ClientInfo& client) noexcept;

}  // namespace anamed
