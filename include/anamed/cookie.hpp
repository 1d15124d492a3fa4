// DNS cookies (RFC 7873) with RFC 9018's interoperable server cookies: Version 1,
// Reserved, a Timestamp and SipHash-2-4 over client cookie, those fields and the client's
// address, under a secret every node of a fleet shares, so any node accepts another's.
//
// respond() echoes a query's COOKIE option at the end of the reply's OPT (ClientInfo::cookies)
// with room for a server cookie; the frontend, which knows the client's address, then
// checks what the client sent and writes a fresh server cookie there (finish_cookie).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace anamed {

struct CookieSecrets {
    bool enabled = false;
    uint8_t current[16] = {};
    bool has_previous = false;  // during a rotation, cookies made with the previous secret
    uint8_t previous[16] = {};  // still pass
};

// The client's address, as the hash and the rate limiter see it: 4 or 16 bytes.
struct ClientAddr {
    uint8_t len = 0;
    uint8_t bytes[16] = {};
};
// The address of a socket peer (an empty one for another family).
inline ClientAddr client_addr(const sockaddr_storage& s) {
    ClientAddr a;
    if (s.ss_family == AF_INET) {
        a.len = 4;
        std::memcpy(a.bytes, &reinterpret_cast<const sockaddr_in&>(s).sin_addr, 4);
    } else if (s.ss_family == AF_INET6) {
        a.len = 16;
        std::memcpy(a.bytes, &reinterpret_cast<const sockaddr_in6&>(s).sin6_addr, 16);
    }
    return a;
}

inline constexpr uint16_t edns_cookie = 10;  // the option code
inline constexpr uint16_t rcode_badcookie = 23;
inline constexpr size_t client_cookie_len = 8, server_cookie_len = 16;
// Accepted timestamps (RFC 9018 §4.3): up to an hour old, up to five minutes ahead.
inline constexpr uint32_t cookie_max_age_s = 3600, cookie_max_ahead_s = 300;

// The 16-byte server cookie for `client_cookie` (8 bytes) at time `now` (seconds since the
// epoch).
void make_server_cookie(const uint8_t secret[16], const uint8_t* client_cookie, uint32_t now,
                        const ClientAddr& client, uint8_t* out) noexcept;

// Whether a client cookie followed by a server cookie (`len` bytes in all) carries a server
// cookie this server (or one with the same secret) made for this client, not expired.
bool server_cookie_valid(const CookieSecrets& s, const uint8_t* cookie, size_t len, uint32_t now,
                         const ClientAddr& client) noexcept;

enum class CookieState : uint8_t {
    none,         // the query had no COOKIE option
    client_only,  // a client cookie, without a valid server cookie
    valid,        // a server cookie this fleet made
};

// The response `msg` of `len` bytes ends in a COOKIE option with `data_len` bytes of data
// (ResponseInfo::cookie; 0: none): the query's client cookie and the server cookie it sent,
// or zeros. Checks that server cookie, writes a fresh one in its place and shortens the
// option to 24 bytes when it was longer (len changes).
CookieState finish_cookie(const CookieSecrets& s, uint8_t* msg, size_t& len, uint8_t data_len,
                          uint32_t now, const ClientAddr& client) noexcept;

// Turns a response that finish_cookie completed into a BADCOOKIE reply (RFC 7873 §5.2.3):
// header, question, OPT with the cookies. Returns the new length.
size_t make_badcookie(uint8_t* msg, size_t len) noexcept;

// Turns a response into an empty one with TC=1 (header and question): the rate limiter's
// slip, which a real client answers by asking over TCP. Returns the new length.
size_t make_truncated(uint8_t* msg, size_t len) noexcept;

}  // namespace anamed
