// AXFRs built on threads of their own while the TCP server sends them (message_stream.hpp):
// the control thread takes the zone's image (zone_image.hpp) and returns at once, the first
// message goes out as soon as it is made, and building overlaps sending and the client's
// parsing instead of coming before them.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "anamed/message_stream.hpp"
#include "anamed/tsig.hpp"
#include "xfr_out.hpp"
#include "zone_image.hpp"

namespace anamed {

class TransferThreads {
public:
    struct Job {
        std::shared_ptr<const ZoneImage> image;
        TransferRequest request;
        std::optional<TsigRequest> tsig;  // sign every message (its key is copied)
        std::string log_prefix;           // "AXFR of <zone> serial <n> to <remote> (...)"
    };
    TransferThreads() = default;
    TransferThreads(const TransferThreads&) = delete;
    TransferThreads& operator=(const TransferThreads&) = delete;
    ~TransferThreads();  // stops every producer and waits for it

    // The stream the job's messages arrive on; null when max_running are being built already
    // (the caller builds this one in line).
    std::shared_ptr<MessageStream> start(Job job);
    static constexpr size_t max_running = 8;

private:
    struct Running {
        std::thread thread;
        std::shared_ptr<std::atomic<bool>> done;
        std::shared_ptr<MessageStream> stream;
    };
    void reap();  // joins the threads that have finished
    std::vector<Running> running_;
};

}  // namespace anamed
