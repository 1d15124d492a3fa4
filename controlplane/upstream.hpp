// One A or AAAA lookup at an upstream resolver, hardened against spoofing: a fresh socket
// (random source port) per query, random ID, 0x20 case randomisation, and a reply taken
// only when source address, port, ID and the question (case included) all match. A
// truncated reply is retried over TCP. Never blocks: every step (UDP, TCP connect, send,
// receive) is driven from the resolver's poll loop, bounded by the one deadline.
// With require_ad the query asks with DO=1 (and AD=1, RFC 6840 §5.7) and a reply without
// AD (its data not validated by the upstream) is a failure: for a trusted validating resolver.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "anamed/listen_addr.hpp"

namespace anamed {

using Clock = std::chrono::steady_clock;

struct LookupResult {
    bool ok = false;
    bool nxdomain = false;
    std::vector<std::string> rdata;  // A or AAAA RDATA at the end of the chain
    uint32_t ttl = 0;                // min over the chain (negative TTL for empty answers)
    std::string error;               // when !ok
};

// Follows CNAME/DNAME records in a reply from `qname` to `qtype` records (parse_reply's core,
// exposed for tests). rcode is the reply's.
LookupResult follow_chain(const uint8_t* reply, size_t len, const std::string& qname_wire,
                          uint16_t qtype);

class UpstreamQuery {
public:
    UpstreamQuery(const std::string& qname_wire, uint16_t qtype, const ListenAddr& upstream,
                  std::chrono::milliseconds timeout, bool require_ad = false);
    ~UpstreamQuery();
    UpstreamQuery(const UpstreamQuery&) = delete;
    UpstreamQuery& operator=(const UpstreamQuery&) = delete;

    int fd() const { return fd_; }
    short events() const;  // what to poll fd() for in the current step
    Clock::time_point deadline() const { return deadline_; }
    bool done() const { return done_; }
    const LookupResult& result() const { return result_; }
    uint64_t rejected() const { return rejected_; }  // replies that failed the checks

    void on_readable();  // advances the current step (reads, connects, sends); may complete it
    void on_deadline();  // completes it as a timeout if still open

private:
    enum class Step { udp, tcp_connect, tcp_send, tcp_receive };
    void finish(LookupResult r);
    void finish_reply(const uint8_t* p, size_t n);  // a matching reply: its chain, AD checked
    void fail(const std::string& what);
    void retry_over_tcp();
    void udp_receive();
    void tcp_progress();
    bool acceptable(const uint8_t* p, size_t n) const;

    std::string qname_;  // as sent: 0x20-randomised
    uint16_t qtype_;
    uint16_t id_ = 0;
    ListenAddr upstream_;
    std::chrono::milliseconds timeout_;
    bool require_ad_ = false;
    std::vector<uint8_t> query_;
    int fd_ = -1;
    Step step_ = Step::udp;
    std::vector<uint8_t> tcp_out_, tcp_in_;  // length-prefixed query; reply as received
    size_t tcp_sent_ = 0;
    Clock::time_point deadline_;
    bool done_ = false;
    LookupResult result_;
    uint64_t rejected_ = 0;
};

}  // namespace anamed
