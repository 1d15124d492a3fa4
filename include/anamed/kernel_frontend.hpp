// The kernel-socket frontend: UDP workers with recvmmsg/sendmmsg (one SO_REUSEPORT socket
// per worker and address) and one TCP thread (tcp_server.hpp). Every reply comes from
// respond() on the published snapshot.
#pragma once

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "anamed/publish.hpp"
#include "anamed/snapshot.hpp"
#include "anamed/stats.hpp"
#include "anamed/listen_addr.hpp"

namespace anamed {

class TcpServer;

struct FrontendOptions {
    unsigned udp_workers = 0;  // per address; 0 = one per core
    unsigned tcp_idle_timeout_ms = 10000;
    unsigned tcp_max_connections = 1024;
};

class KernelFrontend {
public:
    KernelFrontend(Published<Snapshot>& snap, FrontendOptions opts);
    ~KernelFrontend();

    // Binds every address (UDP and TCP) and starts the threads; throws on bind errors.
    void start(const std::vector<ListenAddr>& addrs);
    void stop();
    // One counter block per thread, labelled; valid until the frontend is destroyed.
    std::vector<CounterSource> counter_sources() const;

private:
    void udp_loop(int fd, CounterBlock& st);

    Published<Snapshot>& snap_;
    FrontendOptions opts_;
    std::atomic<bool> stop_{false};
    std::vector<std::thread> threads_;
    std::vector<int> fds_;
    std::vector<std::unique_ptr<CounterBlock>> stats_;
    std::unique_ptr<TcpServer> tcp_;
};

}  // namespace anamed
