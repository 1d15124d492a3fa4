// Signed copies of zones for the compiler, kept current by whole signs and patches.
#include "dnssec_zone_signing.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "log.hpp"

namespace anamed {

namespace {

constexpr uint16_t type_ns = 2;

std::unique_ptr<Zone> copy_of(const Zone& z) {
    auto c = std::make_unique<Zone>();
    c->apex = z.apex;
    c->apex_text = z.apex_text;
    c->file = z.file;
    c->nodes.reserve(z.nodes.size());
    for (const auto& [key, node] : z.nodes) c->nodes[key] = node;
    return c;
}

}  // namespace

void ZoneSigning::configure(const std::vector<ZoneConfig>& zones) {
    std::map<std::string, Entry> next;
    for (const ZoneConfig& zc : zones) {
        if (zc.dnssec.mode != DnssecMode::sign) continue;
        const std::string apex = apex_key(zc.name);
        auto old = zones_.find(apex);
        Entry e = old != zones_.end() ? std::move(old->second) : Entry{};
        if (e.copy &&
            (e.cfg.key_dir != zc.dnssec.key_dir || e.cfg.sign.nsec3 != zc.dnssec.sign.nsec3 ||
             e.cfg.sign.nsec3_opt_out != zc.dnssec.sign.nsec3_opt_out))
            e.copy.reset();  // signed again with the new settings
        e.cfg = zc.dnssec;
        next.emplace(apex, std::move(e));
    }
    zones_ = std::move(next);
}

ZoneSigner ZoneSigning::signer_for(const Entry& e, const std::string& apex, int64_t now,
                                   std::string& err) const {
    std::vector<std::string> problems;
    std::vector<DnssecKey> keys = load_zone_keys(e.cfg.key_dir, apex, problems);
    for (const std::string& p : problems) err += (err.empty() ? "" : "; ") + p;
    ZoneSigner signer(apex, std::move(keys), e.cfg.sign, now);
    if (families_)
        signer.set_alias_families([f = families_, seen = e.families](const std::string& target) {
            const uint8_t v = f(target);
            (*seen)[target] = v;
            return v;
        });
    return signer;
}

std::string ZoneSigning::sign_whole(const Zone& truth, Entry& e, int64_t now) {
    std::string err;
    const ZoneSigner signer = signer_for(e, truth.apex, now, err);
    const auto t0 = std::chrono::steady_clock::now();
    std::unique_ptr<Zone> copy = copy_of(truth);
    if (std::string why = signer.sign_zone(*copy); !why.empty()) return why;
    e.chain.reset();  // made again by the first patch that needs it
    log_info("zone " + truth.apex_text + " signed whole: " + std::to_string(copy->nodes.size()) +
             " names, " +
             std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::steady_clock::now() - t0)
                                .count()) +
             " ms");
    e.copy = std::move(copy);
    e.keys = signer.keys();
    e.serial = truth.serial();
    e.signed_at = now;
    e.stale = false;
    return err;  // unreadable key files beside the good ones: reported, not fatal
}

std::vector<const Zone*> ZoneSigning::view(const std::vector<const Zone*>& zones, int64_t now,
                                           std::vector<std::string>& errors) {
    std::vector<const Zone*> out;
    out.reserve(zones.size());
    for (const Zone* z : zones) {
        auto it = zones_.find(lower_key(z->apex));
        if (it == zones_.end()) {
            out.push_back(z);
            continue;
        }
        Entry& e = it->second;
        const bool due = !e.copy || e.stale || e.serial != z->serial() ||
                         now - e.signed_at >= int64_t(e.cfg.sign.validity - e.cfg.sign.refresh);
        if (due)
            if (std::string err = sign_whole(*z, e, now); !err.empty())
                errors.push_back("zone " + z->apex_text + ": DNSSEC: " + err);
        out.push_back(e.copy ? e.copy.get() : z);
    }
    return out;
}

