// The journal's group commit: appends join one open write transaction and reach the file only
// when sync() commits it. Each scenario runs in a child process that exits without closing
// the journal (as a crash would), then the test reopens the file and reads what survived.
#include "journal.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <functional>

#include "test_util.hpp"

namespace anamed {
namespace {

using Entries = std::vector<std::pair<std::string, std::string>>;

Entries one(const std::string& zone, const std::string& batch) {
    return {{zone, batch}};
}

// Runs `body` on the journal at `path` in a child process that then exits at once.
void in_child_then_die(const std::string& path, const std::function<void(Journal&)>& body) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        Journal j(path);
        body(j);
        _exit(0);  // no destructor: whatever was not synced is lost, as in a crash
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
}

std::vector<std::string> batches(const Journal& j) {
    std::vector<std::string> out;
    EXPECT_EQ(
        j.for_each([&](uint64_t, const std::string&, const std::string& b) { out.push_back(b); }),
        "");
    return out;
}

TEST(JournalGroupCommit, PendingAppendsAreReadableButNotDurableUntilSync) {
    test::TempDir dir;
    const std::string path = dir.file("journal.mdb");
    in_child_then_die(path, [](Journal& j) {
        if (!j.append(one("a.test.", "[1]")).empty()) _exit(2);
        if (!j.append_unsynced(one("a.test.", "[2]")).empty()) _exit(2);
        if (!j.append_unsynced(one("b.test.", "[3]")).empty()) _exit(2);
        // Reads see the pending appends.
        if (j.entries() != 3 || batches(j).size() != 3) _exit(3);
    });
    Journal j(path);
    EXPECT_EQ(batches(j), (std::vector<std::string>{"[1]"}));
}

TEST(JournalGroupCommit, SyncMakesEveryPendingAppendDurable) {
    test::TempDir dir;
    const std::string path = dir.file("journal.mdb");
    in_child_then_die(path, [](Journal& j) {
        for (int i = 1; i <= 50; ++i)
            if (!j.append_unsynced(one("a.test.", "[" + std::to_string(i) + "]")).empty()) _exit(2);
        if (!j.sync().empty()) _exit(2);
        if (!j.append_unsynced(one("a.test.", "[lost]")).empty()) _exit(2);
    });
    Journal j(path);
    const auto got = batches(j);
    ASSERT_EQ(got.size(), 50u);
    EXPECT_EQ(got.front(), "[1]");
    EXPECT_EQ(got.back(), "[50]");
}

TEST(JournalGroupCommit, FlushMarkCoversAndCommitsPendingAppends) {
    test::TempDir dir;
    const std::string path = dir.file("journal.mdb");
    in_child_then_die(path, [](Journal& j) {
        if (!j.append_unsynced(one("a.test.", "[1]")).empty()) _exit(2);
        if (!j.append_unsynced(one("a.test.", "[2]")).empty()) _exit(2);
        journal_format::FlushMark mark;
        if (!j.mark_flushed("a.test.", 7, mark).empty() || mark.through != 2) _exit(2);
    });
    Journal j(path);
    EXPECT_EQ(batches(j).size(), 2u);
    const auto mark = j.flushed("a.test.");
    ASSERT_TRUE(mark.has_value());
    EXPECT_EQ(mark->serial, 7u);
    EXPECT_EQ(mark->through, 2u);
    // Sequence numbers continue after the marked ones.
    ASSERT_EQ(j.append(one("a.test.", "[3]")), "");
    uint64_t last = 0;
    j.for_each([&](uint64_t seq, const std::string&, const std::string&) { last = seq; });
    EXPECT_EQ(last, 3u);
}

}  // namespace
}  // namespace anamed
