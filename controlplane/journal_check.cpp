#include "journal_check.hpp"

#include <fcntl.h>
#include <lmdb.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>
#include <set>
#include <stdexcept>

namespace anamed {
namespace {

using namespace journal_format;

std::string_view view(const MDB_val& v) {
    return {static_cast<const char*>(v.mv_data), v.mv_size};
}

struct Env {
    MDB_env* env = nullptr;
    MDB_txn* txn = nullptr;
    ~Env() {
        if (txn) mdb_txn_abort(txn);
        if (env) mdb_env_close(env);
    }
};

// LMDB trusts its pages: on a damaged one it may stop with an error, or fail an assertion
// and abort the process. So the pages are read in a child process, which streams what it
// finds over a pipe; if it dies, what it sent is kept and a new child resumes after it.
// The records: a type byte, a number, two length-prefixed strings.
enum : char {
    rec_entry = 'E',     // seq, zone, batch
    rec_bad = 'B',       // seq, problem
    rec_flush = 'F',     // through, zone, serial (4 bytes)
    rec_problem = 'P',   // -, problem
    rec_recorded = 'R',  // entries the database holds
    rec_last = 'L',      // the last sequence number
    rec_error = 'G',     // -, the read error that stopped the walk
    rec_done = 'D',      // the walk reached the end
};

class Sink {
public:
    explicit Sink(int fd) : fd_(fd) {}
    void put(char type, uint64_t n, std::string_view a = {}, std::string_view b = {}) {
        std::string rec(1, type);
        rec.append(reinterpret_cast<const char*>(&n), sizeof n);
        for (std::string_view s : {a, b}) {
            const uint32_t len = uint32_t(s.size());
            rec.append(reinterpret_cast<const char*>(&len), sizeof len);
            rec.append(s);
        }
        for (size_t off = 0; off < rec.size();) {
            const ssize_t w = write(fd_, rec.data() + off, rec.size() - off);
            if (w <= 0) _exit(3);
            off += size_t(w);
        }
    }

private:
    int fd_;
};

void send_entry(const MDB_val& k, const MDB_val& v, bool checked, Sink& out) {
    if (k.mv_size != 8) return out.put(rec_bad, 0, "an entry has a malformed key");
    const uint64_t seq = key_seq(view(k));
    const auto rest = checked ? unsealed(view(k), view(v)) : std::optional(view(v));
    Entry e;
    if (rest && parse_entry(*rest, e)) return out.put(rec_entry, seq, e.zone, e.batch);
    // The zone is named when the bytes still show one, as a hint of what was lost.
    Entry guess;
    const bool named = view(v).size() > 4 && parse_entry(view(v).substr(checked ? 4 : 0), guess);
    out.put(rec_bad, seq,
            "entry " + std::to_string(seq) +
                (named ? " (zone " + guess.zone.substr(0, 255) + "?)" : "") +
                (rest ? " is malformed" : " fails its checksum"));
}

void send_flushed(MDB_txn* txn, MDB_dbi dbi, Sink& out) {
    MDB_cursor* cur = nullptr;
    if (mdb_cursor_open(txn, dbi, &cur) != 0)
        return out.put(rec_problem, 0, "flush marks unreadable");
    MDB_val k, v;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        FlushMark m;
        const auto rest = unsealed(view(k), view(v));
        if (rest && parse_flush(*rest, m))
            out.put(rec_flush, m.through, view(k), rest->substr(0, 4));
        else
            out.put(
                rec_problem, 0,
                "the flush mark of " + std::string(view(k)).substr(0, 255) + " fails its checksum");
    }
    if (rc != MDB_NOTFOUND)
        out.put(rec_problem, 0, std::string("flush marks: ") + mdb_strerror(rc));
    mdb_cursor_close(cur);
}

// The child: walks the entries from `resume` (0: the first, with the database's counts and
// flush marks), an older journal (entries in the main database, no checksums) as such.
// `probe`: only whether an entry at or after `resume` can be reached (rec_done if so).
[[noreturn]] void child_walk(const std::string& path, uint64_t resume, bool probe, int fd) {
    Sink out(fd);
    Env e;
    MDB_dbi main = 0, entries = 0, flushed = 0;
    MDB_stat st{};
    int rc = mdb_env_create(&e.env);
    if (rc == 0) rc = mdb_env_set_maxdbs(e.env, 4);
    if (rc == 0) rc = mdb_env_set_mapsize(e.env, size_t(4) << 30);
    if (rc == 0) rc = mdb_env_open(e.env, path.c_str(), MDB_NOSUBDIR | MDB_RDONLY | MDB_NOLOCK, 0);
    if (rc == 0) rc = mdb_txn_begin(e.env, nullptr, MDB_RDONLY, &e.txn);
    if (rc == 0) rc = mdb_dbi_open(e.txn, nullptr, 0, &main);
    if (rc == 0) rc = mdb_stat(e.txn, main, &st);
    if (rc != 0)
        out.put(rec_error, 0, std::string("cannot open the database: ") + mdb_strerror(rc));
    if (rc != 0) _exit(0);
    bool checked = true;
    rc = mdb_dbi_open(e.txn, entries_db, 0, &entries);
    if (rc == MDB_NOTFOUND || rc == MDB_INCOMPATIBLE) {
        if (st.ms_entries == 0) out.put(rec_done, 0);
        if (st.ms_entries == 0) _exit(0);
        if (resume == 0)
            out.put(rec_problem, 0,
                    "the entries have no checksums (a journal from an older anamed)");
        entries = main, checked = false, rc = 0;
    } else if (rc == 0 && (rc = mdb_stat(e.txn, entries, &st)) == 0 && resume == 0 &&
               mdb_dbi_open(e.txn, flushed_db, 0, &flushed) == 0) {
        send_flushed(e.txn, flushed, out);
    }
    MDB_cursor* cur = nullptr;
    if (rc == 0) rc = mdb_cursor_open(e.txn, entries, &cur);
    if (rc != 0) out.put(rec_error, 0, std::string("cannot open the entries: ") + mdb_strerror(rc));
    if (rc != 0) _exit(0);
    MDB_val k, v;
    if (resume == 0) {
        out.put(rec_recorded, st.ms_entries);
        if (mdb_cursor_get(cur, &k, &v, MDB_LAST) == 0 && k.mv_size == 8)
            out.put(rec_last, key_seq(view(k)));
        rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    } else {
        std::string key = seq_key(resume);
        k = MDB_val{key.size(), key.data()};
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        if (probe) out.put(rc == 0 ? rec_done : rec_error, 0);
        if (probe) _exit(0);
    }
    for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) send_entry(k, v, checked, out);
    if (rc == MDB_NOTFOUND)
        out.put(rec_done, 0);
    else
        out.put(rec_error, 0, mdb_strerror(rc));
    _exit(0);
}

