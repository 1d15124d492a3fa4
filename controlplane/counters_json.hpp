// The counter registry's values as the control socket reports them (anamectl stats).
#pragma once

#include <nlohmann/json.hpp>

#include "anamed/stats.hpp"

namespace anamed {

// Every counter of the registry: a scalar under its name, a labelled one as an object of
// its label values; zero values are left out unless `zeros` (labelled values always are).
nlohmann::json counter_values_json(const CounterValues& v, bool zeros);

// The `stats` answer's counters: totals over every frontend (queries, responses,
// truncated, rcode, qtype, dropped), by transport, per frontend block, the DPDK
// dataplane's own (null without it), and per zone (queries and RCODEs, by zone name).
nlohmann::json counters_json(const CounterSnapshot& s);

}  // namespace anamed
