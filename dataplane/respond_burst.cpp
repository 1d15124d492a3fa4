// respond_burst(): the dataplane's form of respond(), a burst at a time. The burst is parsed
// first, its lookups' memory fetched in stages, and the common answers written by a short
// path of their own; everything else goes to the general path (respond.cpp).
#include <algorithm>
#include <cstring>
#include <new>

#include "anamed/respond.hpp"
#include "query.hpp"
#include "response_writer.hpp"

namespace anamed {
namespace {

using namespace detail;

// The common cases without the general machinery:
//   - the name is in its zone and nothing at or above it (a cut, a CNAME) changes the
//     answer: the RRset asked for with its additional records, an ALIAS name's resolved
//     addresses, or NODATA with the zone's SOA;
//   - the name is not in the zone and sits one label below an apex without a wildcard, a
//     cut or a DNAME: NXDOMAIN with the SOA.
// The records must fit and every stored pointer must resolve against the question as sent.
// Returns 0 for anything else, which the general path then answers from the start: parsing
// has read all it needs, and nothing here writes over the question. The bytes are the
// general path's exactly: fuzz_respond compares respond_burst with respond() on every input.
size_t answer_direct(const Snapshot& snap, const Query& q, const Node* node, const uint8_t* query, uint8_t* out,
                     size_t out_cap, const ClientInfo& client, ResponseInfo* info) noexcept {
    const Name& name = q.qname;
    const uint16_t t = q.qtype;
    if (t == 0 || t == rrtype::OPT || t == rrtype::DS || (t >= rrtype::TKEY && t <= rrtype::ANY)) return 0;
    if (q.qclass != class_in || (q.edns && q.edns_version != 0)) return 0;
    const Node* apex = q.zone->apex;
    if (node == nullptr) {  // not in the zone: NXDOMAIN when the apex is the closest encloser
        if (name.labels != apex->labels + 1 || apex->cut != nullptr || apex->load_wildcard() != nullptr ||
            (apex->flags & (node_flag::delegation | node_flag::dname)))
            return 0;
    } else {
        if (node->cut != nullptr || (node->flags & (node_flag::delegation | node_flag::cname))) return 0;
        if (node->name_len != name.len || !same_bytes(node->name(), name.lower, name.len)) return 0;
    }

    const NodeData* d = node ? node->load_data() : nullptr;
    const uint8_t* src;             // the bytes to copy: records with owner placeholders
    size_t n;                       // the RRset and its additional records, or the SOA
    const uint8_t* fixup = nullptr;  // their stored pointers (see anamed/snapshot.hpp)
    unsigned fixups = 0;
    uint16_t an = 0, ns = 0, ar = 0;
    bool negative = false;  // NODATA or NXDOMAIN: the SOA, owned by the apex
    uint32_t ttl_cap = UINT32_MAX;
    const uint32_t alias = node && (t == rrtype::A || t == rrtype::AAAA) ? node->load_alias() : 0;
    if (alias != 0) {  // the flattened addresses, each TTL capped by the ALIAS record's
        const AliasAnswer* a = snap.aliases[alias - 1].load();
        const std::string& rrs = t == rrtype::A ? a->a : a->aaaa;
        if (a->state != AliasAnswer::resolved || rrs.empty()) return 0;
        src = reinterpret_cast<const uint8_t*>(rrs.data());
        n = rrs.size();
        an = t == rrtype::A ? a->a_count : a->aaaa_count;
        const TypeEntry* e = d->find(rrtype::ALIAS);
        ttl_cap = e ? load32(d->bytes() + e->rr_off + 6) : 0;
    } else {
        const TypeEntry* e = d ? d->find(t) : nullptr;
        if (e != nullptr) {
            n = e->rr_len + e->add_len;
            an = e->rr_count;
            ar = e->add_count;
        } else {
            d = apex->load_data();
            e = d->find(0);  // the negative SOA, kept with the apex's data
            if (e == nullptr) return 0;
            n = e->rr_len;
            ns = e->rr_count;
            negative = true;
        }
        src = d->bytes() + e->rr_off;
        fixup = e->fixup_list(d->bytes());
        while (fixups < e->fixups && load16(fixup + 2 * fixups) < n) ++fixups;  // ascending
    }

    const size_t limit = reply_limit(q, client, out_cap), at = header_size + q.question_len;
    if (limit == 0 || at + n + (q.edns ? opt_rr_size : 0) > limit) return 0;

    store16(out, q.id);
    const uint8_t rc = node ? rcode::NOERROR : rcode::NXDOMAIN;
    store16(out + 2, uint16_t(flag_qr | flag_aa | (q.flags & (0x7800 | flag_rd | flag_cd)) | rc));
    store16(out + 4, 1);
    store16(out + 6, an);
    store16(out + 8, ns);
    store16(out + 10, uint16_t(ar + q.edns));
    if (out != query) std::memcpy(out + header_size, query + header_size, q.question_len);
    uint8_t* p = out + at;
    copy_bytes(p, src, n);
    for (unsigned i = 0; i < fixups; ++i) {  // as ResponseWriter::resolve, the question at label_off
        uint8_t* ptr = p + load16(fixup + 2 * i);
        const uint16_t v = load16(ptr) & 0x3FFF;
        size_t target = at + v;
        if (v >= ptr_owner_suffix) {
            const unsigned k = v - ptr_owner_suffix;
            if (k > name.labels || name.labels - k < name.lower_from) return 0;
            target = header_size + name.label_off[name.labels - k];
        }
        if (target > 0x3FFF) return 0;
        store16(ptr, uint16_t(0xC000 | target));
    }
    if (negative) ResponseWriter::set_owners(p, n, uint16_t(header_size + name.label_off[name.labels - apex->labels]));
    if (ttl_cap != UINT32_MAX) ResponseWriter::cap_ttls(p, n, ttl_cap);
    size_t len = at + n;
    if (q.edns) {
        ResponseWriter::put_opt(out + len, edns_default_payload, 0, q.edns_do);
        len += opt_rr_size;
    }
    if (info != nullptr) *info = ResponseInfo{rc, t, false};
    return len;
}

}  // namespace

// Parse the whole burst, then three prefetch passes (index slot, node line, answer block),
// then answer each query from what is now mostly cache. On a million-name table each query
// otherwise pays its cache misses one after another.
void respond_burst(const Snapshot* snap, BurstItem* items, size_t n, const ClientInfo& client) noexcept {
    Query q[max_burst];
    Parse parsed[max_burst];
    const Node* node[max_burst];
    const Node* chase[max_burst];
    for (size_t done = 0; done < n; done += max_burst) {
        const size_t m = std::min(max_burst, n - done);
        BurstItem* b = items + done;
        for (size_t i = 0; i < m; ++i) {
            new (&q[i]) Query;  // default-initialised: the name buffers (432 bytes) are not zeroed
            parsed[i] = parse_query(b[i].query, b[i].query_len, q[i]);
            if (parsed[i] != Parse::ok || snap == nullptr) continue;
            q[i].zone = snap->find_zone(q[i].qname);
            if (q[i].zone == nullptr) continue;
            q[i].hash = hash_name(q[i].qname.lower, q[i].qname.len);
            q[i].zone->index.prefetch(q[i].hash);
        }
        for (size_t i = 0; i < m; ++i) {
            node[i] = q[i].zone ? q[i].zone->index.peek(q[i].hash) : nullptr;
            if (node[i]) prefetch(node[i]);
        }
        // While query i is answered, later ones are fetched in stages about a memory latency
        // apart: the answer block of query i+6; for a CNAME, the target's node (from the
        // block's hint) of query i+4; that target's index slot and block for query i+2, so
        // that the chase finds them in cache. The first queries' stages run before the first
        // answer: their chases then overlap instead of waiting one after another.
        constexpr size_t ahead = 6;
        auto fetch_block = [&](size_t i) {
            if (i >= m) return;
            chase[i] = nullptr;
            if (node[i] == nullptr) return;
            const auto* d = reinterpret_cast<const char*>(node[i]->load_data());
            for (int line = 0; line < 4; ++line) prefetch(d + 64 * line);
        };
        auto fetch_chase = [&](size_t i) {
            if (i >= m || node[i] == nullptr || !(node[i]->flags & node_flag::cname)) return;
            const uint32_t hint = node[i]->load_data()->chase;
            if (hint == 0 || hint > q[i].zone->nodes.size()) return;
            chase[i] = &q[i].zone->nodes[hint - 1];
            prefetch(chase[i]);
        };
        auto fetch_chase_block = [&](size_t i) {
            if (i >= m || chase[i] == nullptr) return;
            q[i].zone->index.prefetch(hash_name(chase[i]->key()));
            const auto* d = reinterpret_cast<const char*>(chase[i]->load_data());
            prefetch(d);
            prefetch(d + 64);
        };
        for (size_t i = 0; i < ahead; ++i) fetch_block(i);
        for (size_t i = 0; i < 4; ++i) fetch_chase(i);
        for (size_t i = 0; i < 2; ++i) fetch_chase_block(i);
        for (size_t i = 0; i < m; ++i) {
            fetch_block(i + ahead);
            fetch_chase(i + 4);
            fetch_chase_block(i + 2);
            size_t len = 0;
            if (q[i].zone != nullptr && parsed[i] == Parse::ok)
                len = answer_direct(*snap, q[i], node[i], b[i].query, b[i].out, b[i].out_cap, client, &b[i].info);
            if (len == 0)
                len = answer_parsed(snap, q[i], parsed[i], b[i].query, b[i].out, b[i].out_cap, client, &b[i].info);
            b[i].out_len = len;
        }
    }
}

}  // namespace anamed
