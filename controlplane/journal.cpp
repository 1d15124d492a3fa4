#include "journal.hpp"

#include <algorithm>
#include <stdexcept>

#include "journal_check.hpp"
#include "lmdb_open.hpp"
#include "log.hpp"

namespace anamed {
namespace {

using namespace journal_format;

std::string err(const char* what, int rc) {
    return std::string(what) + ": " + mdb_strerror(rc);
}

std::string_view view(const MDB_val& v) {
    return {static_cast<const char*>(v.mv_data), v.mv_size};
}

}  // namespace

Journal::Journal(const std::string& path, bool salvage) : path_(path) {
    const JournalReport report = inspect_journal(path);
    if (!report.intact()) {
        if (!salvage)
            throw JournalDamaged(
                report.describe() +
                ". anamed does not start over a damaged journal: the changes it lost would "
                "silently disappear. To start with the intact entries, run anamed with "
                "--journal-salvage (the damaged file is kept beside it as " +
                path + ".damaged-TIME); `anamed --journal-check` prints this report");
        const std::string aside = salvage_journal(path, report);
        log_error(report.describe() + ". SALVAGED: starting with the intact entries; " +
                  std::to_string(report.lost()) + " changes are gone; the damaged file is " +
                  aside);
    }
    open_env();
}

void Journal::open_env() {
    int rc = mdb_env_create(&env_);
    if (rc == 0) rc = mdb_env_set_maxdbs(env_, 4);
    if (rc == 0) rc = mdb_env_set_mapsize(env_, size_t(4) << 30);
    // MDB_NOSUBDIR: the journal is one file (plus its -lock). Default flags: every commit is
    // fsync'ed, which is what "durable before acknowledged" needs.
    if (rc == 0) rc = mdb_env_open(env_, path_.c_str(), MDB_NOSUBDIR, 0600);
    MDB_txn* txn = nullptr;
    if (rc == 0) rc = mdb_txn_begin(env_, nullptr, 0, &txn);
    if (rc == 0) rc = mdb_dbi_open(txn, entries_db, MDB_CREATE, &entries_);
    if (rc == 0) rc = mdb_dbi_open(txn, flushed_db, MDB_CREATE, &flushed_);
    MDB_cursor* cur = nullptr;
    if (rc == 0) rc = mdb_cursor_open(txn, entries_, &cur);
    if (rc == 0) {
        MDB_val k, v;
        rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
        if (rc == 0 && k.mv_size == 8) next_ = key_seq(view(k)) + 1;
        if (rc == MDB_NOTFOUND) rc = 0;
        mdb_cursor_close(cur);
    }
    // Sequence numbers never go back below a flush mark, even once its entries are gone.
    if (rc == 0) rc = mdb_cursor_open(txn, flushed_, &cur);
    if (rc == 0) {
        MDB_val k, v;
        FlushMark m;
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
            if (const auto rest = unsealed(view(k), view(v)); rest && parse_flush(*rest, m))
                next_ = std::max(next_, m.through + 1);
        if (rc == MDB_NOTFOUND) rc = 0;
        mdb_cursor_close(cur);
    }
    finish_lmdb_open(env_, txn, rc, "journal " + path_);
}

Journal::~Journal() {
    // Pending appends were applied and served, though not acknowledged: keep them.
    if (pending_) mdb_txn_commit(pending_);
    if (env_) mdb_env_close(env_);
}

std::string Journal::write(const char* what, const std::function<int(MDB_txn*)>& body) {
    int rc = pending_ ? 0 : mdb_txn_begin(env_, nullptr, 0, &pending_);
    if (rc != 0) return pending_ = nullptr, err("journal begin", rc);
    MDB_txn* child = nullptr;
    if ((rc = mdb_txn_begin(env_, pending_, 0, &child)) != 0) return err("journal begin", rc);
    if ((rc = body(child)) != 0) {
        mdb_txn_abort(child);
        return err(what, rc);
    }
    rc = mdb_txn_commit(child);
    return rc == 0 ? "" : err(what, rc);
}

int Journal::read(const std::function<int(MDB_txn*)>& body) const {
    if (pending_) return body(pending_);
    MDB_txn* txn = nullptr;
    if (int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn); rc != 0) return rc;
    const int rc = body(txn);
    mdb_txn_abort(txn);
    return rc;
}

std::string Journal::append(const std::vector<std::pair<std::string, std::string>>& entries) {
    std::string e = append_unsynced(entries);
    return e.empty() ? sync() : e;
}

