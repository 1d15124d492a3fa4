// Multi-message TSIG (RFC 8945 §5.3.1): a server signing a transfer's messages one after
// another, and a client checking replies, single or streamed.
#include <openssl/crypto.h>

#include <algorithm>

#include "anamed/tsig.hpp"
#include "anamed/wire.hpp"
#include "tsig_wire.hpp"

namespace anamed {

namespace {
constexpr unsigned max_unsigned_run = 99;  // §5.3.1: at most 99 unsigned messages in a row
}  // namespace

TsigStreamSigner::TsigStreamSigner(const TsigRequest& req) : key_(req.key), prev_(req.mac) {}

size_t TsigStreamSigner::sign(uint8_t* msg, size_t len, size_t cap, uint64_t now) {
    if (!key_) return 0;
    const TsigVars v = tsig_vars_of(*key_, now, tsig_default_fudge);
    const TsigDigest which = first_ ? TsigDigest::full : TsigDigest::timers;
    TsigMac mac;
    const size_t n = append_tsig(msg, len, cap, key_, v, prev_, which, &mac);
    if (n == 0) return 0;
    prev_ = mac;
    first_ = false;
    return n;
}

struct TsigStreamVerifier::Running {
    TsigHmac hmac;
};

TsigStreamVerifier::TsigStreamVerifier(const TsigKey& key, const TsigMac& request_mac)
    : key_(key), prev_(request_mac), running_(std::make_unique<Running>()) {}

TsigStreamVerifier::~TsigStreamVerifier() = default;

TsigReplyCheck TsigStreamVerifier::fail(TsigReplyCheck r) {
    failed_ = true;
    return r;
}

TsigReplyCheck TsigStreamVerifier::verify(const uint8_t* msg, size_t len, uint64_t now) {
    if (failed_) return {TsigStatus::formerr};
    TsigRr rr;
    switch (find_tsig(msg, len, rr)) {
    case TsigFind::malformed: return fail({TsigStatus::formerr});
    case TsigFind::none:
        // Unsigned: allowed only between signed messages, and folded into the next MAC.
        if (first_ || pending_ >= max_unsigned_run) return fail({TsigStatus::unsigned_message});
        running_->hmac.update(msg, len);
        ++pending_;
        return {TsigStatus::unsigned_pending};
    case TsigFind::found: break;
    }
    TsigReplyCheck r{TsigStatus::ok, tsig_error::NOERROR, rr.offset};
    const std::string_view alg = tsig_algorithm_wire(key_.algorithm);
    if (std::string_view(reinterpret_cast<const char*>(rr.key_name), rr.key_name_len) !=
            key_.name ||
        std::string_view(reinterpret_cast<const char*>(rr.algorithm), rr.algorithm_len) != alg)
        return fail({TsigStatus::badkey, tsig_error::NOERROR, rr.offset});
    if (rr.error != tsig_error::NOERROR && rr.mac_size == 0)  // BADKEY, BADSIG: unsigned
        return fail({TsigStatus::peer_error, rr.error, rr.offset});
    if (!tsig_mac_size_allowed(key_.algorithm, rr.mac_size))
        return fail({TsigStatus::formerr, tsig_error::NOERROR, rr.offset});

    // The first message: request MAC, message, all variables. Later ones: the running HMAC
    // (previous MAC, unsigned messages since), message, timers.
    TsigHmac first;
    TsigHmac& h = first_ ? first : running_->hmac;
    if (first_) {
        first.start(key_);
        if (prev_.size) digest_mac(first, prev_.bytes, prev_.size);
    }
    digest_message(h, msg, rr.offset, rr.original_id, uint16_t(load16(msg + 10) - 1));
    digest_vars(h, tsig_vars_of(rr), first_ ? TsigDigest::full : TsigDigest::timers);
    uint8_t mac[tsig_max_mac];
    const size_t full = h.finish(mac);
    if (full == 0) return fail({TsigStatus::internal});
    if (CRYPTO_memcmp(mac, rr.mac, rr.mac_size) != 0)
        return fail({TsigStatus::badsig, tsig_error::NOERROR, rr.offset});
    const size_t min = key_.min_mac_size ? std::min(key_.min_mac_size, full) : full;
    if (rr.mac_size < min) return fail({TsigStatus::badtrunc, tsig_error::NOERROR, rr.offset});
    if (rr.error != tsig_error::NOERROR) {  // BADTIME, BADTRUNC: signed, so from the peer
        r = {TsigStatus::peer_error, rr.error, rr.offset};
        if (rr.error == tsig_error::BADTIME && rr.other_len == 6)
            r.peer_time = uint64_t(load16(rr.other)) << 32 | load32(rr.other + 2);
        return fail(r);
    }
    if (!time_in_window(rr.time_signed, rr.fudge, now))
        return fail({TsigStatus::badtime, tsig_error::NOERROR, rr.offset});

    std::copy_n(rr.mac, rr.mac_size, prev_.bytes);
    prev_.size = uint8_t(rr.mac_size);
    running_->hmac.start(key_);
    digest_mac(running_->hmac, prev_.bytes, prev_.size);
    pending_ = 0;
    first_ = false;
    return r;
}

TsigReplyCheck verify_tsig_reply(const uint8_t* msg, size_t len, const TsigKey& key,
                                 const TsigMac& request_mac, uint64_t now) {
    TsigStreamVerifier v(key, request_mac);
    return v.verify(msg, len, now);
}

}  // namespace anamed
