// Zone loading in three stages, pipelined a batch at a time: read the master file(s) into
// logical records (directives, parentheses, comments, blank owners resolved), parse the
// records with ldns in parallel, then insert them in file order with the consistency checks.
#include "zone_loader.hpp"

#include <sys/stat.h>
#include <tbb/concurrent_queue.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "anamed/rr_types.hpp"
#include "anamed/wire.hpp"
#include "master_text.hpp"
#include "record_parser.hpp"
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

    // `key`: p's owner in lower case; `hash`: NodeMap::hash(key). `run_bytes`: at the first
    // record of a run of one owner, what the run's records take in the node at most.
    void add(const MasterRecord& rec, const std::string& file, const ParsedRecord& p,
             const std::string& key, uint64_t hash, size_t run_bytes) {
        auto diag = [&](const std::string& m, bool error) {
            diags_.push_back({file, rec.line, m, error});
        };
        if (p.klass != class_in) return diag("only class IN is served", true);
        // Records of one owner usually follow each other: one lookup for all of them.
        if (p.owner != last_owner_) {
            last_owner_ = p.owner;
            last_node_ = nullptr;
            last_is_apex_ = key == zone_.apex;
            if (is_subdomain(key, zone_.apex)) {
                last_node_ = &zone_.nodes.at_or_add(key, hash);
                last_node_->reserve(run_bytes);  // one allocation for the run, not one per record
            }
        }
        if (last_node_ == nullptr)
            return diag("out-of-zone record for " + name_to_text(p.owner) + " ignored (zone is " +
                            zone_.apex_text + ")",
                        false);
        if (const RRType* t = rr_type(p.type); t && t->has(rr_flag::apex_only) && !last_is_apex_)
            return diag(std::string(t->mnemonic) + " below the apex ignored", false);
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

// Records per batch. Small enough that the batches in flight (the queue holds 2) stay in the
// L2 cache between the reading thread writing them and the parser reading them: at 16384,
// the parser's first touch of each record's text was a cache miss, and loading the 1M zone
// took ~25% longer.
constexpr size_t batch_size = 2048;

struct Batch {
    std::vector<MasterRecord> records;
    // The file names and origins the records refer to, as far as the reader had got.
    std::shared_ptr<const std::vector<std::string>> files, origins;
};

// Between the reading thread and the loading one: full batches one way, spent ones back.
class BatchQueue {
public:
    BatchQueue() { full_.set_capacity(2); }
    // Read on the loading thread itself, all before loading: no bound on the batches held.
    void unbounded() { full_.set_capacity(1 << 20); }

    // The reading thread: every record of the file, then a null batch.
    void read(const std::string& path, const std::string& origin, std::vector<Diagnostic>& diags) {
        try {
            MasterFile master;
            auto cur = std::make_unique<Batch>();
            size_t used = 0;  // records of *cur filled; a recycled batch keeps its strings' buffers
            auto hand_over = [&] {
                cur->records.resize(used);
                if (!files_ || files_->size() != master.files.size())
                    files_ = std::make_shared<const std::vector<std::string>>(master.files);
                if (!origins_ || origins_->size() != master.origins.size())
                    origins_ = std::make_shared<const std::vector<std::string>>(master.origins);
                cur->files = files_;
                cur->origins = origins_;
                full_.push(std::move(cur));
                if (!spent_.try_pop(cur)) cur = std::make_unique<Batch>();
                used = 0;
            };
            read_master_file(path, origin, master, diags, [&](MasterRecord& rec) {
                if (used == cur->records.size()) cur->records.emplace_back();
                std::swap(cur->records[used], rec);  // the reader refills the old slot's buffers
                if (++used == batch_size) hand_over();
            });
            hand_over();
        } catch (const tbb::user_abort&) {
            return;  // the loading side gave up
        } catch (...) {
            error_ = std::current_exception();
        }
        try {
            full_.push(nullptr);
        } catch (const tbb::user_abort&) {
        }
    }

    std::unique_ptr<Batch> next() {
        std::unique_ptr<Batch> b;
        full_.pop(b);
        return b;
    }
    void recycle(std::unique_ptr<Batch> b) { spent_.push(std::move(b)); }
    void abort() { full_.abort(); }
    // After the reader is joined: what it failed with, if anything.
    void rethrow() const {
        if (error_) std::rethrow_exception(error_);
    }

private:
    tbb::concurrent_bounded_queue<std::unique_ptr<Batch>> full_;
    tbb::concurrent_queue<std::unique_ptr<Batch>> spent_;
    std::shared_ptr<const std::vector<std::string>> files_, origins_;
    std::exception_ptr error_;
};

}  // namespace

void check_zone(const Zone& zone, std::vector<Diagnostic>& diags) {
    for (const std::string& p : apex_problems(zone.find(zone.apex)))
        diags.push_back({zone.file, 0,
                         "no " + p + " at the apex " + zone.apex_text + "; add the missing records",
                         true});
}

