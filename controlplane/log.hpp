// Control-plane logging to stderr: one line per event, with a UTC timestamp and level (or a
// journal priority under systemd, see anamed/log_line.hpp); below the set level, nothing.
#pragma once

#include <string>

namespace anamed {

enum class LogLevel { debug, info, warning, error };

void log(LogLevel level, const std::string& message);
void set_log_level(LogLevel level);  // the least level written (log: {level: ...})
inline void log_debug(const std::string& m) {
    log(LogLevel::debug, m);
}
inline void log_info(const std::string& m) {
    log(LogLevel::info, m);
}
inline void log_warning(const std::string& m) {
    log(LogLevel::warning, m);
}
inline void log_error(const std::string& m) {
    log(LogLevel::error, m);
}

}  // namespace anamed
