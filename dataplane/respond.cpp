// respond(): parse the query, then answer it the way RFC 1034 §4.3.2 reads, from the
// precompiled snapshot. Every write is bounds-checked against the client's limit.
#include "anamed/respond.hpp"

#include <algorithm>
#include <cstring>

#include "anamed/dispatch.hpp"
#include "denial_proof.hpp"
#include "query.hpp"
#include "response_writer.hpp"

namespace anamed {

namespace {

using namespace detail;

const uint8_t* bytes_of(const std::string& s) {
    return reinterpret_cast<const uint8_t*>(s.data());
}

// The answer algorithm. `cur` is the name being resolved: its lower-case form, and where
// each of its labels sits in the packet (a CNAME target may be compressed, so its labels
// need not be contiguous), which owner pointers and compressed RDATA point at.
class Answerer {
public:
    // dnssec: the query's DO bit; its answers carry signatures and proofs where the zone has.
    Answerer(const Snapshot& snap, ResponseWriter& w, uint16_t qtype, bool dnssec)
        : snap_(snap), w_(w), qtype_(qtype), dnssec_(dnssec) {}

    // zone_hint/hash_hint: the query name's zone and hash when already known (bursts).
    void run(const Name& qname, const ZoneTable* zone_hint = nullptr, uint64_t hash_hint = 0) {
        resolve(qname, zone_hint, hash_hint);
        if (!dnssec_ || !w_.ok()) return;
        proof_.write(w_);  // after the answer section, before the additional records
        if (add_node_ != nullptr) w_.additional_apart(*add_node_, *add_entry_, add_place());
    }

    // What the rate limiter keys the response by (ResponseInfo::name_key, referral).
    uintptr_t key() const { return key_; }
    bool referral() const { return referral_; }
    uint16_t zone_slot() const { return zone_slot_; }

private:
    static constexpr unsigned max_chain = 12;

    void resolve(const Name& qname, const ZoneTable* zone_hint, uint64_t hash_hint) {
        cur_ = &qname;
        set_label_at(qname);
        lower_from_ = qname.lower_from;
        hash_hint_ = zone_hint ? hash_hint : 0;
        for (unsigned hop = 0; hop < max_chain; ++hop) {
            const ZoneTable* zone = hop == 0 && zone_hint ? zone_hint : snap_.find_zone(*cur_);
            // DS lives in the parent (RFC 4035 §3.1.4.1): at a served child's apex, ask the
            // parent when it is served too.
            if (zone != nullptr && qtype_ == rrtype::DS && cur_->labels > 0 &&
                zone->apex->labels == cur_->labels)
                if (const ZoneTable* parent = snap_.find_zone(*cur_, 1))
                    zone = parent, hash_hint_ = 0;
            if (zone == nullptr) {
                if (hop == 0) w_.set_rcode(rcode::REFUSED);
                return;
            }
            if (hop == 0) zone_slot_ = zone->stats_slot;
            if (zone->is_expired()) {
                if (hop == 0) w_.set_rcode(rcode::SERVFAIL);
                return;
            }
            if (hop == 0) w_.set_aa(true);
            if (!step(*zone, hop)) return;
        }
    }

