// The other servers a zone deals with (knot.conf's names): TSIG keys, remotes (an address
// and an optional key), and per zone who gets NOTIFY, who may transfer, and whom a
// secondary transfers from. Built once from the configuration; read by the message
// handler, the notifier and the secondary's refresh logic.
#pragma once

#include <sys/socket.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "anamed/listen_addr.hpp"
#include "anamed/tsig.hpp"
#include "update_policy.hpp"

namespace anamed {

struct Remote {
    std::string name;
    ListenAddr addr;
    const TsigKey* key = nullptr;  // null: unsigned
    bool alias_expand = false;     // transfers carry the resolved A/AAAA in place of ALIAS
};

struct ZonePeers {
    std::vector<const Remote*> notify, allow_transfer, primaries;
    UpdatePolicy update_policy;  // who may send UPDATE (update.hpp)
};

// Whether a message from `peer` signed with `key` (null: unsigned) comes from remote `r`: the
// address (the port is not compared) and, when the remote has a key, that key.
bool from_remote(const Remote& r, const sockaddr_storage& peer, const TsigKey* key);

class Peers {
public:
    TsigKeyring& keys() { return keys_; }
    const TsigKeyring& keys() const { return keys_; }
    // Adds a remote; its key must be in keys() already. Returns it.
    const Remote* add_remote(Remote r);
    const Remote* remote(const std::string& name) const;
    // Per zone, by lower-case wire apex.
    void set_zone(const std::string& apex, ZonePeers z) { zones_[apex] = std::move(z); }
    const ZonePeers* zone(const std::string& apex) const;
    // The first of `list` a message from `peer` with `key` comes from, or null.
    static const Remote* match(const std::vector<const Remote*>& list, const sockaddr_storage& peer,
                               const TsigKey* key);

private:
    TsigKeyring keys_;
    std::vector<std::unique_ptr<Remote>> remotes_;
    std::map<std::string, ZonePeers> zones_;
};

struct Config;
// keys:, remotes: and every zone's lists, resolved into `out` (which must be empty). Throws
// ConfigError naming what is wrong.
void build_peers(const Config& c, Peers& out);

// "192.0.2.1" / "2001:db8::1" for logs.
std::string address_text(const sockaddr_storage& a);

}  // namespace anamed
