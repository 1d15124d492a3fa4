// The Prometheus text exposition format (version 0.0.4) of the counter registry and the
// control plane's values: anamed_ prefix, _total counters, base units (seconds, bytes),
// one label per dimension (frontend, transport, worker, port, rcode, qtype, reason, zone,
// target, kind).
#pragma once

#include <string>

#include "anamed/stats.hpp"
#include "metrics_state.hpp"

namespace anamed {

std::string metrics_text(const CounterSnapshot& counters, const MetricsState& state);

}  // namespace anamed
