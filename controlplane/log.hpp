// Control-plane logging to stderr: one line per event, with a UTC timestamp and level.
#pragma once

#include <string>

namespace anamed {

enum class LogLevel { debug, info, warning, error };

void log(LogLevel level, const std::string& message);
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
