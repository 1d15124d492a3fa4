#include "anamed/dispatch.hpp"

#include <cstring>

#include "anamed/wire.hpp"

namespace anamed {
namespace {

struct Scan {
    size_t question_end = 0;  // 0: no well-formed question
    uint16_t qtype = 0;
    bool opt = false, tsig = false;
};

// The question and the types of the additional records: all classify and error_reply need.
Scan scan(const uint8_t* msg, size_t len) {
    Scan s;
    if (len < header_size || load16(msg + 4) != 1) return s;
    size_t pos = skip_name(msg, len, header_size);
    if (pos == 0 || pos + 4 > len) return s;
    s.qtype = load16(msg + pos);
    pos += 4;
    s.question_end = pos;
    const unsigned before_ar = unsigned(load16(msg + 6)) + load16(msg + 8);
    const unsigned total = before_ar + load16(msg + 10);
    for (unsigned i = 0; i < total; ++i) {
        pos = skip_name(msg, len, pos);
        if (pos == 0 || pos + 10 > len) break;
        const uint16_t type = load16(msg + pos);
        const size_t next = pos + 10 + load16(msg + pos + 8);
        if (next > len) break;
        if (i >= before_ar) {
            s.opt |= type == rrtype::OPT;
            s.tsig |= type == rrtype::TSIG;
        }
        pos = next;
    }
    return s;
}

}  // namespace

MessageClass classify(const uint8_t* msg, size_t len) noexcept {
    if (len < header_size) return MessageClass::other;
    switch (opcode_of(msg)) {
    case opcode::NOTIFY: return MessageClass::notify;
    case opcode::UPDATE: return MessageClass::update;
    case opcode::QUERY: break;
    default: return MessageClass::other;
    }
    const Scan s = scan(msg, len);
    if (s.question_end == 0) return MessageClass::other;
    if (s.qtype == rrtype::AXFR || s.qtype == rrtype::IXFR) return MessageClass::transfer;
    return s.tsig ? MessageClass::signed_query : MessageClass::query;
}

const char* class_name(MessageClass c) noexcept {
    switch (c) {
    case MessageClass::query: return "query";
    case MessageClass::transfer: return "transfer";
    case MessageClass::notify: return "notify";
    case MessageClass::update: return "update";
    case MessageClass::signed_query: return "signed query";
    case MessageClass::other: return "other";
    }
    return "?";
}

size_t error_reply(const uint8_t* msg, size_t len, uint8_t rcode, uint8_t* out,
                   size_t cap) noexcept {
    if (len < header_size || cap < header_size + opt_rr_size) return 0;
    const Scan s = scan(msg, len);
    const size_t question = s.question_end ? s.question_end - header_size : 0;
    if (header_size + question + opt_rr_size > cap) return 0;
    std::memcpy(out, msg, 2);
    const uint16_t flags = load16(msg + 2);
    store16(out + 2,
            uint16_t(flag_qr | (flags & (flag_opcode | flag_rd | flag_cd)) | (rcode & 0xF)));
    store16(out + 4, question ? 1 : 0);
    std::memset(out + 6, 0, 6);
    std::memcpy(out + header_size, msg + header_size, question);
    size_t n = header_size + question;
    if (s.opt) {  // RFC 6891 §7: a request with OPT gets one back
        const uint8_t opt[opt_rr_size] = {0,
                                          0,
                                          41,
                                          uint8_t(edns_default_payload >> 8),
                                          uint8_t(edns_default_payload & 0xFF),
                                          0,
                                          0,
                                          0,
                                          0,
                                          0,
                                          0};
        std::memcpy(out + n, opt, opt_rr_size);
        n += opt_rr_size;
        store16(out + 10, 1);
    }
    return n;
}

}  // namespace anamed
