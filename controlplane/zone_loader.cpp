// Zone loading in three passes: read the master file(s) into logical records
// (directives, parentheses, comments, blank owners resolved), parse the records with ldns
// in parallel, then insert them in file order with the consistency checks.
#include "zone_loader.hpp"

#include <ldns/ldns.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "anamed/wire.hpp"
#include "master_reader.hpp"
#include "zone_edit.hpp"

namespace anamed {

std::string Diagnostic::str() const {
    std::string out = file;
    if (line > 0) out += ":" + std::to_string(line);
    out += error ? ": error: " : ": warning: ";
    return out + message;
}

namespace {

struct Parsed {
    ldns_status status = LDNS_STATUS_OK;
    std::string owner;  // wire
    uint16_t type = 0;
    uint16_t klass = 0;
    uint32_t ttl = 0;
    std::string rdata;  // wire
};

Parsed parse_record(const MasterRecord& rec, ldns_rdf* origin) {
    Parsed out;
    ldns_rr* rr = nullptr;
    out.status = ldns_rr_new_frm_str(&rr, rec.text.c_str(), rec.ttl, origin, nullptr);
    if (out.status != LDNS_STATUS_OK) return out;
    const ldns_rdf* owner = ldns_rr_owner(rr);
    out.owner.assign(reinterpret_cast<const char*>(ldns_rdf_data(owner)), ldns_rdf_size(owner));
    out.type = rec.alias ? rrtype::ALIAS : uint16_t(ldns_rr_get_type(rr));
    out.klass = uint16_t(ldns_rr_get_class(rr));
    out.ttl = ldns_rr_ttl(rr);
    ldns_buffer* buf = ldns_buffer_new(512);
    if (ldns_rr_rdata2buffer_wire(buf, rr) == LDNS_STATUS_OK)
        out.rdata.assign(reinterpret_cast<const char*>(ldns_buffer_begin(buf)), ldns_buffer_position(buf));
    else
        out.status = LDNS_STATUS_ERR;
    ldns_buffer_free(buf);
    ldns_rr_free(rr);
    return out;
}

class Inserter {
public:
    Inserter(Zone& zone, std::vector<Diagnostic>& diags) : zone_(zone), diags_(diags) {}

    void add(const MasterRecord& rec, const std::string& file, const Parsed& p) {
        auto diag = [&](const std::string& m, bool error) { diags_.push_back({file, rec.line, m, error}); };
        if (p.klass != class_in) return diag("only class IN is served", true);
        const std::string key = lower_key(p.owner);
        if (!is_subdomain(key, zone_.apex))
            return diag("out-of-zone record for " + name_to_text(p.owner) + " ignored (zone is " + zone_.apex_text + ")",
                        false);
        if (p.type == rrtype::SOA && key != zone_.apex) return diag("SOA below the apex ignored", false);
        std::string warning;
        const std::string err = add_record(zone_.nodes[key], ParsedRecord{p.owner, p.type, p.klass, p.ttl, p.rdata}, &warning);
        if (!err.empty()) diag(err, true);
        if (!warning.empty()) diag(warning, false);
    }

private:
    Zone& zone_;
    std::vector<Diagnostic>& diags_;
};

}  // namespace

void check_zone(const Zone& zone, std::vector<Diagnostic>& diags) {
    const ZoneNode* apex = zone.find(zone.apex);
    if (apex == nullptr || apex->find(rrtype::SOA) == nullptr)
        diags.push_back({zone.file, 0, "no SOA record at the apex " + zone.apex_text + "; add one", true});
    if (apex == nullptr || apex->find(rrtype::NS) == nullptr)
        diags.push_back({zone.file, 0, "no NS records at the apex " + zone.apex_text + "; add them", true});
}

LoadResult load_zone_file(std::string_view origin_text, const std::string& path) {
    LoadResult result;
    auto zone = std::make_unique<Zone>();
    zone->file = path;
    std::string apex_text(origin_text);
    if (apex_text.empty() || apex_text.back() != '.') apex_text += '.';
    const std::string apex_wire = text_to_wire(apex_text);
    if (apex_wire.empty()) {
        result.diags.push_back({path, 0, "zone name '" + std::string(origin_text) + "' is not a valid domain name", true});
        return result;
    }
    zone->apex = lower_key(apex_wire);
    zone->apex_text = apex_text;

    MasterFile master;
    read_master_file(path, apex_text, master, result.diags);

    std::vector<ldns_rdf*> origins;
    for (const auto& o : master.origins) origins.push_back(ldns_dname_new_frm_str(o.c_str()));
    std::vector<Parsed> parsed(master.records.size());
    tbb::parallel_for(size_t(0), master.records.size(), [&](size_t i) {
        parsed[i] = parse_record(master.records[i], origins[master.records[i].origin]);
    });
    for (ldns_rdf* o : origins) ldns_rdf_deep_free(o);

    zone->nodes.reserve(master.records.size() / 2);  // names usually carry a few records each
    Inserter inserter(*zone, result.diags);
    for (size_t i = 0; i < parsed.size(); ++i) {
        const MasterRecord& rec = master.records[i];
        const std::string& file = master.files[rec.file];
        if (parsed[i].status != LDNS_STATUS_OK) {
            result.diags.push_back({file, rec.line,
                                    std::string(ldns_get_errorstr_by_id(parsed[i].status)) +
                                        " in '" + rec.text + "'",
                                    true});
            continue;
        }
        inserter.add(rec, file, parsed[i]);
    }
    check_zone(*zone, result.diags);
    const bool failed = std::any_of(result.diags.begin(), result.diags.end(),
                                    [](const Diagnostic& d) { return d.error; });
    if (!failed) result.zone = std::move(zone);
    return result;
}

}  // namespace anamed
