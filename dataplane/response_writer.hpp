// Builds a response in a caller-provided buffer, never past the client's limit.
// Answer and authority records that do not fit make the message truncated (TC=1);
// additional records that do not fit are left out (RFC 2181 §9).
#pragma once

#include <cstring>
#include <string>

#include "anamed/snapshot.hpp"
#include "anamed/wire.hpp"
#include "compression.hpp"

namespace anamed {

// The name being answered, as respond() wrote it: its lower-case form, where each label
// sits in the packet (label i at label_at[i], the root at label_at[name.labels]), and from
// which label on it is written in lower case. Precompiled pointers to the owner's suffixes
// resolve against it (resolve_stored_pointers).
struct NamePlace {
    const Name& name;
    const uint16_t* label_at;
    unsigned lower;

    unsigned labels() const { return name.labels; }
    unsigned lower_from() const { return lower; }
    uint16_t at(unsigned i) const { return label_at[i]; }
};

class ResponseWriter {
public:
    ResponseWriter(uint8_t* buf, size_t limit) : buf_(buf), cap_(limit) {}

    void begin(uint16_t id, uint16_t query_flags) {
        store16(buf_, id);
        flags_ = uint16_t(flag_qr | (query_flags & (flag_opcode | flag_rd | flag_cd)));
        std::memset(buf_ + 2, 0, header_size - 2);
        len_ = header_size;
    }
    void question(const uint8_t* q, size_t n) {
        // The caller checked n fits: it came from a smaller query. A reply written over its
        // own query (respond_burst in place) finds the question already where it belongs.
        if (q != buf_ + len_) std::memcpy(buf_ + len_, q, n);
        len_ += n;
        qdcount_ = 1;
        question_end_ = len_;
    }
    // Room for the OPT record and `options` bytes of options in it.
    void reserve_opt(size_t options = 0) {
        opt_reserved_ = opt_rr_size + options;
        cap_ -= opt_reserved_;
    }

    // Copies an RRset whose owner is at packet offset `owner`; returns where it starts.
    size_t answer(const NodeData& d, const TypeEntry& e, uint16_t owner, const NamePlace& name) {
        const size_t at = len_;
        if (put_block(d, e, owner, name)) ancount_ += e.rr_count;
        return at;
    }
    // Records from outside a NodeData (ALIAS answers), each TTL lowered to at most ttl_cap.
    void answer_capped(const uint8_t* src, size_t n, uint16_t count, uint16_t owner,
                       uint32_t ttl_cap) {
        uint8_t* dst = buf_ + len_;
        if (!put_rrs(src, n, owner)) return;
        cap_ttls(dst, n, ttl_cap);
        ancount_ += count;
    }
    void authority(const NodeData& d, const TypeEntry& e, uint16_t owner, const NamePlace& name) {
        if (put_block(d, e, owner, name)) nscount_ += e.rr_count;
    }
    // The additional records of the RRset just written, which they may point into.
    void additional(const NodeData& d, const TypeEntry& e, const NamePlace& name) {
        if (!ok_ || last_block_ != &e || len_ != last_block_end_) return;
        if (copy_block(d, e, e.rr_len, e.rr_len + e.add_len, 0, name, last_block_expanded_))
            arcount_ += e.add_count;
    }
    // The same for an RRset written earlier, with other records since (signatures, proofs):
    // its names written out in full, as nothing they point at is known to be in place.
    void additional_apart(const NodeData& d, const TypeEntry& e, const NamePlace& name) {
        if (ok_ && copy_block(d, e, e.rr_len, e.rr_len + e.add_len, 0, name, true))
            arcount_ += e.add_count;
    }
    // The RRSIGs at d covering `covered`, owned by the name at packet offset `owner`, in the
    // answer section or the authority section; false when there are none.
    bool sigs(const NodeData& d, uint16_t covered, uint16_t owner, bool authority) {
        const TypeEntry* e = d.find_sig(covered);
        if (e == nullptr) return false;
        if (put_rrs(d.bytes() + e->rr_off, e->rr_len, owner))
            (authority ? nscount_ : ancount_) += e->rr_count;
        return true;
    }
    // Authority records of e (and then `sig`'s) owned by `owner`, a lower-case wire name not
    // written yet (an NSEC or NSEC3 owner): the first record carries it, the others point
    // at it while it lies within a pointer's reach.
    void authority_named(std::string_view owner, const NodeData& d, const TypeEntry& e,
                         const TypeEntry* sig) {
        size_t name_at = 0;
        if (!put_named(owner, d.bytes() + e.rr_off, e.rr_len, name_at)) return;
        nscount_ += e.rr_count;
        if (sig != nullptr && put_named(owner, d.bytes() + sig->rr_off, sig->rr_len, name_at))
            nscount_ += sig->rr_count;
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
        store32(p + rr_ttl_at, ttl);
        store16(p + 10, uint16_t(rdlen));
        std::memcpy(p + rr_fixed, prefix, prefix_len);
        std::memcpy(p + rr_fixed + prefix_len, target, target_len);
        len_ += rr_fixed + rdlen;
        ancount_ += 1;
        return at;
    }

