#include "anamed/log_line.hpp"

#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <string_view>

namespace anamed {
namespace {

// systemd connects stderr to the journal and says so in JOURNAL_STREAM ("DEV:INODE" of
// that stream); the journal then reads a "<PRIORITY>" prefix and stamps the time itself.
bool stderr_is_journal() {
    const char* js = std::getenv("JOURNAL_STREAM");
    struct stat st {};
    if (js == nullptr || fstat(2, &st) != 0) return false;
    unsigned long long dev = 0, ino = 0;
    if (std::sscanf(js, "%llu:%llu", &dev, &ino) != 2) return false;
    return dev == static_cast<unsigned long long>(st.st_dev) &&
           ino == static_cast<unsigned long long>(st.st_ino);
}

// syslog(3) priorities, as sd-daemon.h's SD_ERR and the rest.
int priority(std::string_view level) {
    if (level == "error") return 3;
    if (level == "warning") return 4;
    if (level == "debug") return 7;
    return 6;
}

}  // namespace

void write_log_line(const char* level, std::string_view message) {
    static std::mutex mu;
    static const bool journal = stderr_is_journal();
    if (journal) {
        std::lock_guard<std::mutex> lock(mu);
        std::fprintf(stderr, "<%d>%s: %.*s\n", priority(level), level, int(message.size()),
                     message.data());
        std::fflush(stderr);
        return;
    }
    const auto now = std::chrono::system_clock::now();
    const std::time_t t = std::chrono::system_clock::to_time_t(now);
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() %
        1000;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char ts[32];
    std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    std::lock_guard<std::mutex> lock(mu);
    std::fprintf(stderr, "%s.%03dZ anamed %s: %.*s\n", ts, int(ms), level, int(message.size()),
                 message.data());
    std::fflush(stderr);
}

}  // namespace anamed
