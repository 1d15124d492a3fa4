// Signed copies of the zones whose dnssec: policy is `sign`, for the compiler. The ZoneStore
// keeps the unsigned truth; a zone is signed whole when it is first seen, when its serial
// moved without a patch, or when its signatures come within `refresh` of expiry, and a
// runtime change re-signs only the names it touched (and their chain neighbours).
//
// Hook (publisher): compile(signing.view(store.zones(), now, errors), ...), and after a
// change at names N of zone Z, signing.patch(*store.find(Z), N, now) before the patch is
// published from signing.signed_zone(Z).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "config.hpp"
#include "dnssec_chain.hpp"
#include "dnssec_signer.hpp"

namespace anamed {

class ZoneSigning {
public:
    // The zones and their dnssec: settings; zones that left the configuration are dropped.
    void configure(const std::vector<ZoneConfig>& zones);

    // What to compile: the signed copy of each zone with policy sign, the zone itself for
    // the others. A zone that cannot be signed (no keys...) keeps its previous signed copy,
    // or is served unsigned when it never had one; either way an error names it.
    std::vector<const Zone*> view(const std::vector<const Zone*>& zones, int64_t now,
                                  std::vector<std::string>& errors);

    // After runtime changes at `names` (lower-case wire keys) of `truth`: those names copied
    // into the signed copy and signed, the chain updated, SOA and apex signed again. A change
    // of cut (NS added or removed below the apex) signs the zone whole. "" or the error.
    // `change`, when given, learns which names of the signed copy were rewritten (sorted,
    // once each), or that it was signed whole.
    struct Change {
        bool whole = false;
        std::vector<std::string> names;
    };
    std::string patch(const Zone& truth, const std::vector<std::string>& names, int64_t now,
                      Change* change = nullptr);

    // Where the signers learn which address families each ALIAS owner answers (for its
    // NSEC or NSEC3 bitmap).
    void set_alias_families(AliasFamilies f) { families_ = std::move(f); }
    // The families the bitmaps of a target's owners in a zone were last written with.
    uint8_t bitmap_families(const std::string& apex, const std::string& target) const;

    // When the next signatures come within their refresh time of expiry (seconds since the
    // epoch; INT64_MAX: none): a rebuild then signs them again.
    int64_t next_resign() const;

    // The zone is signed whole at the next view() (its keys changed); its copy serves until
    // then, and on if that signing fails.
    void mark_stale(const std::string& apex);

    // The signed copy of a zone (lower-case wire apex); null when it is not signed here.
    const Zone* signed_zone(const std::string& apex) const;

    // A signer at `now` with the keys of the zone's last signing, for its ALIAS owners'
    // answers; empty when the zone is not signed here.
    std::optional<ZoneSigner> signer(const std::string& apex, int64_t now) const;

private:
    struct Entry {
        DnssecConfig cfg;
        std::unique_ptr<Zone> copy;
        // The chain's index for runtime changes: made by the first patch after a whole
        // signing (a zone that never changes does not keep it).
        std::unique_ptr<DenialRecords> chain;
        std::vector<DnssecKey> keys;  // as loaded for the last signing
        uint32_t serial = 0;
        int64_t signed_at = 0;
        bool stale = false;
        // target -> the families its owners' bitmaps list (shared with this zone's signers)
        std::shared_ptr<std::unordered_map<std::string, uint8_t>> families =
            std::make_shared<std::unordered_map<std::string, uint8_t>>();
    };
    std::string sign_whole(const Zone& truth, Entry& e, int64_t now);
    std::string refresh_name(const Zone& truth, Entry& e, const ZoneSigner& signer,
                             const std::string& name, std::vector<std::string>* changed);
    ZoneSigner signer_for(const Entry& e, const std::string& apex, int64_t now,
                          std::string& err) const;

    std::map<std::string, Entry> zones_;  // key: lower-case wire apex
    AliasFamilies families_;
};

}  // namespace anamed
