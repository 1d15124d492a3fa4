// NOTIFY (RFC 1996) to a zone's secondaries after every change: one UDP message per
// secondary, signed when the remote has a key, sent again with a doubling timeout until
// the secondary answers or the tries run out. A newer serial replaces a pending one.
#pragma once

#include <poll.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "anamed/listen_addr.hpp"
#include "anamed/tsig.hpp"
#include "zone_history.hpp"

namespace anamed {

struct NotifyTarget {
    std::string name;  // the remote's name, for logs
    ListenAddr addr;
    const TsigKey* key = nullptr;  // must outlive the notify
};

class Notifier {
public:
    using Clock = std::chrono::steady_clock;

    explicit Notifier(unsigned tries = 5,
                      std::chrono::milliseconds first_timeout = std::chrono::milliseconds(1000))
        : tries_(tries), first_timeout_(first_timeout) {}
    ~Notifier();

    // NOTIFY for the zone whose SOA is `soa` (its owner is the apex) to every target.
    void notify(const Record& soa, const std::vector<NotifyTarget>& targets);

    void poll_fds(std::vector<pollfd>& out) const;
    int poll_timeout_ms() const;  // -1: nothing pending
    void process();               // reads replies, sends again, gives up

    struct Counters {
        uint64_t sent = 0, answered = 0, failed = 0;
    };
    const Counters& counters() const { return counters_; }
    size_t pending() const { return pending_.size(); }

private:
    struct Pending {
        NotifyTarget target;
        std::string zone_text;
        uint32_t serial = 0;
        std::vector<uint8_t> msg;  // as sent (signed)
        uint16_t id = 0;
        TsigMac mac;  // the request's, when signed
        int fd = -1;
        unsigned sent = 0;
        Clock::time_point deadline;
    };
    void send(Pending& p);
    // True when the reply settles the notify.
    bool on_reply(Pending& p, const uint8_t* msg, size_t len);

    unsigned tries_;
    std::chrono::milliseconds first_timeout_;
    // Keyed by zone and remote: a newer serial replaces what is pending for the pair.
    std::map<std::pair<std::string, std::string>, std::unique_ptr<Pending>> pending_;
    Counters counters_;
};

}  // namespace anamed
