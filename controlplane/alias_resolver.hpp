// AliasResolver: keeps every ALIAS target's A/AAAA fresh from upstream resolvers.
//
// One lookup (A + AAAA) per distinct target however many names point at it; refreshed
// at half its TTL within [refresh_min, refresh_max]; failures retried with backoff across
// the upstreams while the last good answer keeps serving for up to stale_limit past its
// TTL. Targets inside a served zone are answered from the zone data, with no upstream query.
#pragma once

#include <poll.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "alias_cache.hpp"
#include "anamed/listen_addr.hpp"
#include "anamed/snapshot.hpp"
#include "upstream.hpp"
#include "zone.hpp"

namespace anamed {

struct AliasOptions {
    std::vector<ListenAddr> upstreams;
    std::chrono::seconds refresh_min{5};
    std::chrono::seconds refresh_max{3600};
    std::chrono::seconds stale_limit{86400};
    std::chrono::milliseconds query_timeout{1500};
    std::chrono::seconds retry_max{60};
    size_t max_in_flight = 512;
    bool require_ad = false;  // only validated answers (AD) from the upstreams count
};

// What the control socket and the logs show of one target.
struct TargetStatus {
    std::string target;  // presentation form
    bool local = false;
    AliasAnswer::State state = AliasAnswer::unresolved;
    std::vector<std::string> addresses;  // presentation form
    uint32_t ttl = 0;
    Clock::time_point last_refresh{}, next_refresh{}, stale_since{};
    Clock::time_point last_success{};  // the last good upstream (or local) answer
    std::string last_error;
    uint64_t refreshes = 0, upstream_queries = 0, failures = 0, rejected_replies = 0;
};

class AliasResolver {
public:
    explicit AliasResolver(AliasOptions opts);
    ~AliasResolver();

    // Makes the tracked targets exactly `targets`; resolves local ones (inside `zones`) now.
    void set_targets(const std::vector<std::string>& targets,
                     const std::vector<const Zone*>& zones);

    std::shared_ptr<const AliasAnswer> answer(const std::string& target) const;

    // Event-loop hooks: descriptors to poll, how long poll may sleep, then the work.
    void poll_fds(std::vector<pollfd>& out) const;
    int poll_timeout_ms() const;
    // Returns the targets whose served answer changed (to be published).
    std::vector<std::string> process();

    // Resolves everything once, waiting at most `limit` (used before serving starts).
    void resolve_all(std::chrono::milliseconds limit);

    std::vector<TargetStatus> status() const;
    // Re-reads the targets inside served zones after a change; returns those that moved.
    std::vector<std::string> reresolve_local(const std::vector<const Zone*>& zones);
    // Schedules a lookup now (anamectl alias refresh); false if the target is unknown.
    bool refresh_now(const std::string& target);

    // Gives upstream targets that have no answer yet their saved addresses (alias_cache.hpp)
    // when no older than their TTL plus stale_limit, aged as if fetched at `c.fetched`, and
    // looks them up again at once. now_wall: seconds since the epoch. Returns how many.
    size_t restore(const std::map<std::string, CachedAddresses>& saved, int64_t now_wall);
    // The upstream lookups that succeeded since the last call (the latest per target).
    std::vector<std::pair<std::string, CachedAddresses>> take_fresh();

private:
    struct Target;
    void start_lookup(Target& t, Clock::time_point now);
    bool complete(Target& t, Clock::time_point now);  // true when the served answer changed
    bool expire(Target& t, Clock::time_point now);
    void resolve_locally(Target& t, const std::vector<const Zone*>& zones);

    AliasOptions opts_;
    std::map<std::string, std::unique_ptr<Target>> targets_;  // by lower-case wire name
    size_t next_upstream_ = 0;
    size_t in_flight_ = 0;
    std::map<std::string, CachedAddresses> fresh_;  // for take_fresh()
};

// Builds the AliasAnswer records (owner placeholder) for A and AAAA RDATA, each family with
// the TTL of its own chain.
std::shared_ptr<const AliasAnswer> make_alias_answer(AliasAnswer::State state,
                                                     const std::vector<std::string>& a,
                                                     const std::vector<std::string>& aaaa,
                                                     uint32_t ttl_a, uint32_t ttl_aaaa);
inline std::shared_ptr<const AliasAnswer> make_alias_answer(AliasAnswer::State state,
                                                            const std::vector<std::string>& a,
                                                            const std::vector<std::string>& aaaa,
                                                            uint32_t ttl) {
    return make_alias_answer(state, a, aaaa, ttl, ttl);
}

}  // namespace anamed
