#include "message_handler.hpp"

#include <ctime>

#include "anamed/respond.hpp"
#include "anamed/wire.hpp"
#include "log.hpp"

namespace anamed {
namespace {

uint64_t now_s() {
    return uint64_t(std::time(nullptr));
}

// Room for the TSIG record a signed reply carries: names up to 255 octets each, the MAC,
// the fixed fields and BADTIME's other data.
constexpr size_t tsig_room = 2 * max_name_len + tsig_max_mac + 32;

Reply error_only(const std::vector<uint8_t>& msg, uint8_t rcode) {
    std::string out(msg.size() + 64, '\0');
    const size_t n = error_reply(msg.data(), msg.size(), rcode,
                                 reinterpret_cast<uint8_t*>(out.data()), out.size());
    if (n == 0) return {};
    out.resize(n);
    return Reply{{std::move(out)}};
}

// The question of a transfer request, and the serial of the SOA in its authority section
// (IXFR, RFC 1995 §3).
struct TransferQuestion {
    std::string qname;  // as sent
    uint16_t qtype = 0, qclass = 0;
    bool has_serial = false;
    uint32_t serial = 0;
};

bool parse_transfer(const std::vector<uint8_t>& m, TransferQuestion& q) {
    const uint8_t* p = m.data();
    const size_t len = m.size();
    if (len < header_size || load16(p + 4) != 1) return false;
    Name name;
    const size_t n = parse_name(p + header_size, len - header_size, name);
    if (n == 0 || header_size + n + 4 > len) return false;
    q.qname.assign(reinterpret_cast<const char*>(p + header_size), n);
    q.qtype = load16(p + header_size + n);
    q.qclass = load16(p + header_size + n + 2);
    size_t pos = header_size + n + 4;
    const unsigned an = load16(p + 6), ns = load16(p + 8);
    for (unsigned i = 0; i < an + ns; ++i) {
        pos = skip_name(p, len, pos);
        if (pos == 0 || pos + 10 > len) return false;
        const uint16_t type = load16(p + pos);
        const size_t rdlen = load16(p + pos + 8);
        if (pos + 10 + rdlen > len) return false;
        if (i >= an && type == rrtype::SOA) {
            // The RDATA's two names may be compressed: skip them in the message.
            size_t at = skip_name(p, pos + 10 + rdlen, pos + 10);
            at = at ? skip_name(p, pos + 10 + rdlen, at) : 0;
            if (at == 0 || at + 20 > pos + 10 + rdlen) return false;
            q.has_serial = true;
            q.serial = load32(p + at);
        }
        pos += 10 + rdlen;
    }
    return true;
}

std::string describe(const HandoffMessage& m, const TsigRequest& tsig) {
    std::string s = address_text(m.peer);
    if (tsig.status == TsigStatus::ok && tsig.key) s += " key " + name_to_text(tsig.key->name);
    return s;
}

}  // namespace

Reply MessageHandler::handle(const HandoffMessage& m) {
    const TsigRequest tsig =
        verify_tsig_request(m.bytes.data(), m.bytes.size(), ctx_.peers->keys(), now_s());
    if (tsig.status == TsigStatus::formerr) return error_only(m.bytes, rcode::FORMERR);
    if (tsig.is_signed() && tsig.status != TsigStatus::ok) {
        ++counters_.tsig_errors;
        log_warning(std::string(class_name(m.cls)) + " from " + address_text(m.peer) + ": TSIG " +
                    std::string(tsig_status_name(tsig.status)) + " (key " +
                    name_to_text(std::string_view(reinterpret_cast<const char*>(tsig.key_name),
                                                  tsig.key_name_len)) +
                    ")");
        std::string out(m.bytes.size() + tsig_room + 64, '\0');
        const size_t n =
            write_tsig_error_reply(m.bytes.data(), m.bytes.size(), tsig,
                                   reinterpret_cast<uint8_t*>(out.data()), out.size(), now_s());
        if (n == 0) return {};
        out.resize(n);
        return Reply{{std::move(out)}};
    }
    std::vector<uint8_t> body = m.bytes;
    if (tsig.status == TsigStatus::ok) body.resize(strip_tsig(body.data(), tsig.tsig_offset));
    switch (m.cls) {
    case MessageClass::transfer: return transfer(m, body, tsig);
    case MessageClass::signed_query: return signed_query(m, body, tsig);
    case MessageClass::notify: return notify(m, body, tsig);
    case MessageClass::update: return update(m, body, tsig);
    case MessageClass::query:
    case MessageClass::other: break;
    }
    return error(m, body, tsig, rcode::NOTIMP);
}

Reply MessageHandler::error(const HandoffMessage&, const std::vector<uint8_t>& body,
                            const TsigRequest& tsig, uint8_t rcode) {
    return sign(error_only(body, rcode), tsig);
}

Reply MessageHandler::sign(Reply r, const TsigRequest& tsig) {
    if (tsig.status != TsigStatus::ok) return r;
    TsigStreamSigner signer(tsig);
    for (std::string& msg : r.messages) {
        const size_t len = msg.size();
        msg.resize(len + tsig_room);
        const size_t n =
            signer.sign(reinterpret_cast<uint8_t*>(msg.data()), len, msg.size(), now_s());
        if (n == 0) return {};  // never: room was kept
        msg.resize(n);
    }
    return r;
}

Reply MessageHandler::notify(const HandoffMessage& m, const std::vector<uint8_t>& body,
                             const TsigRequest& tsig) {
    TransferQuestion q;
    if (!parse_transfer(body, q) || q.qclass != class_in)
        return error(m, body, tsig, rcode::FORMERR);
    if (!ctx_.notify) return error(m, body, tsig, rcode::NOTIMP);
    ++counters_.notifies;
    const uint8_t rc =
        ctx_.notify(lower_key(q.qname), m.peer, tsig.status == TsigStatus::ok ? tsig.key : nullptr);
    if (rc != rcode::NOERROR) ++counters_.notifies_refused;
    Reply r = error_only(body, rc);
    if (rc == rcode::NOERROR && !r.messages.empty()) r.messages[0][2] |= char(flag_aa >> 8);
    return sign(std::move(r), tsig);
}

Reply MessageHandler::update(const HandoffMessage& m, const std::vector<uint8_t>& body,
                             const TsigRequest& tsig) {
    UpdateContext uc;
    uc.store = ctx_.store;
    uc.peers = ctx_.peers;
    uc.apply = ctx_.apply_update;
    const std::string key = tsig.status == TsigStatus::ok && tsig.key ? tsig.key->name : "";
    UpdateResult r = process_update(uc, m, body, key);
    using O = UpdateResult::Outcome;
    switch (r.outcome) {
    case O::applied: ++counters_.updates_applied; break;
    case O::unchanged: ++counters_.updates_unchanged; break;
    case O::prerequisite: ++counters_.updates_prerequisite_failed; break;
    case O::refused: ++counters_.updates_refused; break;
    case O::malformed: ++counters_.updates_malformed; break;
    case O::failed: ++counters_.updates_failed; break;
    case O::forwarded: ++counters_.updates_forwarded; break;
    }
    Reply reply{{std::move(r.reply)}};
    // A forwarded reply is the primary's, signed by it for the client.
    return r.outcome == O::forwarded ? reply : sign(std::move(reply), tsig);
}

Reply MessageHandler::signed_query(const HandoffMessage& m, const std::vector<uint8_t>& body,
                                   const TsigRequest& tsig) {
    ++counters_.signed_queries;
    std::string out(65535, '\0');
    // The client's limit, less the TSIG record's room.
    const size_t cap = m.transport == Transport::tcp ? 65535 - tsig_room : out.size();
    ResponseInfo info;
    const size_t n =
        respond(ctx_.snapshot(), body.data(), body.size(), reinterpret_cast<uint8_t*>(out.data()),
                cap, ClientInfo{m.transport}, &info);
    if (n == 0) return {};
    out.resize(n);
    return sign(Reply{{std::move(out)}}, tsig);
}

Reply MessageHandler::transfer(const HandoffMessage& m, const std::vector<uint8_t>& body,
                               const TsigRequest& tsig) {
    TransferQuestion q;
    if (!parse_transfer(body, q) || q.qclass != class_in)
        return error(m, body, tsig, rcode::FORMERR);
    const bool axfr = q.qtype == rrtype::AXFR;
    const char* kind = axfr ? "AXFR" : "IXFR";
    if (axfr && m.transport == Transport::udp)
        return error(m, body, tsig, rcode::REFUSED);  // RFC 5936 §4.2
    const Zone* zone = ctx_.store->find(name_to_text(lower_key(q.qname)));
    if (zone == nullptr || zone->apex != lower_key(q.qname)) {
        ++counters_.transfers_refused;
        return error(m, body, tsig, rcode_notauth);  // not authoritative for that zone
    }
    const ZonePeers* zp = ctx_.peers->zone(zone->apex);
    const Remote* r = zp ? Peers::match(zp->allow_transfer, m.peer,
                                        tsig.status == TsigStatus::ok ? tsig.key : nullptr)
                         : nullptr;
    if (r == nullptr) {
        ++counters_.transfers_refused;
        log_warning(std::string(kind) + " of " + zone->apex_text + " refused to " +
                    describe(m, tsig) + ": not in the zone's allow-transfer (address and key)");
        return error(m, body, tsig, rcode::REFUSED);
    }
    TransferRequest req;
    req.id = load16(body.data());
    req.flags = load16(body.data() + 2);
    req.qname = q.qname;
    req.qtype = q.qtype;
    req.udp = m.transport == Transport::udp;
    req.room = tsig.status == TsigStatus::ok ? tsig_room : 0;
    // A zone signed here goes out with its signatures, whole: its history holds the
    // unsigned changes only (RFC 1995 §4 lets an IXFR be answered with the full zone). Its
    // ALIAS owners go out as their signed addresses, which any secondary can serve.
    const Zone* signed_copy = ctx_.signed_zone ? ctx_.signed_zone(zone->apex) : nullptr;
    const AliasExpander expand = signed_copy       ? ctx_.signed_alias_expander
                                 : r->alias_expand ? ctx_.alias_expander
                                                   : AliasExpander{};
    std::vector<std::string> msgs;
    const auto t0 = std::chrono::steady_clock::now();
    const std::string log_prefix = std::string(kind) + " of " + zone->apex_text + " serial " +
                                   std::to_string(zone->serial()) + " to " + r->name + " (" +
                                   describe(m, tsig) + ")" +
                                   (q.has_serial ? " from serial " + std::to_string(q.serial) : "");
    if (axfr || !q.has_serial || signed_copy) {
        if (!axfr && !q.has_serial)
            return error(m, body, tsig, rcode::FORMERR);  // IXFR without the client's SOA
        ++counters_.axfr;
        // ALIAS expansion (and a signed zone's owners) read the resolver's answers and the
        // published ones, which live on this thread.
        if (!req.udp && !expand) {
            Reply streamed = stream_axfr(signed_copy ? *signed_copy : *zone, req, tsig, log_prefix);
            if (streamed.more) return streamed;
        }
        msgs = axfr_messages(signed_copy ? *signed_copy : *zone, req, expand);
    } else {
        req.client_serial = q.serial;
        static const ZoneHistory none(0);
        const ZoneHistory* h = ctx_.history ? ctx_.history(*zone) : nullptr;
        msgs = ixfr_messages(*zone, h ? *h : none, req, expand);
        ++counters_.ixfr;
    }
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    log_info(log_prefix + ": " + std::to_string(msgs.size()) + " message(s), built in " +
             std::to_string(int(ms)) + " ms");
    if (msgs.empty()) return error(m, body, tsig, rcode::SERVFAIL);
    return sign(Reply{std::move(msgs)}, tsig);
}

void MessageHandler::fill_images() {
    const auto t0 = std::chrono::steady_clock::now();
    std::string zones;
    images_.fill_pending([&](const std::string& apex, const Zone* z) {
        zones += (zones.empty() ? "" : " ") + name_to_text(apex);
        const Zone* signed_copy = ctx_.signed_zone ? ctx_.signed_zone(apex) : nullptr;
        return z == (signed_copy ? signed_copy : ctx_.store->find(name_to_text(apex)));
    });
    if (zones.empty()) return;
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    log_info("image of " + zones + " copied in " + std::to_string(int(ms)) +
             " ms, its transfer streaming meanwhile");
}

Reply MessageHandler::stream_axfr(const Zone& z, const TransferRequest& req,
                                  const TsigRequest& tsig, std::string log_prefix) {
    const auto t0 = std::chrono::steady_clock::now();
    TransferThreads::Job job;
    job.image = images_.get(z);
    job.request = req;
    if (tsig.status == TsigStatus::ok) job.tsig = tsig;
    job.log_prefix = std::move(log_prefix);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    log_info(job.log_prefix + ": image of " + std::to_string(job.image->names.size()) +
             " names begun in " + std::to_string(int(ms)) + " ms");
    Reply r;
    r.more = transfers_.start(std::move(job));
    return r;
}

}  // namespace anamed