    // The question's labels sit where they are in the query, after the header.
    void set_label_at(const Name& qname) {
#ifdef __SSE2__
        static_assert(sizeof(qname.label_off) >= 16 && sizeof(label_at_) >= 32);
        if (qname.labels < 16) {  // the usual case: sixteen at once (those past the root unused)
            const __m128i off = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qname.label_off));
            const __m128i base = _mm_set1_epi16(header_size), zero = _mm_setzero_si128();
            _mm_storeu_si128(reinterpret_cast<__m128i*>(label_at_),
                             _mm_add_epi16(_mm_unpacklo_epi8(off, zero), base));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(label_at_ + 8),
                             _mm_add_epi16(_mm_unpackhi_epi8(off, zero), base));
            return;
        }
#endif
        for (unsigned i = 0; i <= qname.labels; ++i)
            label_at_[i] = uint16_t(header_size + qname.label_off[i]);
    }

    // One name; true when it left a new name in cur_ to continue with (CNAME, DNAME).
    bool step(const ZoneTable& zone, unsigned hop) {
        const Node* node = hop == 0 && hash_hint_ ? zone.index.find(cur_->key(), hash_hint_)
                                                  : zone.index.find(cur_->key());
        if (node != nullptr && (node->flags & node_flag::nsec3)) node = nullptr;
        if (hop == 0) key_ = node ? uintptr_t(node) : uintptr_t(&zone);
        if (node != nullptr) {
            if (node->cut != nullptr) return answer_cut(zone, *node->cut, hop);
            if ((node->flags & node_flag::delegation) && qtype_ != rrtype::DS)
                return answer_delegation(zone, *node, hop);
            return answer_node(zone, *node);
        }
        const Node* ce = closest_encloser(zone);
        if (hop == 0 && ce != zone.apex) key_ = uintptr_t(ce->cut ? ce->cut : ce);
        if (ce->cut != nullptr) return answer_cut(zone, *ce->cut, hop);
        if (ce->flags & (node_flag::delegation | node_flag::dname))
            return answer_cut(zone, *ce, hop);
        if (const Node* wild = ce->load_wildcard()) {
            if (hop == 0) key_ = uintptr_t(wild);
            if (wild->flags & node_flag::delegation) return answer_delegation(zone, *wild, hop);
            return answer_node(zone, *wild, ce);
        }
        if (hop == 0) key_ = uintptr_t(&zone);
        answer_negative(zone, rcode::NXDOMAIN);
        if (const DenialChain* c = proving(zone)) proof_.nxdomain(*c, *cur_, *ce);
        return false;
    }

    // The zone was found by its apex, a suffix of cur_: only the names between need a lookup.
    const Node* closest_encloser(const ZoneTable& zone) const {
        for (unsigned i = 1; i + zone.apex->labels < cur_->labels; ++i) {
            if (const Node* n = zone.index.find(cur_->suffix(i));
                n != nullptr && !(n->flags & node_flag::nsec3))
                return n;
        }
        return zone.apex;
    }

    // Where in the packet the suffix of cur_ with `labels` labels (an owner) starts.
    uint16_t suffix_at(unsigned labels) const {
        return label_at_[cur_->labels - labels];
    }
    uint16_t cur_at() const {
        return label_at_[0];
    }
    NamePlace here() const {
        return NamePlace{*cur_, label_at_, lower_from_};
    }

    // `ce`: the closest encloser when `node` is its wildcard, answering in cur_'s name.
    bool answer_node(const ZoneTable& zone, const Node& node, const Node* ce = nullptr) {
        const NodeData* d = node.load_data();
        if (node.flags & node_flag::cname && qtype_ != rrtype::CNAME && qtype_ != rrtype::ANY) {
            if (!remember(&node)) return false;  // a loop: stop here, what we have is the answer
            const TypeEntry* e = d->find(rrtype::CNAME);
            const size_t rr_at = w_.answer(*d, *e, cur_at(), here());
            signed_by(zone, *d, rrtype::CNAME, ce);
            return w_.ok() && follow(rr_at + rr_fixed);
        }
        const uint32_t alias = node.load_alias();
        if (alias != 0 && (qtype_ == rrtype::A || qtype_ == rrtype::AAAA))
            return answer_alias(zone, node, alias, *d, ce);
        if (qtype_ == rrtype::RRSIG && answer_signatures(*d)) return false;
        const TypeEntry* e = qtype_ == rrtype::ANY ? any_entry(*d) : d->find(qtype_);
        if (e == nullptr) return answer_nodata(zone, node, ce);
        w_.answer(*d, *e, cur_at(), here());
        // In a signed zone the additional records follow the signatures and proofs; an
        // unsigned zone's DO=1 answer is its DO=0 answer.
        if (signed_by(zone, *d, e->type, ce) || proving(zone) != nullptr) {
            if (e->add_count) defer_additional(*d, *e);
            return false;
        }
        if (e->add_count) w_.additional(*d, *e, here());
        return false;
    }

    // The signatures of the RRset just written at cur_, and for a wildcard's answer the
    // proof that no closer name matched (RFC 4035 §3.1.3.3).
    // Whether it wrote signatures.
    bool signed_by(const ZoneTable& zone, const NodeData& d, uint16_t type, const Node* ce) {
        if (!dnssec_) return false;
        if (const DenialChain* c = proving(zone); c != nullptr && ce != nullptr)
            proof_.wildcard_answer(*c, *cur_, *ce);
        return w_.sigs(d, type, cur_at(), false);
    }

    // An RRSIG query: every signature at the name, each RRset's in turn (as Knot answers);
    // false when the name has none.
    bool answer_signatures(const NodeData& d) {
        bool any = false;
        for (uint32_t i = 0; i < d.ntypes; ++i) {
            const TypeEntry& e = d.entries()[i];
            if (e.type != rrtype::RRSIG || e.covered() == NodeData::negative_soa_type) continue;
            w_.answer(d, e, cur_at(), here());
            any = true;
        }
        return any;
    }

    // The zone's denial chain when the answer is to carry proofs.
    const DenialChain* proving(const ZoneTable& zone) const {
        const DenialChain* c = zone.denial_chain();
        return dnssec_ && c != nullptr && c->kind != DenialChain::none ? c : nullptr;
    }

    // NOERROR without the type asked for, with the proof of it in a signed zone.
    bool answer_nodata(const ZoneTable& zone, const Node& node, const Node* ce) {
        answer_negative(zone, rcode::NOERROR);
        if (const DenialChain* c = proving(zone)) {
            if (ce != nullptr)
                proof_.wildcard_nodata(*c, *cur_, *ce, node);
            else
                proof_.nodata(*c, node);
        }
        return false;
    }

    // A/AAAA at an ALIAS name: the target's flattened addresses, TTL capped by the ALIAS's.
    bool answer_alias(const ZoneTable& zone, const Node& node, uint32_t alias_id, const NodeData& d,
                      const Node* ce) {
        const AliasAnswer* a = snap_.aliases[alias_id - 1].load();
        const TypeEntry* fallback = d.find(qtype_);
        switch (a->state) {
        case AliasAnswer::unresolved:
            if (fallback != nullptr) {
                w_.answer(d, *fallback, cur_at(), here());
                if (dnssec_) w_.sigs(d, qtype_, cur_at(), false);
            } else if (d.find(qtype_ == rrtype::A ? rrtype::AAAA : rrtype::A) != nullptr) {
                answer_nodata(zone, node, ce);
            } else {
                w_.set_rcode(rcode::SERVFAIL);
            }
            return false;
        case AliasAnswer::failed: w_.set_rcode(rcode::SERVFAIL); return false;
        case AliasAnswer::resolved: break;
        }
        const std::string& rrs = qtype_ == rrtype::A ? a->a : a->aaaa;
        if (rrs.empty()) return answer_nodata(zone, node, ce);
        const TypeEntry* alias = d.find(rrtype::ALIAS);
        const uint32_t ttl = std::min(alias ? d.ttl(*alias) : 0, load32(bytes_of(rrs) + rr_ttl_at));
        w_.answer_capped(bytes_of(rrs), rrs.size(),
                         qtype_ == rrtype::A ? a->a_count : a->aaaa_count, cur_at(), ttl);
        // In a signed zone the owner's answer is its own, signatures included; they get
        // the addresses' TTL (RFC 4034 §3).
        const std::string& sigs = qtype_ == rrtype::A ? a->a_sigs : a->aaaa_sigs;
        if (dnssec_ && !sigs.empty())
            w_.answer_capped(bytes_of(sigs), sigs.size(),
                             qtype_ == rrtype::A ? a->a_sig_count : a->aaaa_sig_count, cur_at(),
                             ttl);
        return false;
    }

    // A delegation or DNAME above the name (or at its closest encloser).
    bool answer_cut(const ZoneTable& zone, const Node& cut, unsigned hop) {
        if (cut.flags & node_flag::delegation) return answer_delegation(zone, cut, hop);
        return answer_dname(zone, cut);
    }

    // A referral: the cut's NS records in the authority section, their glue in the additional
    // section. At the end of a CNAME or DNAME chain it follows the chain's records, which are
    // authoritative data: AA stays set (as Knot and NSD answer).
    // DO=1: the cut's signed DS, or the proof that it has none (RFC 4035 §3.1.4).
    bool answer_delegation(const ZoneTable& zone, const Node& cut, unsigned hop) {
        if (hop == 0) w_.set_aa(false), referral_ = true;
        const NodeData* d = cut.load_data();
        const TypeEntry* ns = d->find(rrtype::NS);
        w_.authority(*d, *ns, suffix_at(cut.labels), here());
        if (proving(zone) == nullptr) {
            if (ns->add_count) w_.additional(*d, *ns, here());
            return false;
        }
        if (const TypeEntry* ds = d->find(rrtype::DS)) {
            w_.authority(*d, *ds, suffix_at(cut.labels), here());
            w_.sigs(*d, rrtype::DS, suffix_at(cut.labels), true);
        } else if (const DenialChain* c = proving(zone)) {
            proof_.nodata(*c, cut);
        }
        if (ns->add_count) defer_additional(*d, *ns);
        return false;
    }

    // DO=1 answers put the additional records after the proofs (run()).
    void defer_additional(const NodeData& d, const TypeEntry& e) {
        add_node_ = &d;
        add_entry_ = &e;
        add_name_ = *cur_;
        std::memcpy(add_label_at_, label_at_, sizeof label_at_);
        add_lower_from_ = lower_from_;
    }
    NamePlace add_place() const {
        return NamePlace{add_name_, add_label_at_, add_lower_from_};
    }

    // RFC 6672: the DNAME, then a CNAME from the name to its substitute, then follow that.
    bool answer_dname(const ZoneTable& zone, const Node& dn) {
        (void)zone;
        const NodeData* d = dn.load_data();
        const TypeEntry* e = d->find(rrtype::DNAME);
        w_.answer(*d, *e, suffix_at(dn.labels), here());
        if (dnssec_) w_.sigs(*d, rrtype::DNAME, suffix_at(dn.labels), false);
        if (!w_.ok()) return false;
        const uint8_t* target = d->bytes() + e->rr_off + rr_fixed;
        const size_t target_len = load16(d->bytes() + e->rr_off + rr_fixed - 2);
        const unsigned below = cur_->labels - dn.labels;
        const size_t prefix_len = cur_->label_off[below];
        if (prefix_len + target_len > max_name_len) {
            w_.set_rcode(rcode::YXDOMAIN);
            return false;
        }
        uint8_t prefix[max_name_len];  // the labels below the DNAME owner, in the client's case
        for (unsigned i = 0; i < below; ++i) {
            const uint8_t* label = w_.data() + label_at_[i];
            std::memcpy(prefix + cur_->label_off[i], label, 1 + label[0]);
        }
        const size_t cname_at =
            w_.synth_cname(cur_at(), d->ttl(*e), prefix, prefix_len, target, target_len);
        // The synthesised CNAME stands for one written at the name: a CNAME query is answered
        // by it, whatever its target holds (RFC 1034 §4.3.2 step 3a chases other types only).
        if (qtype_ == rrtype::CNAME) return false;
        return w_.ok() && follow(cname_at + rr_fixed);
    }

    // RFC 8482: one RRset (the first; the apex's negative-SOA pseudo-entry is not data).
    static const TypeEntry* any_entry(const NodeData& d) {
        for (uint32_t i = 0; i < d.ntypes; ++i)
            if (d.entries()[i].type != NodeData::negative_soa_type) return &d.entries()[i];
        return nullptr;
    }

    void answer_negative(const ZoneTable& zone, uint8_t rc) {
        w_.set_rcode(rc);
        const NodeData* apex = zone.apex->load_data();
        if (const TypeEntry* soa = apex->negative_soa()) {
            w_.authority(*apex, *soa, suffix_at(zone.apex->labels), here());
            if (dnssec_)
                w_.sigs(*apex, NodeData::negative_soa_type, suffix_at(zone.apex->labels), true);
        }
    }

    // Continue with the name written at packet offset `at` (a CNAME's target).
    bool follow(size_t at) {
        Name& next = cur_ == &chain_[0] ? chain_[1] : chain_[0];
        size_t len = 0;
        unsigned labels = 0;
        lower_from_ = 0;
        const bool ok = walk_name(w_.data(), w_.size(), at, [&](uint16_t pos, uint8_t l) {
            label_at_[labels] = pos;
            if (l == 0) {
                next.lower[len] = 0;
                next.len = uint8_t(len + 1);
                next.labels = uint8_t(labels);
                next.label_off[labels] = uint8_t(len);
                return true;
            }
            if (len + 1 + l > max_name_len - 1) return false;  // room for the root after it
            next.label_off[labels++] = uint8_t(len);
            next.lower[len] = l;
            if (ascii_lower_copy(next.lower + len + 1, w_.data() + pos + 1, l))
                lower_from_ = labels;
            len += 1 + l;
            return true;
        });
        if (ok) cur_ = &next;
        return ok;
    }

    bool remember(const Node* n) {
        for (unsigned i = 0; i < nvisited_; ++i)
            if (visited_[i] == n) return false;
        if (nvisited_ < max_chain) visited_[nvisited_++] = n;
        return true;
    }

    const Snapshot& snap_;
    ResponseWriter& w_;
    const uint16_t qtype_;
    const bool dnssec_;
    DenialProof proof_;
    // DO=1: the additional records to write last, and the name they were to be written for.
    const NodeData* add_node_ = nullptr;
    const TypeEntry* add_entry_ = nullptr;
    Name add_name_;
    uint16_t add_label_at_[max_labels + 1];
    unsigned add_lower_from_ = 0;
    const Name* cur_ = nullptr;
    Name chain_[2];  // names met along a CNAME/DNAME chain; cur_ points at one or the query
    uint16_t label_at_[max_labels + 1];  // where cur_'s labels (and root) sit in the packet
    unsigned lower_from_ = 0;            // cur_'s labels from this one on are in lower case
    const Node* visited_[max_chain];
    uint64_t hash_hint_ = 0;
    unsigned nvisited_ = 0;
    uintptr_t key_ = 0;
    bool referral_ = false;
    uint16_t zone_slot_ = 0;
};

}  // namespace

