// A zone's catalog-role: (interpret: a secondary whose members become zones here; generate:
// a catalog anamed writes of its zones; member: listed in one, as catalog-zone: alone says
// too) and catalog-zone: (the generated catalog that lists the zone), with knot.conf's names.
#include "yaml_reader.hpp"
#include "zone.hpp"

namespace anamed {
namespace {

std::string key_of(const std::string& name) {
    return lower_key(text_to_wire(name.empty() || name.back() != '.' ? name + "." : name));
}

}  // namespace

void parse_zone_catalog(const YAML::Node& z, const std::string& path, ZoneConfig& zc) {
    YamlReader r(path, "zone " + zc.name + ": ");
    if (auto v = z["catalog-role"]) {
        const std::string role = r.str(v, "catalog-role");
        if (role == "interpret")
            zc.catalog_role = ZoneConfig::CatalogRole::interpret;
        else if (role == "generate")
            zc.catalog_role = ZoneConfig::CatalogRole::generate;
        else if (role == "member" && !z["catalog-zone"])
            r.fail(v, "catalog-role: member needs catalog-zone: (the generated catalog)");
        else if (role != "none" && role != "member")
            r.fail(v,
                   "catalog-role must be 'interpret' (a secondary catalog whose members become "
                   "zones here), 'generate' (a catalog of this server's zones), 'member' (with "
                   "catalog-zone:, as in knot.conf) or 'none'");
        if (zc.catalog_role == ZoneConfig::CatalogRole::generate && z["file"])
            r.fail(v, "a generated catalog has no file: anamed writes it (remove file:)");
        if (zc.catalog_role == ZoneConfig::CatalogRole::generate && z["primary"])
            r.fail(v, "a generated catalog has no primary: (catalog-role: interpret reads one)");
        if (zc.catalog_role == ZoneConfig::CatalogRole::interpret && !z["primary"])
            r.fail(v, "catalog-role: interpret needs primary: (the catalog is transferred)");
    }
    if (auto v = z["catalog-zone"]) {
        zc.catalog_zone = r.str(v, "catalog-zone");
        if (key_of(zc.catalog_zone).empty())
            r.fail(v, "catalog-zone: '" + zc.catalog_zone + "' is not a zone name");
    }
}

std::string check_catalogs(const Config& c) {
    for (const ZoneConfig& z : c.zones) {
        if (z.catalog_zone.empty()) continue;
        const std::string where =
            c.source + (z.line ? ":" + std::to_string(z.line) : "") + ": zone " + z.name + ": ";
        const ZoneConfig* cat = nullptr;
        for (const ZoneConfig& o : c.zones)
            if (key_of(o.name) == key_of(z.catalog_zone)) cat = &o;
        if (cat == nullptr || cat->catalog_role != ZoneConfig::CatalogRole::generate)
            return where + "catalog-zone: " + z.catalog_zone +
                   " is not a zone with catalog-role: generate here";
        if (cat == &z) return where + "a catalog cannot list itself";
    }
    return "";
}

}  // namespace anamed