std::string ZoneSigning::refresh_name(const Zone& truth, Entry& e, const ZoneSigner& signer,
                                      const std::string& name, std::vector<std::string>* changed) {
    if (changed) changed->push_back(name);
    Zone& copy = *e.copy;
    if (NodeMap::value_type* old = copy.nodes.find(name)) {
        // The name's own data leaves; its NSEC comes back through the chain.
        old->second = ZoneNode();
    }
    if (const ZoneNode* now = truth.find(name)) {
        ZoneNode& node = copy.nodes[name];
        node = *now;
        if (name == copy.apex) {
            for (const DnssecKey& k : signer.keys())
                if (k.published(signer.now()))
                    node.add(type_dnskey, now->find(6)->ttl, k.dnskey_rdata());
            if (e.cfg.sign.nsec3)
                node.add(type_nsec3param, 0,
                         nsec3param_rdata(Nsec3Params{e.cfg.sign.nsec3_opt_out, 0, {}}));
        }
        if (std::string err = signer.sign_name(copy, name); !err.empty()) return err;
    }
    if (std::string err = e.chain->update(copy, signer, name, changed); !err.empty()) return err;
    if (const NodeMap::value_type* left = copy.nodes.find(name); left && left->second.empty())
        copy.nodes.erase(name);
    return "";
}

std::string ZoneSigning::patch(const Zone& truth, const std::vector<std::string>& names,
                               int64_t now, Change* change) {
    auto it = zones_.find(lower_key(truth.apex));
    if (it == zones_.end()) return "";
    Entry& e = it->second;
    auto whole = [&] {
        if (change) change->whole = true;
        return sign_whole(truth, e, now);
    };
    // Many names (an ALIAS target's owners) are signed faster whole, in parallel.
    if (!e.copy || names.size() > 1024 + truth.nodes.size() / 16) return whole();
    for (const std::string& n : names) {
        const ZoneNode* before = e.copy->find(n);
        const ZoneNode* after = truth.find(n);
        const bool cut_before = n != truth.apex && before && before->has(type_ns);
        const bool cut_after = n != truth.apex && after && after->has(type_ns);
        if (cut_before != cut_after) return whole();
    }
    std::string err;
    const ZoneSigner signer = signer_for(e, truth.apex, now, err);
    if (!e.chain) e.chain = std::make_unique<DenialRecords>(*e.copy, e.cfg.sign);
    std::vector<std::string> touched = names;
    touched.push_back(truth.apex);  // the SOA's serial moves with every change
    std::vector<std::string>* changed = change ? &change->names : nullptr;
    for (const std::string& n : touched)
        if (std::string why = refresh_name(truth, e, signer, lower_key(n), changed); !why.empty())
            return why;
    e.keys = signer.keys();
    e.serial = truth.serial();
    if (changed) {
        std::sort(changed->begin(), changed->end());
        changed->erase(std::unique(changed->begin(), changed->end()), changed->end());
    }
    return err;
}

const Zone* ZoneSigning::signed_zone(const std::string& apex) const {
    auto it = zones_.find(lower_key(apex));
    return it == zones_.end() ? nullptr : it->second.copy.get();
}

void ZoneSigning::mark_stale(const std::string& apex) {
    if (auto it = zones_.find(lower_key(apex)); it != zones_.end()) it->second.stale = true;
}

uint8_t ZoneSigning::bitmap_families(const std::string& apex, const std::string& target) const {
    auto it = zones_.find(apex);
    if (it == zones_.end()) return 0;
    auto f = it->second.families->find(target);
    return f == it->second.families->end() ? 0 : f->second;
}

int64_t ZoneSigning::next_resign() const {
    int64_t at = INT64_MAX;
    for (const auto& [apex, e] : zones_)
        if (e.copy)
            at = std::min(at, e.signed_at + int64_t(e.cfg.sign.validity - e.cfg.sign.refresh));
    return at;
}

std::optional<ZoneSigner> ZoneSigning::signer(const std::string& apex, int64_t now) const {
    auto it = zones_.find(lower_key(apex));
    if (it == zones_.end() || !it->second.copy) return std::nullopt;
    return ZoneSigner(it->first, it->second.keys, it->second.cfg.sign, now);
}

}  // namespace anamed