// The parent's view of one child's walk.
struct Pass {
    bool done = false, crashed = false, progressed = false;
    uint64_t last_read = 0;  // the highest sequence it reported
    std::string error;
};

bool take(const std::string& buf, size_t& at, char& type, uint64_t& n, std::string& a,
          std::string& b) {
    if (at + 1 + sizeof n > buf.size()) return false;
    type = buf[at];
    std::memcpy(&n, buf.data() + at + 1, sizeof n);
    size_t p = at + 1 + sizeof n;
    for (std::string* s : {&a, &b}) {
        uint32_t len = 0;
        if (p + sizeof len > buf.size()) return false;
        std::memcpy(&len, buf.data() + p, sizeof len);
        p += sizeof len;
        if (p + len > buf.size()) return false;
        s->assign(buf, p, len);
        p += len;
    }
    at = p;
    return true;
}

Pass run_pass(const std::string& path, uint64_t resume, bool probe, JournalReport& r,
              uint64_t& last_seq) {
    Pass pass;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return pass.error = "pipe failed", pass;
    const pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        const int null = open("/dev/null", O_WRONLY);  // LMDB's assertion messages
        if (null >= 0) dup2(null, STDERR_FILENO);
        child_walk(path, resume, probe, fds[1]);
    }
    close(fds[1]);
    std::string buf;
    char chunk[65536];
    for (ssize_t n; (n = read(fds[0], chunk, sizeof chunk)) != 0;) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) break;
        buf.append(chunk, size_t(n));
    }
    close(fds[0]);
    int status = 0;
    if (pid > 0) waitpid(pid, &status, 0);
    pass.crashed = pid < 0 || !WIFEXITED(status);
    size_t at = 0;
    char type;
    uint64_t n;
    std::string a, b;
    while (take(buf, at, type, n, a, b)) {
        switch (type) {
        case rec_entry:
            r.entries.push_back(Entry{n, a, b});
            pass.last_read = std::max(pass.last_read, n), pass.progressed = true;
            break;
        case rec_bad:
            ++r.bad, r.problems.push_back(a);
            pass.last_read = std::max(pass.last_read, n), pass.progressed = true;
            break;
        case rec_flush: {
            if (b.size() == 4)
                r.flushed[a] = FlushMark{load32(reinterpret_cast<const uint8_t*>(b.data())), n};
            break;
        }
        case rec_problem: r.problems.push_back(a); break;
        case rec_recorded: r.recorded = n; break;
        case rec_last: last_seq = n; break;
        case rec_error: pass.error = a; break;
        case rec_done: pass.done = true; break;
        }
    }
    if (pass.crashed && pass.error.empty())
        pass.error =
            pid < 0 ? "cannot fork a reader"
                    : "LMDB gave up on a damaged page (" +
                          std::string(strsignal(WIFSIGNALED(status) ? WTERMSIG(status) : 0)) + ")";
    return pass;
}

