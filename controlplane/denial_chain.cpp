#include "denial_chain.hpp"

#include <algorithm>
#include <cstring>

#include "anamed/denial.hpp"

namespace anamed {
namespace {

// NSEC3PARAM and NSEC3 RDATA both start: algorithm, flags, iterations(2), salt length, salt.
bool read_params(std::string_view rd, DenialChain& chain) {
    const auto* p = reinterpret_cast<const uint8_t*>(rd.data());
    if (rd.size() < 5 || rd.size() < size_t(5) + p[4] || p[0] != 1) return false;
    chain.iterations = load16(p + 2);
    chain.salt.assign(rd.substr(5, p[4]));
    return true;
}

}  // namespace

std::unique_ptr<const DenialChain> build_denial_chain(const Zone& z, const ZoneTable& zt,
                                                      const std::vector<const ZoneNode*>& data) {
    auto chain = std::make_unique<DenialChain>();
    bool params = false;
    if (const ZoneNode* apex = z.find(z.apex))
        if (const auto p = apex->find(rrtype::NSEC3PARAM); p && !p->rdata.empty())
            params = read_params(p->rdata[0], *chain);
    for (size_t i = 0; i < data.size(); ++i) {
        const ZoneNode* zn = data[i];
        if (zn == nullptr) continue;
        const Node* node = &zt.nodes[i];
        if (zn->has(rrtype::NSEC)) chain->nsec.push_back(node);
        if (const auto n3 = zn->find(rrtype::NSEC3); n3 && !n3->rdata.empty()) {
            DenialChain::Hashed h{};
            const std::string_view key = node->key();
            if (!nsec3_label_hash(key.substr(1, uint8_t(key[0])), h.hash)) continue;
            h.node = node;
            chain->nsec3.push_back(h);
            if (!params) params = read_params(n3->rdata[0], *chain);
        }
    }
    if (params && !chain->nsec3.empty()) {
        chain->kind = DenialChain::nsec3_chain;
        std::sort(chain->nsec3.begin(), chain->nsec3.end(),
                  [](const DenialChain::Hashed& a, const DenialChain::Hashed& b) {
                      return std::memcmp(a.hash, b.hash, DenialChain::hash_len) < 0;
                  });
        chain->nsec = {};
    } else if (!chain->nsec.empty()) {
        chain->kind = DenialChain::nsec_chain;
        std::sort(chain->nsec.begin(), chain->nsec.end(), [](const Node* a, const Node* b) {
            return canonical_compare(a->key(), b->key()) < 0;
        });
        chain->nsec3 = {};
    } else if (const ZoneNode* apex = z.find(z.apex);
               apex == nullptr || !apex->has(rrtype::RRSIG)) {
        return nullptr;
    }
    return chain;
}

}  // namespace anamed
