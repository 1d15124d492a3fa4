// Shared by the DNSSEC unit tests: keys for a test zone, and ldns as the independent
// validator of what the signer wrote.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config.hpp"
#include "dnssec_signer.hpp"
#include "ldns.hpp"
#include "test_util.hpp"

namespace anamed::test {

inline constexpr int64_t sign_time = 1760000000;  // a fixed "now" for the signer

inline DnssecKey make_key(const Zone& z, uint8_t alg, KeyRole role) {
    DnssecKey k;
    EXPECT_EQ(generate_key(z.apex, alg, role, sign_time - 86400, k), "");
    return k;
}

// The configuration of a zone that anamed signs, its keys in `key_dir`.
inline ZoneConfig signing_config(const std::string& name, const std::string& key_dir, bool nsec3) {
    ZoneConfig zc;
    zc.name = name;
    zc.dnssec.mode = DnssecMode::sign;
    zc.dnssec.key_dir = key_dir;
    zc.dnssec.sign.nsec3 = nsec3;
    return zc;
}

inline std::unique_ptr<Zone> load_test_zone(const std::string& origin, const std::string& file) {
    LoadResult r = load_zone_file(origin, file);
    for (const auto& d : r.diags) ADD_FAILURE() << d.str();
    return std::move(r.zone);
}

inline ldns_rr* to_ldns(std::string_view owner, uint16_t type, uint32_t ttl, std::string_view rd) {
    std::string wire(owner);
    uint8_t fixed[10];
    store16(fixed, type);
    store16(fixed + 2, 1);
    store32(fixed + 4, ttl);
    store16(fixed + 8, uint16_t(rd.size()));
    wire.append(reinterpret_cast<const char*>(fixed), sizeof fixed);
    wire += rd;
    ldns_rr* rr = nullptr;
    size_t pos = 0;
    EXPECT_EQ(ldns_wire2rr(&rr, reinterpret_cast<const uint8_t*>(wire.data()), wire.size(), &pos,
                           LDNS_SECTION_ANSWER),
              LDNS_STATUS_OK);
    return rr;
}

// The RRset of `type` at `key` as an ldns list (owner as the zone spells it).
inline ldns_rr_list* ldns_rrset(const Zone& z, std::string_view key, uint16_t type) {
    ldns_rr_list* list = ldns_rr_list_new();
    const ZoneNode* n = z.find(key);
    if (!n) return list;
    const std::optional<RRset> rs = n->find(type);
    if (!rs) return list;
    const std::string owner = n->owner(key);
    for (std::string_view rd : rs->rdata)
        ldns_rr_list_push_rr(list, to_ldns(owner, type, rs->ttl, rd));
    return list;
}

struct Verified {
    size_t good = 0;               // RRSIGs that ldns verified
    std::vector<std::string> bad;  // "owner TYPE: status" of those it did not
};

// Every RRSIG in the zone checked by ldns_verify_rrsig_keylist_time against the apex's
// DNSKEY RRset, at `when`.
inline Verified verify_with_ldns(const Zone& z, time_t when) {
    Verified v;
    ldns_rr_list* keys = ldns_rrset(z, z.apex, 48);
    for (const auto& [key, node] : z.nodes) {
        const std::optional<RRset> sigs = node.find(46);
        if (!sigs) continue;
        for (std::string_view rd : sigs->rdata) {
            const uint16_t covered = load16(reinterpret_cast<const uint8_t*>(rd.data()));
            ldns_rr_list* rrset = ldns_rrset(z, key, covered);
            ldns_rr* sig = to_ldns(node.owner(key), 46, sigs->ttl, rd);
            ldns_rr_list* good = ldns_rr_list_new();
            const ldns_status s = ldns_verify_rrsig_keylist_time(rrset, sig, keys, when, good);
            if (s == LDNS_STATUS_OK)
                ++v.good;
            else
                v.bad.push_back(name_to_text(key) + " " + rr_type_text(covered) + ": " +
                                ldns_get_errorstr_by_id(s));
            ldns_rr_list_free(good);
            ldns_rr_free(sig);
            ldns_rr_list_deep_free(rrset);
        }
    }
    ldns_rr_list_deep_free(keys);
    return v;
}

// The types covered by RRSIGs at `key`.
inline std::vector<uint16_t> covered_types(const Zone& z, std::string_view key) {
    std::vector<uint16_t> out;
    const ZoneNode* n = z.find(key);
    if (!n) return out;
    if (const std::optional<RRset> sigs = n->find(46))
        for (std::string_view rd : sigs->rdata)
            out.push_back(load16(reinterpret_cast<const uint8_t*>(rd.data())));
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

}  // namespace anamed::test
