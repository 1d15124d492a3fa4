#include "alias_cache.hpp"

#include <algorithm>
#include <stdexcept>

#include "anamed/wire.hpp"
#include "lmdb_open.hpp"

namespace anamed {
namespace {

constexpr uint8_t format_version = 1;
constexpr size_t fixed_size = 1 + 8 + 4 + 4 + 2 + 2;

std::string mdb_error(const std::string& path, const char* what, int rc) {
    return "ALIAS cache " + path + ": " + what + ": " + mdb_strerror(rc);
}

void put_be(std::string& out, uint64_t v, int octets) {
    for (int i = octets - 1; i >= 0; --i) out.push_back(char(uint8_t(v >> (8 * i))));
}

uint64_t get_be(const uint8_t* p, int octets) {
    uint64_t v = 0;
    for (int i = 0; i < octets; ++i) v = v << 8 | p[i];
    return v;
}

}  // namespace

std::string encode_cached(const CachedAddresses& c) {
    std::string out;
    out.push_back(char(format_version));
    put_be(out, uint64_t(c.fetched), 8);
    put_be(out, c.ttl_a, 4);
    put_be(out, c.ttl_aaaa, 4);
    put_be(out, c.a.size(), 2);
    put_be(out, c.aaaa.size(), 2);
    for (const auto& r : c.a) out += r;
    for (const auto& r : c.aaaa) out += r;
    return out;
}

bool decode_cached(std::string_view v, CachedAddresses& out) {
    const auto* p = reinterpret_cast<const uint8_t*>(v.data());
    if (v.size() < fixed_size || p[0] != format_version) return false;
    const size_t na = get_be(p + 17, 2), naaaa = get_be(p + 19, 2);
    if (v.size() != fixed_size + 4 * na + 16 * naaaa) return false;
    CachedAddresses c;
    c.fetched = int64_t(get_be(p + 1, 8));
    c.ttl_a = uint32_t(get_be(p + 9, 4));
    c.ttl_aaaa = uint32_t(get_be(p + 13, 4));
    size_t at = fixed_size;
    for (size_t i = 0; i < na; ++i, at += 4) c.a.emplace_back(v.substr(at, 4));
    for (size_t i = 0; i < naaaa; ++i, at += 16) c.aaaa.emplace_back(v.substr(at, 16));
    out = std::move(c);
    return true;
}

AliasCache::AliasCache(const std::string& path) : path_(path) {
    int rc = mdb_env_create(&env_);
    if (rc == 0) rc = mdb_env_set_mapsize(env_, size_t(256) << 20);
    // One file (plus its -lock); no fsync per commit: sync() at the end writes it to disk.
    if (rc == 0) rc = mdb_env_open(env_, path_.c_str(), MDB_NOSUBDIR | MDB_NOSYNC, 0600);
    MDB_txn* txn = nullptr;
    if (rc == 0) rc = mdb_txn_begin(env_, nullptr, 0, &txn);
    if (rc == 0) rc = mdb_dbi_open(txn, nullptr, 0, &dbi_);
    finish_lmdb_open(env_, txn, rc, "ALIAS cache " + path_ + ": cannot open");
}

AliasCache::~AliasCache() {
    if (env_) mdb_env_close(env_);
}

std::map<std::string, CachedAddresses> AliasCache::load(size_t* skipped) const {
    std::map<std::string, CachedAddresses> out;
    size_t bad = 0;
    MDB_txn* txn = nullptr;
    MDB_cursor* cur = nullptr;
    if (mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn) == 0 &&
        mdb_cursor_open(txn, dbi_, &cur) == 0) {
        MDB_val k, v;
        for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            const std::string key(static_cast<const char*>(k.mv_data), k.mv_size);
            CachedAddresses c;
            if (key.empty() || key.size() > max_name_len ||
                !decode_cached({static_cast<const char*>(v.mv_data), v.mv_size}, c))
                ++bad;
            else
                out[key] = std::move(c);
        }
        mdb_cursor_close(cur);
    }
    if (txn) mdb_txn_abort(txn);
    if (skipped) *skipped = bad;
    return out;
}

void AliasCache::put(const std::string& target, CachedAddresses c) {
    puts_[target] = encode_cached(c);
}

void AliasCache::retain_only(const std::vector<std::string>& keep) {
    std::vector<std::string> sorted = keep;
    std::sort(sorted.begin(), sorted.end());
    for (const auto& [key, c] : load())
        if (!std::binary_search(sorted.begin(), sorted.end(), key)) dels_.push_back(key);
}

std::string AliasCache::flush() {
    if (pending() == 0) return "";
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(env_, nullptr, 0, &txn);
    if (rc != 0) return mdb_error(path_, "begin", rc);
    for (auto& key : dels_) {
        MDB_val k{key.size(), key.data()};
        if (rc = mdb_del(txn, dbi_, &k, nullptr); rc == MDB_NOTFOUND) rc = 0;
        if (rc != 0) break;
    }
    for (auto it = puts_.begin(); rc == 0 && it != puts_.end(); ++it) {
        MDB_val k{it->first.size(), const_cast<char*>(it->first.data())};
        MDB_val v{it->second.size(), it->second.data()};
        rc = mdb_put(txn, dbi_, &k, &v, 0);
    }
    if (rc != 0) {
        mdb_txn_abort(txn);
        return mdb_error(path_, "write", rc);
    }
    if (rc = mdb_txn_commit(txn); rc != 0) return mdb_error(path_, "commit", rc);
    puts_.clear();
    dels_.clear();
    return "";
}

std::string AliasCache::sync() {
    if (std::string e = flush(); !e.empty()) return e;
    const int rc = mdb_env_sync(env_, 1);
    return rc == 0 ? "" : mdb_error(path_, "sync", rc);
}

}  // namespace anamed
