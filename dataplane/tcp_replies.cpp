// The TCP server's replies (tcp_server.hpp): delivered from the control plane, then sent as
// the client takes them, a streamed reply's messages as its producer makes them.
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>

#include "tcp_server.hpp"

namespace anamed {
namespace {
using Clock = std::chrono::steady_clock;
}  // namespace

void TcpServer::take_deliveries() {
    inbox_.drain_signal();
    std::unique_ptr<Delivery> d;
    while (inbox_.pop(d)) {
        auto it = conns_.find(int(uint32_t(d->conn)));
        if (it == conns_.end() || it->second.id != d->conn) {  // closed meanwhile
            if (d->reply.more) d->reply.more->cancel();
            continue;
        }
        Conn& c = it->second;
        unwatch(c);
        c.stream = std::make_shared<Reply>(std::move(d->reply));
        watch(c);
        c.next = 0;
        c.later.clear();
        c.starved = false;
        c.last = Clock::now();
        pump(c);
    }
}

void TcpServer::take_produced() {
    std::vector<uint64_t> waiting;
    waiting.swap(starved_);
    for (const uint64_t id : waiting) {
        auto it = conns_.find(int(uint32_t(id)));
        if (it == conns_.end() || it->second.id != id || !it->second.starved)
            continue;  // closed by an earlier pump
        it->second.starved = false;
        pump(it->second);
    }
}

// A streamed reply's wake-up descriptor in the epoll set while the connection sends it.
void TcpServer::watch(Conn& c) {
    if (!c.stream || !c.stream->more) return;
    epoll_event ev{EPOLLIN, {.u64 = stream_token | c.id}};
    if (c.stream->more->fd() < 0 || epoll_ctl(ep_, EPOLL_CTL_ADD, c.stream->more->fd(), &ev) != 0)
        c.polled = true;
    polled_streams_ += c.polled ? 1 : 0;
}
void TcpServer::unwatch(Conn& c) {
    if (!c.stream || !c.stream->more) return;
    if (c.polled)
        --polled_streams_;
    else
        epoll_ctl(ep_, EPOLL_CTL_DEL, c.stream->more->fd(), nullptr);
    c.polled = false;
}

void TcpServer::end_stream(Conn& c) {
    unwatch(c);
    c.stream.reset();
    c.later.clear();
    c.starved = false;
    c.awaiting = false;
}

bool TcpServer::queue_next(Conn& c, bool& failed) {
    const std::string* m = nullptr;
    if (c.next < c.stream->messages.size()) {
        m = &c.stream->messages[c.next++];
    } else if (c.stream->more) {
        if (c.later.empty()) {
            const MessageStream::State st = c.stream->more->take(c.later);
            if (c.later.empty()) {
                if (st == MessageStream::State::more) {
                    c.starved = true;  // take_produced() continues
                    starved_.push_back(c.id);
                } else if (st == MessageStream::State::failed)
                    failed = true;
                else
                    end_stream(c);
                return false;
            }
        }
    } else {
        end_stream(c);
        return false;
    }
    const std::string& msg = m ? *m : c.later.front();
    const size_t n = std::min(msg.size(), max_msg);
    c.out.push_back(uint8_t(n >> 8));
    c.out.push_back(uint8_t(n));
    c.out.insert(c.out.end(), msg.begin(), msg.begin() + ptrdiff_t(n));
    if (!m) c.later.pop_front();
    return true;
}

bool TcpServer::pump(Conn& c) {
    bool failed = false;
    while (c.stream && !c.starved && c.out.size() <= out_high_water)
        if (!queue_next(c, failed)) break;
    // A transfer cut short must not end in a way that looks whole to the client.
    if (failed || !flush(c)) {
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
    if (off) c.last = Clock::now();
    c.out.erase(c.out.begin(), c.out.begin() + ptrdiff_t(off));
    return true;
}

// Reads while no reply is awaited and the client takes what it is sent; writes while there
// is something to send, or a stream to continue (its next messages are queued when the
// socket can take them, even if everything queued so far went out at once).
void TcpServer::update_events(Conn& c) {
    uint32_t want = 0;
    if (!c.awaiting && c.out.size() <= out_high_water) want |= EPOLLIN;
    if (!c.out.empty() || (c.stream && !c.starved)) want |= EPOLLOUT;
    if (want == c.events) return;
    epoll_event ev{want, {.u64 = c.id}};
    epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
    c.events = want;
}

}  // namespace anamed
