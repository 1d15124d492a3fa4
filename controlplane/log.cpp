#include "log.hpp"

#include "anamed/log_line.hpp"

namespace anamed {

void log(LogLevel level, const std::string& message) {
    static const char* names[] = {"debug", "info", "warning", "error"};
    write_log_line(names[int(level)], message);
}

}  // namespace anamed
