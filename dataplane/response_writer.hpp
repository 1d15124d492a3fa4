// Builds a response in a caller-provided buffer, never past the client's limit.
// Answer and authority records that do not fit make the message truncated (TC=1);
// additional records that do not fit are left out (RFC 2181 §9).
#pragma once

#include <cstring>
#include <string>

#include "anamed/snapshot.hpp"
#include "anamed/wire.hpp"

namespace anamed {

class ResponseWriter {
public:
    ResponseWriter(uint8_t* buf, size_t limit) : buf_(buf), cap_(limit) {}

    void begin(uint16_t id, uint16_t query_flags) {
        store16(buf_, id);
        flags_ = uint16_t(flag_qr | (query_flags & (0x7800 | flag_rd | flag_cd)));
        std::memset(buf_ + 2, 0, header_size - 2);
        len_ = header_size;
    }
    void question(const uint8_t* q, size_t n) {
        std::memcpy(buf_ + len_, q, n);  // caller checked n fits: it came from a smaller query
        len_ += n;
        qdcount_ = 1;
        question_end_ = len_;
    }
    void reserve_opt() { cap_ -= opt_rr_size; }

    // Copies an RRset whose owner is at packet offset `owner`; returns where it starts.
    size_t answer(const NodeData& d, const TypeEntry& e, uint16_t owner) {
        const size_t at = len_;
        if (put_rrs(d.bytes() + e.rr_off, e.rr_len, owner)) ancount_ += e.rr_count;
        return at;
    }
    // Records from outside a NodeData (ALIAS answers), each TTL lowered to at most ttl_cap.
    void answer_capped(const uint8_t* src, size_t n, uint16_t count, uint16_t owner, uint32_t ttl_cap) {
        uint8_t* dst = buf_ + len_;
        if (!put_rrs(src, n, owner)) return;
        for (size_t i = 0; i < n; i += rr_fixed + load16(dst + i + 10))
            if (load32(dst + i + 6) > ttl_cap) store32(dst + i + 6, ttl_cap);
        ancount_ += count;
    }
    void authority(const NodeData& d, const TypeEntry& e, uint16_t owner) {
        if (put_rrs(d.bytes() + e.rr_off, e.rr_len, owner)) nscount_ += e.rr_count;
    }
    void additional(const NodeData& d, const TypeEntry& e) {
        if (!ok_ || len_ + e.add_len > cap_) return;
        std::memcpy(buf_ + len_, d.bytes() + e.rr_off + e.rr_len, e.add_len);
        len_ += e.add_len;
        arcount_ += e.add_count;
    }
    // owner CNAME <prefix><target>; returns where the record starts.
    size_t synth_cname(uint16_t owner, uint32_t ttl, const uint8_t* prefix, size_t prefix_len,
                       const uint8_t* target, size_t target_len) {
        const size_t at = len_;
        const size_t rdlen = prefix_len + target_len;
        if (!ok_ || len_ + rr_fixed + rdlen > cap_) return fail(at);
        uint8_t* p = buf_ + len_;
        store16(p, uint16_t(0xC000 | owner));
        store16(p + 2, rrtype::CNAME);
        store16(p + 4, class_in);
        store32(p + 6, ttl);
        store16(p + 10, uint16_t(rdlen));
        std::memmove(p + rr_fixed, prefix, prefix_len);
        std::memcpy(p + rr_fixed + prefix_len, target, target_len);
        len_ += rr_fixed + rdlen;
        ancount_ += 1;
        return at;
    }

    // Drops everything after the question and sets TC: the client retries over TCP.
    void truncate() {
        len_ = question_end_ ? question_end_ : header_size;
        ancount_ = nscount_ = arcount_ = 0;
        tc_ = true;
        ok_ = true;
    }
    void opt(uint16_t payload, uint8_t ext_rcode, bool dnssec_ok) {
        cap_ += opt_rr_size;
        uint8_t* p = buf_ + len_;
        p[0] = 0;
        store16(p + 1, rrtype::OPT);
        store16(p + 3, payload);
        p[5] = ext_rcode;
        p[6] = 0;  // version
        store16(p + 7, dnssec_ok ? 0x8000 : 0);
        store16(p + 9, 0);
        len_ += opt_rr_size;
        arcount_ += 1;
    }
    size_t finish() {
        uint16_t f = flags_ | rcode_;
        if (aa_) f |= flag_aa;
        if (tc_) f |= flag_tc;
        store16(buf_ + 2, f);
        store16(buf_ + 4, qdcount_);
        store16(buf_ + 6, ancount_);
        store16(buf_ + 8, nscount_);
        store16(buf_ + 10, arcount_);
        return len_;
    }

    void set_aa(bool aa) { aa_ = aa; }
    void set_rcode(uint8_t rc) { rcode_ = rc; }
    uint8_t rcode() const { return rcode_; }
    bool ok() const { return ok_; }
    bool truncated() const { return tc_; }
    const uint8_t* data() const { return buf_; }
    size_t size() const { return len_; }

private:
    bool put_rrs(const uint8_t* src, size_t n, uint16_t owner) {
        if (!ok_ || len_ + n > cap_) {
            fail(len_);
            return false;
        }
        uint8_t* dst = buf_ + len_;
        std::memcpy(dst, src, n);
        if (owner != header_size) {
            const uint16_t ptr = uint16_t(0xC000 | owner);
            for (size_t i = 0; i < n; i += rr_fixed + load16(dst + i + 10)) store16(dst + i, ptr);
        }
        len_ += n;
        return true;
    }
    size_t fail(size_t at) {
        ok_ = false;
        return at;
    }

    uint8_t* buf_;
    size_t cap_;
    size_t len_ = 0;
    size_t question_end_ = 0;
    uint16_t flags_ = 0;
    uint16_t qdcount_ = 0, ancount_ = 0, nscount_ = 0, arcount_ = 0;
    uint8_t rcode_ = 0;
    bool aa_ = false, tc_ = false, ok_ = true;
};

}  // namespace anamed
