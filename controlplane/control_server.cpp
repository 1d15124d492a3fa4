#include "control_server.hpp"

#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

#include "log.hpp"

namespace anamed {
namespace {
constexpr size_t max_clients = 64;
constexpr size_t max_request = 64u << 20;  // a batch of many thousand records fits
constexpr size_t max_pending_out = 64u << 20;
constexpr auto idle_limit = std::chrono::minutes(5);
}  // namespace

ControlServer::ControlServer(const std::string& path, const std::string& group, Handler handler)
    : path_(path), handler_(std::move(handler)) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) throw std::runtime_error("control socket path too long: " + path);
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    if (!group.empty()) {
        const struct group* g = getgrnam(group.c_str());
        if (g == nullptr) throw std::runtime_error("control socket group '" + group + "' does not exist");
        group_ = g->gr_gid;
    }
    fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    unlink(path.c_str());  // a socket left by a previous run
    // Create it with no access for anyone but the owner, then widen to the group if asked.
    const mode_t old = umask(0177);
    const int rc = bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    umask(old);
    if (rc != 0 || listen(fd_, 16) != 0) {
        const std::string err = strerror(errno);
        close(fd_);
        throw std::runtime_error("cannot listen on control socket " + path + ": " + err);
    }
    if (group_ != gid_t(-1) && (chown(path.c_str(), geteuid(), group_) != 0 || chmod(path.c_str(), 0660) != 0))
        log_warning("control socket " + path + ": cannot give group " + group + " access: " + strerror(errno));
}

ControlServer::~ControlServer() {
    for (auto& [fd, c] : clients_) close(fd);
    if (fd_ >= 0) close(fd_);
    unlink(path_.c_str());
}

void ControlServer::poll_fds(std::vector<pollfd>& out) const {
    out.push_back(pollfd{fd_, POLLIN, 0});
    for (const auto& [fd, c] : clients_) out.push_back(pollfd{fd, short(POLLIN | (c.out.empty() ? 0 : POLLOUT)), 0});
}

// The socket's mode is the first gate; credentials are the second (they also cover a
// socket path whose directory is more open than it should be).
bool ControlServer::allowed(int fd) const {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return false;
    return cred.uid == 0 || cred.uid == geteuid() || (group_ != gid_t(-1) && cred.gid == group_);
}

void ControlServer::process() {
    const auto now = std::chrono::steady_clock::now();
    while (true) {
        const int fd = accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) break;
        if (clients_.size() >= max_clients || !allowed(fd)) {
            const char* msg = clients_.size() >= max_clients ? "{\"ok\":false,\"error\":\"too many control clients\"}\n"
                                                             : "{\"ok\":false,\"error\":\"permission denied\"}\n";
            (void)!send(fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT);
            close(fd);
            continue;
        }
        clients_[fd].last = now;
    }
    for (auto it = clients_.begin(); it != clients_.end();) {
        const int fd = it->first;
        Client& c = it->second;
        char buf[65536];
        bool dead = false;
        while (true) {
            const ssize_t n = recv(fd, buf, sizeof buf, 0);
            if (n > 0) {
                c.in.append(buf, size_t(n));
                c.last = now;
                if (c.in.size() > max_request) dead = true;
                continue;
            }
            if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) dead = true;
            break;
        }
        if (!dead) serve(fd, c);
        if (dead || !flush(fd, c) || now - c.last > idle_limit) {
            close(fd);
            it = clients_.erase(it);
        } else {
            ++it;
        }
    }
}

void ControlServer::serve(int fd, Client& c) {
    (void)fd;
    size_t start = 0;
    for (size_t nl; (nl = c.in.find('\n', start)) != std::string::npos; start = nl + 1) {
        const std::string line = c.in.substr(start, nl - start);
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        nlohmann::json reply;
        try {
            reply = handler_(nlohmann::json::parse(line));
        } catch (const nlohmann::json::exception& e) {
            reply = {{"ok", false}, {"error", std::string("malformed request: ") + e.what()}};
        } catch (const std::exception& e) {
            reply = {{"ok", false}, {"error", e.what()}};
        }
        c.out += reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    }
    c.in.erase(0, start);
}

bool ControlServer::flush(int fd, Client& c) {
    while (!c.out.empty()) {
        const ssize_t n = send(fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
        if (n > 0) {
            c.out.erase(0, size_t(n));
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return c.out.size() <= max_pending_out;
        return false;
    }
    return true;
}

}  // namespace anamed
