// parse_query(): the header, the question and the additional section's OPT (EDNS, RFC 6891)
// and its options, read into a Query for respond() and respond_burst().
#include <cstring>

#include "anamed/dispatch.hpp"
#include "query.hpp"

namespace anamed {
namespace detail {

// The OPT's options: each must end within its data; the COOKIE option is kept.
bool parse_options(const uint8_t* p, size_t len, Query& q) {
    for (size_t at = 0; at < len;) {
        if (at + 4 > len) return false;
        const uint16_t code = load16(p + at);
        const size_t n = load16(p + at + 2);
        if (at + 4 + n > len) return false;
        if (code == edns_option_nsid) q.nsid = true;
        if (code == edns_cookie && q.cookie_len == 0 && !q.cookie_bad) {
            if (n == client_cookie_len || (n >= 16 && n <= 40)) {
                std::memcpy(q.cookie, p + at + 4, n);
                q.cookie_len = uint8_t(n);
            } else {
                q.cookie_bad = true;
            }
        }
        at += 4 + n;
    }
    return true;
}

Parse parse_query(const uint8_t* p, size_t len, Query& q) {
    if (len < header_size) return Parse::drop;
    q.id = load16(p);
    q.flags = load16(p + 2);
    if (q.flags & flag_qr) return Parse::drop;
    const uint8_t op = opcode_of(p);
    // NOTIFY and UPDATE are the control plane's, whatever their sections hold.
    if (op == opcode::NOTIFY || op == opcode::UPDATE) return Parse::handoff;
    if (load16(p + 4) != 1) return op != opcode::QUERY ? Parse::notimp : Parse::formerr;
    size_t n = parse_name(p + header_size, len - header_size, q.qname);
    if (n == 0 || header_size + n + 4 > len)
        return op != opcode::QUERY ? Parse::notimp : Parse::formerr;
    q.qtype = load16(p + header_size + n);
    q.qclass = load16(p + header_size + n + 2);
    q.question_len = n + 4;
    if (op != opcode::QUERY) return Parse::notimp;
    if (q.qtype == rrtype::AXFR || q.qtype == rrtype::IXFR) return Parse::handoff;
    if (load16(p + 6) != 0 || load16(p + 8) != 0) return Parse::formerr;

    size_t pos = header_size + q.question_len;
    for (uint16_t ar = load16(p + 10); ar > 0; --ar) {
        const size_t name_start = pos;
        pos = skip_name(p, len, pos);
        if (pos == 0 || pos + 10 > len) return Parse::formerr;
        const uint16_t type = load16(p + pos);
        const size_t rdlen = load16(p + pos + 8);
        if (pos + 10 + rdlen > len) return Parse::formerr;
        if (type == rrtype::TSIG) {
            // RFC 8945 §5.1: the last record, or the message is malformed.
            return ar == 1 ? Parse::handoff : Parse::formerr;
        }
        if (type == rrtype::OPT) {
            // One OPT, at the root, its options within its data; a FORMERR that the OPT
            // causes carries an OPT in turn (RFC 6891 §7).
            const bool misplaced = q.edns || p[name_start] != 0;
            q.edns = true;
            q.payload = load16(p + pos + 2);
            q.edns_version = p[pos + 5];
            q.edns_do = (p[pos + 6] & 0x80) != 0;
            if (misplaced || (rdlen != 0 && !parse_options(p + pos + 10, rdlen, q)))
                return Parse::formerr;
        }
        pos += 10 + rdlen;
    }
    return Parse::ok;
}

}  // namespace detail

}  // namespace anamed
