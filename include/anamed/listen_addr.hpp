// "ADDR:PORT" / "[V6ADDR]:PORT" listen specifications and their sockets.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <string>

namespace anamed {

struct ListenAddr {
    sockaddr_storage addr{};
    socklen_t len = 0;
    std::string text;
};

// Returns an empty string on success, otherwise what is wrong with `spec`.
std::string parse_listen_addr(const std::string& spec, ListenAddr& out);

// A bound socket (SO_REUSEPORT unless told otherwise, IPV6_V6ONLY, IP_FREEBIND); throws
// std::runtime_error naming the address.
int bind_socket(const ListenAddr& a, int type, bool reuse_port = true);

}  // namespace anamed