    // Drops everything after the question and sets TC: the client retries over TCP.
    void truncate() {
        len_ = question_end_ ? question_end_ : header_size;
        ancount_ = nscount_ = arcount_ = 0;
        last_block_ = nullptr;
        tc_ = true;
        ok_ = true;
    }
    // The OPT record, with `options` (whole options, in the room reserve_opt kept) as RDATA.
    void opt(uint16_t payload, uint8_t ext_rcode, bool dnssec_ok, std::string_view options = {}) {
        cap_ += opt_reserved_;
        put_opt(buf_ + len_, payload, ext_rcode, dnssec_ok);
        if (!options.empty()) {
            std::memcpy(buf_ + len_ + opt_rr_size, options.data(), options.size());
            store16(buf_ + len_ + opt_rr_size - 2, uint16_t(options.size()));
        }
        len_ += opt_rr_size + options.size();
        arcount_ += 1;
    }
    // Helpers on records already in a packet, for respond_burst's direct path as well.
    // Points each record's owner placeholder at `owner` (left as it is for the question).
    static void set_owners(uint8_t* rrs, size_t n, uint16_t owner) {
        if (owner == header_size) return;
        for (size_t i = 0; i < n; i += rr_fixed + load16(rrs + i + 10))
            store16(rrs + i, uint16_t(0xC000 | owner));
    }
    static void cap_ttls(uint8_t* rrs, size_t n, uint32_t ttl_cap) {
        for (size_t i = 0; i < n; i += rr_fixed + load16(rrs + i + 10))
            if (load32(rrs + i + rr_ttl_at) > ttl_cap) store32(rrs + i + rr_ttl_at, ttl_cap);
    }
    // The OPT record (RFC 6891 §6.1.2) at p.
    static void put_opt(uint8_t* p, uint16_t payload, uint8_t ext_rcode, bool dnssec_ok) {
        p[0] = 0;
        store16(p + 1, rrtype::OPT);
        store16(p + 3, payload);
        p[5] = ext_rcode;
        p[6] = 0;  // version
        store16(p + 7, dnssec_ok ? 0x8000 : 0);
        store16(p + 9, 0);
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
        std::memcpy(buf_ + len_, src, n);
        set_owners(buf_ + len_, n, owner);
        len_ += n;
        return true;
    }
    // Records with owner placeholders (src, n bytes), each owned by `owner` in full or by a
    // pointer to where it was first written (name_at, 0 until then).
    bool put_named(std::string_view owner, const uint8_t* src, size_t n, size_t& name_at) {
        for (size_t i = 0; i < n;) {
            const size_t rec = rr_fixed + load16(src + i + 10);
            const bool point = name_at != 0 && name_at < 0x4000;
            const size_t need = (point ? 2 : owner.size()) + rec - 2;
            if (!ok_ || len_ + need > cap_) {
                fail(len_);
                return false;
            }
            if (point) {
                store16(buf_ + len_, uint16_t(0xC000 | name_at));
                len_ += 2;
            } else {
                name_at = len_;
                std::memcpy(buf_ + len_, owner.data(), owner.size());
                len_ += owner.size();
            }
            std::memcpy(buf_ + len_, src + i + 2, rec - 2);
            len_ += rec - 2;
            i += rec;
        }
        return true;
    }
    bool put_block(const NodeData& d, const TypeEntry& e, uint16_t owner, const NamePlace& name) {
        last_block_ = nullptr;
        last_block_expanded_ = false;
        if (!ok_ || !copy_block(d, e, 0, e.rr_len, owner, name, false)) {
            fail(len_);
            return false;
        }
        last_block_ = &e;
        last_block_end_ = len_;
        return true;
    }

