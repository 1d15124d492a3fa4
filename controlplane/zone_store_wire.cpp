// ZoneStore's dynamic updates: wire-form changes (wire_change.hpp) staged with zone_edit.hpp's
// rules, as a RecordChange is, under RFC 2136 §3.4.2's semantics.
#include "anamed/rr_types.hpp"
#include "anamed/wire.hpp"
#include "zone_edit.hpp"
#include "zone_store.hpp"

namespace anamed {
namespace {

uint32_t serial_of(std::string_view soa_rdata) {
    const size_t at = soa_serial_offset(soa_rdata);
    return at == std::string::npos
               ? 0
               : load32(reinterpret_cast<const uint8_t*>(soa_rdata.data()) + at);
}

// The stored RDATA of `type` at `node` that is the same record as `rd`, if any.
std::optional<std::string> stored_rdata(const ZoneNode& node, uint16_t type, std::string_view rd) {
    const std::optional<RRset> rs = node.find(type);
    if (!rs) return std::nullopt;
    for (const std::string_view have : rs->rdata)
        if (same_rdata(type, have, rd)) return std::string(have);
    return std::nullopt;
}

// §3.4.2.2: an SOA replaces the zone's only when its serial is higher; a CNAME (and any type
// one to a name: ALIAS, DNAME) replaces the one there; a record already present is kept.
std::string stage_add(const WireChange& c, ZoneNode& node, bool at_apex) {
    const RRType* t = rr_type(c.type);
    if (t && t->has(rr_flag::apex_only) && !at_apex)
        return "an " + std::string(t->mnemonic) + " belongs at the apex";
    ParsedRecord p{c.owner, c.type, class_in, c.ttl, c.rdata};
    if (c.type == rrtype::SOA) {
        const std::optional<RRset> soa = node.find(rrtype::SOA);
        if (soa && !soa->rdata.empty() && !serial_gt(serial_of(c.rdata), serial_of(soa->rdata[0])))
            return "";
        remove_records(node, rrtype::SOA, nullptr);
    } else if (stored_rdata(node, c.type, c.rdata)) {
        return "";
    } else if (t && t->has(rr_flag::single)) {
        remove_records(node, c.type, nullptr);
    }
    std::string warning;
    return add_record(node, p, &warning);
}

// §3.4.2.3-4: the SOA is never deleted and the apex keeps its NS RRset.
void stage_delete(const WireChange& c, ZoneNode& node, bool at_apex) {
    switch (c.op) {
    case WireChange::Op::del_rrset:
        if (c.type == rrtype::SOA || (c.type == rrtype::NS && at_apex)) return;
        remove_records(node, c.type, nullptr);
        return;
    case WireChange::Op::del_name: {
        if (!at_apex) {
            remove_records(node, 0, nullptr);
            return;
        }
        std::vector<uint16_t> types;
        for (const RRset rs : node.rrsets())
            if (rs.type != rrtype::SOA && rs.type != rrtype::NS) types.push_back(rs.type);
        for (const uint16_t type : types) remove_records(node, type, nullptr);
        return;
    }
    case WireChange::Op::del_rr: {
        if (c.type == rrtype::SOA) return;
        const std::optional<std::string> have = stored_rdata(node, c.type, c.rdata);
        if (!have) return;
        if (c.type == rrtype::NS && at_apex && node.find(rrtype::NS)->rdata.size() == 1) return;
        remove_records(node, c.type, &*have);
        return;
    }
    case WireChange::Op::add: return;
    }
}

}  // namespace

std::string ZoneStore::stage_wire(const WireChange& c, Scratch& scratch) {
    const std::string apex = lower_key(text_to_wire(c.zone));
    auto zit = zones_.find(apex);
    if (zit == zones_.end()) return "no zone " + c.zone + " is served";
    Zone& z = *zit->second;
    const std::string key = lower_key(c.owner);
    if (!is_subdomain(key, z.apex)) return name_to_text(c.owner) + " is not in zone " + z.apex_text;
    if (const RRType* t = rr_type(c.type); t && t->has(rr_flag::meta))
        return std::string(t->mnemonic) + " is a query type, not zone data";
    ZoneNode& node = scratch.node(z, key);
    if (c.op == WireChange::Op::add) return stage_add(c, node, key == z.apex);
    stage_delete(c, node, key == z.apex);
    return "";
}

ChangeOutcome ZoneStore::apply_wire(const std::vector<WireChange>& changes,
                                    const std::function<std::string()>& commit) {
    Scratch scratch;  // nothing live changes until every change is valid
    for (size_t i = 0; i < changes.size(); ++i)
        if (std::string err = stage_wire(changes[i], scratch); !err.empty()) {
            ChangeOutcome out;
            out.error = (changes.size() > 1 ? "change " + std::to_string(i + 1) + ": " : "") + err;
            return out;
        }
    return finish(scratch, commit, true);
}

}  // namespace anamed
