// RFC 2136 §6: a secondary forwards an UPDATE to its primary and relays the answer. The
// message goes as it came (its TSIG, made by the client with a key the primary knows, stays
// valid: the ID is unchanged), over TCP, one connection per message, with a deadline.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include "anamed/wire.hpp"
#include "update.hpp"

namespace anamed {
namespace {

using Clock = std::chrono::steady_clock;

// Waits until fd is ready for `events` or the deadline passes.
bool wait_for(int fd, short events, Clock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    return poll(&p, 1, int(left)) == 1 && (p.revents & events);
}

bool send_all(int fd, const uint8_t* p, size_t n, Clock::time_point deadline) {
    while (n > 0) {
        if (!wait_for(fd, POLLOUT, deadline)) return false;
        const ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k <= 0) return false;
        p += k;
        n -= size_t(k);
    }
    return true;
}

bool recv_all(int fd, uint8_t* p, size_t n, Clock::time_point deadline) {
    while (n > 0) {
        if (!wait_for(fd, POLLIN, deadline)) return false;
        const ssize_t k = recv(fd, p, n, 0);
        if (k <= 0) return false;
        p += k;
        n -= size_t(k);
    }
    return true;
}

std::string exchange(const Remote& r, const std::vector<uint8_t>& request, unsigned timeout_ms) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    const int fd = socket(r.addr.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return "";
    std::string reply;
    connect(fd, reinterpret_cast<const sockaddr*>(&r.addr.addr), r.addr.len);
    std::vector<uint8_t> framed(2 + request.size());
    store16(framed.data(), uint16_t(request.size()));
    std::copy(request.begin(), request.end(), framed.begin() + 2);
    uint8_t len[2];
    if (send_all(fd, framed.data(), framed.size(), deadline) && recv_all(fd, len, 2, deadline)) {
        reply.resize(load16(len));
        if (!recv_all(fd, reinterpret_cast<uint8_t*>(reply.data()), reply.size(), deadline) ||
            reply.size() < header_size ||
            load16(reinterpret_cast<const uint8_t*>(reply.data())) != load16(request.data()))
            reply.clear();
    }
    close(fd);
    return reply;
}

}  // namespace

std::string forward_update(const std::vector<const Remote*>& primaries,
                           const std::vector<uint8_t>& request, unsigned timeout_ms) {
    if (request.size() > 65535) return "";
    for (const Remote* r : primaries)
        if (std::string reply = exchange(*r, request, timeout_ms); !reply.empty()) return reply;
    return "";
}

}  // namespace anamed
