#include "control_server.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "log.hpp"

namespace anamed {
namespace {
constexpr size_t max_clients = 256;
// One request line: a batch of tens of thousands of records fits; parsing it costs about
// twenty times its size, so this also bounds the parse's memory and time.
constexpr size_t max_request = 8u << 20;
// All clients together: requests being received, and replies not yet taken. A client whose
// input would go over the budget is refused; replies over it hold back further requests.
constexpr size_t input_budget = 2 * max_request;
constexpr size_t output_budget = 32u << 20;
constexpr size_t max_pending_out = 64u << 20;  // one client's, when one reply is that big
constexpr auto idle_limit = std::chrono::seconds(60);
constexpr int max_lines_per_pass = 8;
}  // namespace

ControlServer::ControlServer(const std::string& path, const std::string& group, Handler handler)
    : path_(path), handler_(std::move(handler)) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path)
        throw std::runtime_error("control socket path too long: " + path);
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    if (!group.empty()) {
        const struct group* g = getgrnam(group.c_str());
        if (g == nullptr)
            throw std::runtime_error("control socket group '" + group + "' does not exist");
        group_ = g->gr_gid;
    }
    // Only a socket is ever replaced: anything else at the path (a zone file given by
    // mistake) is the operator's and stays.
    struct stat at {};
    if (lstat(path.c_str(), &at) == 0 && !S_ISSOCK(at.st_mode))
        throw std::runtime_error("control socket path " + path +
                                 " exists and is not a socket; anamed does not delete it: "
                                 "remove it or choose another path");
    fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    // A socket file left by a previous run is replaced; one that answers belongs to a
    // running anamed, which must not be cut off.
    const int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const bool live = connect(probe, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    close(probe);
    if (live) {
        close(fd_);
        throw std::runtime_error("control socket " + path +
                                 " is in use by a running anamed; stop it first or "
                                 "choose another path");
    }
    unlink(path.c_str());
    // Create it with no access for anyone but the owner, then widen to the group if asked.
    const mode_t old = umask(0177);
    const int rc = bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    umask(old);
    if (rc != 0 || listen(fd_, 16) != 0) {
        const std::string err = strerror(errno);
        close(fd_);
        throw std::runtime_error("cannot listen on control socket " + path + ": " + err);
    }
    struct stat st {};
    if (stat(path.c_str(), &st) == 0) inode_ = st.st_ino;
    if (group_ != gid_t(-1) &&
        (chown(path.c_str(), geteuid(), group_) != 0 || chmod(path.c_str(), 0660) != 0))
        log_warning("control socket " + path + ": cannot give group " + group +
                    " access: " + strerror(errno));
}

ControlServer::~ControlServer() {
    for (auto& [fd, c] : clients_) close(fd);
    if (fd_ >= 0) close(fd_);
    struct stat st {};
    if (stat(path_.c_str(), &st) == 0 && st.st_ino == inode_)
        unlink(path_.c_str());  // only our own
}

void ControlServer::poll_fds(std::vector<pollfd>& out) const {
    out.push_back(pollfd{fd_, POLLIN, 0});
    for (const auto& [fd, c] : clients_)
        out.push_back(pollfd{fd, short(POLLIN | (c.out.empty() ? 0 : POLLOUT)), 0});
}

// The socket's mode is the first gate; credentials are the second (they also cover a
// socket path whose directory is more open than it should be).
bool ControlServer::allowed(int fd) const {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return false;
    if (cred.uid == 0 || cred.uid == geteuid()) return true;
    return group_ != gid_t(-1) && (cred.gid == group_ || in_group(fd, cred.uid, cred.gid));
}

// The peer's supplementary groups as the kernel recorded them at connect (SO_PEERGROUPS);
// on a kernel without it, the group database's list for the peer's user.
bool ControlServer::in_group(int fd, uid_t uid, gid_t primary) const {
    std::vector<gid_t> groups(64);
    socklen_t len = socklen_t(groups.size() * sizeof(gid_t));
    int rc = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &len);
    if (rc != 0 && errno == ERANGE) {
        groups.resize(len / sizeof(gid_t) + 1);
        len = socklen_t(groups.size() * sizeof(gid_t));
        rc = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &len);
    }
    if (rc == 0) {
        groups.resize(len / sizeof(gid_t));
    } else {
        const passwd* pw = getpwuid(uid);
        if (pw == nullptr) return false;
        int n = 64;
        groups.resize(size_t(n));
        if (getgrouplist(pw->pw_name, primary, groups.data(), &n) < 0) {
            groups.resize(size_t(n));
            if (getgrouplist(pw->pw_name, primary, groups.data(), &n) < 0) return false;
        }
        groups.resize(size_t(n));
    }
    return std::find(groups.begin(), groups.end(), group_) != groups.end();
}

