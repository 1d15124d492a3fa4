#include "zone_store.hpp"

#include "ldns.hpp"
#include <strings.h>

#include <chrono>

#include "anamed/wire.hpp"
#include "log.hpp"
#include "zone_edit.hpp"
#include "zone_loader.hpp"

namespace anamed {

size_t ZoneStore::load(const std::vector<ZoneConfig>& zones, std::vector<std::string>* loaded,
                       std::vector<std::string>* errors) {
    size_t failed = 0;
    for (const auto& zc : zones) {
        const auto t0 = std::chrono::steady_clock::now();
        LoadResult r = load_zone_file(zc.name, zc.file);
        for (const auto& d : r.diags) {
            log(d.error ? LogLevel::error : LogLevel::warning, d.str());
            if (d.error && errors) errors->push_back(d.str());
        }
        if (!r.ok()) {
            ++failed;
            const std::string key = lower_key(text_to_wire(zc.name + (zc.name.back() == '.' ? "" : ".")));
            log_error("zone " + zc.name + " not loaded from " + zc.file +
                      (zones_.count(key) ? "; the previous version keeps serving" : "; it is not served") +
                      ". Fix the errors above and reload (SIGHUP).");
            continue;
        }
        const double ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        log_info("zone " + r.zone->apex_text + " loaded from " + zc.file + ": serial " +
                 std::to_string(r.zone->serial()) + ", " + std::to_string(r.zone->nodes.size()) +
                 " names, " + std::to_string(int(ms)) + " ms");
        if (loaded) loaded->push_back(r.zone->apex_text);
        std::string key = r.zone->apex;
        zones_[key] = std::move(r.zone);
    }
    return failed;
}

std::vector<const Zone*> ZoneStore::zones() const {
    std::vector<const Zone*> out;
    for (const auto& [k, z] : zones_) out.push_back(z.get());
    return out;
}

}  // namespace anamed

namespace anamed {
namespace {

std::string zone_key(const std::string& name) {
    return lower_key(text_to_wire(name.empty() || name.back() != '.' ? name + "." : name));
}

// The owner in presentation form, absolute.
std::string absolute_owner(const std::string& name, const Zone& z) {
    if (name == "@" || name.empty()) return z.apex_text;
    if (name.back() == '.') return name;
    return name + "." + z.apex_text;
}

}  // namespace

const Zone* ZoneStore::find(const std::string& zone_name) const {
    auto it = zones_.find(zone_key(zone_name));
    return it == zones_.end() ? nullptr : it->second.get();
}

ChangeOutcome ZoneStore::apply(const std::vector<RecordChange>& changes, const std::function<std::string()>& commit) {
    ChangeOutcome out;
    // Copies of every touched node, per zone; nothing live changes until all are valid.
    std::map<Zone*, std::map<std::string, ZoneNode>> scratch;
    auto node_for = [&](Zone& z, const std::string& key) -> ZoneNode& {
        auto& nodes = scratch[&z];
        auto it = nodes.find(key);
        if (it != nodes.end()) return it->second;
        const ZoneNode* live = z.find(key);
        return nodes[key] = live ? *live : ZoneNode{};
    };
    for (size_t i = 0; i < changes.size(); ++i) {
        const RecordChange& c = changes[i];
        auto fail = [&](const std::string& m) {
            out.error = (changes.size() > 1 ? "change " + std::to_string(i + 1) + ": " : "") + m;
            return out;
        };
        auto zit = zones_.find(zone_key(c.zone));
        if (zit == zones_.end()) return fail("no zone " + c.zone + " is served");
        Zone& z = *zit->second;
        const std::string owner_text = absolute_owner(c.name, z);
        const std::string owner_wire = text_to_wire(owner_text);
        if (owner_wire.empty()) return fail("'" + c.name + "' is not a valid name");
        const std::string key = lower_key(owner_wire);
        if (!is_subdomain(key, z.apex)) return fail(owner_text + " is not in zone " + z.apex_text);
        ZoneNode& node = node_for(z, key);

        ParsedRecord p;
        const bool whole = c.rdata.empty();  // del of an RRset (type given) or of the name
        if (whole && !c.type.empty()) {
            const bool alias = strcasecmp(c.type.c_str(), "ALIAS") == 0 || strcasecmp(c.type.c_str(), "ANAME") == 0;
            p.type = alias ? rrtype::ALIAS : uint16_t(ldns_get_rr_type_by_name(c.type.c_str()));
            if (p.type == 0) return fail("unknown record type '" + c.type + "'");
        } else if (!whole) {
            const std::string text =
                owner_text + " " + (c.ttl ? std::to_string(*c.ttl) + " " : "") + "IN " + c.type + " " + c.rdata;
            if (std::string err = parse_record(text, z.apex_text, 3600, p); !err.empty()) return fail(err);
            if (p.klass != class_in) return fail("only class IN is served");
        }
        if (p.type == rrtype::SOA && c.op != RecordChange::Op::set)
            return fail("the SOA can only be replaced (set), not added or deleted");
        switch (c.op) {
        case RecordChange::Op::set:
        case RecordChange::Op::add: {
            if (p.type == rrtype::SOA && key != z.apex) return fail("an SOA belongs at the apex");
            if (!c.ttl)  // keep the RRset's TTL when none is given
                if (const auto rs = node.find(p.type)) p.ttl = rs->ttl;
            if (c.op == RecordChange::Op::set) remove_records(node, p.type, nullptr);
            std::string warning;
            const std::string err = add_record(node, p, &warning);
            if (!err.empty()) return fail(err);
            break;
        }
        case RecordChange::Op::del:
            if (remove_records(node, p.type, whole ? nullptr : &p.rdata) == 0)
                return fail("nothing to delete at " + owner_text +
                            (c.type.empty() ? "" : " " + c.type + (whole ? "" : " " + c.rdata)));
            break;
        }
    }
    // Whole-zone rules, then the serial.
    for (auto& [z, nodes] : scratch) {
        const auto it = nodes.find(z->apex);
        const ZoneNode* apex = it != nodes.end() ? &it->second : z->find(z->apex);
        if (!apex || !apex->find(rrtype::SOA)) return out.error = "zone " + z->apex_text + " would lose its SOA", out;
        if (!apex->find(rrtype::NS)) return out.error = "zone " + z->apex_text + " would lose its apex NS records", out;
        ZoneNode& a = node_for(*z, z->apex);
        bump_serial(a);
    }
    if (std::string err = commit(); !err.empty()) return out.error = err, out;
    for (auto& [z, nodes] : scratch) {
        auto& changed = out.changed[z->apex];
        for (auto& [key, node] : nodes) {
            if (node.empty()) z->nodes.erase(key);
            else z->nodes[key] = std::move(node);
            changed.push_back(key);
        }
        out.serials[z->apex_text] = z->serial();
    }
    return out;
}

}  // namespace anamed
