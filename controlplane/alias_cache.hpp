// AliasCache: every upstream ALIAS target's last good addresses, kept across restarts in a
// small LMDB file of its own (beside the journal, never inside it), so that a restarted
// anamed answers the ALIAS owners' A/AAAA at once while its upstreams are slow or down.
//
// Written from the control loop in batches (put() collects, flush() commits them in one
// transaction); read once at start, before the first publish. The entries are a cache: the
// file is opened without fsync per commit (synced when anamed stops), an entry that does not
// decode is skipped, and the resolver applies the same stale limit to a restored answer as
// to one it fetched itself (AliasResolver::restore).
#pragma once

#include <lmdb.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace anamed {

// One target's last good lookup: the A and AAAA RDATA and each family's TTL, and when it was
// fetched (wall clock, seconds since the epoch: the steady clock does not survive a restart).
struct CachedAddresses {
    std::vector<std::string> a, aaaa;
    uint32_t ttl_a = 0, ttl_aaaa = 0;
    int64_t fetched = 0;

    bool operator==(const CachedAddresses&) const = default;
};

// The value format: version 1, fetched (8 octets), ttl_a, ttl_aaaa (4 each), the counts of A
// and AAAA (2 each), then the addresses (4 and 16 octets each); all in network order.
std::string encode_cached(const CachedAddresses& c);
// False when `v` is not exactly such a value (another version, a short or long value).
bool decode_cached(std::string_view v, CachedAddresses& out);

class AliasCache {
public:
    // Opens (creates) the file and its PATH-lock; throws std::runtime_error naming the path.
    explicit AliasCache(const std::string& path);
    ~AliasCache();
    AliasCache(const AliasCache&) = delete;
    AliasCache& operator=(const AliasCache&) = delete;

    const std::string& path() const { return path_; }
    // Every entry that decodes, by target (lower-case wire name); `skipped` counts the rest.
    std::map<std::string, CachedAddresses> load(size_t* skipped = nullptr) const;
    // Queues an entry for the next flush (a later put for the same target replaces it).
    void put(const std::string& target, CachedAddresses c);
    // Queues the removal of every entry whose target is not in `keep`.
    void retain_only(const std::vector<std::string>& keep);
    size_t pending() const { return puts_.size() + dels_.size(); }
    // Commits what is queued in one transaction; "" or the error (the queue is kept then).
    std::string flush();
    // flush(), then the file to disk.
    std::string sync();

private:
    std::string path_;
    MDB_env* env_ = nullptr;
    MDB_dbi dbi_ = 0;
    std::map<std::string, std::string> puts_;  // target -> encoded value
    std::vector<std::string> dels_;
};

}  // namespace anamed
