// One log line on stderr, "2026-11-26T19:05:00.123Z anamed LEVEL: message", whole even when
// both planes log at once. Started by systemd (stderr is the journal, JOURNAL_STREAM), the line
// is "<PRIORITY>LEVEL: message": the journal keeps the priority and adds its own timestamp. The
// control plane's log() and the DPDK dataplane write through it.
#pragma once

#include <string_view>

namespace anamed {

void write_log_line(const char* level, std::string_view message);

}  // namespace anamed
