#include "update.hpp"

#include <algorithm>
#include <map>

#include "anamed/rr_types.hpp"
#include "anamed/wire.hpp"
#include "log.hpp"

namespace anamed {
namespace {

constexpr uint16_t class_none = 254, class_any = 255;

// One record of the prerequisite or update section.
struct UpdateRR {
    std::string owner;  // wire, case as sent, decompressed
    std::string key;    // lower-case
    uint16_t type = 0, klass = 0;
    uint32_t ttl = 0;
    size_t rdpos = 0, rdlen = 0;  // in the message
};

struct UpdateMessage {
    std::string zone;  // wire, as sent
    uint16_t zclass = 0;
    size_t zone_end = header_size;  // where the zone section ends (0: no zone section read)
    std::vector<UpdateRR> prereqs, updates;
};

using Outcome = UpdateResult::Outcome;

// The header and zone section (ZOCOUNT 1, type SOA, §3.1.1). False: FORMERR.
bool read_zone(const std::vector<uint8_t>& b, UpdateMessage& u) {
    u.zone_end = 0;
    if (b.size() < header_size || load16(b.data() + 4) != 1) return false;
    const size_t next = read_message_name(b.data(), b.size(), header_size, u.zone);
    if (next == 0 || next + 4 > b.size() || load16(b.data() + next) != rrtype::SOA) return false;
    u.zclass = load16(b.data() + next + 2);
    u.zone_end = next + 4;
    return true;
}

// The prerequisite and update sections, as many records as the header says: a count that
// lies or a record that runs past the message is FORMERR.
bool read_sections(const std::vector<uint8_t>& b, UpdateMessage& u) {
    size_t pos = u.zone_end;
    const unsigned counts[2] = {load16(b.data() + 6), load16(b.data() + 8)};
    for (int s = 0; s < 2; ++s)
        for (unsigned i = 0; i < counts[s]; ++i) {
            UpdateRR rr;
            pos = read_message_name(b.data(), b.size(), pos, rr.owner);
            if (pos == 0 || pos + 10 > b.size()) return false;
            rr.key = lower_key(rr.owner);
            rr.type = load16(b.data() + pos);
            rr.klass = load16(b.data() + pos + 2);
            rr.ttl = load32(b.data() + pos + 4);
            rr.rdlen = load16(b.data() + pos + 8);
            rr.rdpos = pos + 10;
            pos = rr.rdpos + rr.rdlen;
            if (pos > b.size()) return false;
            (s == 0 ? u.prereqs : u.updates).push_back(std::move(rr));
        }
    // The additional section (EDNS; the TSIG is gone): present as counted, not read.
    for (unsigned i = load16(b.data() + 10); i > 0; --i) {
        pos = skip_name(b.data(), b.size(), pos);
        if (pos == 0 || pos + 10 > b.size()) return false;
        pos += 10 + load16(b.data() + pos + 8);
        if (pos > b.size()) return false;
    }
    return true;
}

// The reply: the request's header with QR and `rc`, and its zone section when it had one.
std::string reply_for(const std::vector<uint8_t>& b, const UpdateMessage& u, uint8_t rc) {
    std::string out(header_size, '\0');
    auto* h = reinterpret_cast<uint8_t*>(out.data());
    if (b.size() >= 4) {
        store16(h, load16(b.data()));
        store16(h + 2, uint16_t((load16(b.data() + 2) & flag_opcode) | flag_qr | rc));
    }
    if (u.zone_end > header_size) {
        store16(h + 4, 1);
        out.append(reinterpret_cast<const char*>(b.data() + header_size), u.zone_end - header_size);
    }
    return out;
}

bool is_meta(uint16_t type) {
    const RRType* t = rr_type(type);
    return t != nullptr && t->has(rr_flag::meta);
}

bool name_in_use(const Zone& z, const std::string& key) {
    const ZoneNode* n = z.find(key);
    return n != nullptr && !n->empty();
}

// §3.2.5: the prerequisites, in order; NOERROR when they all hold.
uint8_t check_prerequisites(const std::vector<uint8_t>& b, const UpdateMessage& u, const Zone& z) {
    std::map<std::pair<std::string, uint16_t>, std::vector<std::string>> value_dependent;
    for (const UpdateRR& rr : u.prereqs) {
        if (rr.ttl != 0) return rcode::FORMERR;
        if (!is_subdomain(rr.key, z.apex)) return rcode_update::NOTZONE;
        const ZoneNode* node = z.find(rr.key);
        const bool rrset = node != nullptr && node->has(rr.type);
        if (rr.klass == class_any || rr.klass == class_none) {
            if (rr.rdlen != 0) return rcode::FORMERR;
            const bool any = rr.type == rrtype::ANY;
            if (!any && is_meta(rr.type)) return rcode::FORMERR;
            if (rr.klass == class_any) {
                if (any && !name_in_use(z, rr.key)) return rcode::NXDOMAIN;
                if (!any && !rrset) return rcode_update::NXRRSET;
            } else {
                if (any && name_in_use(z, rr.key)) return rcode_update::YXDOMAIN;
                if (!any && rrset) return rcode_update::YXRRSET;
            }
        } else if (rr.klass == u.zclass) {
            if (is_meta(rr.type)) return rcode::FORMERR;
            std::string rd;
            if (!read_rdata(b.data(), b.size(), rr.rdpos, rr.rdlen, rr.type, rd).empty())
                return rcode::FORMERR;
            auto& set = value_dependent[{rr.key, rr.type}];
            if (std::none_of(set.begin(), set.end(),
                             [&](const std::string& x) { return same_rdata(rr.type, x, rd); }))
                set.push_back(std::move(rd));
        } else {
            return rcode::FORMERR;
        }
    }
    // §3.2.3: each RRset exactly as given, TTLs aside.
    for (const auto& [at, want] : value_dependent) {
        const ZoneNode* node = z.find(at.first);
        const std::optional<RRset> have = node ? node->find(at.second) : std::nullopt;
        if (!have || have->rdata.size() != want.size()) return rcode_update::NXRRSET;
        const uint16_t type = at.second;  // a structured binding: lambdas capture a copy
        for (const std::string_view rd : have->rdata)
            if (std::none_of(want.begin(), want.end(),
                             [&](const std::string& x) { return same_rdata(type, x, rd); }))
                return rcode_update::NXRRSET;
    }
    return rcode::NOERROR;
}

// §3.4.1's prescan, turning the update section into changes. NOERROR, FORMERR or NOTZONE;
// `why` says what was wrong.
uint8_t prescan(const std::vector<uint8_t>& b, const UpdateMessage& u, const Zone& z,
                std::vector<WireChange>& out, std::string& why) {
    for (const UpdateRR& rr : u.updates) {
        why = name_to_text(rr.owner) + " " + rr_type_text(rr.type) + ": ";
        if (!is_subdomain(rr.key, z.apex)) return why += "not in the zone", rcode_update::NOTZONE;
        WireChange c;
        c.zone = z.apex_text;
        c.owner = rr.owner;
        c.type = rr.type;
        const bool any = rr.type == rrtype::ANY;
        if (is_meta(rr.type) && !(any && rr.klass == class_any))
            return why += "a query type cannot be changed", rcode::FORMERR;
        if (rr.klass == u.zclass) {
            if (rr.ttl > 0x7FFFFFFF) return why += "TTL out of range", rcode::FORMERR;
            c.op = WireChange::Op::add;
            c.ttl = rr.ttl;
        } else if (rr.klass == class_any) {
            if (rr.ttl != 0 || rr.rdlen != 0)
                return why += "class ANY with a TTL or RDATA", rcode::FORMERR;
            c.op = any ? WireChange::Op::del_name : WireChange::Op::del_rrset;
            if (any) c.type = 0;
        } else if (rr.klass == class_none) {
            if (rr.ttl != 0) return why += "class NONE with a TTL", rcode::FORMERR;
            c.op = WireChange::Op::del_rr;
        } else {
            return why += "class " + std::to_string(rr.klass) + " is not the zone's",
                   rcode::FORMERR;
        }
        if (c.op == WireChange::Op::add || c.op == WireChange::Op::del_rr)
            if (std::string err =
                    read_rdata(b.data(), b.size(), rr.rdpos, rr.rdlen, rr.type, c.rdata);
                !err.empty())
                return why += err, rcode::FORMERR;
        out.push_back(std::move(c));
    }
    why.clear();
    return rcode::NOERROR;
}

// The first change the policy does not grant, as "NAME TYPE"; "" when all are. Deleting a
// name needs every type it holds.
std::string denied(const UpdatePolicy& policy, std::string_view key, const sockaddr_storage& peer,
                   const Zone& z, const std::vector<WireChange>& changes) {
    for (const WireChange& c : changes) {
        const std::string owner = lower_key(c.owner);
        std::vector<uint16_t> types{c.type};
        if (c.op == WireChange::Op::del_name) {
            types.clear();
            if (const ZoneNode* n = z.find(owner))
                for (const RRset rs : n->rrsets()) types.push_back(rs.type);
        }
        for (const uint16_t t : types)
            if (!policy.allows(key, peer, owner, t))
                return name_to_text(c.owner) + " " + rr_type_text(t);
    }
    return "";
}

std::string who(const HandoffMessage& m, std::string_view key) {
    return address_text(m.peer) + (key.empty() ? " (unsigned)" : " key " + name_to_text(key));
}

}  // namespace

UpdateResult process_update(const UpdateContext& ctx, const HandoffMessage& m,
                            const std::vector<uint8_t>& body, std::string_view key) {
    UpdateMessage u;
    auto result = [&](Outcome o, uint8_t rc) {
        return UpdateResult{o, rc, reply_for(body, u, rc)};
    };
    if (!read_zone(body, u)) return result(Outcome::malformed, rcode::FORMERR);
    const std::string apex = lower_key(u.zone);
    const std::string zone_text = name_to_text(u.zone);
    if (u.zclass != class_in) return result(Outcome::refused, rcode_update::NOTAUTH);
    const ZonePeers* zp = ctx.peers->zone(apex);
    if (zp && !zp->primaries.empty()) {  // a secondary: the primary decides (§6)
        std::string reply = forward_update(zp->primaries, m.bytes, ctx.forward_timeout_ms);
        if (reply.empty()) {
            log_warning("UPDATE " + zone_text + " from " + who(m, key) +
                        ": no primary answered; NOTAUTH");
            return result(Outcome::failed, rcode_update::NOTAUTH);
        }
        return UpdateResult{Outcome::forwarded, uint8_t(reply[3] & 15), std::move(reply)};
    }
    const Zone* z = ctx.store->find(zone_text);
    if (z == nullptr || z->apex != apex) return result(Outcome::refused, rcode_update::NOTAUTH);
    if (zp == nullptr || !zp->update_policy.knows(key, m.peer)) {
        log_warning("UPDATE " + zone_text + " from " + who(m, key) + " refused: " +
                    (zp == nullptr || zp->update_policy.empty()
                         ? "the zone has no update-policy"
                         : "no update-policy rule is for this key or address"));
        return result(Outcome::refused, rcode::REFUSED);
    }
    if (!read_sections(body, u)) return result(Outcome::malformed, rcode::FORMERR);
    if (const uint8_t rc = check_prerequisites(body, u, *z); rc != rcode::NOERROR)
        return result(rc == rcode::FORMERR || rc == rcode_update::NOTZONE ? Outcome::malformed
                                                                          : Outcome::prerequisite,
                      rc);
    std::vector<WireChange> changes;
    std::string why;
    if (const uint8_t rc = prescan(body, u, *z, changes, why); rc != rcode::NOERROR) {
        log_warning("UPDATE " + zone_text + " from " + who(m, key) + ": " + why);
        return result(Outcome::malformed, rc);
    }
    if (const std::string d = denied(zp->update_policy, key, m.peer, *z, changes); !d.empty()) {
        log_warning("UPDATE " + zone_text + " from " + who(m, key) + " refused: " + d +
                    " is not granted by the zone's update-policy; nothing applied");
        return result(Outcome::refused, rcode::REFUSED);
    }
    if (changes.empty()) return result(Outcome::unchanged, rcode::NOERROR);
    bool storage_failed = false;
    const ChangeOutcome out = ctx.apply(changes, &storage_failed);
    if (!out.error.empty()) {
        log_warning("UPDATE " + zone_text + " from " + who(m, key) + " not applied: " + out.error);
        return result(storage_failed ? Outcome::failed : Outcome::refused,
                      storage_failed ? rcode::SERVFAIL : rcode::REFUSED);
    }
    if (out.serials.empty()) return result(Outcome::unchanged, rcode::NOERROR);
    log(LogLevel::info, "UPDATE " + zone_text + " from " + who(m, key) + ": " +
                            std::to_string(changes.size()) + " change(s), serial " +
                            std::to_string(out.serials.begin()->second));
    return result(Outcome::applied, rcode::NOERROR);
}

}  // namespace anamed