namespace {

// The zone named `origin_text`, empty, or null with a diagnostic when that is not a name.
std::unique_ptr<Zone> new_zone(std::string_view origin_text, const std::string& path,
                               std::vector<Diagnostic>& diags) {
    auto zone = std::make_unique<Zone>();
    zone->file = path;
    zone->apex_text = master_text::absolute(origin_text, ".");
    const std::string apex_wire = text_to_wire(zone->apex_text);
    if (apex_wire.empty()) {
        diags.push_back({path, 0,
                         "zone name '" + std::string(origin_text) + "' is not a valid domain name",
                         true});
        return nullptr;
    }
    zone->apex = lower_key(apex_wire);
    std::error_code size_error;
    const auto bytes = std::filesystem::file_size(path, size_error);
    if (!size_error)
        zone->nodes.reserve(bytes / 64);  // names take 64 bytes of text or more: no rehash
    return zone;
}

// The loading thread's work on one batch: parse its records (on all cores), then insert
// them in file order. The vectors are as many as the largest batch, reused.
class BatchLoader {
public:
    BatchLoader(Zone& zone, std::vector<Diagnostic>& diags)
        : zone_(zone), diags_(diags), inserter_(zone, diags) {}

    void load(const Batch& batch) {
        if (parsed_.size() < batch.records.size()) {
            parsed_.resize(batch.records.size());
            errors_.resize(batch.records.size());
            keys_.resize(batch.records.size());
            hashes_.resize(batch.records.size());
        }
        parse(batch);
        insert(batch);
    }

private:
    void make_key(size_t i) {
        keys_[i].assign(parsed_[i].owner);
        lower_in_place(keys_[i]);
        hashes_[i] = NodeMap::hash(keys_[i]);
    }

    void parse(const Batch& batch) {
        const auto& recs = batch.records;
        auto one = [&](size_t i) {
            // The reading thread wrote these texts a batch ago: fetch a few records ahead.
            if (i + 4 < recs.size()) prefetch(recs[i + 4].text.data());
            errors_[i] = parse_master_record(recs[i], (*batch.origins)[recs[i].origin], parsed_[i]);
            if (i == 0 || !recs[i].same_owner) make_key(i);  // else the previous one's (below)
        };
        // A small zone's few records: waking the pool would cost more than parsing them.
        if (recs.size() < 256)
            for (size_t i = 0; i < recs.size(); ++i) one(i);
        else
            tbb::parallel_for(size_t(0), recs.size(), one);
        // Most records repeat the owner before them: its key, made in order. Made afresh
        // when that record did not parse (its owner may not have been read).
        for (size_t i = 1; i < recs.size(); ++i) {
            if (!recs[i].same_owner) continue;
            if (errors_[i - 1].empty()) {
                keys_[i] = keys_[i - 1];
                hashes_[i] = hashes_[i - 1];
            } else {
                make_key(i);
            }
        }
    }

    void insert(const Batch& batch) {
        const auto& recs = batch.records;
        // Names are found in the node map's index in a random order: the slot of the name a
        // few records on is fetched while this one is inserted.
        constexpr size_t ahead = 16;
        for (size_t i = 0; i < std::min(ahead, recs.size()); ++i) zone_.nodes.prefetch(hashes_[i]);
        size_t run_end = 0;  // records [i, run_end) repeat the owner of record i
        for (size_t i = 0; i < recs.size(); ++i) {
            if (i + ahead < recs.size()) zone_.nodes.prefetch(hashes_[i + ahead]);
            size_t run_bytes = 0;  // a hint for the node's allocation
            if (i == run_end)
                for (run_end = i;
                     run_end < recs.size() && (run_end == i || recs[run_end].same_owner); ++run_end)
                    if (errors_[run_end].empty())
                        run_bytes += ZoneNode::record_bytes(parsed_[run_end].rdata.size());
            const std::string& file = (*batch.files)[recs[i].file];
            if (errors_[i].empty())
                inserter_.add(recs[i], file, parsed_[i], keys_[i], hashes_[i], run_bytes);
            else
                diags_.push_back({file, recs[i].line, errors_[i], true});
        }
    }

    Zone& zone_;
    std::vector<Diagnostic>& diags_;
    Inserter inserter_;
    std::vector<ParsedRecord> parsed_;
    std::vector<std::string> errors_, keys_;  // keys: the owners in lower case
    std::vector<uint64_t> hashes_;            // and their NodeMap::hash
};

}  // namespace

LoadResult load_zone_file(std::string_view origin_text, const std::string& path) {
    LoadResult result;
    std::unique_ptr<Zone> zone = new_zone(origin_text, path, result.diags);
    if (zone == nullptr) return result;
    // A pipeline of batches: one thread reads the file(s) into records while this one parses
    // the previous batch (on all cores) and inserts it in file order. A few batches of text
    // are held at a time, never the whole file.
    // A small file (a customer's zone among 100,000) is read first on this thread: a thread
    // per zone would cost more than the zone.
    BatchQueue queue;
    std::vector<Diagnostic> read_diags;
    struct stat st {};
    std::thread reader;
    if (stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size < 65536) {
        queue.unbounded();
        queue.read(path, zone->apex_text, read_diags);
    } else {
        reader = std::thread([&] { queue.read(path, zone->apex_text, read_diags); });
    }
    BatchLoader loader(*zone, result.diags);
    try {
        while (std::unique_ptr<Batch> batch = queue.next()) {
            loader.load(*batch);
            queue.recycle(std::move(batch));
        }
    } catch (...) {
        queue.abort();
        if (reader.joinable()) reader.join();
        throw;
    }
    if (reader.joinable()) reader.join();
    queue.rethrow();
    result.diags.insert(result.diags.begin(), read_diags.begin(), read_diags.end());
    check_zone(*zone, result.diags);
    const bool failed = std::any_of(result.diags.begin(), result.diags.end(),
                                    [](const Diagnostic& d) { return d.error; });
    if (!failed) result.zone = std::move(zone);
    return result;
}

}  // namespace anamed
