#include "catalog.hpp"

#include <map>
#include <set>

#include "anamed/wire.hpp"
#include "xfr_in.hpp"
#include "zone_edit.hpp"

namespace anamed {
namespace {

// The wire name `label` . `parent` (both wire; label as one label's text).
std::string child(std::string_view label, std::string_view parent) {
    std::string out(1, char(label.size()));
    out.append(label);
    out.append(parent);
    return out;
}

// Labels of `key` above `base` (a suffix of it), outermost last: {"u1"} for u1.zones.$CATZ.
std::vector<std::string> labels_below(std::string_view key, std::string_view base) {
    std::vector<std::string> out;
    std::string_view rest = key;
    while (rest.size() > base.size()) {
        const size_t len = uint8_t(rest[0]);
        out.emplace_back(rest.substr(1, len));
        rest = rest.substr(1 + len);
    }
    return out;
}

std::string check_version(const Zone& catalog) {
    const std::string where = "version." + catalog.apex_text;
    const ZoneNode* v = catalog.find(child("version", catalog.apex));
    const std::optional<RRset> txt = v ? v->find(rrtype::TXT) : std::nullopt;
    if (!txt) return "no " + where + " TXT record: not a catalog zone of RFC 9432";
    if (txt->rdata.size() != 1) return where + " has more than one TXT record";
    const std::string_view rd = txt->rdata[0];
    if (rd != std::string_view("\0012", 2))
        return where + " TXT is not \"2\": a catalog version this server does not read";
    return "";
}

}  // namespace

std::string read_catalog(const Zone& catalog, CatalogContents& out) {
    out = CatalogContents{};
    if (std::string err = check_version(catalog); !err.empty()) return err;
    const std::string zones = child("zones", catalog.apex);
    std::map<std::string, CatalogMember> by_label;  // the unique-N labels in order
    for (const auto& [key, node] : catalog.nodes) {
        const std::string_view k = key.view();
        if (k.size() <= zones.size() || !is_subdomain(k, zones)) continue;
        const std::vector<std::string> below = labels_below(k, zones);
        const std::string& label = below.back();
        const std::optional<RRset> ptr = node.find(rrtype::PTR);
        if (below.size() == 2 && below[0] == "coo" && ptr && ptr->rdata.size() > 1)
            return "coo." + label + ".zones." + catalog.apex_text + " has more than one PTR";
        if (below.size() != 1 || !ptr) continue;  // a property of a member: nothing to do
        if (ptr->rdata.size() != 1)
            return label + ".zones." + catalog.apex_text + " has more than one PTR record";
        const std::string_view target = ptr->rdata[0];
        by_label[label] = CatalogMember{label, lower_key(target), name_to_text(target)};
    }
    std::set<std::string> seen;
    for (auto& [label, m] : by_label) {
        if (m.apex.empty() || is_subdomain(m.apex, catalog.apex)) {
            out.skipped.push_back("member " + m.text + " (" + label +
                                  ") is the catalog or inside it: skipped");
            continue;
        }
        if (!seen.insert(m.apex).second) {
            out.skipped.push_back("member " + m.text + " is listed again at " + label +
                                  ": only its first label is used");
            continue;
        }
        out.members.push_back(std::move(m));
    }
    return "";
}

std::string catalog_label(std::string_view member_apex) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char c : lower_key(member_apex)) {
        h ^= uint8_t(c);
        h *= 0x100000001b3ull;
    }
    static const char hex[] = "0123456789abcdef";
    std::string s(16, '0');
    for (int i = 15; i >= 0; --i, h >>= 4) s[size_t(i)] = hex[h & 15];
    return s;
}

std::unique_ptr<Zone> generate_catalog(const std::string& apex_text, uint32_t serial,
                                       const std::vector<std::string>& members,
                                       std::string& error) {
    const std::string apex = lower_key(text_to_wire(apex_text));
    ZoneBuilder b(apex);
    auto add = [&](const std::string& text) {
        ParsedRecord p;
        if (error.empty()) error = parse_record(text, apex_text, 0, p);
        if (error.empty()) error = b.add(Record{p.owner, p.type, p.ttl, p.rdata});
    };
    add(apex_text + " 0 IN SOA invalid. invalid. " + std::to_string(serial) +
        " 3600 600 2147483646 0");
    add(apex_text + " 0 IN NS invalid.");
    add("version." + apex_text + " 0 IN TXT \"2\"");
    std::set<std::string> labels;
    for (const std::string& m : members) {
        std::string text = m.empty() || m.back() != '.' ? m + "." : m;
        std::string label = catalog_label(text_to_wire(text));
        while (!labels.insert(label).second) label += "x";  // a collision: still unique
        add(label + ".zones." + apex_text + " 0 IN PTR " + text);
    }
    if (!error.empty()) return nullptr;
    return b.finish(error);
}

}  // namespace anamed
