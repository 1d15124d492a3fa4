// The change journal: every acknowledged runtime change, durable in LMDB before the
// acknowledgement, replayed over the zone files at start and after a reload. Each entry
// carries a checksum (journal_format.hpp) and the whole file is validated when it is opened
// (journal_check.hpp): a damaged journal is never replayed in part without a word.
#pragma once

#include <lmdb.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "journal_format.hpp"

namespace anamed {

// The journal failed its validation and salvaging was not asked for.
struct JournalDamaged : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class Journal {
public:
    // Opens (creating) the journal file, validating every entry first. A damaged journal
    // throws JournalDamaged naming what was lost and how to salvage it, unless `salvage`:
    // then the damaged file is moved aside and what can be read is kept, loudly logged.
    // Other failures throw std::runtime_error naming the path.
    explicit Journal(const std::string& path, bool salvage = false);
    ~Journal();
    Journal(const Journal&) = delete;
    Journal& operator=(const Journal&) = delete;

    // Appends one entry per zone (zone, batch JSON) and commits it to disk: a change touching
    // several zones is recorded whole or not at all. "" or the error.
    std::string append(const std::vector<std::pair<std::string, std::string>>& entries);
    // Group commit: appends (each whole or not at all) into one open write transaction, then
    // one sync() commits that transaction, the one write to disk for all of them. Nothing
    // appended this way may be acknowledged before sync() returns "". A failed sync() loses
    // every append since the last one. Reads see pending appends.
    std::string append_unsynced(const std::vector<std::pair<std::string, std::string>>& entries);
    std::string sync();
    // Calls f(seq, zone, batch) for every entry, oldest first. "" or the read error that
    // stopped it.
    std::string for_each(const std::function<void(uint64_t seq, const std::string& zone,
                                                  const std::string& batch)>& f) const;

    // zone flush, in two steps around the zone file's replacement. First mark_flushed():
    // "the file with serial `serial` holds this zone's entries up to now" (returned). Then,
    // once the file is in place, drop_through() deletes those entries. A crash between the
    // two leaves entries the file already holds: replay skips them when the file's serial
    // is the marked one (flushed()), so nothing is applied twice.
    std::string mark_flushed(const std::string& zone, uint32_t serial,
                             journal_format::FlushMark& mark);
    std::string drop_through(const std::string& zone, uint64_t through);
    std::optional<journal_format::FlushMark> flushed(const std::string& zone) const;

    size_t entries() const;
    const std::string& path() const { return path_; }

private:
    void open_env();
    // body in a child of the pending write transaction (begun when there is none): its
    // changes join the pending ones when it returns 0, are dropped otherwise.
    std::string write(const char* what, const std::function<int(MDB_txn*)>& body);
    // body on a transaction that sees every append: the pending one, or a read-only one.
    int read(const std::function<int(MDB_txn*)>& body) const;

    std::string path_;
    MDB_env* env_ = nullptr;
    MDB_dbi entries_ = 0, flushed_ = 0;
    MDB_txn* pending_ = nullptr;  // the open group-commit transaction, committed by sync()
    uint64_t next_ = 1;
};

}  // namespace anamed
