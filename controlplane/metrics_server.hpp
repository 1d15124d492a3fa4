// The Prometheus endpoint: GET /metrics over HTTP (libmicrohttpd, on its own thread). Each
// scrape sums the frontends' counter blocks (relaxed loads, the workers never wait) and
// formats them with the control plane's latest MetricsState.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "anamed/listen_addr.hpp"
#include "anamed/stats.hpp"
#include "metrics_state.hpp"

struct MHD_Daemon;

namespace anamed {

class MetricsServer {
public:
    // `sources` must outlive the server (the frontends are stopped after it). Throws
    // std::runtime_error naming the address when it cannot listen.
    MetricsServer(const ListenAddr& addr, std::vector<CounterSource> sources,
                  const MetricsBoard& board, const ZoneSlots* zones = nullptr);
    ~MetricsServer();
    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;

    std::string scrape() const;  // the /metrics body

private:
    std::vector<CounterSource> sources_;
    const MetricsBoard& board_;
    const ZoneSlots* zones_;  // the per-zone counters' names
    MHD_Daemon* mhd_ = nullptr;
};

}  // namespace anamed