std::string Journal::append_unsynced(
    const std::vector<std::pair<std::string, std::string>>& entries) {
    uint64_t seq = next_;
    std::string e = write("journal write", [&](MDB_txn* txn) {
        for (const auto& [zone, batch] : entries) {
            std::string key = seq_key(seq), value = sealed(key, entry_value(zone, batch));
            MDB_val k{key.size(), key.data()}, v{value.size(), value.data()};
            if (int rc = mdb_put(txn, entries_, &k, &v, MDB_APPEND); rc != 0) return rc;
            ++seq;
        }
        return 0;
    });
    if (e.empty()) next_ = seq;
    return e;
}

// One commit, one fsync (LMDB's default), for every append since the last sync. Each commit
// is synced: LMDB reuses the pages of older transactions, so a commit left unsynced could,
// on a power loss, damage entries that were already acknowledged.
std::string Journal::sync() {
    if (!pending_) return "";
    const int rc = mdb_txn_commit(pending_);
    pending_ = nullptr;
    return rc == 0 ? "" : err("journal commit", rc);
}

std::string Journal::for_each(
    const std::function<void(uint64_t, const std::string&, const std::string&)>& f) const {
    std::vector<Entry> entries;
    std::string error;
    const int rc = read([&](MDB_txn* txn) {
        MDB_cursor* cur = nullptr;
        int rc = mdb_cursor_open(txn, entries_, &cur);
        if (rc != 0) return rc;
        MDB_val k, v;
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            Entry x;
            const auto rest = k.mv_size == 8 ? unsealed(view(k), view(v)) : std::nullopt;
            if (!rest || !parse_entry(*rest, x)) {
                error = "entry " + std::to_string(entries.size() + 1) + " fails its checksum";
                break;
            }
            x.seq = key_seq(view(k));
            entries.push_back(std::move(x));
        }
        mdb_cursor_close(cur);
        return rc == MDB_NOTFOUND ? 0 : rc;
    });
    if (rc != 0 && error.empty()) error = err("journal read", rc);
    for (const auto& x : entries) f(x.seq, x.zone, x.batch);
    return error;
}

std::string Journal::mark_flushed(const std::string& zone, uint32_t serial, FlushMark& mark) {
    mark = FlushMark{serial, next_ - 1};
    std::string e = write("journal flush mark", [&](MDB_txn* txn) {
        std::string key = zone, value = sealed(key, flush_value(mark));
        MDB_val k{key.size(), key.data()}, v{value.size(), value.data()};
        return mdb_put(txn, flushed_, &k, &v, 0);
    });
    return e.empty() ? sync() : e;
}

namespace {

// Deletes the entries of `zone` up to `through` (zone records only when `records`).
int delete_entries(MDB_txn* txn, MDB_dbi dbi, const std::string& zone, uint64_t through,
                   bool records) {
    MDB_cursor* cur = nullptr;
    int rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc != 0) return rc;
    MDB_val k, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size == 8 && key_seq(view(k)) > through) break;
        Entry x;
        const auto rest = unsealed(view(k), view(v));
        if (rest && parse_entry(*rest, x) && x.zone == zone &&
            (records || !is_zone_record(x.batch)) && (rc = mdb_cursor_del(cur, 0)) != 0)
            break;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

}  // namespace

// A zone's records stay: the file a flush writes holds its data, not whether it is served.
std::string Journal::drop_through(const std::string& zone, uint64_t through) {
    std::string e = write("journal delete", [&](MDB_txn* txn) {
        return delete_entries(txn, entries_, zone, through, false);
    });
    return e.empty() ? sync() : e;
}

std::string Journal::drop_zone(const std::string& zone, uint64_t through) {
    std::string e = write("journal delete", [&](MDB_txn* txn) {
        if (int rc = delete_entries(txn, entries_, zone, through, true); rc != 0) return rc;
        std::string key = zone;
        MDB_val k{key.size(), key.data()};
        const int rc = mdb_del(txn, flushed_, &k, nullptr);
        return rc == MDB_NOTFOUND ? 0 : rc;
    });
    return e.empty() ? sync() : e;
}

std::optional<FlushMark> Journal::flushed(const std::string& zone) const {
    std::optional<FlushMark> out;
    read([&](MDB_txn* txn) {
        std::string key = zone;
        MDB_val k{key.size(), key.data()}, v;
        FlushMark m;
        if (mdb_get(txn, flushed_, &k, &v) == 0)
            if (const auto rest = unsealed(key, view(v)); rest && parse_flush(*rest, m)) out = m;
        return 0;
    });
    return out;
}

size_t Journal::entries() const {
    MDB_stat st{};
    read([&](MDB_txn* txn) { return mdb_stat(txn, entries_, &st); });
    return st.ms_entries;
}

}  // namespace anamed