// The first sequence after `bad` (unreachable) from which entries can be read again, or 0:
// outwards in growing strides, then halving back to the damaged range's end.
uint64_t next_reachable(const std::string& path, uint64_t bad, uint64_t last_seq, int& forks) {
    JournalReport scratch;
    uint64_t ignored = 0, hi = 0;
    auto reachable = [&](uint64_t at) {
        ++forks;
        return run_pass(path, at, true, scratch, ignored).done;
    };
    for (uint64_t step = 1; bad + step <= last_seq && forks < 200; step *= 2) {
        if (reachable(bad + step)) {
            hi = bad + step;
            break;
        }
        bad += step;
    }
    while (hi != 0 && hi - bad > 1 && forks < 200) {
        const uint64_t mid = bad + (hi - bad) / 2;
        (reachable(mid) ? hi : bad) = mid;
    }
    return hi;
}

// Walks every entry, resuming past damaged pages where the entries after them can still be
// reached.
void read_entries(const std::string& path, JournalReport& r) {
    uint64_t last_seq = 0, resume = 0, good = 0;
    for (int forks = 0; forks < 200; ++forks) {
        const Pass p = run_pass(path, resume, false, r, last_seq);
        if (p.done) return;
        good = std::max(good, p.last_read);
        r.problems.push_back("read error after entry " + std::to_string(good) + ": " + p.error);
        if (last_seq == 0 || good >= last_seq) return;
        if ((resume = next_reachable(path, std::max(resume, good), last_seq, forks)) == 0) return;
    }
}

std::string timestamp() {
    char buf[32];
    const time_t now = time(nullptr);
    tm t{};
    gmtime_r(&now, &t);
    strftime(buf, sizeof buf, "%Y%m%dT%H%M%S", &t);
    return buf;
}

void copy_file(const std::string& from, const std::string& to, size_t size) {
    const int in = open(from.c_str(), O_RDONLY | O_CLOEXEC);
    const int out = open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    bool ok = in >= 0 && out >= 0;
    char buf[65536];
    for (ssize_t n; ok && (n = read(in, buf, sizeof buf)) != 0;)
        ok = n > 0 && write(out, buf, size_t(n)) == n;
    ok = ok && ftruncate(out, off_t(size)) == 0;
    if (in >= 0) close(in);
    if (out >= 0) close(out);
    if (!ok) throw std::runtime_error("cannot copy " + from + " to " + to + ": " + strerror(errno));
}

}  // namespace

size_t JournalReport::lost() const {
    return std::max(recorded, entries.size() + bad) - entries.size();
}

std::string JournalReport::describe() const {
    std::string s = "journal " + path + " is damaged: ";
    for (size_t i = 0; i < problems.size() && i < 8; ++i) s += (i ? "; " : "") + problems[i];
    if (problems.size() > 8) s += "; and " + std::to_string(problems.size() - 8) + " more";
    std::set<std::string> zones;
    for (const auto& e : entries) zones.insert(e.zone);
    s += ". " + std::to_string(entries.size()) + " intact entries can be replayed";
    if (!zones.empty()) {
        s += " (zones";
        for (const auto& z : zones) s += " " + z.substr(0, 255);
        s += ")";
    }
    s += "; " + std::to_string(lost()) + " recorded entries are lost";
    return s;
}

