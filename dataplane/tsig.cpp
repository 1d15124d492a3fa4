// TSIG for a server (RFC 8945 §5.2, §5.3) and for a client's single request.
#include "anamed/tsig.hpp"

#include <openssl/crypto.h>

#include <algorithm>

#include "anamed/wire.hpp"
#include "tsig_wire.hpp"

namespace anamed {

bool TsigKeyring::add(TsigKey key) {
    Name n;
    const auto* p = reinterpret_cast<const uint8_t*>(key.name.data());
    if (key.name.empty() || parse_name(p, key.name.size(), n) != key.name.size()) return false;
    key.name.assign(reinterpret_cast<const char*>(n.lower), n.len);
    if (find(key.name, key.algorithm)) return false;
    keys_.push_back(std::move(key));
    return true;
}

const TsigKey* TsigKeyring::find(std::string_view name, TsigAlgorithm algorithm) const {
    if (name.size() > max_name_len) return nullptr;
    char lower[max_name_len];
    std::copy(name.begin(), name.end(), lower);
    ascii_lower_in_place(lower, name.size());
    const std::string_view key(lower, name.size());
    for (const auto& k : keys_)
        if (k.algorithm == algorithm && k.name == key) return &k;
    return nullptr;
}

std::string_view tsig_status_name(TsigStatus s) {
    switch (s) {
    case TsigStatus::ok: return "ok";
    case TsigStatus::unsigned_message: return "unsigned";
    case TsigStatus::unsigned_pending: return "unsigned (pending)";
    case TsigStatus::formerr: return "malformed TSIG";
    case TsigStatus::badkey: return "BADKEY";
    case TsigStatus::badsig: return "BADSIG";
    case TsigStatus::badtime: return "BADTIME";
    case TsigStatus::badtrunc: return "BADTRUNC";
    case TsigStatus::peer_error: return "TSIG error from the peer";
    case TsigStatus::internal: return "HMAC failed";
    }
    return "?";
}

namespace {

void fail(TsigRequest& r, TsigStatus s, uint16_t error) {
    r.status = s;
    r.error = error;
}

// Copies what the reply needs out of the received RR.
void remember(TsigRequest& r, const TsigRr& rr) {
    r.tsig_offset = rr.offset;
    r.original_id = rr.original_id;
    r.time_signed = rr.time_signed;
    r.fudge = rr.fudge;
    std::copy_n(rr.key_name, rr.key_name_len, r.key_name);
    r.key_name_len = rr.key_name_len;
    std::copy_n(rr.algorithm, rr.algorithm_len, r.algorithm);
    r.algorithm_len = rr.algorithm_len;
    r.mac.size = uint8_t(std::min<size_t>(rr.mac_size, tsig_max_mac));
    std::copy_n(rr.mac, r.mac.size, r.mac.bytes);
}

}  // namespace

TsigRequest verify_tsig_request(const uint8_t* msg, size_t len, const TsigKeyring& keys,
                                uint64_t now) {
    TsigRequest r;
    TsigRr rr;
    switch (find_tsig(msg, len, rr)) {
    case TsigFind::none: return r;
    case TsigFind::malformed: fail(r, TsigStatus::formerr, tsig_error::NOERROR); return r;
    case TsigFind::found: break;
    }
    remember(r, rr);
    TsigAlgorithm alg;
    const bool known_alg = tsig_algorithm_from_wire(rr.algorithm, rr.algorithm_len, alg);
    if (known_alg && !tsig_mac_size_allowed(alg, rr.mac_size)) {
        fail(r, TsigStatus::formerr, tsig_error::NOERROR);
        return r;
    }
    const TsigKey* key =
        known_alg ? keys.find({reinterpret_cast<const char*>(rr.key_name), rr.key_name_len}, alg)
                  : nullptr;
    if (!key) {
        fail(r, TsigStatus::badkey, tsig_error::BADKEY);
        return r;
    }
    r.key = key;
    TsigHmac h;
    h.start(*key);
    digest_message(h, msg, rr.offset, rr.original_id, uint16_t(load16(msg + 10) - 1));
    digest_vars(h, tsig_vars_of(rr), TsigDigest::full);
    uint8_t mac[tsig_max_mac];
    const size_t full = h.finish(mac);
    if (full == 0) {
        fail(r, TsigStatus::internal, tsig_error::NOERROR);
        return r;
    }
    if (CRYPTO_memcmp(mac, rr.mac, rr.mac_size) != 0) {
        fail(r, TsigStatus::badsig, tsig_error::BADSIG);
        return r;
    }
    if (!time_in_window(rr.time_signed, rr.fudge, now)) {
        fail(r, TsigStatus::badtime, tsig_error::BADTIME);
        return r;
    }
    const size_t min = key->min_mac_size ? std::min(key->min_mac_size, full) : full;
    if (rr.mac_size < min) {
        fail(r, TsigStatus::badtrunc, tsig_error::BADTRUNC);
        return r;
    }
    r.status = TsigStatus::ok;
    return r;
}

size_t strip_tsig(uint8_t* msg, size_t tsig_offset) {
    if (tsig_offset < header_size) return tsig_offset;
    const uint16_t ar = load16(msg + 10);
    if (ar > 0) store16(msg + 10, uint16_t(ar - 1));
    return tsig_offset;
}

size_t sign_tsig_reply(uint8_t* msg, size_t len, size_t cap, const TsigRequest& req, uint64_t now) {
    if (!req.is_signed() || req.status == TsigStatus::internal || len < header_size || len > cap)
        return 0;
    if (req.error != tsig_error::NOERROR) msg[3] = uint8_t((msg[3] & 0xF0) | rcode_notauth);
    TsigVars v;
    v.key_name = req.key_name;
    v.key_name_len = req.key_name_len;
    v.algorithm = req.algorithm;
    v.algorithm_len = req.algorithm_len;
    v.time_signed = now;
    v.error = req.error;
    // BADKEY and BADSIG replies are unsigned: the request's MAC proved nothing (§5.3.2).
    if (req.error == tsig_error::BADKEY || req.error == tsig_error::BADSIG || !req.key)
        return append_tsig(msg, len, cap, nullptr, v, {}, TsigDigest::full, nullptr);
    // BADTIME: the client's time and fudge, so the client can verify the reply whatever its
    // clock says, and the server's time in Other Data.
    uint8_t server_time[6];
    if (req.error == tsig_error::BADTIME) {
        v.time_signed = req.time_signed;
        v.fudge = req.fudge;
        store16(server_time, uint16_t(now >> 32));
        store32(server_time + 2, uint32_t(now));
        v.other = server_time;
        v.other_len = 6;
    }
    return append_tsig(msg, len, cap, req.key, v, req.mac, TsigDigest::full, nullptr);
}

size_t write_tsig_error_reply(const uint8_t* request, size_t request_len, const TsigRequest& req,
                              uint8_t* out, size_t cap, uint64_t now) {
    if (req.error == tsig_error::NOERROR || request_len < header_size || cap < header_size)
        return 0;
    const unsigned qdcount = load16(request + 4);
    size_t end = header_size;
    for (unsigned i = 0; i < qdcount; ++i) {
        end = skip_name(request, request_len, end);
        if (end == 0 || request_len - end < 4) return 0;
        end += 4;
    }
    if (end > cap) return 0;
    std::copy_n(request, end, out);                // ID, counts and question; the rest is set below
    out[2] = uint8_t(0x80 | (request[2] & 0x79));  // QR, the request's opcode and RD
    out[3] = rcode_notauth;
    store16(out + 6, 0);
    store16(out + 8, 0);
    store16(out + 10, 0);
    return sign_tsig_reply(out, end, cap, req, now);
}

size_t sign_tsig_request(uint8_t* msg, size_t len, size_t cap, const TsigKey& key, uint64_t now,
                         TsigMac& request_mac, uint16_t fudge) {
    return append_tsig(msg, len, cap, &key, tsig_vars_of(key, now, fudge), {}, TsigDigest::full,
                       &request_mac);
}

}  // namespace anamed
