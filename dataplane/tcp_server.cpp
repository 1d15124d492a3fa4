#include "tcp_server.hpp"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>

#include "anamed/respond.hpp"

namespace anamed {
namespace {
constexpr size_t max_msg = 65535;
constexpr size_t out_high_water = 256 * 1024;  // stop reading a client that does not read
constexpr size_t read_chunk = 16384;
}  // namespace

TcpServer::TcpServer(Published<Snapshot>& snap, std::vector<int> listen_fds,
                     unsigned idle_timeout_ms, unsigned max_connections, HandoffQueue* handoff)
    : snap_(snap),
      listen_fds_(std::move(listen_fds)),
      idle_timeout_(idle_timeout_ms),
      max_connections_(max_connections),
      scratch_(new uint8_t[max_msg + 2]),
      handoff_(handoff),
      // Each connection awaits one reply at most: the inbox never fills.
      inbox_(size_t(max_connections) + 16) {}

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
        epoll_event ev{EPOLLIN, {.fd = fd}};
        epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
    }
    epoll_event ev{EPOLLIN, {.fd = inbox_.fd()}};
    epoll_ctl(ep_, EPOLL_CTL_ADD, inbox_.fd(), &ev);
    thread_ = std::thread([this] { loop(); });
}

void TcpServer::stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
    for (auto& [fd, c] : conns_) close(fd);
    conns_.clear();
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
    auto last_sweep = std::chrono::steady_clock::now();
    while (!stop_.load(std::memory_order_relaxed)) {
        rcu.offline(rcu_id_);
        const int n = epoll_wait(ep_, events, 64, 200);
        rcu.online(rcu_id_);
        for (int i = 0; i < n; ++i) {
            const int fd = events[i].data.fd;
            if (fd == inbox_.fd()) {
                take_deliveries();
                continue;
            }
            bool is_listener = false;
            for (int l : listen_fds_) is_listener |= (l == fd);
            if (is_listener) {
                accept_all(fd);
                continue;
            }
            auto it = conns_.find(fd);
            if (it == conns_.end()) continue;
            Conn& c = it->second;
            if (events[i].events & (EPOLLERR | EPOLLHUP)) {
                close_conn(fd);
                continue;
            }
            if ((events[i].events & EPOLLOUT) && !pump(c)) continue;
            if (events[i].events & EPOLLIN) on_readable(c);
        }
        const auto now = std::chrono::steady_clock::now();
        if (now - last_sweep > std::chrono::milliseconds(500)) {
            sweep_idle();
            last_sweep = now;
        }
        rcu.quiescent(rcu_id_);
    }
    rcu.unregister_reader(rcu_id_);
}

void TcpServer::accept_all(int lfd) {
    while (true) {
        const int fd = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;
        if (conns_.size() >= max_connections_) {
            close(fd);  // RFC 7766 §6.2.2: refuse rather than starve the existing clients
            continue;
        }
        Conn& c = conns_[fd];
        c.fd = fd;
        c.id = ++serial_ << 32 | uint32_t(fd);
        c.last = std::chrono::steady_clock::now();
        c.events = EPOLLIN;
        epoll_event ev{c.events, {.fd = fd}};
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
        c.last = std::chrono::steady_clock::now();
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
        if (len == 0) {
            close_conn(c.fd);
            return;
        }
        if (c.in.size() - pos - 2 < len) break;
        stats_->bump(slot::queries);
        ResponseInfo info;
        const uint8_t* msg = c.in.data() + pos + 2;
        const size_t n =
            respond(snap, msg, len, scratch_.get() + 2, max_msg, ClientInfo{Transport::tcp}, &info);
        pos += 2 + len;
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
        stats_->answer(info.rcode, info.qtype, info.truncated);
        scratch_[0] = uint8_t(n >> 8);
        scratch_[1] = uint8_t(n);
        c.out.insert(c.out.end(), scratch_.get(), scratch_.get() + n + 2);
    }
    c.in.erase(c.in.begin(), c.in.begin() + pos);
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

void TcpServer::take_deliveries() {
    inbox_.drain_signal();
    std::unique_ptr<Delivery> d;
    while (inbox_.pop(d)) {
        auto it = conns_.find(int(uint32_t(d->conn)));
        if (it == conns_.end() || it->second.id != d->conn) continue;  // closed meanwhile
        Conn& c = it->second;
        c.stream = std::make_shared<Reply>(std::move(d->reply));
        c.next = 0;
        c.last = std::chrono::steady_clock::now();
        pump(c);
    }
}

bool TcpServer::pump(Conn& c) {
    while (c.stream && c.out.size() <= out_high_water) {
        if (c.next == c.stream->messages.size()) {
            c.stream.reset();
            c.awaiting = false;
            break;
        }
        const std::string& m = c.stream->messages[c.next++];
        const size_t n = std::min(m.size(), max_msg);
        c.out.push_back(uint8_t(n >> 8));
        c.out.push_back(uint8_t(n));
        c.out.insert(c.out.end(), m.begin(), m.begin() + ptrdiff_t(n));
    }
    if (!flush(c)) {
        close_conn(c.fd);
        return false;
    }
    const int fd = c.fd;
    if (!c.awaiting && !c.in.empty()) {  // resume what the client sent meanwhile
        answer_buffered(c);
        if (conns_.find(fd) == conns_.end()) return false;
    }
    update_events(c);
    return true;
}

bool TcpServer::flush(Conn& c) {
    size_t off = 0;
    while (off < c.out.size()) {
        const ssize_t w = send(c.fd, c.out.data() + off, c.out.size() - off, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            return false;
        }
        off += size_t(w);
    }
    if (off) c.last = std::chrono::steady_clock::now();
    c.out.erase(c.out.begin(), c.out.begin() + ptrdiff_t(off));
    return true;
}

// Reads while no reply is awaited and the client takes what it is sent; writes while there
// is something to send, or a stream to continue.
void TcpServer::update_events(Conn& c) {
    uint32_t want = 0;
    if (!c.awaiting && c.out.size() <= out_high_water) want |= EPOLLIN;
    if (!c.out.empty()) want |= EPOLLOUT;
    if (want == c.events) return;
    epoll_event ev{want, {.fd = c.fd}};
    epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
    c.events = want;
}

void TcpServer::close_conn(int fd) {
    epoll_ctl(ep_, EPOLL_CTL_DEL, fd, nullptr);
    close(fd);
    conns_.erase(fd);
}

void TcpServer::sweep_idle() {
    const auto now = std::chrono::steady_clock::now();
    std::vector<int> idle;
    for (const auto& [fd, c] : conns_)
        if (now - c.last > idle_timeout_ && !(c.awaiting && !c.stream)) idle.push_back(fd);
    for (int fd : idle) close_conn(fd);
}

}  // namespace anamed