JournalReport inspect_journal(const std::string& path) {
    JournalReport r;
    r.path = path;
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) {
        if (errno != ENOENT)
            r.problems.push_back(std::string("cannot stat the file: ") + strerror(errno));
        return r;
    }
    r.exists = true;
    if (!S_ISREG(st.st_mode)) return r.problems.push_back("not a regular file"), r;
    if (st.st_size == 0)
        return r.problems.push_back("the file is empty (0 bytes): whatever it held is lost"), r;
    Env e;
    int rc = mdb_env_create(&e.env);
    if (rc == 0) rc = mdb_env_set_maxdbs(e.env, 4);
    if (rc == 0) rc = mdb_env_set_mapsize(e.env, size_t(4) << 30);
    if (rc == 0) rc = mdb_env_open(e.env, path.c_str(), MDB_NOSUBDIR | MDB_RDONLY | MDB_NOLOCK, 0);
    if (rc != 0)
        return r.problems.push_back(std::string("not a readable LMDB database (") +
                                    mdb_strerror(rc) + ")"),
               r;
    // The pages the newest meta page claims must all be in the file before any is read.
    MDB_envinfo info{};
    MDB_stat est{};
    mdb_env_info(e.env, &info);
    mdb_env_stat(e.env, &est);
    r.needed = (size_t(info.me_last_pgno) + 1) * est.ms_psize;
    if (size_t(st.st_size) < r.needed) {
        r.truncated_to = size_t(st.st_size);
        r.problems.push_back("the file is truncated: " + std::to_string(st.st_size) +
                             " bytes, its pages need " + std::to_string(r.needed));
        return r;
    }
    read_entries(path, r);
    if (r.entries.size() + r.bad < r.recorded)
        r.problems.push_back(std::to_string(r.recorded - r.entries.size() - r.bad) + " of the " +
                             std::to_string(r.recorded) + " recorded entries cannot be read");
    return r;
}

std::string salvage_journal(const std::string& path, const JournalReport& report) {
    const std::string aside = path + ".damaged-" + timestamp();
    if (rename(path.c_str(), aside.c_str()) != 0)
        throw std::runtime_error("cannot move " + path + " aside: " + strerror(errno));
    JournalReport from = report;
    if (report.truncated_to) {
        // Zero pages where the file ends: reading them fails cleanly instead of faulting.
        const std::string padded = path + ".salvage-tmp";
        copy_file(aside, padded, report.needed);
        from = inspect_journal(padded);
        unlink(padded.c_str());
    }
    Env e;
    MDB_dbi entries = 0, flushed = 0;
    int rc = mdb_env_create(&e.env);
    if (rc == 0) rc = mdb_env_set_maxdbs(e.env, 4);
    if (rc == 0) rc = mdb_env_set_mapsize(e.env, size_t(4) << 30);
    if (rc == 0) rc = mdb_env_open(e.env, path.c_str(), MDB_NOSUBDIR, 0600);
    if (rc == 0) rc = mdb_txn_begin(e.env, nullptr, 0, &e.txn);
    if (rc == 0) rc = mdb_dbi_open(e.txn, entries_db, MDB_CREATE, &entries);
    if (rc == 0) rc = mdb_dbi_open(e.txn, flushed_db, MDB_CREATE, &flushed);
    for (size_t i = 0; rc == 0 && i < from.entries.size(); ++i) {
        const Entry& x = from.entries[i];
        std::string key = seq_key(x.seq), value = sealed(key, entry_value(x.zone, x.batch));
        MDB_val k{key.size(), key.data()}, v{value.size(), value.data()};
        rc = mdb_put(e.txn, entries, &k, &v, MDB_APPEND);
    }
    for (auto it = from.flushed.begin(); rc == 0 && it != from.flushed.end(); ++it) {
        std::string key = it->first, value = sealed(key, flush_value(it->second));
        MDB_val k{key.size(), key.data()}, v{value.size(), value.data()};
        rc = mdb_put(e.txn, flushed, &k, &v, 0);
    }
    if (rc == 0) rc = mdb_txn_commit(e.txn);
    e.txn = nullptr;
    if (rc != 0)
        throw std::runtime_error("cannot write the salvaged journal " + path + ": " +
                                 mdb_strerror(rc) + " (the damaged file is " + aside + ")");
    return aside;
}

}  // namespace anamed
