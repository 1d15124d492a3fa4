#include "secondary.hpp"

#include <algorithm>

#include "anamed/rr_types.hpp"
#include "anamed/wire.hpp"
#include "log.hpp"

namespace anamed {
namespace {

using std::chrono::seconds;

// Timers are honoured as the SOA gives them, within bounds that keep a typo from making a
// zone hammer its primary or never refresh.
constexpr uint32_t min_timer_s = 1, max_timer_s = 7 * 86400;
// Without a copy there are no timers yet: try again this often.
constexpr uint32_t no_copy_retry_s = 10;
// Transfers in a burst (IXFR after IXFR) write the copy once, this long after the last, and
// a steady stream of them at least this often.
constexpr auto save_delay = std::chrono::milliseconds(1000);
constexpr auto max_save_delay = std::chrono::seconds(10);

seconds bounded(uint32_t s) {
    return seconds(std::clamp(s, min_timer_s, max_timer_s));
}

std::string iso_time(std::chrono::system_clock::time_point t) {
    if (t == std::chrono::system_clock::time_point{}) return "";
    const std::time_t tt = std::chrono::system_clock::to_time_t(t);
    char buf[32];
    std::tm tm{};
    gmtime_r(&tt, &tm);
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

// Seconds from now to t (negative: past), for status.
int64_t in_seconds(Secondary::Clock::time_point t) {
    if (t == Secondary::Clock::time_point::max()) return -1;
    return std::chrono::duration_cast<seconds>(t - Secondary::Clock::now()).count();
}

}  // namespace

SoaTimers soa_timers(const Zone& z) {
    SoaTimers t;
    const ZoneNode* apex = z.find(z.apex);
    const auto soa = apex ? apex->find(rrtype::SOA) : std::nullopt;
    if (!soa || soa->rdata.empty()) return t;
    const std::string_view rd = soa->rdata[0];
    const size_t at = soa_serial_offset(std::string(rd));
    if (at == std::string::npos || at + 20 > rd.size()) return t;
    const auto* p = reinterpret_cast<const uint8_t*>(rd.data()) + at;
    t.refresh = load32(p + 4);
    t.retry = load32(p + 8);
    t.expire = load32(p + 12);
    return t;
}

void Secondary::add_zone(const std::string& apex, std::vector<const Remote*> primaries,
                         const std::string& file) {
    Zone_& z = zones_[apex];
    z.apex = apex;
    z.text = name_to_text(apex);
    z.file = file;
    z.primaries = std::move(primaries);
    z.next = Clock::now();
    if (const Zone* copy = hooks_.zone(apex)) {
        const SoaTimers t = soa_timers(*copy);
        z.expire_at = Clock::now() + bounded(t.expire);
        z.retry_s = t.retry;
    }
}

void Secondary::remove_zone(const std::string& apex) {
    zones_.erase(apex);
}

void Secondary::check_by_transfer(const std::string& apex) {
    if (auto it = zones_.find(apex); it != zones_.end()) it->second.by_transfer = true;
}

std::vector<std::string> Secondary::apexes() const {
    std::vector<std::string> out;
    for (const auto& [apex, z] : zones_) out.push_back(apex);
    return out;
}

uint8_t Secondary::on_notify(const std::string& apex, const sockaddr_storage& peer,
                             const TsigKey* key) {
    auto it = zones_.find(apex);
    if (it == zones_.end()) {
        log_warning("NOTIFY for " + name_to_text(apex) + " from " + address_text(peer) +
                    " refused: not a secondary zone here (NOTAUTH)");
        return rcode_notauth;
    }
    Zone_& z = it->second;
    const Remote* r = Peers::match(z.primaries, peer, key);
    if (r == nullptr) {
        log_warning("NOTIFY for " + z.text + " from " + address_text(peer) +
                    (key ? " key " + name_to_text(key->name) : std::string(" unsigned")) +
                    " refused: not one of the zone's primaries (address and key)");
        return rcode::REFUSED;
    }
    log_info("NOTIFY for " + z.text + " from " + r->name + ": checking the SOA");
    if (z.job) {
        z.again = true;
    } else {
        z.primary =
            size_t(std::find(z.primaries.begin(), z.primaries.end(), r) - z.primaries.begin());
        start(z, z.full_next, true);
    }
    return rcode::NOERROR;
}

bool Secondary::refresh_now(const std::string& apex, bool full_transfer) {
    auto it = zones_.find(apex);
    if (it == zones_.end()) return false;
    Zone_& z = it->second;
    if (full_transfer) z.full_next = true;
    if (z.job)
        z.again = true;
    else
        start(z, z.full_next, !z.full_next);
    return true;
}

void Secondary::start(Zone_& z, bool full, bool check_soa) {
    XfrRequest req;
    req.apex = z.apex;
    req.primary = z.primaries[z.primary % z.primaries.size()];
    if (const Zone* copy = hooks_.zone(z.apex); copy && !full) req.our_soa = soa_record(*copy);
    req.check_soa = check_soa && !z.by_transfer;
    req.ixfr = !full;
    z.full_next = false;
    z.again = false;
    z.job = std::make_unique<XfrClient>(std::move(req));
    if (z.job->done()) finished(z);  // failed at once (no socket)
}

void Secondary::finished(Zone_& z) {
    std::unique_ptr<XfrClient> job = std::move(z.job);
    if (!job->error().empty()) return failed(z, job->error());
    TransferResult& r = job->result();
    z.primary_used = job->primary().name;
    if (r.kind == TransferResult::Kind::up_to_date) return succeeded(z);
    const auto t0 = Clock::now();
    const char* kind = r.kind == TransferResult::Kind::full ? "AXFR" : "IXFR";
    if (std::string err = hooks_.apply(z.apex, r, job->primary()); !err.empty()) {
        if (r.kind == TransferResult::Kind::incremental) z.full_next = true;  // AXFR next
        failed(z, std::string(kind) + " from " + job->primary().name + " serial " +
                      std::to_string(r.serial) + " not applied: " + err);
        if (z.full_next) z.next = Clock::now();
        return;
    }
    log_info("zone " + z.text + " serial " + std::to_string(r.serial) + " from " +
             job->primary().name + " by " + (job->used_axfr() ? "AXFR" : "IXFR") + " (" +
             (r.kind == TransferResult::Kind::full
                  ? "whole zone"
                  : std::to_string(r.deltas.size()) + " difference(s)") +
             ", " + std::to_string(job->bytes()) + " bytes), applied in " +
             std::to_string(
                 std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count()) +
             " us");
    z.last_transfer = std::chrono::system_clock::now();
    if (!z.file.empty()) {
        const auto now = Clock::now();
        if (z.save_at == Clock::time_point::max()) z.save_due = now + max_save_delay;
        z.save_at = std::min(now + save_delay, z.save_due);
    }
    succeeded(z);
}

void Secondary::failed(Zone_& z, const std::string& error) {
    log_warning("zone " + z.text + ": " + error);
    z.last_error = error;
    z.primary = (z.primary + 1) % z.primaries.size();
    if (++z.tried < z.primaries.size()) {
        z.next = Clock::now();  // the next primary at once
        return;
    }
    z.tried = 0;
    const bool copy = hooks_.zone(z.apex) != nullptr;
    z.next = Clock::now() + bounded(copy ? z.retry_s : no_copy_retry_s);
    if (z.again) z.next = Clock::now();
}

void Secondary::succeeded(Zone_& z) {
    z.tried = 0;
    z.last_error.clear();
    z.last_refresh = std::chrono::system_clock::now();
    const Zone* copy = hooks_.zone(z.apex);
    const SoaTimers t = copy ? soa_timers(*copy) : SoaTimers{};
    z.retry_s = t.retry;
    z.next = Clock::now() + bounded(t.refresh);
    z.expire_at = Clock::now() + bounded(t.expire);
    if (z.again) z.next = Clock::now();
    if (z.expired) {
        z.expired = false;
        hooks_.set_expired(z.apex, false);
        log_info("zone " + z.text + " refreshed: served again");
    }
}

void Secondary::check_expiry(Zone_& z, Clock::time_point now) {
    if (z.expired || now < z.expire_at || hooks_.zone(z.apex) == nullptr) return;
    z.expired = true;
    hooks_.set_expired(z.apex, true);
    log_error("zone " + z.text + " expired: no primary answered within the SOA's expire time; " +
              "its names are answered SERVFAIL until a refresh succeeds" +
              (z.last_error.empty() ? "" : " (last error: " + z.last_error + ")"));
}

void Secondary::poll_fds(std::vector<pollfd>& out) const {
    for (const auto& [apex, z] : zones_)
        if (z.job)
            if (auto p = z.job->poll_fd()) out.push_back(*p);
}

int Secondary::poll_timeout_ms() const {
    Clock::time_point first = Clock::time_point::max();
    for (const auto& [apex, z] : zones_) {
        first = std::min({first, z.job ? z.job->deadline() : z.next, z.save_at,
                          z.expired ? Clock::time_point::max() : z.expire_at});
    }
    if (first == Clock::time_point::max()) return -1;
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(first - Clock::now()).count();
    return int(std::clamp<int64_t>(ms + 1, 0, 60000));
}

void Secondary::process() {
    const auto now = Clock::now();
    for (auto& [apex, z] : zones_) {
        if (z.job) {
            z.job->process();
            if (z.job->done()) finished(z);
        } else if (now >= z.next) {
            start(z, z.full_next, !z.full_next);
        }
        check_expiry(z, Clock::now());
        if (Clock::now() >= z.save_at) {
            // While the writer is busy (with an older version), ask again shortly.
            z.save_at = hooks_.save(z.apex, z.file, false) ? Clock::time_point::max()
                                                           : Clock::now() + save_delay;
        }
    }
}

void Secondary::save_pending() {
    for (auto& [apex, z] : zones_) {
        if (z.save_at == Clock::time_point::max()) continue;
        z.save_at = Clock::time_point::max();
        hooks_.save(z.apex, z.file, true);
    }
}

nlohmann::json Secondary::status(const std::string& apex) const {
    auto it = zones_.find(apex);
    if (it == zones_.end()) return nullptr;
    const Zone_& z = it->second;
    const Zone* copy = hooks_.zone(apex);
    nlohmann::json primaries = nlohmann::json::array();
    for (const Remote* r : z.primaries) primaries.push_back(r->name);
    nlohmann::json j = {{"zone", z.text},
                        {"primaries", primaries},
                        {"serial", copy ? nlohmann::json(copy->serial()) : nlohmann::json()},
                        {"state", z.expired ? "expired"
                                  : z.job   ? "refreshing"
                                  : copy    ? "served"
                                            : "waiting for a first transfer"},
                        {"last_refresh", iso_time(z.last_refresh)},
                        {"last_transfer", iso_time(z.last_transfer)},
                        {"next_refresh_in_s", z.job ? 0 : in_seconds(z.next)},
                        {"expires_in_s", copy && !z.expired ? in_seconds(z.expire_at) : -1},
                        {"primary_used", z.primary_used},
                        {"last_error", z.last_error},
                        {"file", z.file}};
    return j;
}

}  // namespace anamed
