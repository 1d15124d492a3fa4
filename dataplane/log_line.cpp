#include "anamed/log_line.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace anamed {

void write_log_line(const char* level, std::string_view message) {
    static std::mutex mu;
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
