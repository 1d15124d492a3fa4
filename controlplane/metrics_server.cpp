#include "metrics_server.hpp"

#include <microhttpd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>
#include <string_view>

#include "metrics_text.hpp"

namespace anamed {
namespace {

MHD_Result reply(MHD_Connection* c, unsigned status, const std::string& body, const char* type) {
    MHD_Response* r = MHD_create_response_from_buffer(body.size(), const_cast<char*>(body.data()),
                                                      MHD_RESPMEM_MUST_COPY);
    if (r == nullptr) return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    const MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

MHD_Result on_request(void* cls, MHD_Connection* c, const char* url, const char* method,
                      const char*, const char*, size_t* upload_size, void**) {
    const auto* server = static_cast<const MetricsServer*>(cls);
    if (*upload_size != 0) {  // a body nobody asked for: read and ignore it
        *upload_size = 0;
        return MHD_YES;
    }
    const std::string_view m(method);
    if (m != MHD_HTTP_METHOD_GET && m != MHD_HTTP_METHOD_HEAD)
        return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET /metrics\n", "text/plain");
    if (std::string_view(url) != "/metrics")
        return reply(c, MHD_HTTP_NOT_FOUND, "anamed serves /metrics\n", "text/plain");
    return reply(c, MHD_HTTP_OK, server->scrape(), "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace

MetricsServer::MetricsServer(const ListenAddr& addr, std::vector<CounterSource> sources,
                             const MetricsBoard& board, const ZoneSlots* zones)
    : sources_(std::move(sources)), board_(board), zones_(zones) {
    const int fd = bind_socket(addr, SOCK_STREAM, false);
    if (listen(fd, 64) != 0) {
        const std::string why = strerror(errno);
        close(fd);
        throw std::runtime_error("metrics: cannot listen on " + addr.text + ": " + why);
    }
    const unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
                           (addr.addr.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    mhd_ = MHD_start_daemon(flags, 0, nullptr, nullptr, &on_request, this, MHD_OPTION_LISTEN_SOCKET,
                            fd, MHD_OPTION_CONNECTION_LIMIT, 64u, MHD_OPTION_CONNECTION_TIMEOUT,
                            10u, MHD_OPTION_END);
    if (mhd_ == nullptr) {
        close(fd);
        throw std::runtime_error("metrics: cannot start the HTTP server on " + addr.text);
    }
}

MetricsServer::~MetricsServer() {
    if (mhd_ != nullptr) MHD_stop_daemon(mhd_);  // closes the listening socket too
}

std::string MetricsServer::scrape() const {
    return metrics_text(read_counters(sources_, zones_), *board_.load());
}

}  // namespace anamed
