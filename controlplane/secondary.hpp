// anamed as a secondary: per zone, the SOA timers of RFC 1035 §4.3.5 (refresh, retry,
// expire, read from the zone's SOA), NOTIFY from a primary (RFC 1996) triggering a check,
// and one refresh at a time (xfr_client.hpp) over the zone's primaries in turn. What a
// transfer brings is handed to the daemon (Hooks::apply), which checks it, swaps it into
// the zone store and publishes it; a zone whose primaries stay silent past expire is
// marked expired (SERVFAIL) until a refresh succeeds.
#pragma once

#include <poll.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "remotes.hpp"
#include "xfr_client.hpp"

namespace anamed {

class Secondary {
public:
    using Clock = std::chrono::steady_clock;
    struct Hooks {
        // The served copy of a zone (lower-case wire apex), or null.
        std::function<const Zone*(const std::string& apex)> zone;
        // Checks and publishes a transfer's result; "" or why it was not applied.
        std::function<std::string(const std::string& apex, TransferResult& r, const Remote& from)>
            apply;
        std::function<void(const std::string& apex, bool expired)> set_expired;
        // Has the zone's copy written to `file` (debounced after transfers); false when it
        // cannot start yet and `now` was not asked (it is asked again later).
        std::function<bool(const std::string& apex, const std::string& file, bool now)> save;
    };
    explicit Secondary(Hooks h) : hooks_(std::move(h)) {}

    // A zone transferred from `primaries`, its copy kept in `file` (may be empty). A copy
    // already served (loaded from the file) is checked at once.
    void add_zone(const std::string& apex, std::vector<const Remote*> primaries,
                  const std::string& file);
    void remove_zone(const std::string& apex);
    // Refreshes of `apex` ask by IXFR over TCP (our SOA in it) instead of an SOA query over
    // UDP: for catalogs, which Knot answers over TCP only.
    void check_by_transfer(const std::string& apex);
    bool has(const std::string& apex) const { return zones_.count(apex) != 0; }
    std::vector<std::string> apexes() const;

    // A NOTIFY for `apex` from `peer` signed with `key` (null: unsigned): the RCODE to answer
    // (NOERROR: a check is started; REFUSED: not from a primary of the zone; NOTAUTH: not a
    // secondary zone here). Logs refusals.
    uint8_t on_notify(const std::string& apex, const sockaddr_storage& peer, const TsigKey* key);
    // anamectl zone refresh / retransfer: an SOA check (or a full transfer) at once. False
    // when the zone is not a secondary here.
    bool refresh_now(const std::string& apex, bool full_transfer);
    nlohmann::json status(const std::string& apex) const;  // null when not a secondary

    // Has every copy that a transfer changed and that is not yet written saved now (at stop).
    void save_pending();

    void poll_fds(std::vector<pollfd>& out) const;
    int poll_timeout_ms() const;  // -1: nothing scheduled
    void process();

private:
    struct Zone_ {
        std::string apex, text, file;
        std::vector<const Remote*> primaries;
        size_t primary = 0;  // the one the current or next attempt uses
        size_t tried = 0;    // primaries tried in this round
        std::unique_ptr<XfrClient> job;
        bool again = false, full_next = false;  // asked while a job runs; AXFR next
        bool by_transfer = false;               // check_by_transfer()
        Clock::time_point next, expire_at = Clock::time_point::max();
        bool expired = false;
        std::string last_error, primary_used;
        std::chrono::system_clock::time_point last_refresh{}, last_transfer{};
        uint32_t retry_s = 10;
        Clock::time_point save_at = Clock::time_point::max();   // pending copy write
        Clock::time_point save_due = Clock::time_point::max();  // at the latest
    };
    void start(Zone_& z, bool full, bool check_soa);
    void finished(Zone_& z);
    void failed(Zone_& z, const std::string& error);
    void succeeded(Zone_& z);
    void check_expiry(Zone_& z, Clock::time_point now);

    Hooks hooks_;
    std::map<std::string, Zone_> zones_;
};

// A zone's SOA timers (seconds), from its SOA record's RDATA; zero when it is short.
struct SoaTimers {
    uint32_t refresh = 0, retry = 0, expire = 0;
};
SoaTimers soa_timers(const Zone& z);

}  // namespace anamed
