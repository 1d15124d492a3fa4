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

struct Counts {
    uint16_t an = 0, ns = 0, ar = 0;
};

// Where the name answered sits in the packet: label i at at(i) (the root at at(labels)), in
// lower case from label lower_from on. Precompiled pointers to its suffixes resolve against
// it. The question name, where the query has it:
struct QuestionPlace {
    const Name& name;
    unsigned labels() const { return name.labels; }
    unsigned lower_from() const { return name.lower_from; }
    uint16_t at(unsigned i) const { return uint16_t(header_size + name.label_off[i]); }
    static uint16_t first() { return header_size; }  // at(0): records owned by it need no change
};
// A CNAME's target, written in the answer (see place_name).
struct Place {
    const uint16_t* label_at;
    unsigned n, lower;
    unsigned labels() const { return n; }
    unsigned lower_from() const { return lower; }
    uint16_t at(unsigned i) const { return label_at[i]; }
    uint16_t first() const { return label_at[0]; }
};

// Writes at out + at what the general path's answer_node (but for a CNAME's chase),
// answer_alias and answer_negative write for `node` (null: the name does not exist), whose
// answers are d (as loaded once), and type t: the RRset, with its additional records when
// `additional`; an ALIAS name's resolved addresses, each TTL capped by the ALIAS record's;
// or the zone's SOA. Returns where the records end, or 0 when this path does not apply (an
// ALIAS not resolved), the records do not fit before end_cap, or a stored pointer does not
// resolve (see anamed/snapshot.hpp).
template <class Where>
size_t put_answer(const Snapshot& snap, const Node* apex, const Node* node, const NodeData* d,
                  uint16_t t, bool additional, const Where& name, uint8_t* out, size_t at,
                  size_t end_cap, Counts& c) noexcept {
    const uint8_t* src;              // the bytes to copy: records with owner placeholders
    size_t n, owned;                 // all of them; the leading ones owned by `owner`
    uint16_t owner = name.first();   // the name, or the apex for the SOA
    const uint8_t* fixup = nullptr;  // their stored pointers (those past n are skipped)
    unsigned fixups = 0;
    uint32_t ttl_cap = UINT32_MAX;
    const uint32_t alias = node && (t == rrtype::A || t == rrtype::AAAA) ? node->load_alias() : 0;
    if (alias != 0) {
        const AliasAnswer* a = snap.aliases[alias - 1].load();
        const std::string& rrs = t == rrtype::A ? a->a : a->aaaa;
        if (a->state != AliasAnswer::resolved || rrs.empty()) return 0;
        src = reinterpret_cast<const uint8_t*>(rrs.data());
        n = owned = rrs.size();
        c.an += t == rrtype::A ? a->a_count : a->aaaa_count;
        const TypeEntry* e = d->find(rrtype::ALIAS);
        ttl_cap = e ? d->ttl(*e) : 0;
    } else {
        const TypeEntry* e = d ? d->find(t) : nullptr;
        if (e != nullptr) {
            owned = e->rr_len;
            n = owned + (additional ? e->add_len : 0);
            c.an += e->rr_count;
            if (additional) c.ar += e->add_count;
        } else {
            d = apex->load_data();
            e = d->negative_soa();
            if (e == nullptr) return 0;
            n = owned = e->rr_len;
            c.ns += e->rr_count;
            owner = name.at(name.labels() - apex->labels);
        }
        src = d->bytes() + e->rr_off;
        fixup = e->fixup_list(d->bytes());
        fixups = e->fixups;
    }
    if (at + n > end_cap) return 0;
    uint8_t* p = out + at;
    copy_bytes(p, src, n);
    if (!resolve_stored_pointers(out, at, fixup, fixups, 0, uint32_t(n), name)) return 0;
    ResponseWriter::set_owners(p, owned, owner);
    if (ttl_cap != UINT32_MAX) ResponseWriter::cap_ttls(p, n, ttl_cap);
    return at + n;
}

// Places the name written at packet offset `at` (a CNAME's target, which may end in a
// pointer; pointers go backwards only) when it is `key`, a lower-case wire name, in any case:
// as the general path's follow() would, without copying it. False when it is another name.
bool place_name(const uint8_t* pkt, size_t size, size_t at, std::string_view key,
                uint16_t* label_at, Place& place) noexcept {
    const auto* k = reinterpret_cast<const uint8_t*>(key.data());
    size_t off = 0;
    unsigned labels = 0;
    place = Place{label_at, 0, 0};
    return walk_name(pkt, size, at, [&](uint16_t pos, uint8_t l) {
        if (off + 1 + l > key.size() || k[off] != l) return false;
        label_at[labels] = pos;
        if (l == 0) {
            place.n = labels;
            return off + 1 == key.size();
        }
        if (!same_bytes(pkt + pos + 1, k + off + 1, l)) {  // another case, or another label
            for (unsigned i = 1; i <= l; ++i)
                if (ascii_lower(pkt[pos + i]) != k[off + i]) return false;
            place.lower = labels + 1;
        }
        ++labels;
        off += 1 + l;
        return true;
    });
}

