// A signed zone's NSEC or NSEC3 chain kept whole across runtime changes: when a name gains
// or loses its records, its own denial record and its neighbours' are rewritten and signed
// again, without touching the rest of the zone (RFC 4035 §2.3, RFC 5155 §7.1).
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "dnssec_canonical.hpp"
#include "dnssec_signer.hpp"

namespace anamed {

class DenialRecords {
public:
    // The chain of `zone` as ZoneSigner::sign_zone left it (same policy).
    DenialRecords(const Zone& zone, const SignPolicy& policy);

    // After the RRsets at `name` (lower-case wire key) changed, added or removed: the chain
    // takes the name in or out, or rewrites its bitmap, and re-signs what changed. The name's
    // own RRsets are re-signed by the caller (ZoneSigner::resign). A new delegation that hides
    // names below it is a structural change: sign the zone again. Returns "" or the error.
    // `changed`: when given, every name whose records the update rewrote is appended to it.
    std::string update(Zone& zone, const ZoneSigner& signer, std::string_view name,
                       std::vector<std::string>* changed = nullptr);

    size_t size() const { return nsec3_ ? hashes_.size() : names_.size(); }

private:
    std::string update_nsec(Zone& zone, const ZoneSigner& signer, const std::string& name,
                            bool present);
    std::string update_nsec3(Zone& zone, const ZoneSigner& signer, const std::string& name,
                             bool present);
    // Writes the NSEC3 record of the chain entry at `hash` and signs it.
    std::string write_nsec3(Zone& zone, const ZoneSigner& signer, const std::string& hash);
    // Inserts or removes a hash, rewriting its predecessor.
    std::string link_nsec3(Zone& zone, const ZoneSigner& signer, const std::string& name);
    std::string unlink_nsec3(Zone& zone, const ZoneSigner& signer, const std::string& name);
    bool has_descendants(std::string_view name) const;

    // A name rewritten by the update under way, for its caller.
    void rewrote(std::string_view name) {
        if (changed_) changed_->emplace_back(name);
    }

    std::vector<std::string>* changed_ = nullptr;
    bool nsec3_ = false;
    Nsec3Params params_;
    uint32_t ttl_ = 0;
    std::set<std::string, CanonicalLess> names_;  // the names in the chain (ENTs for NSEC3)
    std::map<std::string, std::string> hashes_;   // NSEC3: hash -> name
};

}  // namespace anamed
