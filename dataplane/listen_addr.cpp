#include "anamed/listen_addr.hpp"

#include <arpa/inet.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

namespace anamed {

std::string parse_listen_addr(const std::string& spec, ListenAddr& out) {
    std::string host, port;
    if (!spec.empty() && spec[0] == '[') {
        const size_t close = spec.find(']');
        if (close == std::string::npos || close + 1 >= spec.size() || spec[close + 1] != ':')
            return "expected [IPV6]:PORT";
        host = spec.substr(1, close - 1);
        port = spec.substr(close + 2);
    } else {
        const size_t colon = spec.rfind(':');
        if (colon == std::string::npos) return "expected ADDRESS:PORT";
        host = spec.substr(0, colon);
        port = spec.substr(colon + 1);
    }
    char* end = nullptr;
    const long p = std::strtol(port.c_str(), &end, 10);
    if (port.empty() || *end != '\0' || p < 0 || p > 65535) return "bad port '" + port + "'";
    out = ListenAddr{};
    out.text = spec;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&out.addr);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.addr);
    if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(uint16_t(p));
        out.len = sizeof(sockaddr_in);
    } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(uint16_t(p));
        out.len = sizeof(sockaddr_in6);
    } else {
        return "'" + host + "' is not an IPv4 or IPv6 address";
    }
    return {};
}

int bind_socket(const ListenAddr& a, int type, bool reuse_port) {
    const int fd = socket(a.addr.ss_family, type | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("socket() for " + a.text + ": " + strerror(errno));
    const int one = 1;
    if (reuse_port) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    // The service address may appear later (a DPDK exception TAP, a VIP): bind anyway.
    setsockopt(fd, a.addr.ss_family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP,
               a.addr.ss_family == AF_INET6 ? IPV6_FREEBIND : IP_FREEBIND, &one, sizeof one);
    if (a.addr.ss_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, reinterpret_cast<const sockaddr*>(&a.addr), a.len) != 0) {
        const int e = errno;
        const std::string err = strerror(e);
        close(fd);
        throw std::runtime_error(
            "cannot bind " + std::string(type == SOCK_STREAM ? "TCP " : "UDP ") + a.text + ": " +
            err + (e == EADDRINUSE ? " (another server, or another anamed, holds it)" : ""));
    }
    return fd;
}

}  // namespace anamed
