// The zone signer: DNSKEY at the apex, an RRSIG over every authoritative RRset (RFC 4034
// §3, RFC 4035 §2.2) and the NSEC or NSEC3 chain, written into the zone as a presigned zone
// file would hold them, so that a signed zone and a presigned one are served the same way.
// Signatures are computed in parallel (TBB); one RRset can be signed again on its own (a
// runtime change, an ALIAS owner's new addresses).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dnssec_config.hpp"
#include "dnssec_denial.hpp"
#include "dnssec_key.hpp"
#include "zone.hpp"

namespace anamed {

class ZoneSigner {
public:
    // keys: the zone's keys (those published at `now` go into DNSKEY, the active ones sign).
    ZoneSigner(std::string apex, std::vector<DnssecKey> keys, SignPolicy policy, int64_t now);

    // Signs `zone` in place: the DNSSEC records it held (RRSIG, NSEC, NSEC3, NSEC3PARAM)
    // are replaced, DNSKEY gets the published keys. Returns "" or what is wrong; on error
    // the zone may be half-signed and must be dropped (callers sign a copy).
    std::string sign_zone(Zone& zone) const;

    // The RRSIG RDATAs of one RRset at `owner` (lower-case wire key), one per signing key.
    bool sign_rrset(std::string_view owner, uint16_t type, uint32_t ttl,
                    const std::vector<std::string_view>& rdatas,
                    std::vector<std::string>& out) const;
    // Replaces the RRSIGs covering `type` at `owner` with signatures of the RRset as the
    // zone holds it now (none when it is gone or the name is not signed there).
    std::string resign(Zone& zone, std::string_view owner, uint16_t type) const;
    // Every RRset of one name signed again (its RRSIGs replaced), as after a runtime change.
    std::string sign_name(Zone& zone, std::string_view owner) const;
    // An ALIAS owner's flattened addresses: its A and AAAA RRsets signed again.
    std::string resign_addresses(Zone& zone, std::string_view owner) const;

    // The tags of the keys that sign `type` now.
    std::vector<uint16_t> signing_tags(uint16_t type) const;

    // The expiration an RRset's signatures get (the jitter is a function of owner and type,
    // so that signatures made at one moment do not all expire at once).
    uint32_t expiration(std::string_view owner, uint16_t type) const;
    uint32_t inception() const { return uint32_t(now_ - policy_.inception_offset); }
    const SignPolicy& policy() const { return policy_; }
    const std::vector<DnssecKey>& keys() const { return keys_; }
    // What the ALIAS owners' bitmaps list (dnssec_denial.hpp); none unless set.
    void set_alias_families(AliasFamilies f) { families_ = std::move(f); }
    const AliasFamilies& alias_families() const { return families_; }
    int64_t now() const { return now_; }

private:
    // The keys that sign `type`: per algorithm, the SEP keys for DNSKEY and the others for
    // the rest (a CSK, the only key of its algorithm, signs everything).
    std::vector<const DnssecKey*> signers_for(uint16_t type) const;
    // Signs the RRsets of one node; false when a key failed.
    bool sign_node(std::string_view key, ZoneNode& node, NodeKind kind) const;

    std::string apex_;
    std::vector<DnssecKey> keys_;
    SignPolicy policy_;
    int64_t now_;
    AliasFamilies families_;
};

// Removes the DNSSEC records a zone holds (RRSIG, NSEC, NSEC3, NSEC3PARAM) and the names
// that held nothing else.
void strip_dnssec(Zone& zone);

}  // namespace anamed