    // Appends block bytes [from, to) of entry e (its RRset part, or its additional part)
    // with the stored compression pointers resolved (see anamed/snapshot.hpp). A pointer
    // that cannot be resolved — the owner's suffix is in the packet in another case than the
    // zone's, or out of pointer reach — makes the whole part written with every name
    // expanded instead (`expand`: the RRset part was, so the additional part must be too).
    bool copy_block(const NodeData& d, const TypeEntry& e, uint32_t from, uint32_t to,
                    uint16_t owner, const NamePlace& name, bool expand) {
        const size_t at = len_;  // where the part starts; the block starts at `at - from`
        if (!expand) {
            if (len_ + (to - from) > cap_) return false;
            copy_bytes(buf_ + at, d.bytes() + e.rr_off + from, to - from);
            if (resolve_stored_pointers(buf_, at - from, e.fixup_list(d.bytes()), e.fixups, from,
                                        to, name)) {
                if (from == 0) set_owners(buf_ + at, to, owner);
                len_ += to - from;
                return true;
            }
        }
        last_block_expanded_ = true;
        return copy_expanded(d, e, from, to, owner, name);
    }

    // The slow path of copy_block: record by record, every pointer written out as its name.
    bool copy_expanded(const NodeData& d, const TypeEntry& e, uint32_t from, uint32_t to,
                       uint16_t owner, const NamePlace& name) {
        const uint8_t* src = d.bytes() + e.rr_off;
        const uint8_t* fixup = e.fixup_list(d.bytes());
        unsigned f = 0;
        while (f < e.fixups && load16(fixup + 2 * f) < from) ++f;
        // Copies src[pos, end), expanding the pointers listed in the fixups.
        auto span = [&](size_t& out, uint32_t pos, uint32_t end) {
            for (; f < e.fixups && load16(fixup + 2 * f) < end; ++f) {
                const uint32_t ptr = load16(fixup + 2 * f);
                if (!put(out, src + pos, ptr - pos)) return false;
                if (!put_name(out, src, load16(src + ptr) & 0x3FFF, name)) return false;
                pos = ptr + 2;
            }
            return put(out, src + pos, end - pos);
        };
        size_t out = len_;
        for (uint32_t pos = from; pos < to;) {
            if (from == 0) {  // an RRset: the owner placeholder
                uint8_t ptr[2];
                store16(ptr, uint16_t(0xC000 | owner));
                if (!put(out, ptr, 2)) return false;
                pos += 2;
            } else {  // an additional record: its owner, compressed like RDATA
                const uint32_t owner_end = uint32_t(skip_name(src, to, pos));
                if (owner_end == 0 || !span(out, pos, owner_end)) return false;
                pos = owner_end;
            }
            const uint32_t rdata = pos + 10, end = rdata + load16(src + pos + 8);
            const size_t rdlen_at = out + 8;
            if (!put(out, src + pos, 10) || !span(out, rdata, end)) return false;
            store16(buf_ + rdlen_at, uint16_t(out - rdlen_at - 2));
            pos = end;
        }
        len_ = out;
        return true;
    }

    // Writes the name a stored pointer value stands for: labels earlier in the block (which
    // may end in a pointer of their own, always further back) or a suffix of the name.
    bool put_name(size_t& out, const uint8_t* src, uint16_t v, const NamePlace& name) {
        while (v < ptr_owner_suffix) {
            const uint16_t start = v;
            while (src[v] != 0 && src[v] < 0xC0) v += 1 + src[v];
            if (!put(out, src + start, v - start)) return false;
            if (src[v] == 0) return put(out, src + v, 1);
            const uint16_t next = load16(src + v) & 0x3FFF;
            if (next >= start && next < ptr_owner_suffix) return false;  // would loop: not ours
            v = next;
        }
        const Name& n = name.name;
        const unsigned k = v - ptr_owner_suffix;
        if (k > n.labels) return false;
        const size_t off = n.label_off[n.labels - k];
        return put(out, n.lower + off, n.len - off);
    }

    bool put(size_t& out, const uint8_t* p, size_t n) {
        if (out + n > cap_) return false;
        std::memcpy(buf_ + out, p, n);
        out += n;
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
    size_t opt_reserved_ = 0;
    // The last RRset written, for its additional records.
    const TypeEntry* last_block_ = nullptr;
    size_t last_block_end_ = 0;
    bool last_block_expanded_ = false;
};

}  // namespace anamed
