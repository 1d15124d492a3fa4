// One log line on stderr, "2026-11-26T19:05:00.123Z anamed LEVEL: message", whole even when
// both planes log at once. The control plane's log() and the DPDK dataplane write through it.
#pragma once

#include <string_view>

namespace anamed {

void write_log_line(const char* level, std::string_view message);

}  // namespace anamed