// Whether `zone`, which holds `node`, is the longest match for its name: the question when
// zones nest. Out of line, off the usual path.
[[gnu::noinline]] bool answered_from(const Snapshot& snap, const Node& node,
                                     const ZoneTable& zone) {
    Name name;
    return parse_name(node.name(), node.name_len, name) != 0 && snap.find_zone(name) == &zone;
}

// After a CNAME written at out + cname_at, up to `at`: its target's answer, when the target
// is the node the CNAME's hint names (its name checked against the record's, and not deleted
// at runtime: then the index no longer has it), in this zone, and not a cut or a CNAME
// itself. Out of line: the usual answers stay short. Returns as put_answer.
[[gnu::noinline]] size_t answer_target(const Snapshot& snap, const ZoneTable& zone,
                                       const Node& cname, uint16_t t, uint8_t* out, size_t cname_at,
                                       size_t at, size_t end_cap, Counts& c) noexcept {
    const uint32_t hint = cname.load_data()->chase;
    if (hint == 0 || hint > zone.nodes.size()) return 0;
    const Node* target = &zone.nodes[hint - 1];
    const NodeData* d = target->load_data();
    if (d == &removed_node_data) return 0;
    if (target->cut != nullptr || (target->flags & (node_flag::delegation | node_flag::cname)))
        return 0;
    uint16_t label_at[max_labels + 1];
    Place place;
    if (!place_name(out, at, cname_at + rr_fixed, target->key(), label_at, place)) return 0;
    if (snap.nested_zones && !answered_from(snap, *target, zone)) return 0;
    return put_answer(snap, zone.apex, target, d, t, true, place, out, at, end_cap, c);
}

// The common cases without the general machinery:
//   - the name is in its zone and nothing at or above it (a cut) changes the answer: the
//     RRset asked for with its additional records, an ALIAS name's resolved addresses, or
//     NODATA with the zone's SOA;
//   - the same after one CNAME to a name of the same zone that is not a CNAME itself (found
//     through the CNAME's prefetch hint, and checked against the name the record names);
//   - the name is not in the zone and sits one label below an apex without a wildcard, a
//     cut or a DNAME: NXDOMAIN with the SOA.
// Returns 0 for anything else, which the general path then answers from the start: parsing
// has read all it needs, and nothing here writes over the question. The bytes are the
// general path's exactly: fuzz_respond compares respond_burst with respond() on every input.
size_t answer_direct(const Snapshot& snap, const Query& q, const Node* node, const uint8_t* query,
                     uint8_t* out, size_t out_cap, const ClientInfo& client,
                     ResponseInfo* info) noexcept {
    const Name& name = q.qname;
    const uint16_t t = q.qtype;
    if (t == 0 || t == rrtype::OPT || t == rrtype::DS || (t >= rrtype::TKEY && t <= rrtype::ANY))
        return 0;
    if (q.qclass != class_in || (q.edns && (q.edns_version != 0 || q.nsid)) || q.cookie_bad)
        return 0;
    const ZoneTable& zone = *q.zone;
    if (q.edns_do && zone.denial_chain() != nullptr)
        return 0;  // signatures and proofs: the general path
    const Node* apex = zone.apex;
    if (node == nullptr) {  // not in the zone: NXDOMAIN when the apex is the closest encloser
        if (name.labels != apex->labels + 1 || apex->cut != nullptr ||
            apex->load_wildcard() != nullptr ||
            (apex->flags & (node_flag::delegation | node_flag::dname)))
            return 0;
    } else {
        if (node->cut != nullptr || (node->flags & (node_flag::delegation | node_flag::nsec3)))
            return 0;
        if (node->name_len != name.len || !same_bytes(node->name(), name.lower, name.len)) return 0;
    }
    const size_t limit = reply_limit(q, client, out_cap);
    if (limit == 0) return 0;
    const size_t end_cap = limit - (q.edns ? opt_rr_size : 0);

    if (out != query) std::memcpy(out + header_size, query + header_size, q.question_len);
    Counts c;
    const uint8_t rc = node ? rcode::NOERROR : rcode::NXDOMAIN;
    const bool chase = node != nullptr && (node->flags & node_flag::cname) && t != rrtype::CNAME;
    const size_t start = header_size + q.question_len;
    size_t len =
        put_answer(snap, apex, node, node ? node->load_data() : nullptr, chase ? rrtype::CNAME : t,
                   !chase, QuestionPlace{name}, out, start, end_cap, c);
    if (len != 0 && chase) len = answer_target(snap, zone, *node, t, out, start, len, end_cap, c);
    if (len == 0) return 0;

    store16(out, q.id);
    store16(out + 2,
            uint16_t(flag_qr | flag_aa | (q.flags & (flag_opcode | flag_rd | flag_cd)) | rc));
    store16(out + 4, 1);
    store16(out + 6, c.an);
    store16(out + 8, c.ns);
    store16(out + 10, uint16_t(c.ar + q.edns));
    if (info != nullptr)
        *info =
            ResponseInfo{rc, t, false, false, false, 0, node ? uintptr_t(node) : uintptr_t(&zone)};
    if (info != nullptr) info->zone_slot = zone.stats_slot;
    if (q.edns) {
        ResponseWriter::put_opt(out + len, edns_default_payload, 0, q.edns_do);
        len += opt_rr_size;
        if (cookie_room(q, client)) len = put_cookie(q, out, len, info);
    }
    return len;
}

}  // namespace

