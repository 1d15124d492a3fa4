#include "journal.hpp"

#include <stdexcept>
#include <vector>

#include "anamed/wire.hpp"

namespace anamed {
namespace {

// Entry value: zone name, NUL, batch JSON. Key: sequence number, big-endian (sorts in order).
std::string encode(const std::string& zone, const std::string& batch) {
    return zone + '\0' + batch;
}

void split(const MDB_val& v, std::string& zone, std::string& batch) {
    const std::string s(static_cast<const char*>(v.mv_data), v.mv_size);
    const size_t nul = s.find('\0');
    zone = s.substr(0, nul);
    batch = nul == std::string::npos ? "" : s.substr(nul + 1);
}

std::string err(const char* what, int rc) {
    return std::string(what) + ": " + mdb_strerror(rc);
}

}  // namespace

Journal::Journal(const std::string& path) : path_(path) {
    int rc = mdb_env_create(&env_);
    if (rc == 0) rc = mdb_env_set_mapsize(env_, size_t(4) << 30);
    // MDB_NOSUBDIR: the journal is one file (plus its -lock). Default flags: every commit is
    // fsync'ed, which is what "durable before acknowledged" needs.
    if (rc == 0) rc = mdb_env_open(env_, path.c_str(), MDB_NOSUBDIR, 0600);
    MDB_txn* txn = nullptr;
    if (rc == 0) rc = mdb_txn_begin(env_, nullptr, 0, &txn);
    if (rc == 0) rc = mdb_dbi_open(txn, nullptr, 0, &dbi_);
    if (rc == 0) {
        MDB_cursor* cur = nullptr;
        MDB_val k, v;
        if (mdb_cursor_open(txn, dbi_, &cur) == 0 && mdb_cursor_get(cur, &k, &v, MDB_LAST) == 0 &&
            k.mv_size == 8) {
            const auto* p = static_cast<const uint8_t*>(k.mv_data);
            next_ = (uint64_t(load32(p)) << 32 | load32(p + 4)) + 1;
        }
        if (cur) mdb_cursor_close(cur);
        rc = mdb_txn_commit(txn);
    } else if (txn) {
        mdb_txn_abort(txn);
    }
    if (rc != 0) {
        if (env_) mdb_env_close(env_);
        env_ = nullptr;
        throw std::runtime_error("journal " + path + ": " + mdb_strerror(rc) +
                                 " (check that the directory exists and is writable)");
    }
}

Journal::~Journal() {
    if (env_) mdb_env_close(env_);
}

std::string Journal::append(const std::vector<std::pair<std::string, std::string>>& entries) {
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(env_, nullptr, 0, &txn);
    if (rc != 0) return err("journal begin", rc);
    uint64_t seq = next_;
    for (const auto& [zone, batch] : entries) {
        uint8_t key[8];
        store32(key, uint32_t(seq >> 32));
        store32(key + 4, uint32_t(seq));
        std::string value = encode(zone, batch);
        MDB_val k{sizeof key, key}, v{value.size(), value.data()};
        if ((rc = mdb_put(txn, dbi_, &k, &v, MDB_APPEND)) != 0) {
            mdb_txn_abort(txn);
            return err("journal write", rc);
        }
        ++seq;
    }
    rc = mdb_txn_commit(txn);
    if (rc != 0) return err("journal commit", rc);
    next_ = seq;
    return "";
}

std::string Journal::append_unsynced(
    const std::vector<std::pair<std::string, std::string>>& entries) {
    // MDB_NOSYNC for this commit only: its pages reach the file (the page cache), sync() the disk.
    if (const int rc = mdb_env_set_flags(env_, MDB_NOSYNC, 1); rc != 0)
        return err("journal flags", rc);
    std::string e = append(entries);
    mdb_env_set_flags(env_, MDB_NOSYNC, 0);
    return e;
}

std::string Journal::sync() {
    const int rc = mdb_env_sync(env_, 1);
    return rc == 0 ? "" : err("journal sync", rc);
}

void Journal::for_each(const std::function<void(const std::string&, const std::string&)>& f) const {
    MDB_txn* txn = nullptr;
    if (mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn) != 0) return;
    MDB_cursor* cur = nullptr;
    std::vector<std::pair<std::string, std::string>> entries;
    if (mdb_cursor_open(txn, dbi_, &cur) == 0) {
        MDB_val k, v;
        for (int op = MDB_FIRST; mdb_cursor_get(cur, &k, &v, MDB_cursor_op(op)) == 0;
             op = MDB_NEXT) {
            entries.emplace_back();
            split(v, entries.back().first, entries.back().second);
        }
        mdb_cursor_close(cur);
    }
    mdb_txn_abort(txn);
    for (const auto& [zone, batch] : entries) f(zone, batch);
}

std::string Journal::drop_zone(const std::string& zone) {
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(env_, nullptr, 0, &txn);
    if (rc != 0) return err("journal begin", rc);
    MDB_cursor* cur = nullptr;
    rc = mdb_cursor_open(txn, dbi_, &cur);
    if (rc == 0) {
        MDB_val k, v;
        for (int op = MDB_FIRST; mdb_cursor_get(cur, &k, &v, MDB_cursor_op(op)) == 0;
             op = MDB_NEXT) {
            std::string z, b;
            split(v, z, b);
            if (z == zone && (rc = mdb_cursor_del(cur, 0)) != 0) break;
        }
        mdb_cursor_close(cur);
    }
    if (rc != 0) {
        mdb_txn_abort(txn);
        return err("journal delete", rc);
    }
    rc = mdb_txn_commit(txn);
    return rc == 0 ? "" : err("journal commit", rc);
}

size_t Journal::entries() const {
    MDB_txn* txn = nullptr;
    MDB_stat st{};
    if (mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn) != 0) return 0;
    mdb_stat(txn, dbi_, &st);
    mdb_txn_abort(txn);
    return st.ms_entries;
}

}  // namespace anamed
