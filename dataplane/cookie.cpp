#include "anamed/cookie.hpp"

#include <cstring>

#include "anamed/siphash.hpp"
#include "anamed/wire.hpp"

namespace anamed {
namespace {

constexpr size_t option_header = 4;
constexpr size_t finished_data = client_cookie_len + server_cookie_len;

uint64_t cookie_hash(const uint8_t secret[16], const uint8_t* client_cookie,
                     const uint8_t* version_to_ts, const ClientAddr& client) {
    uint8_t in[client_cookie_len + 8 + 16];
    std::memcpy(in, client_cookie, client_cookie_len);
    std::memcpy(in + client_cookie_len, version_to_ts, 8);
    std::memcpy(in + client_cookie_len + 8, client.bytes, client.len);
    return siphash24(secret, in, client_cookie_len + 8 + client.len);
}

bool hash_matches(const uint8_t secret[16], const uint8_t* cookie, const ClientAddr& client) {
    const uint64_t h = cookie_hash(secret, cookie, cookie + client_cookie_len, client);
    uint8_t want[8];
    for (int i = 0; i < 8; ++i) want[i] = uint8_t(h >> (8 * i));  // little-endian, as the RFC
    return std::memcmp(want, cookie + client_cookie_len + 8, 8) == 0;
}

// Where the question ends (the header's end when there is none).
size_t question_end(const uint8_t* msg, size_t len) {
    if (load16(msg + 4) == 0) return header_size;
    const size_t pos = skip_name(msg, len, header_size);
    return pos == 0 || pos + 4 > len ? 0 : pos + 4;
}

}  // namespace

void make_server_cookie(const uint8_t secret[16], const uint8_t* client_cookie, uint32_t now,
                        const ClientAddr& client, uint8_t* out) noexcept {
    out[0] = 1;  // Version
    out[1] = out[2] = out[3] = 0;
    store32(out + 4, now);
    const uint64_t h = cookie_hash(secret, client_cookie, out, client);
    for (int i = 0; i < 8; ++i) out[8 + i] = uint8_t(h >> (8 * i));
}

bool server_cookie_valid(const CookieSecrets& s, const uint8_t* cookie, size_t len, uint32_t now,
                         const ClientAddr& client) noexcept {
    if (!s.enabled || len != finished_data) return false;
    const uint8_t* server = cookie + client_cookie_len;
    if (server[0] != 1) return false;
    const int32_t age = int32_t(now - load32(server + 4));  // serial arithmetic (RFC 1982)
    if (age > int32_t(cookie_max_age_s) || age < -int32_t(cookie_max_ahead_s)) return false;
    return hash_matches(s.current, cookie, client) ||
           (s.has_previous && hash_matches(s.previous, cookie, client));
}

CookieState finish_cookie(const CookieSecrets& s, uint8_t* msg, size_t& len, uint8_t data_len,
                          uint32_t now, const ClientAddr& client) noexcept {
    if (data_len < finished_data || len < opt_rr_size + option_header + data_len)
        return CookieState::none;
    uint8_t* data = msg + len - data_len;
    const CookieState state = server_cookie_valid(s, data, data_len, now, client)
                                  ? CookieState::valid
                                  : CookieState::client_only;
    make_server_cookie(s.current, data, now, client, data + client_cookie_len);
    const size_t shorter = data_len - finished_data;
    if (shorter != 0) {
        store16(data - 2, uint16_t(finished_data));
        uint8_t* rdlen = data - option_header - 2;
        store16(rdlen, uint16_t(load16(rdlen) - shorter));
        len -= shorter;
    }
    return state;
}

size_t make_badcookie(uint8_t* msg, size_t len) noexcept {
    const size_t tail = opt_rr_size + option_header + finished_data;  // OPT with the cookies
    const size_t qend = question_end(msg, len);
    if (qend == 0 || qend + tail > len) return make_truncated(msg, len);
    std::memmove(msg + qend, msg + len - tail, tail);
    msg[qend + 5] = uint8_t(rcode_badcookie >> 4);  // extended RCODE
    const uint16_t flags = load16(msg + 2);
    store16(msg + 2, uint16_t((flags & (flag_qr | flag_opcode | flag_rd | flag_cd)) |
                              (rcode_badcookie & 0xF)));
    store16(msg + 6, 0);
    store16(msg + 8, 0);
    store16(msg + 10, 1);
    return qend + tail;
}

size_t make_truncated(uint8_t* msg, size_t len) noexcept {
    if (len < header_size) return 0;
    const size_t qend = question_end(msg, len);
    if (qend == 0) return 0;
    store16(msg + 2, uint16_t(load16(msg + 2) | flag_tc));
    store16(msg + 6, 0);
    store16(msg + 8, 0);
    store16(msg + 10, 0);
    return qend;
}

}  // namespace anamed
