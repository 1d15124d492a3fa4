// Zone loading in three passes: read the master file(s) into logical records
// (directives, parentheses, comments, blank owners resolved), parse the records with ldns
// in parallel, then insert them in file order with the consistency checks, a batch at a time.
#include "zone_loader.hpp"

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

class Inserter {
public:
    Inserter(Zone& zone, std::vector<Diagnostic>& diags) : zone_(zone), diags_(diags) {}

    void add(const MasterRecord& rec, const std::string& file, const ParsedRecord& p) {
        auto diag = [&](const std::string& m, bool error) { diags_.push_back({file, rec.line, m, error}); };
        if (p.klass != class_in) return diag("only class IN is served", true);
        // Records of one owner usually follow each other: one lookup for all of them.
        if (p.owner != last_owner_) {
            std::string key = lower_key(p.owner);
            last_owner_ = p.owner;
            last_node_ = nullptr;
            last_is_apex_ = key == zone_.apex;
            if (is_subdomain(key, zone_.apex)) last_node_ = &zone_.nodes[std::move(key)];
        }
        if (last_node_ == nullptr)
            return diag("out-of-zone record for " + name_to_text(p.owner) + " ignored (zone is " + zone_.apex_text + ")",
                        false);
        if (p.type == rrtype::SOA && !last_is_apex_) return diag("SOA below the apex ignored", false);
        std::string warning;
        const std::string err = add_record(*last_node_, p, &warning);
        if (!err.empty()) diag(err, true);
        if (!warning.empty()) diag(warning, false);
    }

private:
    Zone& zone_;
    std::vector<Diagnostic>& diags_;
    std::string last_owner_;  // wire, as written
    ZoneNode* last_node_ = nullptr;
    bool last_is_apex_ = false;
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

    // Records stream through in batches: read (one thread), parse (all cores), insert in file
    // order; only one batch of text is held at a time.
    constexpr size_t batch_size = 16384;
    MasterFile master;
    std::vector<MasterRecord> batch;
    std::vector<ParsedRecord> parsed(batch_size);
    std::vector<std::string> errors(batch_size);
    batch.reserve(batch_size);
    std::error_code size_error;
    const auto bytes = std::filesystem::file_size(path, size_error);
    if (!size_error) zone->nodes.reserve(bytes / 64);  // names take 64 bytes of text or more: no rehash
    Inserter inserter(*zone, result.diags);
    auto flush = [&] {
        tbb::parallel_for(size_t(0), batch.size(), [&](size_t i) {
            errors[i] = parse_master_record(batch[i], master.origins[batch[i].origin], parsed[i]);
        });
        for (size_t i = 0; i < batch.size(); ++i) {
            const std::string& file = master.files[batch[i].file];
            if (errors[i].empty()) inserter.add(batch[i], file, parsed[i]);
            else result.diags.push_back({file, batch[i].line, errors[i], true});
        }
        batch.clear();
    };
    read_master_file(path, apex_text, master, result.diags, [&](MasterRecord&& rec) {
        batch.push_back(std::move(rec));
        if (batch.size() == batch_size) flush();
    });
    flush();
    check_zone(*zone, result.diags);
    const bool failed = std::any_of(result.diags.begin(), result.diags.end(),
                                    [](const Diagnostic& d) { return d.error; });
    if (!failed) result.zone = std::move(zone);
    return result;
}

}  // namespace anamed
