#include "anamed/kernel_frontend.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "anamed/respond.hpp"
#include "tcp_server.hpp"

namespace anamed {
namespace {
constexpr unsigned batch = 32;
constexpr size_t rx_size = 65536;  // any datagram (a padded query may exceed 4 KiB)
constexpr size_t tx_size = 4096;   // UDP replies stay within 1232 bytes

void set_rcvbuf(int fd, unsigned bytes) {
    if (bytes == 0) return;
    const int v = int(std::min<unsigned>(bytes, INT32_MAX / 2));
    // As root, past net.core.rmem_max; otherwise as far as it allows.
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof v) != 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
}
}  // namespace

KernelFrontend::KernelFrontend(Published<Snapshot>& snap, FrontendOptions opts)
    : snap_(snap), opts_(opts) {
    if (opts_.udp_workers == 0)
        opts_.udp_workers = std::max(1u, std::thread::hardware_concurrency());
}

KernelFrontend::~KernelFrontend() {
    stop();
}

void KernelFrontend::start(const std::vector<ListenAddr>& addrs) {
    std::vector<int> udp;
    std::vector<int> tcp;
    try {
        for (const auto& a : addrs) {
            // SO_REUSEPORT would let us share the port with another server (an anamed left
            // running, say) that then answers half the queries: check it is free first.
            for (int type : {SOCK_DGRAM, SOCK_STREAM})
                close(bind_socket(a, type, /*reuse_port=*/false));
            for (unsigned w = 0; w < opts_.udp_workers; ++w)
                udp.push_back(bind_socket(a, SOCK_DGRAM));
            tcp.push_back(bind_socket(a, SOCK_STREAM));
        }
    } catch (...) {
        for (int fd : udp) close(fd);
        for (int fd : tcp) close(fd);
        throw;
    }
    tcp_ = std::make_unique<TcpServer>(snap_, tcp, opts_.tcp, opts_.handoff, opts_.guard);
    stats_.push_back(std::make_unique<CounterBlock>());
    tcp_->start(*stats_.back());
    shared_rrl_ = ResponseGuard::shared_table(opts_.guard);
    for (int fd : udp) {
        set_rcvbuf(fd, opts_.udp_rcvbuf);
        fds_.push_back(fd);
        stats_.push_back(std::make_unique<CounterBlock>());
        guards_.push_back(
            std::make_unique<ResponseGuard>(opts_.guard, opts_.udp_workers, shared_rrl_.get()));
        if (RrlTable* t = guards_.back()->table()) reporter_.add(t);
    }
    for (size_t i = 0; i < fds_.size(); ++i) {
        const int fd = fds_[i];
        CounterBlock* st = stats_[i + 1].get();
        ResponseGuard* g = guards_[i].get();
        threads_.emplace_back([this, fd, st, g] { udp_loop(fd, *st, *g); });
    }
    reporter_.start();
}

// Block 0 is the TCP thread's, then one per UDP socket (workers of each address in turn).
std::vector<CounterSource> KernelFrontend::counter_sources() const {
    std::vector<CounterSource> out;
    for (size_t i = 0; i < stats_.size(); ++i)
        out.push_back(
            {"kernel", i == 0 ? "tcp" : "udp", "", unsigned(i == 0 ? 0 : i - 1), stats_[i].get()});
    return out;
}

void KernelFrontend::stop() {
    stop_.store(true);
    // Wakes a worker blocked in recvmmsg (it returns 0), so stopping takes no timeout.
    for (int fd : fds_) shutdown(fd, SHUT_RDWR);
    for (auto& t : threads_) t.join();
    threads_.clear();
    for (int fd : fds_) close(fd);
    fds_.clear();
    if (tcp_) tcp_->stop();
    reporter_.stop();
}