namespace detail {

size_t answer_parsed(const Snapshot* snap, const Query& q, Parse parsed, const uint8_t* query,
                     uint8_t* out, size_t out_cap, const ClientInfo& client,
                     ResponseInfo* info) noexcept {
    if (parsed == Parse::drop) return 0;
    if (parsed == Parse::handoff) {
        if (info != nullptr) *info = ResponseInfo{0, q.qtype, false, true};
        return 0;
    }

    const size_t limit = reply_limit(q, client, out_cap);
    if (limit == 0) return 0;

    ResponseWriter w(out, limit);
    w.begin(q.id, q.flags);
    if (q.question_len) w.question(query + header_size, q.question_len);
    // The NSID when asked for and configured, if it fits.
    std::string_view nsid;
    if (q.nsid && snap != nullptr &&
        limit >= header_size + q.question_len + opt_rr_size + snap->identity.nsid_option.size())
        nsid = snap->identity.nsid_option;
    if (q.edns) w.reserve_opt(nsid.size());

    uint16_t rc = rcode::NOERROR;
    uintptr_t key = 0;
    bool referral = false;
    uint16_t zone_slot = 0;
    if (parsed == Parse::formerr || (q.cookie_bad && client.cookies)) {
        rc = rcode::FORMERR;
    } else if (parsed == Parse::notimp) {
        rc = rcode::NOTIMP;
    } else if (q.edns && q.edns_version != 0) {
        rc = rcode::BADVERS;
    } else if (q.qtype == 0 || q.qtype == rrtype::OPT || q.qtype == rrtype::TSIG ||
               q.qtype == rrtype::TKEY) {
        rc = rcode::FORMERR;
    } else if (q.qtype == rrtype::MAILA || q.qtype == rrtype::MAILB) {
        rc = rcode::NOTIMP;
    } else if (q.qclass == class_ch && snap != nullptr) {
        rc = answer_chaos(*snap, q, w);
    } else if (q.qclass != class_in || snap == nullptr) {
        rc = rcode::REFUSED;  // only IN is served
    } else {
        Answerer a(*snap, w, q.qtype, q.edns_do);
        a.run(q.qname, q.zone, q.hash);
        if (!w.ok()) w.truncate();
        rc = w.rcode();
        key = a.key();
        referral = a.referral();
        zone_slot = a.zone_slot();
    }
    if (rc != rcode::NOERROR) w.set_rcode(uint8_t(rc & 0xF));
    if (q.edns) w.opt(edns_default_payload, uint8_t(rc >> 4), q.edns_do, nsid);
    if (info != nullptr)
        *info = ResponseInfo{rc, q.qtype, w.truncated(), false, referral, 0, key, zone_slot};
    const size_t len = w.finish();
    return cookie_room(q, client) ? put_cookie(q, out, len, info) : len;
}

}  // namespace detail

size_t respond(const Snapshot* snap, const uint8_t* query, size_t query_len, uint8_t* out,
               size_t out_cap, const ClientInfo& client, ResponseInfo* info) noexcept {
    detail::Query q;
    const detail::Parse parsed = detail::parse_query(query, query_len, q);
    return detail::answer_parsed(snap, q, parsed, query, out, out_cap, client, info);
}

}  // namespace anamed
