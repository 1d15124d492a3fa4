#include "alias_resolver.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <ctime>

#include "log.hpp"

namespace anamed {

struct AliasResolver::Target {
    std::string key, text;
    bool local = false;
    std::shared_ptr<const AliasAnswer> answer;
    std::vector<std::string> a, aaaa;
    uint32_t ttl = 0;
    bool ever_resolved = false;
    Clock::time_point last_refresh{}, next_refresh{}, expires{}, stale_since{}, last_success{};
    std::string last_error;
    unsigned consecutive_failures = 0;
    size_t upstream = 0;
    uint64_t refreshes = 0, upstream_queries = 0, failures = 0, rejected = 0;
    std::unique_ptr<UpstreamQuery> q4, q6;
};

namespace {

const std::shared_ptr<const AliasAnswer>& unresolved_answer() {
    static const auto a = std::make_shared<const AliasAnswer>();
    return a;
}

std::string address_text(const std::string& rdata) {
    char buf[INET6_ADDRSTRLEN] = "?";
    inet_ntop(rdata.size() == 4 ? AF_INET : AF_INET6, rdata.data(), buf, sizeof buf);
    return buf;
}

std::string describe(const std::vector<std::string>& a, const std::vector<std::string>& aaaa) {
    std::string s;
    for (const auto* set : {&a, &aaaa})
        for (const auto& r : *set) s += (s.empty() ? "" : " ") + address_text(r);
    return s.empty() ? "no addresses" : s;
}

std::string secs(std::chrono::seconds s) {
    return std::to_string(s.count()) + " s";
}

}  // namespace

std::shared_ptr<const AliasAnswer> make_alias_answer(AliasAnswer::State state,
                                                     const std::vector<std::string>& a,
                                                     const std::vector<std::string>& aaaa,
                                                     uint32_t ttl_a, uint32_t ttl_aaaa) {
    auto out = std::make_shared<AliasAnswer>();
    out->state = state;
    auto put = [](std::string& dst, uint16_t type, const std::vector<std::string>& rdata,
                  uint32_t ttl) {
        for (const auto& rd : rdata) {
            uint8_t rr[rr_fixed];
            store16(rr, 0xC00C);
            store16(rr + 2, type);
            store16(rr + 4, class_in);
            store32(rr + 6, ttl);
            store16(rr + 10, uint16_t(rd.size()));
            dst.append(reinterpret_cast<const char*>(rr), sizeof rr);
            dst.append(rd);
        }
    };
    put(out->a, rrtype::A, a, ttl_a);
    put(out->aaaa, rrtype::AAAA, aaaa, ttl_aaaa);
    out->a_count = uint16_t(a.size());
    out->aaaa_count = uint16_t(aaaa.size());
    return out;
}

AliasResolver::AliasResolver(AliasOptions opts) : opts_(std::move(opts)) {}
AliasResolver::~AliasResolver() = default;

void AliasResolver::set_targets(const std::vector<std::string>& targets,
                                const std::vector<const Zone*>& zones) {
    std::map<std::string, std::unique_ptr<Target>> next;
    const auto now = Clock::now();
    bool warn = false;
    for (const auto& key : targets) {
        auto it = targets_.find(key);
        std::unique_ptr<Target> t;
        if (it != targets_.end()) {
            t = std::move(it->second);
        } else {
            t = std::make_unique<Target>();
            t->key = key;
            t->text = name_to_text(key);
            t->answer = unresolved_answer();
            t->next_refresh = now;
        }
        const bool added = it == targets_.end();
        resolve_locally(*t, zones);
        warn |= added && !t->local && opts_.upstreams.empty();
        next[key] = std::move(t);
    }
    for (auto& [key, t] : targets_)
        if (t && (t->q4 || t->q6)) --in_flight_;  // dropped targets: their queries close with them
    targets_ = std::move(next);
    if (warn)
        for (const auto& [key, t] : targets_)
            if (!t->local)
                log_warning(
                    "ALIAS target " + t->text +
                    " is outside the served zones and no upstream "
                    "resolvers are configured (upstreams: / --upstream); its names serve their "
                    "fallback addresses or SERVFAIL");
}

// A target inside a served zone: read the zone data, as respond() would answer it
// (CNAMEs, further ALIASes and wildcards followed), no upstream query. A loop or an
// over-long chain inside our own data is a failure: its names serve fallbacks or SERVFAIL.
void AliasResolver::resolve_locally(Target& t, const std::vector<const Zone*>& zones) {
    auto zone_of = [&](const std::string& name) -> const Zone* {
        const Zone* best = nullptr;
        for (const Zone* z : zones)
            if (is_subdomain(name, z->apex) && (!best || z->apex.size() > best->apex.size()))
                best = z;
        return best;
    };
    std::string cur = t.key;
    std::vector<std::string> seen;
    uint32_t ttl = UINT32_MAX;
    for (int hop = 0; hop <= 8; ++hop) {  // up to 8 CNAME/ALIAS links, then the addresses
        const Zone* z = zone_of(cur);
        if (z == nullptr) return void(t.local = false);
        // Below a delegation the zone is not authoritative: ask upstream instead.
        for (std::string_view k = parent_of(cur); k.size() > z->apex.size(); k = parent_of(k)) {
            const ZoneNode* n = z->find(k);
            if (n && n->find(rrtype::NS)) return void(t.local = false);
        }
        const ZoneNode* node = z->find(cur);
        // RFC 4592: the closest encloser's wildcard. (The zone store does not know empty
        // non-terminals, so an ENT without a wildcard does not stop the walk: a rare case
        // where this can find a wildcard higher up than respond() would.)
        for (std::string_view ce = parent_of(cur); node == nullptr && ce.size() >= z->apex.size();
             ce = parent_of(ce)) {
            node = z->find(std::string("\x01*", 2) + std::string(ce));
            if (z->find(ce) || ce.size() == z->apex.size()) break;
        }
        if (std::find(seen.begin(), seen.end(), cur) != seen.end()) break;
        seen.push_back(cur);
        std::optional<RRset> next = node ? node->find(rrtype::CNAME) : std::nullopt;
        if (!next && node) next = node->find(rrtype::ALIAS);
        if (next) {
            ttl = std::min(ttl, next->ttl);
            cur = lower_key(next->rdata[0]);
            continue;
        }
        std::vector<std::string> a, aaaa;
        uint32_t ttl_a = ttl, ttl_aaaa = ttl;
        if (node) {
            if (const auto r = node->find(rrtype::A))
                a = r->rdata.to_vector(), ttl_a = std::min(ttl, r->ttl);
            if (const auto r = node->find(rrtype::AAAA))
                aaaa = r->rdata.to_vector(), ttl_aaaa = std::min(ttl, r->ttl);
        }
        const std::optional<RRset> soa = z->find(z->apex)->find(rrtype::SOA);
        const std::string_view rd = soa->rdata[0];
        const uint32_t negative = std::min(
            {ttl, soa->ttl, load32(reinterpret_cast<const uint8_t*>(rd.data()) + rd.size() - 4)});
        if (a.empty()) ttl_a = negative;
        if (aaaa.empty()) ttl_aaaa = negative;
        std::sort(a.begin(), a.end());
        std::sort(aaaa.begin(), aaaa.end());
        if (!t.local || t.a != a || t.aaaa != aaaa || t.ttl != std::min(ttl_a, ttl_aaaa) ||
            !t.ever_resolved) {
            t.answer = make_alias_answer(AliasAnswer::resolved, a, aaaa, ttl_a, ttl_aaaa);
            log_info("ALIAS target " + t.text + " is served here: " + describe(a, aaaa));
        }
        t.local = true;
        t.a = std::move(a);
        t.aaaa = std::move(aaaa);
        t.ttl = std::min(ttl_a, ttl_aaaa);
        t.ever_resolved = true;
        t.last_error.clear();
        t.last_refresh = t.last_success = Clock::now();
        return;
    }
    // A loop or a chain over 8 inside our own zones.
    const std::string err = "CNAME/ALIAS loop or chain over 8 names inside the served zones";
    if (!t.local || t.last_error != err)
        log_warning("ALIAS target " + t.text + ": " + err +
                    "; its names serve their fallback addresses or SERVFAIL");
    t.local = true;
    t.a.clear();
    t.aaaa.clear();
    t.ever_resolved = false;
    t.last_error = err;
    t.answer = unresolved_answer();
}

std::shared_ptr<const AliasAnswer> AliasResolver::answer(const std::string& target) const {
    auto it = targets_.find(target);
    return it == targets_.end() ? nullptr : it->second->answer;
}

void AliasResolver::poll_fds(std::vector<pollfd>& out) const {
    for (const auto& [key, t] : targets_)
        for (const auto* q : {t->q4.get(), t->q6.get()})
            if (q && !q->done()) out.push_back(pollfd{q->fd(), q->events(), 0});
}

int AliasResolver::poll_timeout_ms() const {
    auto next = Clock::now() + std::chrono::seconds(1);
    for (const auto& [key, t] : targets_) {
        if (t->local) continue;
        if (t->q4 || t->q6) {
            for (const auto* q : {t->q4.get(), t->q6.get()})
                if (q && !q->done()) next = std::min(next, q->deadline());
        } else if (!opts_.upstreams.empty()) {
            next = std::min(next, t->next_refresh);
        }
    }
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(next - Clock::now()).count();
    return int(std::clamp<long long>(ms + 1, 0, 1000));
}

void AliasResolver::start_lookup(Target& t, Clock::time_point now) {
    const ListenAddr& up = opts_.upstreams[(next_upstream_ + t.upstream) % opts_.upstreams.size()];
    t.q4 = std::make_unique<UpstreamQuery>(t.key, rrtype::A, up, opts_.query_timeout,
                                           opts_.require_ad);
    t.q6 = std::make_unique<UpstreamQuery>(t.key, rrtype::AAAA, up, opts_.query_timeout,
                                           opts_.require_ad);
    t.upstream_queries += 2;
    ++in_flight_;
    t.next_refresh = now + opts_.refresh_max;  // rescheduled when the lookup completes
}

std::vector<std::string> AliasResolver::process() {
    std::vector<std::string> changed;
    const auto now = Clock::now();
    for (auto& [key, tp] : targets_) {
        Target& t = *tp;
        if (t.local) continue;
        if (t.q4 && t.q6) {
            for (auto* q : {t.q4.get(), t.q6.get()}) {
                if (!q->done()) q->on_readable();
                if (!q->done() && now >= q->deadline()) q->on_deadline();
            }
            if (t.q4->done() && t.q6->done() && complete(t, now)) changed.push_back(key);
        }
        if (!t.q4 && !opts_.upstreams.empty() && now >= t.next_refresh &&
            in_flight_ < opts_.max_in_flight)
            start_lookup(t, now);
        if (expire(t, now)) changed.push_back(key);
    }
    return changed;
}

bool AliasResolver::complete(Target& t, Clock::time_point now) {
    const LookupResult r4 = t.q4->result(), r6 = t.q6->result();
    t.rejected += t.q4->rejected() + t.q6->rejected();
    t.q4.reset();
    t.q6.reset();
    --in_flight_;
    t.last_refresh = now;
    if (r4.ok && r6.ok) {
        // Each family keeps its own TTL; the refresh follows the shorter of the two.
        const uint32_t ttl = std::min(r4.ttl, r6.ttl);
        const bool changed =
            t.answer->state != AliasAnswer::resolved || t.a != r4.rdata || t.aaaa != r6.rdata;
        if (t.consecutive_failures > 0)
            log_info("ALIAS target " + t.text + ": upstream answers again after " +
                     std::to_string(t.consecutive_failures) + " failed lookups");
        t.a = r4.rdata;
        t.aaaa = r6.rdata;
        t.ttl = ttl;
        t.ever_resolved = true;
        t.last_success = now;
        t.expires = now + std::chrono::seconds(ttl);
        t.stale_since = {};
        t.consecutive_failures = 0;
        t.last_error.clear();
        ++t.refreshes;
        fresh_[t.key] = CachedAddresses{t.a, t.aaaa, r4.ttl, r6.ttl, int64_t(std::time(nullptr))};
        t.next_refresh =
            now + std::clamp<std::chrono::seconds>(std::chrono::seconds(ttl / 2), opts_.refresh_min,
                                                   opts_.refresh_max);
        if (changed) {
            t.answer = make_alias_answer(AliasAnswer::resolved, t.a, t.aaaa, r4.ttl, r6.ttl);
            if (t.a.empty() && t.aaaa.empty())
                log_warning("ALIAS target " + t.text +
                            (r4.nxdomain ? " does not exist (NXDOMAIN)" : " has no A/AAAA") +
                            " upstream: A/AAAA at its names answer NODATA");
            else
                log_info("ALIAS target " + t.text + " -> " + describe(t.a, t.aaaa) + " (TTL " +
                         std::to_string(ttl) + ")");
        }
        return changed;
    }
    ++t.failures;
    ++t.consecutive_failures;
    ++t.upstream;  // the next attempt goes to the next upstream
    const std::string err = !r4.ok ? r4.error : r6.error;
    const auto backoff =
        std::min({opts_.retry_max, opts_.refresh_max,
                  std::chrono::seconds(1u << std::min(t.consecutive_failures - 1, 10u))});
    t.next_refresh = now + backoff;
    if (err != t.last_error)
        log_warning(
            "ALIAS target " + t.text + ": lookup failed (" + err + "); " +
            (t.ever_resolved
                 ? "serving the last good addresses (" + describe(t.a, t.aaaa) + ")"
                 : std::string(
                       "never resolved: its names serve their fallback addresses or SERVFAIL")) +
            "; retrying in " + secs(backoff));
    t.last_error = err;
    return false;
}

bool AliasResolver::expire(Target& t, Clock::time_point now) {
    if (t.consecutive_failures == 0 || t.answer->state != AliasAnswer::resolved || now < t.expires)
        return false;
    if (t.stale_since == Clock::time_point{}) {
        t.stale_since = now;
        log_warning("ALIAS target " + t.text +
                    ": TTL ran out without a fresh answer; serving stale addresses for up to " +
                    secs(opts_.stale_limit));
    }
    if (now < t.expires + opts_.stale_limit) return false;
    t.answer = make_alias_answer(AliasAnswer::failed, {}, {}, 0);
    log_error("ALIAS target " + t.text + ": stale limit reached (" + t.last_error +
              "); A/AAAA at its names now answer SERVFAIL");
    return true;
}

void AliasResolver::resolve_all(std::chrono::milliseconds limit) {
    const auto end = Clock::now() + limit;
    while (Clock::now() < end) {
        process();
        bool pending = false;
        for (const auto& [key, t] : targets_)
            pending |= !t->local && !t->ever_resolved && t->consecutive_failures == 0 &&
                       !opts_.upstreams.empty();
        if (!pending) return;
        std::vector<pollfd> fds;
        poll_fds(fds);
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()).count();
        poll(fds.data(), fds.size(),
             int(std::clamp<long long>(std::min<long long>(left, poll_timeout_ms()), 0, 1000)));
    }
}

