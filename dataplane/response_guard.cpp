#include "anamed/response_guard.hpp"

#include "anamed/wire.hpp"

namespace anamed {

ResponseGuard::ResponseGuard(const GuardPolicy* policy, unsigned share, RrlTable* shared)
    : policy_(policy && (policy->rrl.enabled || policy->cookies.enabled) ? policy : nullptr) {
    if (policy_ && policy_->rrl.enabled) {
        if (shared == nullptr) own_ = std::make_unique<RrlTable>(policy_->rrl, share);
        rrl_ = shared ? shared : own_.get();
    }
    tick();
}

ResponseGuard ResponseGuard::for_tcp(const GuardPolicy* policy) {
    ResponseGuard g(nullptr);
    g.policy_ = policy && policy->cookies.enabled ? policy : nullptr;
    return g;
}

std::unique_ptr<RrlTable> ResponseGuard::shared_table(const GuardPolicy* policy) {
    if (policy == nullptr || !policy->rrl.enabled || policy->rrl.table != RrlTableKind::shared)
        return nullptr;
    return std::make_unique<RrlTable>(policy->rrl);
}

RrlClass ResponseGuard::classify(const ResponseInfo& info, size_t len) const noexcept {
    if (info.qtype == rrtype::ANY) return RrlClass::any;
    if (info.rcode == rcode::NXDOMAIN) return RrlClass::nxdomain;
    if (info.rcode != rcode::NOERROR) return RrlClass::error;
    if (info.referral) return RrlClass::referral;
    if (len > policy_->rrl.large_size) return RrlClass::large;
    return RrlClass::positive;
}

size_t ResponseGuard::check(uint8_t* msg, size_t len, const ResponseInfo& info,
                            const ClientAddr& client, Transport transport, CounterBlock& st,
                            uint64_t key) noexcept {
    if (policy_ == nullptr) return len;
    const RrlClass cls = rrl_ ? classify(info, len) : RrlClass::positive;
    CookieState cookie = CookieState::none;
    if (info.cookie != 0 && policy_->cookies.enabled) {
        cookie = finish_cookie(policy_->cookies, msg, len, info.cookie, now_s_, client);
        st.bump(cookie == CookieState::valid ? slot::cookies_valid : slot::cookies_issued);
    }
    if (rrl_ == nullptr || transport != Transport::udp || cookie == CookieState::valid) return len;
    if (key == 0) key = rrl_->key(client, cls, cls == RrlClass::error ? 0 : info.name_key);
    switch (rrl_->check(key, client, cls, now_ms_)) {
    case RrlTable::Verdict::pass: return len;
    case RrlTable::Verdict::drop: st.drop(Drop::rate_limited); return 0;
    case RrlTable::Verdict::slip: break;
    }
    st.bump(slot::rrl_slipped);
    // A client that sent a cookie learns the server's from a BADCOOKIE and retries with it
    // (RFC 7873 §5.2.3); others get TC=1 and retry over TCP.
    return cookie == CookieState::client_only ? make_badcookie(msg, len) : make_truncated(msg, len);
}

}  // namespace anamed
