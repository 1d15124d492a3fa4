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

bool dnssec_meta(uint16_t type) { return type == 46 || type == 47; }  // RRSIG, NSEC

class Inserter {
public:
    Inserter(Zone& zone, std::vector<Diagnostic>& diags) : zone_(zone), diags_(diags) {}

    void add(const MasterRecord& rec, const std::string& file, const Parsed& p) {
        auto err = [&](const std::string& m) { diags_.push_back({file, rec.line, m, true}); };
        if (p.klass != class_in) return err("only class IN is served");
        const std::string key = lower_key(p.owner);
        if (!is_subdomain(key, zone_.apex)) {
            diags_.push_back({file, rec.line,
                              "out-of-zone record for " + name_to_text(p.owner) + " ignored (zone is " +
                                  zone_.apex_text + ")",
                              false});
            return;
        }
        if (p.type == rrtype::SOA && key != zone_.apex) {
            diags_.push_back({file, rec.line, "SOA below the apex ignored", false});
            return;
        }
        ZoneNode& node = zone_.nodes[key];
        if (node.owner.empty()) node.owner = p.owner;
        const std::string owner = name_to_text(p.owner);
        const bool has_cname = node.find(rrtype::CNAME) != nullptr;
        if (p.type == rrtype::CNAME) {
            for (const auto& rs : node.rrsets)
                if (rs.type != rrtype::CNAME && !dnssec_meta(rs.type))
                    return err("CNAME beside other data at " + owner +
                               " (RFC 1034 §3.6.2); to point a name that has other records at "
                               "another host, use ALIAS instead of CNAME");
        } else if (has_cname && !dnssec_meta(p.type)) {
            return err("data beside a CNAME at " + owner +
                       " (RFC 1034 §3.6.2); use ALIAS instead of CNAME to keep both");
        }
        auto it = std::lower_bound(node.rrsets.begin(), node.rrsets.end(), p.type,
                                   [](const RRset& r, uint16_t t) { return r.type < t; });
        if (it == node.rrsets.end() || it->type != p.type) {
            it = node.rrsets.insert(it, RRset{p.type, p.ttl, {}});
        } else if (std::find(it->rdata.begin(), it->rdata.end(), p.rdata) != it->rdata.end()) {
            return;  // duplicate record: RRsets are sets
        } else if (p.type == rrtype::CNAME || p.type == rrtype::DNAME) {
            return err("more than one " + std::string(p.type == rrtype::CNAME ? "CNAME" : "DNAME") +
                       " at " + owner);
        } else if (p.type == rrtype::ALIAS) {
            return err("more than one ALIAS at " + owner + "; a name follows one target");
        } else if (p.type == rrtype::SOA) {
            return err("more than one SOA at the apex");
        } else if (it->ttl != p.ttl) {
            diags_.push_back({file, rec.line,
                              "TTL " + std::to_string(p.ttl) + " differs from the RRset's TTL " +
                                  std::to_string(it->ttl) + " at " + owner + "; using " +
                                  std::to_string(std::min(it->ttl, p.ttl)),
                              false});
            it->ttl = std::min(it->ttl, p.ttl);
        }
        it->rdata.push_back(p.rdata);
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
