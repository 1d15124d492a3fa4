// One refresh of a secondary zone from one primary, asynchronous: the SOA query over UDP
// (RFC 1035 §4.3.5), then, when the primary's serial is newer, IXFR over TCP with our SOA
// in the authority section (RFC 1995), or AXFR (RFC 5936) when we have no copy, when asked,
// or when the primary refuses IXFR. Every message is signed when the remote has a key and
// every reply verified (TSIG over the whole stream). Non-blocking sockets with timeouts,
// driven by the control-plane poll loop: fd()/events() to poll, process() on each turn.
#pragma once

#include <poll.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "remotes.hpp"
#include "xfr_in.hpp"

namespace anamed {

struct XfrRequest {
    std::string apex;  // lower-case wire
    const Remote* primary = nullptr;
    std::optional<Record> our_soa;  // none: no copy yet (AXFR)
    bool check_soa = true;          // false: transfer at once (NOTIFY carries no proof)
    bool ixfr = true;               // false: AXFR even with a copy (anamectl zone retransfer)
};

class XfrClient {
public:
    using Clock = std::chrono::steady_clock;
    // The largest transfer accepted, in message bytes: a bound on what a primary can make us
    // hold before the zone is checked.
    static constexpr size_t max_transfer_bytes = size_t(4) << 30;

    explicit XfrClient(XfrRequest req,
                       std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));
    ~XfrClient();
    XfrClient(const XfrClient&) = delete;
    XfrClient& operator=(const XfrClient&) = delete;

    std::optional<pollfd> poll_fd() const;
    Clock::time_point deadline() const { return deadline_; }
    void process();  // reads and writes what it can, or fails on the deadline

    bool done() const { return stage_ == Stage::done; }
    // Once done: "" or what failed (for logs and `anamectl zone status`).
    const std::string& error() const { return error_; }
    // Once done without error: up to date (no transfer), or what was transferred.
    TransferResult& result() { return result_; }
    uint32_t primary_serial() const { return primary_serial_; }
    const Remote& primary() const { return *req_.primary; }
    bool used_axfr() const { return !ixfr_now_; }
    size_t bytes() const { return bytes_; }

private:
    enum class Stage { soa, connect, transfer, done };
    void start_soa();
    void on_soa_reply(const uint8_t* msg, size_t len);
    void start_transfer(bool ixfr);
    void send_request();
    void read_stream();
    // One framed message of the transfer; false when the transfer stops (done_ or failed).
    bool on_message(uint8_t* msg, size_t len);
    void finish(std::string error = "");
    std::vector<uint8_t> signed_request(std::string msg);
    std::string who() const;

    XfrRequest req_;
    std::chrono::milliseconds timeout_;
    Stage stage_ = Stage::soa;
    int fd_ = -1;
    Clock::time_point deadline_;
    uint16_t id_ = 0;
    TsigMac mac_;
    std::unique_ptr<TsigStreamVerifier> verifier_;
    std::vector<uint8_t> out_;  // the request still to send (TCP)
    size_t sent_ = 0;
    std::vector<uint8_t> in_;  // bytes received, not yet a whole message
    bool ixfr_now_ = false;
    std::unique_ptr<TransferReader> reader_;
    std::string error_;
    TransferResult result_;
    uint32_t primary_serial_ = 0;
    size_t bytes_ = 0;
};

}  // namespace anamed
