#include "log.hpp"

#include <atomic>

#include "anamed/log_line.hpp"

namespace anamed {

namespace {
std::atomic<int> least{int(LogLevel::info)};
}

void set_log_level(LogLevel level) {
    least.store(int(level), std::memory_order_relaxed);
}

void log(LogLevel level, const std::string& message) {
    static const char* names[] = {"debug", "info", "warning", "error"};
    if (int(level) < least.load(std::memory_order_relaxed)) return;
    write_log_line(names[int(level)], message);
}

}  // namespace anamed
