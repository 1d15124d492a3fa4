// The parsed query and the general answer path, shared by respond() (respond.cpp) and
// respond_burst() (respond_burst.cpp). Internal to the dataplane library.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "anamed/cookie.hpp"
#include "anamed/respond.hpp"
#include "anamed/wire.hpp"

namespace anamed {
class ResponseWriter;
}

namespace anamed::detail {

struct Query {
    // Filled by respond_burst's prefetch pass, so the answer pass does not redo the work.
    const ZoneTable* zone = nullptr;
    uint64_t hash = 0;
    size_t question_len = 0;  // qname + type + class, as sent
    uint16_t id = 0;
    uint16_t flags = 0;
    uint16_t qtype = 0;
    uint16_t qclass = 0;
    uint16_t payload = 0;
    bool edns = false;
    bool edns_do = false;
    bool nsid = false;  // the OPT asks for the NSID (RFC 5001)
    uint8_t edns_version = 0;
    uint8_t cookie_len = 0;   // the COOKIE option's length (8, or 16 to 40), 0 without one
    bool cookie_bad = false;  // a COOKIE option of another length (RFC 7873 §5.2.2: FORMERR)
    uint8_t cookie[40];       // its bytes: the reply may be written over the query
    Name qname;  // last: its buffers are not initialised, and the fields above are stored together
};

// handoff: not a plain query; another handler answers it (anamed/dispatch.hpp).
enum class Parse { ok, drop, formerr, notimp, handoff };

// Parses header, question and the additional section (for OPT). Sets q.question_len only
// when the question is well-formed, so errors can still echo it.
Parse parse_query(const uint8_t* p, size_t len, Query& q);

inline size_t cookie_data_len(const Query& q) {
    return std::max<size_t>(q.cookie_len, client_cookie_len + server_cookie_len);
}
// The bytes the echoed COOKIE option takes (put_cookie).
inline size_t cookie_room(const Query& q, const ClientInfo& client) {
    return client.cookies && q.cookie_len ? 4 + cookie_data_len(q) : 0;
}

// How long the reply may be: the client's limit (512 without EDNS, its payload size up to
// 1232 with EDNS, 65535 over TCP) within out_cap; 0 when not even the header, the question
// and an OPT record fit (no reply).
// and an OPT record fit (no reply). With a cookie to echo, the limit leaves room for it.
inline size_t reply_limit(const Query& q, const ClientInfo& client, size_t out_cap) {
    const size_t udp = q.edns
                           ? std::clamp<uint16_t>(q.payload, udp_min_payload, edns_default_payload)
                           : udp_min_payload;
    const size_t limit = std::min(client.transport == Transport::tcp ? 65535 : udp, out_cap);
    const size_t room = cookie_room(q, client);
    return limit < header_size + q.question_len + opt_rr_size + room ? 0 : limit - room;
}

// Appends the query's COOKIE option to the OPT record that ends the reply at out + len: the
// client cookie, then the server cookie the client sent or zeros, 24 bytes at least, for the
// frontend to complete (cookie.hpp). Returns the new length.
inline size_t put_cookie(const Query& q, uint8_t* out, size_t len, ResponseInfo* info) {
    const size_t data = cookie_data_len(q);
    uint8_t* p = out + len;
    store16(p, edns_cookie);
    store16(p + 2, uint16_t(data));
    std::memcpy(p + 4, q.cookie, q.cookie_len);
    std::memset(p + 4 + q.cookie_len, 0, data - q.cookie_len);
    store16(p - 2, uint16_t(4 + data));  // the OPT's RDLEN
    if (info != nullptr) info->cookie = uint8_t(data);
    return len + 4 + data;
}

// A class CH query (identity.hpp): the configured TXT record, else REFUSED; returns the rcode.
uint16_t answer_chaos(const Snapshot& snap, const Query& q, ResponseWriter& w) noexcept;

// Everything after parsing: the whole answer, by the general path (RFC 1034 §4.3.2).
size_t answer_parsed(const Snapshot* snap, const Query& q, Parse parsed, const uint8_t* query,
                     uint8_t* out, size_t out_cap, const ClientInfo& client,
                     ResponseInfo* info) noexcept;

}  // namespace anamed::detail
