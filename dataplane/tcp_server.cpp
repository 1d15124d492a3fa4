#include "tcp_server.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "anamed/log_line.hpp"
#include "anamed/respond.hpp"

namespace anamed {
namespace {
constexpr size_t read_chunk = 16384;
constexpr auto summary_every = std::chrono::seconds(10);
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

}  // namespace

TcpServer::TcpServer(Published<Snapshot>& snap, std::vector<int> listen_fds,
                     const TcpLimits& limits, HandoffQueue* handoff, const GuardPolicy* guard)
    : snap_(snap),
      listen_fds_(std::move(listen_fds)),
      limits_(limits),
      guard_(ResponseGuard::for_tcp(guard)),
      scratch_(new uint8_t[max_msg + 2]),
      handoff_(handoff),
      // Each connection awaits one reply at most: the inbox never fills.
      inbox_(size_t(limits.max_connections) + 16) {}

TcpServer::SourceKey TcpServer::source_key(const ClientAddr& a) {
    SourceKey k{};
    k[0] = a.len;
    std::memcpy(k.data() + 1, a.bytes, a.len);
    return k;
}

TcpServer::~TcpServer() {
    stop();
}

void TcpServer::start(CounterBlock& stats) {
    stats_ = &stats;
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    if (ep_ < 0) throw std::runtime_error("epoll_create1 failed");
    for (int fd : listen_fds_) {
        if (listen(fd, 128) != 0) throw std::runtime_error("listen() failed on a TCP socket");
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        epoll_event ev{EPOLLIN, {.u64 = uint64_t(uint32_t(fd))}};
        epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
    }
    epoll_event ev{EPOLLIN, {.u64 = uint64_t(uint32_t(inbox_.fd()))}};
    epoll_ctl(ep_, EPOLL_CTL_ADD, inbox_.fd(), &ev);
    thread_ = std::thread([this] { loop(); });
}

void TcpServer::stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
    for (auto& [fd, c] : conns_) {
        if (c.stream && c.stream->more) c.stream->more->cancel();
        close(fd);
    }
    conns_.clear();
    // Replies delivered after the loop ended: their producers must stop too.
    std::unique_ptr<Delivery> d;
    while (inbox_.pop(d))
        if (d->reply.more) d->reply.more->cancel();
    for (int fd : listen_fds_) close(fd);
    listen_fds_.clear();
    if (ep_ >= 0) close(ep_);
    ep_ = -1;
}

void TcpServer::deliver(uint64_t conn, Reply reply) {
    inbox_.push(std::make_unique<Delivery>(Delivery{conn, std::move(reply)}));
}

void TcpServer::loop() {
    Rcu& rcu = snap_.rcu();
    rcu_id_ = rcu.register_reader();
    epoll_event events[64];
    auto last_sweep = Clock::now();
    last_summary_ = last_sweep;
    while (!stop_.load(std::memory_order_relaxed)) {
        rcu.offline(rcu_id_);
        // A stream without a wake-up descriptor is looked at every millisecond.
        const int n = epoll_wait(ep_, events, 64, polled_streams_ ? 1 : 100);
        rcu.online(rcu_id_);
        if (guard_.active()) guard_.tick();
        for (int i = 0; i < n; ++i) {
            // A connection's events carry its id, the others' their descriptor alone.
            const uint64_t token = events[i].data.u64;
            const int fd = int(uint32_t(token));
            if (token & stream_token) {  // a producer made messages: the waiting go on
                auto it = conns_.find(fd);
                if (it != conns_.end() && it->second.id == (token & ~stream_token) &&
                    it->second.stream && it->second.stream->more)
                    it->second.stream->more->drain();
                take_produced();
                continue;
            }
            if (token >> 32 == 0) {
                if (fd == inbox_.fd())
                    take_deliveries();
                else
                    accept_all(fd);
                continue;
            }
            // The event of a connection closed earlier in this batch (shed to make room for
            // a new one, say) is stale: a connection accepted since may have its descriptor,
            // but not its id.
            auto it = conns_.find(fd);
            if (it == conns_.end() || it->second.id != token) continue;
            Conn& c = it->second;
            if (events[i].events & (EPOLLERR | EPOLLHUP)) {
                close_conn(fd);
                continue;
            }
            if ((events[i].events & EPOLLOUT) && !pump(c)) continue;
            if (events[i].events & EPOLLIN) on_readable(c);
        }
        if (polled_streams_ && !starved_.empty()) take_produced();
        const auto now = Clock::now();
        if (now - last_sweep > milliseconds(100)) {
            sweep();
            log_summary(now);
            last_sweep = now;
        }
        rcu.quiescent(rcu_id_);
    }
    rcu.unregister_reader(rcu_id_);
}

