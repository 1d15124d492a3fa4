#include "remotes.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

#include "config.hpp"
#include "zone.hpp"

namespace anamed {

bool from_remote(const Remote& r, const sockaddr_storage& peer, const TsigKey* key) {
    const sockaddr_storage& a = r.addr.addr;
    if (a.ss_family != peer.ss_family) return false;
    if (a.ss_family == AF_INET) {
        const auto& x = reinterpret_cast<const sockaddr_in&>(a);
        const auto& y = reinterpret_cast<const sockaddr_in&>(peer);
        if (x.sin_addr.s_addr != y.sin_addr.s_addr) return false;
    } else if (a.ss_family == AF_INET6) {
        const auto& x = reinterpret_cast<const sockaddr_in6&>(a);
        const auto& y = reinterpret_cast<const sockaddr_in6&>(peer);
        if (std::memcmp(&x.sin6_addr, &y.sin6_addr, sizeof x.sin6_addr) != 0) return false;
    } else {
        return false;
    }
    return r.key == nullptr || r.key == key;
}

const Remote* Peers::add_remote(Remote r) {
    remotes_.push_back(std::make_unique<Remote>(std::move(r)));
    return remotes_.back().get();
}

const Remote* Peers::remote(const std::string& name) const {
    for (const auto& r : remotes_)
        if (r->name == name) return r.get();
    return nullptr;
}

const ZonePeers* Peers::zone(const std::string& apex) const {
    auto it = zones_.find(apex);
    return it == zones_.end() ? nullptr : &it->second;
}

const Remote* Peers::match(const std::vector<const Remote*>& list, const sockaddr_storage& peer,
                           const TsigKey* key) {
    for (const Remote* r : list)
        if (from_remote(*r, peer, key)) return r;
    return nullptr;
}

namespace {

std::string name_key(const std::string& name) {
    return lower_key(text_to_wire(name.empty() || name.back() != '.' ? name + "." : name));
}

}  // namespace

void build_peers(const Config& c, Peers& out) {
    out.keys() = make_keyring(c.keys);
    for (const RemoteConfig& rc : c.remotes) {
        Remote r;
        r.name = rc.name;
        r.alias_expand = rc.alias_expand;
        if (const std::string err = parse_listen_addr(rc.address, r.addr); !err.empty())
            throw ConfigError(c.source + ":" + std::to_string(rc.line) + ": remote " + rc.name +
                              ": " + err);
        if (!rc.key.empty()) {
            for (const TsigKeyConfig& k : c.keys)
                if (name_key(k.name) == name_key(rc.key))
                    r.key = out.keys().find(name_key(k.name), k.algorithm);
            if (r.key == nullptr)
                throw ConfigError(c.source + ":" + std::to_string(rc.line) + ": remote " + rc.name +
                                  ": no key is named '" + rc.key + "' (define it under keys:)");
        }
        out.add_remote(std::move(r));
    }
    for (const ZoneConfig& z : c.zones) {
        ZonePeers zp;
        auto resolve = [&](const std::vector<std::string>& names,
                           std::vector<const Remote*>& into) {
            for (const std::string& n : names) {
                const Remote* r = out.remote(n);
                if (r == nullptr)
                    throw ConfigError(c.source + ": zone " + z.name + ": no remote is named '" + n +
                                      "'");
                into.push_back(r);
            }
        };
        resolve(z.notify, zp.notify);
        resolve(z.allow_transfer, zp.allow_transfer);
        resolve(z.primary, zp.primaries);
        zp.update_policy = UpdatePolicy::build(z.update_policy, z.name, c.source);
        out.set_zone(name_key(z.name), std::move(zp));
    }
}

std::string address_text(const sockaddr_storage& a) {
    char buf[INET6_ADDRSTRLEN] = "?";
    if (a.ss_family == AF_INET)
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(a).sin_addr, buf, sizeof buf);
    else if (a.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(a).sin6_addr, buf, sizeof buf);
    return buf;
}

}  // namespace anamed
