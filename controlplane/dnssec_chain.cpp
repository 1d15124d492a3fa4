// Incremental NSEC / NSEC3 chain maintenance.
#include "dnssec_chain.hpp"

namespace anamed {

namespace {

// Whether `name` belongs in the chain: it has records (DNSSEC metadata aside) and is not
// hidden below a cut.
bool has_data(const Zone& zone, std::string_view name) {
    const ZoneNode* n = zone.find(name);
    if (!n) return false;
    for (RRset rs : n->rrsets())
        if (rs.type != type_rrsig && rs.type != type_nsec && rs.type != type_nsec3) return true;
    return false;
}

// Drops a denial record and its signatures from a name; the name goes when nothing is left.
void drop(Zone& zone, std::string_view name, uint16_t type) {
    NodeMap::value_type* e = zone.nodes.find(name);
    if (!e) return;
    ZoneNode& node = e->second;
    node.erase(type, nullptr);
    if (const std::optional<RRset> sigs = node.find(type_rrsig)) {
        std::vector<std::string> old;
        for (std::string_view rd : sigs->rdata)
            if (rd.size() >= 2 && load16(reinterpret_cast<const uint8_t*>(rd.data())) == type)
                old.emplace_back(rd);
        for (const std::string& rd : old) {
            const std::string_view v = rd;
            node.erase(type_rrsig, &v);
        }
    }
    if (node.empty()) zone.nodes.erase(name);
}

}  // namespace

DenialRecords::DenialRecords(const Zone& zone, const SignPolicy& policy)
    : nsec3_(policy.nsec3), params_{policy.nsec3_opt_out, 0, {}}, ttl_(denial_ttl(zone)) {
    for (const auto& [key, node] : zone.nodes) {
        if (nsec3_) {
            const NodeKind kind = node_kind(zone, key);
            if (node.has(type_nsec3) || !has_data(zone, key) ||
                !in_nsec3_chain(node, kind, params_))
                continue;
            names_.insert(key.str());
            hashes_.emplace(nsec3_hash(key, params_.salt, params_.iterations), key.str());
            for (std::string_view up = key; up.size() > zone.apex.size();) {
                up = parent_of(up);
                if (up.size() <= zone.apex.size() || zone.find(up)) break;
                names_.emplace(up);
                hashes_.emplace(nsec3_hash(up, params_.salt, params_.iterations), std::string(up));
            }
        } else if (node.has(type_nsec)) {
            names_.insert(key.str());
        }
    }
}

std::string DenialRecords::update(Zone& zone, const ZoneSigner& signer, std::string_view name_in,
                                  std::vector<std::string>* changed) {
    const std::string name = lower_key(name_in);
    if (!is_subdomain(name, zone.apex)) return "the name is not in the zone";
    const NodeKind kind = node_kind(zone, name);
    bool present = kind != NodeKind::occluded && has_data(zone, name);
    if (nsec3_ && present) present = in_nsec3_chain(*zone.find(name), kind, params_);
    changed_ = changed;
    std::string err = nsec3_ ? update_nsec3(zone, signer, name, present)
                             : update_nsec(zone, signer, name, present);
    changed_ = nullptr;
    return err;
}

std::string DenialRecords::update_nsec(Zone& zone, const ZoneSigner& signer,
                                       const std::string& name, bool present) {
    auto write = [&](const std::string& at, const std::string& next) {
        rewrote(at);
        ZoneNode& node = zone.nodes.find(at)->second;
        node.erase(type_nsec, nullptr);
        node.add(type_nsec, ttl_,
                 nsec_rdata(next, node, node_kind(zone, at), &signer.alias_families()));
        return signer.resign(zone, at, type_nsec);
    };
    auto after = [&](auto it) {
        ++it;
        return it == names_.end() ? names_.begin() : it;
    };
    auto before = [&](auto it) {
        return it == names_.begin() ? std::prev(names_.end()) : std::prev(it);
    };
    auto it = names_.find(name);
    if (present) {
        if (it == names_.end()) {
            it = names_.insert(name).first;
            if (std::string err = write(*before(it), name); !err.empty()) return err;
        }
        return write(name, *after(it));
    }
    if (it == names_.end()) return "";
    const std::string prev = *before(it), next = *after(it);
    names_.erase(it);
    rewrote(name);
    drop(zone, name, type_nsec);
    return names_.empty() ? "" : write(prev, next);
}

bool DenialRecords::has_descendants(std::string_view name) const {
    auto it = names_.upper_bound(std::string(name));
    return it != names_.end() && it->size() > name.size() && is_subdomain(*it, name);
}

std::string DenialRecords::write_nsec3(Zone& zone, const ZoneSigner& signer,
                                       const std::string& hash) {
    auto it = hashes_.find(hash);
    auto next = std::next(it);
    if (next == hashes_.end()) next = hashes_.begin();
    std::vector<uint16_t> types;
    if (const ZoneNode* node = zone.find(it->second)) {
        const NodeKind kind = node_kind(zone, it->second);
        types = bitmap_types_of(*node, kind, false, &signer.alias_families());
        if (kind == NodeKind::delegation && !node->has(type_ds))
            types.erase(std::remove(types.begin(), types.end(), type_rrsig), types.end());
    }
    const std::string owner = nsec3_owner(it->second, zone.apex, params_);
    rewrote(owner);
    ZoneNode& node = zone.nodes[owner];
    node.erase(type_nsec3, nullptr);
    node.add(type_nsec3, ttl_, nsec3_rdata(params_, next->first, types));
    return signer.resign(zone, owner, type_nsec3);
}

std::string DenialRecords::link_nsec3(Zone& zone, const ZoneSigner& signer,
                                      const std::string& name) {
    const std::string hash = nsec3_hash(name, params_.salt, params_.iterations);
    names_.insert(name);
    auto [it, added] = hashes_.emplace(hash, name);
    if (added) {
        auto prev = it == hashes_.begin() ? std::prev(hashes_.end()) : std::prev(it);
        if (prev != it)
            if (std::string err = write_nsec3(zone, signer, prev->first); !err.empty()) return err;
    }
    return write_nsec3(zone, signer, hash);
}

std::string DenialRecords::unlink_nsec3(Zone& zone, const ZoneSigner& signer,
                                        const std::string& name) {
    const std::string hash = nsec3_hash(name, params_.salt, params_.iterations);
    auto it = hashes_.find(hash);
    if (it == hashes_.end()) return "";
    auto prev = it == hashes_.begin() ? std::prev(hashes_.end()) : std::prev(it);
    const std::string prev_hash = prev->first;
    hashes_.erase(it);
    names_.erase(name);
    const std::string owner = nsec3_owner(name, zone.apex, params_);
    rewrote(owner);
    drop(zone, owner, type_nsec3);
    return prev_hash == hash ? "" : write_nsec3(zone, signer, prev_hash);
}

std::string DenialRecords::update_nsec3(Zone& zone, const ZoneSigner& signer,
                                        const std::string& name, bool present) {
    if (present) {
        if (std::string err = link_nsec3(zone, signer, name); !err.empty()) return err;
        for (std::string_view up = name; up.size() > zone.apex.size();) {
            up = parent_of(up);
            if (up.size() <= zone.apex.size() || zone.find(up) || names_.count(std::string(up)))
                break;
            if (std::string err = link_nsec3(zone, signer, std::string(up)); !err.empty())
                return err;
        }
        return "";
    }
    // Gone: an empty non-terminal now when names remain below it.
    if (has_descendants(name)) return link_nsec3(zone, signer, name);
    if (std::string err = unlink_nsec3(zone, signer, name); !err.empty()) return err;
    for (std::string_view up = name; up.size() > zone.apex.size();) {
        up = parent_of(up);
        if (up.size() <= zone.apex.size() || zone.find(up) || has_descendants(up)) break;
        if (std::string err = unlink_nsec3(zone, signer, std::string(up)); !err.empty()) return err;
    }
    return "";
}

}  // namespace anamed