// New connections: refused over the per-source limit; when every slot is taken, the longest
// idle connection is closed to make room (RFC 7766 §6.2.3), so that a flood of slow
// connections cannot keep a real client out.
void TcpServer::accept_all(int lfd) {
    while (true) {
        sockaddr_storage peer{};
        socklen_t peer_len = sizeof peer;
        const int fd = accept4(lfd, reinterpret_cast<sockaddr*>(&peer), &peer_len,
                               SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;
        const ClientAddr addr = client_addr(peer);
        const auto src = per_source_.find(source_key(addr));
        const unsigned from_source = src == per_source_.end() ? 0 : src->second;
        if (from_source >= limits_.max_per_source ||
            (conns_.size() >= limits_.max_connections && !make_room())) {
            close(fd);
            ++refused_;
            stats_->bump(slot::tcp_refused);
            continue;
        }
        ++per_source_[source_key(addr)];
        Conn& c = conns_[fd];
        c.fd = fd;
        if (uint32_t(++serial_) == 0) ++serial_;  // no id has 0 above the descriptor
        c.id = serial_ << 32 | uint32_t(fd);
        c.peer = addr;
        c.accepted = c.last = Clock::now();
        c.events = EPOLLIN;
        epoll_event ev{c.events, {.u64 = c.id}};
        epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
    }
}

void TcpServer::on_readable(Conn& c) {
    const int fd = c.fd;
    while (!c.awaiting && c.out.size() <= out_high_water) {
        const size_t have = c.in.size();
        c.in.resize(have + read_chunk);
        const ssize_t r = recv(fd, c.in.data() + have, read_chunk, 0);
        if (r <= 0) {
            c.in.resize(have);
            if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) close_conn(fd);
            return;
        }
        c.in.resize(have + size_t(r));
        if (have == 0) c.msg_start = Clock::now();  // only a whole message counts as progress
        answer_buffered(c);
        if (conns_.find(fd) == conns_.end()) return;
    }
}

// Answers every complete message in the buffer (pipelining), in order, up to the first one
// handed off.
void TcpServer::answer_buffered(Conn& c) {
    const Snapshot* snap = snap_.get();
    size_t pos = 0;
    while (!c.awaiting && c.in.size() - pos >= 2 && c.out.size() <= out_high_water) {
        const size_t len = size_t(c.in[pos]) << 8 | c.in[pos + 1];
        if (len < header_size) {  // not DNS: nothing else it sends will be
            close_conn(c.fd);
            return;
        }
        if (c.in.size() - pos - 2 < len) break;
        stats_->bump(slot::queries);
        ResponseInfo info;
        const uint8_t* msg = c.in.data() + pos + 2;
        size_t n = respond(snap, msg, len, scratch_.get() + 2, max_msg,
                           ClientInfo{Transport::tcp, guard_.cookies()}, &info);
        if (n != 0 && guard_.active())
            n = guard_.check(scratch_.get() + 2, n, info, c.peer, Transport::tcp, *stats_);
        pos += 2 + len;
        c.last = Clock::now();
        if (n == 0) {
            if (!info.handoff) {
                stats_->drop(Drop::no_reply);
                continue;
            }
            if (hand_off(c, msg, len)) {
                stats_->bump(slot::handed_off);
                continue;
            }
            stats_->drop(Drop::handoff_full);  // no answer will come: the client must not wait
            close_conn(c.fd);
            return;
        }
        stats_->answer(info.rcode, info.qtype, info.truncated, info.zone_slot);
        scratch_[0] = uint8_t(n >> 8);
        scratch_[1] = uint8_t(n);
        c.out.insert(c.out.end(), scratch_.get(), scratch_.get() + n + 2);
    }
    c.in.erase(c.in.begin(), c.in.begin() + pos);
    if (pos != 0 && !c.in.empty()) c.msg_start = Clock::now();
    if (!flush(c)) {
        close_conn(c.fd);
        return;
    }
    update_events(c);
}

