// The control socket: a local unix socket speaking one JSON object per line each way.
// Non-blocking on the control-plane thread's poll loop, so a slow, silent or dead client
// can stall neither the control plane nor the dataplane. Access: the socket's mode (0600,
// or 0660 with a configured group) and the peer's credentials (SO_PEERCRED; for the group,
// the peer's supplementary groups too).
#pragma once

#include <poll.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace anamed {

class ControlServer {
public:
    using Handler = std::function<nlohmann::json(const nlohmann::json& request)>;

    // Binds `path` (replacing a stale socket); throws std::runtime_error naming the problem.
    ControlServer(const std::string& path, const std::string& group, Handler handler);
    ~ControlServer();
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

    void poll_fds(std::vector<pollfd>& out) const;
    void process();     // accepts, reads, answers complete lines, writes, expires idle clients
    bool busy() const;  // requests are waiting: poll again without sleeping

private:
    struct Client {
        std::string in, out;
        std::chrono::steady_clock::time_point last;
        bool eof = false;
    };
    bool allowed(int fd) const;
    bool receive(int fd, Client& c, std::chrono::steady_clock::time_point now);
    bool in_group(int fd, uid_t uid, gid_t primary) const;
    void serve(Client& c);
    bool flush(int fd, Client& c);

    std::string path_;
    int fd_ = -1;
    gid_t group_ = gid_t(-1);
    ino_t inode_ = 0;
    Handler handler_;
    std::map<int, Client> clients_;
    size_t buffered_in_ = 0, buffered_out_ = 0;  // over all clients (the budgets)
};

}  // namespace anamed
