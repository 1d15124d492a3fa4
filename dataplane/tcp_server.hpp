// DNS over TCP (RFC 7766): length-prefixed messages, pipelining, on one epoll thread, with
// limits a slow or greedy client cannot get round (tcp_limits.hpp): a message must arrive
// whole soon after its first byte (a byte a second does not keep a connection), a few
// connections per source address, a lifetime, and when every slot is taken the longest idle
// connection makes room for the new one (RFC 7766 §6.2.3). Queries are answered by respond(); what
// it hands off (dispatch.hpp) goes to the control plane, and the connection reads no further until
// the reply comes back through deliver(): one message, or a stream of them (a transfer),
// sent as the client takes them.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <thread>
#include <unordered_map>
#include <vector>

#include "anamed/handoff.hpp"
#include "anamed/publish.hpp"
#include "anamed/response_guard.hpp"
#include "anamed/snapshot.hpp"
#include "anamed/stats.hpp"
#include "anamed/tcp_limits.hpp"

namespace anamed {

class TcpServer {
public:
    TcpServer(Published<Snapshot>& snap, std::vector<int> listen_fds, const TcpLimits& limits,
              HandoffQueue* handoff, const GuardPolicy* guard);
    ~TcpServer();
    void start(CounterBlock& stats);
    void stop();
    // From the control plane: the reply to the message handed off from connection `conn`.
    void deliver(uint64_t conn, Reply reply);

private:
    static constexpr size_t max_msg = 65535;
    // A client that does not read gets no more answers queued than this (then one reply at
    // most more): with `in` (a read chunk and one partial message) a connection holds at
    // most about 210 KiB, whatever it sends.
    static constexpr size_t out_high_water = 64 * 1024;

    struct Conn {
        int fd = -1;
        uint64_t id = 0;  // a serial (never 0) and the fd: what replies and epoll events name
        std::vector<uint8_t> in;   // bytes received, not yet answered
        std::vector<uint8_t> out;  // bytes not yet accepted by the kernel
        using time_point = std::chrono::steady_clock::time_point;
        time_point accepted;
        time_point last;       // a message answered or bytes sent: progress
        time_point msg_start;  // when the first byte of the message in `in` came
        ClientAddr peer;
        bool awaiting = false;          // a handed-off message's reply has not all gone out
        std::shared_ptr<Reply> stream;  // that reply, while it does
        size_t next = 0;                // its next message
        std::deque<std::string> later;  // messages its producer (stream->more) has made
        bool starved = false;           // all sent, the producer has not made the next yet
        bool polled = false;            // its stream has no wake-up in the epoll set
        uint32_t events = 0;            // registered with epoll
    };
    struct Delivery {
        uint64_t conn;
        Reply reply;
    };

    void loop();
    using SourceKey = std::array<uint8_t, 17>;
    static SourceKey source_key(const ClientAddr& a);

    void accept_all(int lfd);
    bool make_room();
    void log_summary(std::chrono::steady_clock::time_point now);
    void on_readable(Conn& c);
    void answer_buffered(Conn& c);
    bool hand_off(Conn& c, const uint8_t* msg, size_t len);
    void take_deliveries();
    // Queues more of the stream, sends, and answers what was read meanwhile; false when the
    // connection was closed.
    bool pump(Conn& c);
    // The stream's next message into c.out; false at the end of what can be sent now.
    // Sets `failed` when the producer gave up part-way.
    bool queue_next(Conn& c, bool& failed);
    void end_stream(Conn& c);
    void take_produced();  // continue the streams that waited for their producers
    bool flush(Conn& c);
    void update_events(Conn& c);
    void close_conn(int fd);
    void mark_slow(int fd);
    void sweep();

    Published<Snapshot>& snap_;
    std::vector<int> listen_fds_;
    const TcpLimits limits_;
    ResponseGuard guard_;
    std::map<SourceKey, unsigned> per_source_;
    uint64_t refused_ = 0, shed_ = 0, slow_ = 0;  // since the last summary line
    std::chrono::steady_clock::time_point last_summary_;
    int ep_ = -1;
    int rcu_id_ = -1;
    CounterBlock* stats_ = nullptr;
    std::atomic<bool> stop_{false};
    std::thread thread_;
    std::unordered_map<int, Conn> conns_;
    std::unique_ptr<uint8_t[]> scratch_;
    HandoffQueue* handoff_;
    WakingQueue<std::unique_ptr<Delivery>> inbox_;
    std::vector<uint64_t> starved_;  // connections whose streams wait for their producers
    // The epoll token of a stream's wake-up: the connection's id with the top bit set.
    static constexpr uint64_t stream_token = uint64_t(1) << 63;
    int polled_streams_ = 0;  // streams without a wake-up descriptor (polled instead)
    void watch(Conn& c);
    void unwatch(Conn& c);
    uint64_t serial_ = 0;
};

}  // namespace anamed
