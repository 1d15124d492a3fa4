// ZoneStore's entry points for transfers in: a whole zone swapped in, or IXFR's differences
// applied at wire level, both recorded in the zone's history so that this server can serve
// IXFR onward.
#include "anamed/rr_types.hpp"
#include "anamed/wire.hpp"
#include "zone_edit.hpp"
#include "zone_store.hpp"

namespace anamed {
namespace {

std::string record_text_of(const Record& r) {
    return name_to_text(r.owner) + " type " + rr_type_text(r.type);
}

}  // namespace

void ZoneStore::replace_zone(std::unique_ptr<Zone> zone, size_t history_depth) {
    const std::string key = zone->apex;
    ZoneHistory& h = history_[key];
    h.set_depth(history_depth);
    if (const auto old = zones_.find(key); old != zones_.end())
        record_reload(*old->second, *zone, h);
    zones_[key] = std::move(zone);
}

bool ZoneStore::remove_zone(const std::string& apex) {
    history_.erase(apex);
    return zones_.erase(apex) > 0;
}

ChangeOutcome ZoneStore::apply_deltas(const std::string& apex,
                                      const std::vector<ZoneDelta>& deltas) {
    ChangeOutcome out;
    const auto zit = zones_.find(apex);
    if (zit == zones_.end()) return out.error = "the zone is not served", out;
    Zone& z = *zit->second;
    Scratch scratch;  // copies of the touched nodes: nothing live changes before the end
    uint32_t serial = z.serial();
    for (const ZoneDelta& d : deltas) {
        if (d.from() != serial)
            return out.error = "a difference from serial " + std::to_string(d.from()) +
                               " where the zone is at " + std::to_string(serial),
                   out;
        for (const Record& r : d.removed) {
            const std::string key = lower_key(r.owner);
            if (!is_subdomain(key, apex))
                return out.error = "a deletion outside the zone: " + record_text_of(r), out;
            ZoneNode& node = scratch.node(z, key);
            if (remove_records(node, r.type, &r.rdata) == 0)
                return out.error =
                           "a deletion of a record the zone does not have: " + record_text_of(r) +
                           " (serial " + std::to_string(d.from()) + ")",
                       out;
        }
        ZoneNode& apex_node = scratch.node(z, apex);
        remove_records(apex_node, rrtype::SOA, nullptr);
        apex_node.add(rrtype::SOA, d.new_soa.ttl, d.new_soa.rdata);
        for (const Record& r : d.added) {
            const std::string key = lower_key(r.owner);
            if (!is_subdomain(key, apex))
                return out.error = "an addition outside the zone: " + record_text_of(r), out;
            const RRType* t = rr_type(r.type);
            if (t && t->has(rr_flag::apex_only) && key != apex)
                return out.error =
                           std::string(t->mnemonic) + " below the apex at " + name_to_text(r.owner),
                       out;
            ParsedRecord p{r.owner, r.type, class_in, r.ttl, r.rdata};
            std::string warning;
            if (std::string err = add_record(scratch.node(z, key), p, &warning); !err.empty())
                return out.error = err, out;
        }
        serial = d.to();
    }
    for (const std::string& p : apex_problems(&scratch.node(z, apex)))
        return out.error = "the zone would lose its apex " + p, out;
    auto& changed = out.changed[apex];
    for (auto& [key, node] : scratch.per_zone[&z]) {
        if (node.empty())
            z.nodes.erase(key);
        else
            z.nodes[key] = std::move(node);
        changed.push_back(key);
    }
    ZoneHistory& h = history_[apex];
    for (const ZoneDelta& d : deltas) h.add(d);
    out.serials[z.apex_text] = z.serial();
    return out;
}

}  // namespace anamed
