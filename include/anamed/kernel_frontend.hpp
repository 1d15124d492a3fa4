// The kernel-socket frontend: UDP workers with recvmmsg/sendmmsg (one SO_REUSEPORT socket
// per worker and address) and one TCP thread (tcp_server.hpp). Queries are answered by
// respond() on the published snapshot; what it hands off goes to the control plane's queue,
// whose replies come back through reply().
#pragma once

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "anamed/handoff.hpp"
#include "anamed/listen_addr.hpp"
#include "anamed/publish.hpp"
#include "anamed/response_guard.hpp"
#include "anamed/rrl_reporter.hpp"
#include "anamed/snapshot.hpp"
#include "anamed/stats.hpp"
#include "anamed/tcp_limits.hpp"

namespace anamed {

class TcpServer;

struct FrontendOptions {
    unsigned udp_workers = 0;            // per address; 0 = one per core
    HandoffQueue* handoff = nullptr;     // null: handed-off messages are dropped
    const GuardPolicy* guard = nullptr;  // rate limiting and cookies; null: neither
    unsigned udp_rcvbuf = 0;             // SO_RCVBUF of each UDP socket; 0: the kernel's
    TcpLimits tcp;
};

class KernelFrontend {
public:
    KernelFrontend(Published<Snapshot>& snap, FrontendOptions opts);
    ~KernelFrontend();

    // Binds every address (UDP and TCP) and starts the threads; throws on bind errors.
    void start(const std::vector<ListenAddr>& addrs);
    void stop();
    // Sends the control plane's reply to a message the workers handed off.
    void reply(const HandoffMessage& m, Reply r);
    // One counter block per thread, labelled; valid until the frontend is destroyed.
    std::vector<CounterSource> counter_sources() const;

private:
    void udp_loop(int fd, CounterBlock& st, ResponseGuard& guard);
    bool hand_off(int fd, const sockaddr_storage& peer, socklen_t peer_len, const uint8_t* msg,
                  size_t len);

    Published<Snapshot>& snap_;
    FrontendOptions opts_;
    std::atomic<bool> stop_{false};
    std::vector<std::thread> threads_;
    std::vector<int> fds_;
    std::vector<std::unique_ptr<CounterBlock>> stats_;
    std::unique_ptr<RrlTable> shared_rrl_;  // every UDP worker's, with `rrl: {table: shared}`
    std::vector<std::unique_ptr<ResponseGuard>> guards_;  // one per UDP socket
    RrlReporter reporter_;
    std::unique_ptr<TcpServer> tcp_;
};

}  // namespace anamed
