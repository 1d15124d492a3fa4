// Opening an LMDB environment (the journal, the ALIAS cache): the end of the transaction that
// opened its databases, the same for both.
#pragma once

#include <lmdb.h>

#include <cerrno>
#include <stdexcept>
#include <string>

namespace anamed {

// Commits `txn` when every step so far succeeded (rc 0); else aborts it, closes the
// environment and throws, the message naming `who` and the cause, with a hint when the
// directory is the likely one.
inline void finish_lmdb_open(MDB_env*& env, MDB_txn* txn, int rc, const std::string& who) {
    if (rc == 0)
        rc = mdb_txn_commit(txn);
    else if (txn)
        mdb_txn_abort(txn);
    if (rc == 0) return;
    if (env) mdb_env_close(env);
    env = nullptr;
    throw std::runtime_error(who + ": " + mdb_strerror(rc) +
                             (rc == ENOENT || rc == EACCES || rc == EROFS
                                  ? " (check that the directory exists and is writable)"
                                  : ""));
}

}  // namespace anamed