void ControlServer::process() {
    const auto now = std::chrono::steady_clock::now();
    while (true) {
        const int fd = accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) break;
        if (clients_.size() >= max_clients || !allowed(fd)) {
            const char* msg = clients_.size() >= max_clients
                                  ? "{\"ok\":false,\"error\":\"too many control clients\"}\n"
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
        const bool broken = !receive(fd, c, now);
        if (!broken && buffered_out_ < output_budget) serve(c);
        const bool drained = flush(fd, c);
        const bool done = c.eof && c.out.empty() && c.in.find('\n') == std::string::npos;
        if (broken || !drained || done || now - c.last > idle_limit) {
            buffered_in_ -= c.in.size();
            buffered_out_ -= c.out.size();
            close(fd);
            it = clients_.erase(it);
        } else {
            ++it;
        }
    }
}

// Reads what the client sent; false when it must be cut off (error, or a request over the
// per-request limit or the budget of all clients, which it is told).
bool ControlServer::receive(int fd, Client& c, std::chrono::steady_clock::time_point now) {
    char buf[65536];
    const char* refusal = nullptr;
    // A client with whole requests waiting is simply not read until they are served.
    while (!c.eof && !refusal) {
        const bool has_line = c.in.find('\n') != std::string::npos;
        if (buffered_in_ + sizeof buf > input_budget || c.in.size() >= max_request) {
            if (has_line) break;
            refusal = c.in.size() >= max_request
                          ? "a control request is limited to 8 MiB; split the batch"
                          : "the control socket is busy with other large requests; retry";
            break;
        }
        const ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n == 0) c.eof = true;  // half-close: still answer what was sent
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return false;
        if (n <= 0) break;
        c.in.append(buf, size_t(n));
        buffered_in_ += size_t(n);
        c.last = now;
    }
    if (refusal == nullptr) return true;
    log_warning(std::string("control client refused: ") + refusal);
    const std::string msg = nlohmann::json{{"ok", false}, {"error", refusal}}.dump() + "\n";
    (void)!send(fd, msg.data(), msg.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    return false;
}

bool ControlServer::busy() const {
    if (buffered_out_ >= output_budget) return false;  // waits for clients to take replies
    for (const auto& [fd, c] : clients_)
        if (c.in.find('\n') != std::string::npos) return true;
    return false;
}

// A few requests per client per pass, so that one client's big stream of changes cannot
// keep the others waiting (busy() makes the loop come back at once).
void ControlServer::serve(Client& c) {
    size_t start = 0;
    int served = 0;
    for (size_t nl;
         served < max_lines_per_pass && (nl = c.in.find('\n', start)) != std::string::npos;
         start = nl + 1) {
        ++served;
        const std::string_view line(c.in.data() + start, nl - start);
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        nlohmann::json reply;
        try {
            reply = handler_(nlohmann::json::parse(line));
        } catch (const nlohmann::json::exception& e) {
            reply = {{"ok", false}, {"error", std::string("malformed request: ") + e.what()}};
        } catch (const std::exception& e) {
            reply = {{"ok", false}, {"error", e.what()}};
        }
        const std::string text =
            reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
        c.out += text;
        buffered_out_ += text.size();
        if (buffered_out_ >= output_budget) {
            start = nl + 1;
            break;
        }
    }
    c.in.erase(0, start);
    buffered_in_ -= start;
}

bool ControlServer::flush(int fd, Client& c) {
    while (!c.out.empty()) {
        const ssize_t n = send(fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
        if (n > 0) {
            c.out.erase(0, size_t(n));
            buffered_out_ -= size_t(n);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return c.out.size() <= max_pending_out;
        return false;
    }
    return true;
}

}  // namespace anamed
