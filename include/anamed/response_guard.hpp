// What a frontend does with each response respond() wrote, before it sends it: completes its
// DNS cookie (cookie.hpp) and, over UDP, asks the rate limiter (rrl.hpp), unless the client
// proved its address with a valid server cookie. One guard per worker; the policy is the
// configuration's, fixed while the frontends run, so workers read it without a lock.
#pragma once

#include <ctime>

#include "anamed/cookie.hpp"
#include "anamed/respond.hpp"
#include "anamed/rrl.hpp"
#include "anamed/stats.hpp"

namespace anamed {

struct GuardPolicy {
    RrlConfig rrl;
    CookieSecrets cookies;
};

class ResponseGuard {
public:
    // `policy` outlives the guard; null: nothing to do. `share`: see RrlTable. `shared`: the
    // table all workers use when the policy asks for a shared one (shared_table()); without
    // it the guard has a table of its own of the policy's kind.
    explicit ResponseGuard(const GuardPolicy* policy, unsigned share = 1,
                           RrlTable* shared = nullptr);
    // A guard of TCP responses: cookies only, as a TCP client's address is not spoofed and
    // its responses are never rate limited (no table).
    static ResponseGuard for_tcp(const GuardPolicy* policy);
    // The one table for every worker's guard when the policy asks for it; null otherwise.
    static std::unique_ptr<RrlTable> shared_table(const GuardPolicy* policy);

    bool active() const { return policy_ != nullptr; }
    bool cookies() const { return policy_ != nullptr && policy_->cookies.enabled; }
    RrlTable* table() { return rrl_; }

    // Reads the clocks: once per burst, not per response.
    void tick() noexcept {
        timespec ts;
        clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
        now_ms_ = uint32_t(uint64_t(ts.tv_sec) * 1000 + uint64_t(ts.tv_nsec) / 1000000);
        now_s_ = uint32_t(::time(nullptr));
    }
    void set_clock(uint32_t now_ms, uint32_t now_s) { now_ms_ = now_ms, now_s_ = now_s; }

    // The response `msg` (len bytes) to `client`, as it goes out: its new length, or 0 when it
    // is dropped. Counts what it does in `st`.
    // `key`: from prepare(), or 0.
    size_t check(uint8_t* msg, size_t len, const ResponseInfo& info, const ClientAddr& client,
                 Transport transport, CounterBlock& st, uint64_t key = 0) noexcept;
    // For a burst of UDP responses, before check(): the rate limiter's key of each, its
    // bucket fetched meanwhile (0 without rate limiting).
    uint64_t prepare(const ResponseInfo& info, size_t len, const ClientAddr& client) noexcept {
        if (!rrl_) return 0;
        const RrlClass cls = classify(info, len);
        const uint64_t k = rrl_->key(client, cls, cls == RrlClass::error ? 0 : info.name_key);
        rrl_->prefetch(k);
        return k;
    }

private:
    RrlClass classify(const ResponseInfo& info, size_t len) const noexcept;

    const GuardPolicy* policy_;
    std::unique_ptr<RrlTable> own_;
    RrlTable* rrl_ = nullptr;  // own_, or the workers' shared table
    uint32_t now_ms_ = 0, now_s_ = 0;
};

}  // namespace anamed