// Parse the whole burst, then fetch its lookups' memory a level at a time (index slots, node
// lines, answer blocks), then answer each query while later ones' CNAME targets are fetched.
// On a million-name table each query otherwise pays its cache misses one after another.
//
// Each level's prefetches are issued in a loop of their own, back to back, rather than
// spread among the answers: a prefetch to a page the TLB does not hold waits for its page
// walk, and walks issued together overlap, where one issued among other work holds that
// work up (docs/PERFORMANCE.md, section 3). Each pass reads what the one before it fetched,
// which has had that pass's time to arrive.
void respond_burst(const Snapshot* snap, BurstItem* items, size_t n,
                   const ClientInfo& client) noexcept {
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
            if (q[i].zone->is_expired()) {  // answered (SERVFAIL) by the general path
                q[i].zone = nullptr;
                continue;
            }
            q[i].hash = hash_name(q[i].qname.lower, q[i].qname.len);
        }
        for (size_t i = 0; i < m; ++i)
            if (q[i].zone != nullptr) q[i].zone->index.prefetch(q[i].hash);
        for (size_t i = 0; i < m; ++i) {
            node[i] = q[i].zone ? q[i].zone->index.peek(q[i].hash) : nullptr;
            if (node[i]) prefetch(node[i]);
        }
        for (size_t i = 0; i < m; ++i) {
            chase[i] = nullptr;
            if (node[i] == nullptr) continue;
            const auto* d = reinterpret_cast<const char*>(node[i]->load_data());
            for (int line = 0; line < 4; ++line) prefetch(d + 64 * line);
        }
        // A CNAME's target is known only once its block has arrived: query i+4's target node
        // (from the block's hint) and query i+2's target block are fetched while query i is
        // answered, so that the chase (answer_direct's, which needs no lookup) finds them in
        // cache. The first queries' stages run before the first answer: their chases then
        // overlap instead of waiting one after another.
        auto fetch_chase = [&](size_t i) {
            if (i >= m || node[i] == nullptr || !(node[i]->flags & node_flag::cname)) return;
            const uint32_t hint = node[i]->load_data()->chase;
            if (hint == 0 || hint > q[i].zone->nodes.size()) return;
            chase[i] = &q[i].zone->nodes[hint - 1];
            prefetch(chase[i]);
        };
        auto fetch_chase_block = [&](size_t i) {
            if (i >= m || chase[i] == nullptr) return;
            const auto* d = reinterpret_cast<const char*>(chase[i]->load_data());
            prefetch(d);
            prefetch(d + 64);
        };
        for (size_t i = 0; i < 4; ++i) fetch_chase(i);
        for (size_t i = 0; i < 2; ++i) fetch_chase_block(i);
        for (size_t i = 0; i < m; ++i) {
            fetch_chase(i + 4);
            fetch_chase_block(i + 2);
            size_t len = 0;
            if (q[i].zone != nullptr && parsed[i] == Parse::ok)
                len = answer_direct(*snap, q[i], node[i], b[i].query, b[i].out, b[i].out_cap,
                                    client, &b[i].info);
            if (len == 0)
                len = answer_parsed(snap, q[i], parsed[i], b[i].query, b[i].out, b[i].out_cap,
                                    client, &b[i].info);
            b[i].out_len = len;
        }
    }
}

}  // namespace anamed
