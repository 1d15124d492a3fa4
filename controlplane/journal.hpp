// The change journal: every acknowledged runtime change, durable in LMDB before the
// acknowledgement, replayed over the zone files at start and after a reload.
#pragma once

#include <lmdb.h>

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace anamed {

class Journal {
public:
    // Opens (creating) the journal file; throws std::runtime_error naming the path.
    explicit Journal(const std::string& path);
    ~Journal();
    Journal(const Journal&) = delete;
    Journal& operator=(const Journal&) = delete;

    // Appends one entry per zone (zone, batch JSON) in one transaction and commits it to
    // disk: a change touching several zones is recorded whole or not at all. "" or the error.
    std::string append(const std::vector<std::pair<std::string, std::string>>& entries);
    // Group commit: append() without waiting for the disk, then one sync() that makes every
    // such append durable. Nothing appended this way may be acknowledged before sync().
    std::string append_unsynced(const std::vector<std::pair<std::string, std::string>>& entries);
    std::string sync();
    // Calls f(zone, batch) for every entry, oldest first.
    void for_each(
        const std::function<void(const std::string& zone, const std::string& batch)>& f) const;
    // Drops a zone's entries (after its file was rewritten with them: anamectl zone flush).
    std::string drop_zone(const std::string& zone);
    size_t entries() const;
    const std::string& path() const { return path_; }

private:
    std::string path_;
    MDB_env* env_ = nullptr;
    MDB_dbi dbi_ = 0;
    uint64_t next_ = 1;
};

}  // namespace anamed