bool KernelFrontend::hand_off(int fd, const sockaddr_storage& peer, socklen_t peer_len,
                              const uint8_t* msg, size_t len) {
    if (opts_.handoff == nullptr) return false;
    auto m = std::make_unique<HandoffMessage>();
    m->cls = classify(msg, len);
    m->transport = Transport::udp;
    m->peer = peer;
    m->peer_len = peer_len;
    m->udp_fd = fd;
    m->bytes.assign(msg, msg + len);
    return opts_.handoff->push(std::move(m));
}

void KernelFrontend::reply(const HandoffMessage& m, Reply r) {
    if (m.transport == Transport::tcp) {
        if (tcp_) tcp_->deliver(m.conn, std::move(r));
        return;
    }
    if (r.more) r.more->cancel();  // streamed replies are TCP's: never made for UDP
    for (const std::string& msg : r.messages)
        sendto(m.udp_fd, msg.data(), msg.size(), MSG_DONTWAIT,
               reinterpret_cast<const sockaddr*>(&m.peer), m.peer_len);
}

void KernelFrontend::udp_loop(int fd, CounterBlock& st, ResponseGuard& guard) {
    Rcu& rcu = snap_.rcu();
    const int id = rcu.register_reader();
    auto rx = std::make_unique<uint8_t[]>(batch * rx_size);
    auto tx = std::make_unique<uint8_t[]>(batch * tx_size);
    mmsghdr in[batch]{}, out[batch]{};
    iovec in_iov[batch], out_iov[batch];
    sockaddr_storage peers[batch];
    for (unsigned i = 0; i < batch; ++i) {
        in_iov[i] = {rx.get() + i * rx_size, rx_size};
        in[i].msg_hdr.msg_iov = &in_iov[i];
        in[i].msg_hdr.msg_iovlen = 1;
        in[i].msg_hdr.msg_name = &peers[i];
    }
    const ClientInfo client{Transport::udp, guard.cookies()};
    while (!stop_.load(std::memory_order_relaxed)) {
        for (unsigned i = 0; i < batch; ++i) in[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
        rcu.offline(id);
        const int n = recvmmsg(fd, in, batch, MSG_WAITFORONE, nullptr);
        if (n <= 0) continue;
        rcu.online(id);
        const Snapshot* snap = snap_.get();
        if (guard.active()) guard.tick();
        unsigned m = 0;
        for (int i = 0; i < n; ++i) {
            st.bump(slot::queries);
            ResponseInfo info;
            if (in[i].msg_hdr.msg_flags & MSG_TRUNC) {
                st.drop(Drop::bad_length);
                continue;
            }
            size_t len = respond(snap, rx.get() + i * rx_size, in[i].msg_len,
                                 tx.get() + m * tx_size, tx_size, client, &info);
            if (len != 0 && guard.active()) {
                len = guard.check(tx.get() + m * tx_size, len, info, client_addr(peers[i]),
                                  Transport::udp, st);
                if (len == 0) continue;
            }
            if (len == 0) {
                if (!info.handoff) {
                    st.drop(Drop::no_reply);
                } else if (hand_off(fd, peers[i], in[i].msg_hdr.msg_namelen, rx.get() + i * rx_size,
                                    in[i].msg_len)) {
                    st.bump(slot::handed_off);
                } else {
                    st.drop(Drop::handoff_full);
                }
                continue;
            }
            st.answer(info.rcode, info.qtype, info.truncated, info.zone_slot);
            out_iov[m] = {tx.get() + m * tx_size, len};
            out[m].msg_hdr = msghdr{};
            out[m].msg_hdr.msg_name = &peers[i];
            out[m].msg_hdr.msg_namelen = in[i].msg_hdr.msg_namelen;
            out[m].msg_hdr.msg_iov = &out_iov[m];
            out[m].msg_hdr.msg_iovlen = 1;
            ++m;
        }
        rcu.quiescent(id);
        for (unsigned sent = 0; sent < m;) {
            const int r = sendmmsg(fd, out + sent, m - sent, 0);
            if (r <= 0) break;  // the kernel dropped them; UDP clients retry
            sent += unsigned(r);
        }
    }
    rcu.unregister_reader(id);
}

}  // namespace anamed
