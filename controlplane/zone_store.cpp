#include "zone_store.hpp"

#include <algorithm>
#include <chrono>

#include "anamed/rr_types.hpp"
#include "anamed/wire.hpp"
#include "log.hpp"
#include "master_text.hpp"
#include "zone_edit.hpp"
#include "zone_loader.hpp"

namespace anamed {
namespace {

// A zone's name as the user wrote it to the store's key (lower-case wire apex).
std::string zone_key(const std::string& name) {
    return lower_key(text_to_wire(master_text::absolute(name, ".")));
}

// The record a change adds or deletes. For the deletion of an RRset only p.type is set, for
// the deletion of a name nothing.
std::string parse_change(const RecordChange& c, const std::string& owner_text, const Zone& z,
                         ParsedRecord& p) {
    if (c.rdata.empty() && !c.type.empty()) {
        p.type = type_from_text(c.type);
        if (p.type == 0) return "unknown record type '" + c.type + "'";
        if (const RRType* t = rr_type(p.type); t && t->has(rr_flag::meta))
            return std::string(t->mnemonic) + " is a query type, not zone data";
    } else if (!c.rdata.empty()) {
        const std::string text = owner_text + " " + (c.ttl ? std::to_string(*c.ttl) + " " : "") +
                                 "IN " + c.type + " " + c.rdata;
        if (std::string err = parse_record(text, z.apex_text, 3600, p); !err.empty()) return err;
        if (p.klass != class_in) return "only class IN is served";
    }
    if (p.type == rrtype::SOA && c.op != RecordChange::Op::set)
        return "the SOA can only be replaced (set), not added or deleted";
    return "";
}

// Applies one parsed change to (a copy of) its node.
std::string edit_node(const RecordChange& c, ParsedRecord& p, ZoneNode& node, bool at_apex,
                      const std::string& owner_text) {
    const bool whole = c.rdata.empty();
    switch (c.op) {
    case RecordChange::Op::set:
    case RecordChange::Op::add: {
        if (const RRType* t = rr_type(p.type); t && t->has(rr_flag::apex_only) && !at_apex)
            return "an " + std::string(t->mnemonic) + " belongs at the apex";
        if (!c.ttl)  // keep the RRset's TTL when none is given
            if (const auto rs = node.find(p.type)) p.ttl = rs->ttl;
        if (c.op == RecordChange::Op::set) remove_records(node, p.type, nullptr);
        std::string warning;
        return add_record(node, p, &warning);
    }
    case RecordChange::Op::del:
        if (remove_records(node, p.type, whole ? nullptr : &p.rdata) == 0)
            return "nothing to delete at " + owner_text +
                   (c.type.empty() ? "" : " " + c.type + (whole ? "" : " " + c.rdata));
        return "";
    }
    return "";
}

bool same_node(const ZoneNode* live, const ZoneNode& staged) {
    if (live == nullptr) return staged.empty();
    auto a = live->rrsets().begin(), b = staged.rrsets().begin();
    const auto a_end = live->rrsets().end(), b_end = staged.rrsets().end();
    for (; a != a_end && b != b_end; ++a, ++b) {
        const RRset x = *a, y = *b;
        if (x.type != y.type || x.ttl != y.ttl || x.rdata.bytes() != y.rdata.bytes() ||
            !std::equal(x.rdata.begin(), x.rdata.end(), y.rdata.begin()))
            return false;
    }
    return a == a_end && b == b_end;
}

// Drops the staged nodes that equal the live ones, and the zones left with none.
void drop_unchanged(std::map<Zone*, std::map<std::string, ZoneNode>>& per_zone) {
    for (auto z = per_zone.begin(); z != per_zone.end();) {
        std::erase_if(z->second, [&](const auto& kv) {
            return same_node(z->first->find(kv.first), kv.second);
        });
        z = z->second.empty() ? per_zone.erase(z) : std::next(z);
    }
}

uint32_t soa_serial(const std::optional<RRset>& soa) {
    if (!soa || soa->rdata.empty()) return 0;
    const std::string_view rd = soa->rdata[0];
    const size_t at = soa_serial_offset(rd);
    return at == std::string::npos ? 0 : load32(reinterpret_cast<const uint8_t*>(rd.data()) + at);
}

}  // namespace

size_t ZoneStore::load(const std::vector<ZoneConfig>& zones, std::vector<std::string>* loaded,
                       std::vector<std::string>* errors) {
    size_t failed = 0;
    for (const auto& zc : zones) {
        if (zc.file.empty()) continue;  // a secondary without a copy on disk: transferred first
        const auto t0 = std::chrono::steady_clock::now();
        LoadResult r = load_zone_file(zc.name, zc.file);
        for (const auto& d : r.diags) {
            log(d.error ? LogLevel::error : LogLevel::warning, d.str());
            if (d.error && errors) errors->push_back(d.str());
        }
        if (!r.ok()) {
            ++failed;
            log_error("zone " + zc.name + " not loaded from " + zc.file +
                      (zones_.count(zone_key(zc.name)) ? "; the previous version keeps serving"
                                                       : "; it is not served") +
                      ". Fix the errors above and reload (SIGHUP).");
            continue;
        }
        const double ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count();
        log_info("zone " + r.zone->apex_text + " loaded from " + zc.file + ": serial " +
                 std::to_string(r.zone->serial()) + ", " + std::to_string(r.zone->nodes.size()) +
                 " names, " + std::to_string(int(ms)) + " ms");
        if (loaded) loaded->push_back(r.zone->apex_text);
        std::string key = r.zone->apex;
        ZoneHistory& h = history_[key];
        h.set_depth(zc.ixfr_history);
        if (const auto old = zones_.find(key); old != zones_.end())
            record_reload(*old->second, *r.zone, h);
        zones_[key] = std::move(r.zone);
    }
    return failed;
}

void ZoneStore::record_reload(const Zone& before, const Zone& after, ZoneHistory& h) {
    ZoneDelta d;
    d.old_soa = soa_record(before);
    d.new_soa = soa_record(after);
    for (const auto& [key, node] : before.nodes) diff_node(key, &node, after.find(key), d);
    for (const auto& [key, node] : after.nodes)
        if (before.find(key) == nullptr) diff_node(key, nullptr, &node, d);
    if (d.removed.empty() && d.added.empty() && d.old_soa == d.new_soa) return;
    if (!serial_gt(d.to(), d.from())) {
        // Secondaries see a change only by a higher serial; IXFR's history starts anew.
        log_info("zone " + after.apex_text + " changed in its file without a higher serial (" +
                 std::to_string(d.from()) + " -> " + std::to_string(d.to()) +
                 "): secondaries will not see the change until the serial goes up");
        h.clear();
        return;
    }
    h.add(std::move(d));
}

const ZoneHistory* ZoneStore::history(const std::string& apex) const {
    auto it = history_.find(apex);
    return it == history_.end() ? nullptr : &it->second;
}

ZoneHistory* ZoneStore::history(const std::string& apex) {
    auto it = history_.find(apex);
    return it == history_.end() ? nullptr : &it->second;
}

bool ZoneStore::remove(const std::string& zone_name) {
    return remove_zone(zone_key(zone_name));
}

std::vector<const Zone*> ZoneStore::zones() const {
    std::vector<const Zone*> out;
    for (const auto& [k, z] : zones_) out.push_back(z.get());
    return out;
}

const Zone* ZoneStore::find(const std::string& zone_name) const {
    auto it = zones_.find(zone_key(zone_name));
    return it == zones_.end() ? nullptr : it->second.get();
}

ZoneNode& ZoneStore::Scratch::node(Zone& z, const std::string& key) {
    auto& nodes = per_zone[&z];
    auto it = nodes.find(key);
    if (it != nodes.end()) return it->second;
    const ZoneNode* live = z.find(key);
    return nodes[key] = live ? *live : ZoneNode{};
}

std::string ZoneStore::stage(const RecordChange& c, Scratch& scratch) {
    auto zit = zones_.find(zone_key(c.zone));
    if (zit == zones_.end()) return "no zone " + c.zone + " is served";
    Zone& z = *zit->second;
    const std::string owner_text = master_text::absolute(c.name, z.apex_text);
    const std::string owner_wire = text_to_wire(owner_text);
    if (owner_wire.empty()) return "'" + c.name + "' is not a valid name";
    const std::string key = lower_key(owner_wire);
    if (!is_subdomain(key, z.apex)) return owner_text + " is not in zone " + z.apex_text;
    ParsedRecord p;
    if (std::string err = parse_change(c, owner_text, z, p); !err.empty()) return err;
    return edit_node(c, p, scratch.node(z, key), key == z.apex, owner_text);
}

ChangeOutcome ZoneStore::apply(const std::vector<RecordChange>& changes,
                               const std::function<std::string()>& commit) {
    ChangeOutcome out;
    Scratch scratch;  // nothing live changes until every change is valid
    for (size_t i = 0; i < changes.size(); ++i)
        if (std::string err = stage(changes[i], scratch); !err.empty()) {
            out.error = (changes.size() > 1 ? "change " + std::to_string(i + 1) + ": " : "") + err;
            return out;
        }
    return finish(scratch, commit, false);
}

ChangeOutcome ZoneStore::finish(Scratch& scratch, const std::function<std::string()>& commit,
                                bool only_changed) {
    ChangeOutcome out;
    if (only_changed) drop_unchanged(scratch.per_zone);
    // Whole-zone rules, then the serial.
    for (auto& [z, nodes] : scratch.per_zone) {
        ZoneNode& apex = scratch.node(*z, z->apex);
        for (const std::string& p : apex_problems(apex.empty() ? nullptr : &apex))
            return out.error = "zone " + z->apex_text + " would lose its apex " + p, out;
        const std::optional<RRset> soa = apex.find(rrtype::SOA);
        if (!only_changed || soa_serial(soa) == z->serial()) bump_serial(apex);
    }
    if (scratch.per_zone.empty()) return out;
    if (std::string err = commit(); !err.empty()) return out.error = err, out;
    for (auto& [z, nodes] : scratch.per_zone) {
        auto& changed = out.changed[z->apex];
        ZoneDelta d;
        d.old_soa = soa_record(*z);
        for (auto& [key, node] : nodes) {
            diff_node(key, z->find(key), node.empty() ? nullptr : &node, d);
            if (node.empty())
                z->nodes.erase(key);
            else
                z->nodes[key] = std::move(node);
            changed.push_back(key);
        }
        d.new_soa = soa_record(*z);
        history_[z->apex].add(std::move(d));
        out.serials[z->apex_text] = z->serial();
    }
    return out;
}

}  // namespace anamed