bool TcpServer::hand_off(Conn& c, const uint8_t* msg, size_t len) {
    if (handoff_ == nullptr) return false;
    auto m = std::make_unique<HandoffMessage>();
    m->cls = classify(msg, len);
    m->transport = Transport::tcp;
    m->peer_len = sizeof m->peer;
    if (getpeername(c.fd, reinterpret_cast<sockaddr*>(&m->peer), &m->peer_len) != 0)
        m->peer_len = 0;
    m->conn = c.id;
    m->bytes.assign(msg, msg + len);
    if (!handoff_->push(std::move(m))) return false;
    c.awaiting = true;
    return true;
}

void TcpServer::close_conn(int fd) {
    auto it = conns_.find(fd);
    if (it == conns_.end()) return;
    auto src = per_source_.find(source_key(it->second.peer));
    if (src != per_source_.end() && --src->second == 0) per_source_.erase(src);
    if (it->second.stream && it->second.stream->more) it->second.stream->more->cancel();
    unwatch(it->second);
    epoll_ctl(ep_, EPOLL_CTL_DEL, fd, nullptr);
    close(fd);
    conns_.erase(it);
}

void TcpServer::mark_slow(int fd) {
    ++slow_;
    stats_->bump(slot::tcp_slow_closed);
    close_conn(fd);
}

// Closes the connection that has made no progress for longest (a transfer or a message with
// the control plane is progress); false when every connection is busy that way.
bool TcpServer::make_room() {
    int oldest = -1;
    Clock::time_point since = Clock::time_point::max();
    for (const auto& [fd, c] : conns_) {
        if (c.awaiting) continue;
        if (c.last < since) since = c.last, oldest = fd;
    }
    if (oldest < 0) return false;
    ++shed_;
    stats_->bump(slot::tcp_shed);
    close_conn(oldest);
    return true;
}

// Idle connections, messages not whole by their deadline, lifetimes used up. A connection
// whose handed-off message the control plane is still answering is left alone.
void TcpServer::sweep() {
    const auto now = Clock::now();
    std::vector<int> idle, slow;
    for (const auto& [fd, c] : conns_) {
        if (c.awaiting) continue;
        if (!c.in.empty() && now - c.msg_start > milliseconds(limits_.message_timeout_ms))
            slow.push_back(fd);
        else if (now - c.accepted > milliseconds(limits_.max_lifetime_ms) && c.out.empty())
            slow.push_back(fd);
        else if (now - c.last > milliseconds(limits_.idle_timeout_ms))
            idle.push_back(fd);
    }
    for (int fd : idle) close_conn(fd);
    for (int fd : slow) mark_slow(fd);
}

// One line at most every ten seconds, however many connections were refused or closed.
void TcpServer::log_summary(Clock::time_point now) {
    if (refused_ + shed_ + slow_ == 0 || now - last_summary_ < summary_every) return;
    write_log_line(
        "warning",
        "tcp: in the last " +
            std::to_string(
                std::chrono::duration_cast<std::chrono::seconds>(now - last_summary_).count()) +
            " s, refused " + std::to_string(refused_) +
            " connections (per-source limit or all busy), closed " + std::to_string(shed_) +
            " idle ones to make room and " + std::to_string(slow_) + " too slow or too old");
    refused_ = shed_ = slow_ = 0;
    last_summary_ = now;
}

}  // namespace anamed
