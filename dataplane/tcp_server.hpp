// DNS over TCP (RFC 7766): length-prefixed messages, pipelining, idle timeout and a
// connection limit, on one epoll thread. Replies come from respond().
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <unordered_map>
#include <vector>

#include "anamed/publish.hpp"
#include "anamed/snapshot.hpp"
#include "anamed/stats.hpp"

namespace anamed {

class TcpServer {
public:
    TcpServer(Published<Snapshot>& snap, std::vector<int> listen_fds, unsigned idle_timeout_ms,
              unsigned max_connections);
    ~TcpServer();
    void start(CounterBlock& stats);
    void stop();

private:
    struct Conn {
        int fd = -1;
        std::vector<uint8_t> in;  // bytes received, not yet answered
        std::vector<uint8_t> out;  // bytes not yet accepted by the kernel
        std::chrono::steady_clock::time_point last;
        bool reading = true;
    };

    void loop();
    void accept_all(int lfd);
    void on_readable(Conn& c);
    void answer_buffered(Conn& c);
    bool flush(Conn& c);
    void update_events(Conn& c);
    void close_conn(int fd);
    void sweep_idle();

    Published<Snapshot>& snap_;
    std::vector<int> listen_fds_;
    const std::chrono::milliseconds idle_timeout_;
    const unsigned max_connections_;
    int ep_ = -1;
    int rcu_id_ = -1;
    CounterBlock* stats_ = nullptr;
    std::atomic<bool> stop_{false};
    std::thread thread_;
    std::unordered_map<int, Conn> conns_;
    std::unique_ptr<uint8_t[]> scratch_;
};

}  // namespace anamed
