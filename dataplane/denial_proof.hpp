// The NSEC or NSEC3 records a DO=1 answer needs to prove what is not there (RFC 4035 §3.1.3,
// RFC 5155 §7.2), gathered while the answer is written and put in its authority section at
// the end (a CNAME chain's wildcard step is proven after the chain's last record).
#pragma once

#include "anamed/denial.hpp"
#include "anamed/snapshot.hpp"
#include "response_writer.hpp"

namespace anamed {

class DenialProof {
public:
    // NODATA at an existing name (an empty non-terminal too), and the missing DS of an
    // insecure delegation (with NSEC3 opt-out: the closest provable encloser's proof).
    void nodata(const DenialChain& c, const Node& node) {
        if (c.kind == DenialChain::nsec_chain) return add(nsec_covering(c, node.key()));
        uint8_t h[DenialChain::hash_len];
        nsec3_hash(c, node.key(), h);
        if (const Node* m = nsec3_matching(c, h)) return add(m, rrtype::NSEC3);
        encloser(c, node.key(), node.labels, node.labels - 1u);
    }
    // The name does not exist: it has no match, nor has the wildcard at its closest encloser.
    void nxdomain(const DenialChain& c, const Name& q, const Node& ce) {
        if (c.kind == DenialChain::nsec_chain) {
            add(nsec_covering(c, q.key()));
            uint8_t wild[max_name_len];
            if (wildcard_of(ce.key(), wild))
                add(nsec_covering(c, {as_chars(wild), ce.name_len + 2u}));
            return;
        }
        const unsigned k = encloser(c, q.key(), q.labels, ce.labels);
        uint8_t wild[max_name_len];
        if (wildcard_of(q.suffix(q.labels - k), wild)) {
            const std::string_view w(as_chars(wild), q.len - q.label_off[q.labels - k] + 2u);
            cover(c, w);
        }
    }
    // An answer synthesised from the wildcard below `ce`: no closer name matches.
    void wildcard_answer(const DenialChain& c, const Name& q, const Node& ce) {
        if (c.kind == DenialChain::nsec_chain) return add(nsec_covering(c, q.key()));
        if (q.labels > ce.labels) cover(c, q.suffix(q.labels - ce.labels - 1u));
    }
    // The wildcard below `ce` matched, without the type asked for (RFC 5155 §7.2.5).
    void wildcard_nodata(const DenialChain& c, const Name& q, const Node& ce, const Node& wild) {
        if (c.kind == DenialChain::nsec_chain) {
            add(nsec_covering(c, wild.key()));
            add(nsec_covering(c, q.key()));
            return;
        }
        encloser(c, q.key(), q.labels, ce.labels);
        uint8_t h[DenialChain::hash_len];
        nsec3_hash(c, wild.key(), h);
        add(nsec3_matching(c, h), rrtype::NSEC3);
    }

    // The records gathered, each with its signatures.
    void write(ResponseWriter& w) const {
        for (unsigned i = 0; i < n_; ++i) {
            const NodeData* d = items_[i].node->load_data();
            if (const TypeEntry* e = d->find(items_[i].type))
                w.authority_named(items_[i].node->key(), *d, *e, d->find_sig(items_[i].type));
        }
    }
    bool empty() const { return n_ == 0; }

private:
    static const char* as_chars(const uint8_t* p) { return reinterpret_cast<const char*>(p); }
    // "*." + name into out; false when it would be too long.
    static bool wildcard_of(std::string_view name, uint8_t* out) {
        if (name.size() + 2 > max_name_len) return false;
        out[0] = 1;
        out[1] = '*';
        std::memcpy(out + 2, name.data(), name.size());
        return true;
    }
    void cover(const DenialChain& c, std::string_view name) {
        uint8_t h[DenialChain::hash_len];
        nsec3_hash(c, name, h);
        add(nsec3_covering(c, h), rrtype::NSEC3);
    }
    // The closest provable encloser of `name` (`labels` labels), from its ancestor with
    // `from` labels up: the NSEC3 matching it and the one covering the next closer name.
    // Returns the encloser's label count.
    unsigned encloser(const DenialChain& c, std::string_view name, unsigned labels, unsigned from) {
        uint8_t starts[max_labels + 1];
        unsigned n = 0;
        for (size_t pos = 0; pos < name.size() && name[pos] != 0 && n < max_labels;
             pos += 1 + uint8_t(name[pos]))
            starts[n++] = uint8_t(pos);
        starts[n] = uint8_t(name.size() - 1);
        for (unsigned k = std::min(from, labels); k > 0; --k) {
            uint8_t h[DenialChain::hash_len];
            nsec3_hash(c, name.substr(starts[labels - k]), h);
            const Node* m = nsec3_matching(c, h);
            if (m == nullptr) continue;
            add(m, rrtype::NSEC3);
            if (k < labels) cover(c, name.substr(starts[labels - k - 1]));
            return k;
        }
        return 0;
    }
    void add(const Node* node, uint16_t type = rrtype::NSEC) {
        if (node == nullptr) return;
        for (unsigned i = 0; i < n_; ++i)
            if (items_[i].node == node && items_[i].type == type) return;
        if (n_ < max_items) items_[n_++] = Item{node, type};
    }

    static constexpr unsigned max_items = 24;  // three a step of the longest chain, and more
    struct Item {
        const Node* node;
        uint16_t type;
    };
    Item items_[max_items];
    unsigned n_ = 0;
};

}  // namespace anamed
