// ALIAS owners' signed answers.
#include "alias_signing.hpp"

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "anamed/rr_types.hpp"
#include "anamed/wire.hpp"

namespace anamed {
namespace {

constexpr size_t rrsig_expiration_at = 8, rrsig_tag_at = 16;  // into an RRSIG's RDATA

// The RDATAs of stored records (anamed/snapshot.hpp).
std::vector<std::string_view> rdatas_of(std::string_view rrs) {
    std::vector<std::string_view> out;
    for_each_stored_rr(rrs, [&](uint16_t, uint32_t, std::string_view rd) { out.push_back(rd); });
    return out;
}

// Whether the signatures in `sigs` (records) can serve on: by exactly the keys in `tags`,
// none within `refresh` of its expiration.
bool still_good(std::string_view sigs, std::vector<uint16_t> tags, int64_t now, uint32_t refresh) {
    std::vector<uint16_t> made;
    for (std::string_view rd : rdatas_of(sigs)) {
        if (rd.size() < rrsig_tag_at + 2) return false;
        const auto* p = reinterpret_cast<const uint8_t*>(rd.data());
        if (int64_t(load32(p + rrsig_expiration_at)) - now <= int64_t(refresh)) return false;
        made.push_back(load16(p + rrsig_tag_at));
    }
    std::sort(made.begin(), made.end());
    std::sort(tags.begin(), tags.end());
    return !made.empty() && made == tags;
}

// The RRSIG records of one address RRset, with owner placeholders; false when a key failed.
bool sign_family(const ZoneSigner& signer, const AliasOwner& owner, uint16_t type,
                 std::string_view rrs, std::string& out, uint16_t& count) {
    std::vector<std::string> sigs;
    const bool ok = signer.sign_rrset(owner.owner, type, owner.ttl, rdatas_of(rrs), sigs);
    for (const std::string& rd : sigs) {
        uint8_t rr[rr_fixed];
        store16(rr, 0xC00C);
        store16(rr + 2, rrtype::RRSIG);
        store16(rr + 4, class_in);
        store32(rr + rr_ttl_at, owner.ttl);
        store16(rr + 10, uint16_t(rd.size()));
        out.append(reinterpret_cast<const char*>(rr), sizeof rr);
        out += rd;
    }
    count = uint16_t(sigs.size());
    return ok;
}

}  // namespace

int64_t earliest_expiration(const AliasAnswer& a) {
    int64_t at = INT64_MAX;
    for (const std::string* sigs : {&a.a_sigs, &a.aaaa_sigs})
        for (std::string_view rd : rdatas_of(*sigs))
            if (rd.size() >= rrsig_expiration_at + 4)
                at = std::min<int64_t>(
                    at, load32(reinterpret_cast<const uint8_t*>(rd.data()) + rrsig_expiration_at));
    return at;
}

uint8_t alias_families(const AliasAnswer& a) {
    if (a.state != AliasAnswer::resolved) return 0;
    return uint8_t((a.a.empty() ? 0 : 1) | (a.aaaa.empty() ? 0 : 2));
}

std::shared_ptr<const AliasAnswer> sign_alias_answer(const ZoneSigner& signer,
                                                     const AliasOwner& owner,
                                                     const AliasAnswer& target,
                                                     const AliasAnswer* previous) {
    auto out = std::make_shared<AliasAnswer>();
    out->state = target.state;
    out->a_count = target.a_count;
    out->aaaa_count = target.aaaa_count;
    out->a = target.a;
    out->aaaa = target.aaaa;
    if (target.state != AliasAnswer::resolved) return out;
    const bool prev_ok = previous != nullptr && previous->state == AliasAnswer::resolved;
    struct Family {
        uint16_t type;
        const std::string& rrs;
        std::string& sigs;
        uint16_t& count;
        const std::string* prev_rrs;
        const std::string* prev_sigs;
        uint16_t prev_count;
    };
    Family families[] = {
        {rrtype::A, out->a, out->a_sigs, out->a_sig_count, prev_ok ? &previous->a : nullptr,
         prev_ok ? &previous->a_sigs : nullptr, prev_ok ? previous->a_sig_count : uint16_t(0)},
        {rrtype::AAAA, out->aaaa, out->aaaa_sigs, out->aaaa_sig_count,
         prev_ok ? &previous->aaaa : nullptr, prev_ok ? &previous->aaaa_sigs : nullptr,
         prev_ok ? previous->aaaa_sig_count : uint16_t(0)},
    };
    for (Family& f : families) {
        if (f.rrs.empty()) continue;
        if (f.prev_rrs && rdatas_of(*f.prev_rrs) == rdatas_of(f.rrs) &&
            still_good(*f.prev_sigs, signer.signing_tags(f.type), signer.now(),
                       signer.policy().refresh)) {
            f.sigs = *f.prev_sigs;
            f.count = f.prev_count;
            continue;
        }
        if (!sign_family(signer, owner, f.type, f.rrs, f.sigs, f.count)) return nullptr;
    }
    return out;
}

}  // namespace anamed