std::vector<TargetStatus> AliasResolver::status() const {
    std::vector<TargetStatus> out;
    for (const auto& [key, t] : targets_) {
        TargetStatus s;
        s.target = t->text;
        s.local = t->local;
        s.state = t->answer->state;
        for (const auto* set : {&t->a, &t->aaaa})
            for (const auto& r : *set) s.addresses.push_back(address_text(r));
        s.ttl = t->ttl;
        s.last_refresh = t->last_refresh;
        s.last_success = t->last_success;
        s.next_refresh = t->next_refresh;
        s.stale_since = t->stale_since;
        s.last_error = t->last_error;
        s.refreshes = t->refreshes;
        s.upstream_queries = t->upstream_queries;
        s.failures = t->failures;
        s.rejected_replies = t->rejected;
        out.push_back(std::move(s));
    }
    return out;
}

}  // namespace anamed

namespace anamed {

std::vector<std::string> AliasResolver::reresolve_local(const std::vector<const Zone*>& zones) {
    std::vector<std::string> moved;
    for (auto& [key, t] : targets_) {
        if (!t->local) continue;
        const AliasAnswer* before = t->answer.get();
        resolve_locally(*t, zones);
        if (t->answer.get() != before) moved.push_back(key);
    }
    return moved;
}

bool AliasResolver::refresh_now(const std::string& target) {
    auto it = targets_.find(target);
    if (it == targets_.end()) return false;
    it->second->next_refresh = Clock::now();
    return true;
}

size_t AliasResolver::restore(const std::map<std::string, CachedAddresses>& saved,
                              int64_t now_wall) {
    const auto now = Clock::now();
    size_t n = 0;
    if (opts_.upstreams.empty()) return 0;  // nothing would ever refresh or expire them
    for (auto& [key, t] : targets_) {
        const auto it = saved.find(key);
        if (t->local || t->ever_resolved || it == saved.end()) continue;
        const CachedAddresses& c = it->second;
        const uint32_t ttl = std::min(c.ttl_a, c.ttl_aaaa);
        const auto age = std::chrono::seconds(std::max<int64_t>(0, now_wall - c.fetched));
        if (age >= std::chrono::seconds(ttl) + opts_.stale_limit) continue;  // too old to serve
        t->a = c.a;
        t->aaaa = c.aaaa;
        t->ttl = ttl;
        t->ever_resolved = true;
        t->last_success = t->last_refresh = now - age;
        t->expires = t->last_success + std::chrono::seconds(ttl);
        t->next_refresh = now;
        t->answer = make_alias_answer(AliasAnswer::resolved, c.a, c.aaaa, c.ttl_a, c.ttl_aaaa);
        log_info("ALIAS target " + t->text + ": serving the addresses saved " +
                 secs(std::chrono::duration_cast<std::chrono::seconds>(age)) + " ago (" +
                 describe(c.a, c.aaaa) + ") until the upstream answers");
        ++n;
    }
    return n;
}

std::vector<std::pair<std::string, CachedAddresses>> AliasResolver::take_fresh() {
    std::vector<std::pair<std::string, CachedAddresses>> out(fresh_.begin(), fresh_.end());
    fresh_.clear();
    return out;
}

}  // namespace anamed
