#include "notifier.hpp"

#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ctime>

#include "anamed/dispatch.hpp"
#include "anamed/wire.hpp"
#include "log.hpp"
#include "message_builder.hpp"

namespace anamed {

Notifier::~Notifier() {
    for (auto& [k, p] : pending_)
        if (p->fd >= 0) close(p->fd);
}

void Notifier::notify(const Record& soa, const std::vector<NotifyTarget>& targets) {
    const uint32_t serial = serial_of_soa(soa);
    for (const NotifyTarget& t : targets) {
        auto& slot = pending_[{soa.owner, t.name}];
        if (slot && slot->fd >= 0) close(slot->fd);
        slot = std::make_unique<Pending>();
        Pending& p = *slot;
        p.target = t;
        p.zone_text = name_to_text(soa.owner);
        p.serial = serial;
        if (getrandom(&p.id, sizeof p.id, 0) != sizeof p.id) p.id = uint16_t(std::time(nullptr));
        MessageBuilder b(512);
        b.begin(p.id, uint16_t(opcode::NOTIFY << 11 | flag_aa), soa.owner, rrtype::SOA);
        b.add(soa.owner, rrtype::SOA, class_in, soa.ttl, soa.rdata);
        const std::string m = b.finish();
        p.msg.assign(m.begin(), m.end());
        if (t.key) {
            p.msg.resize(m.size() + 512);
            const size_t n = sign_tsig_request(p.msg.data(), m.size(), p.msg.size(), *t.key,
                                               uint64_t(std::time(nullptr)), p.mac);
            p.msg.resize(n);
        }
        if (p.msg.empty()) {
            log_error("NOTIFY " + p.zone_text + " to " + t.name +
                      ": the message could not be signed");
            pending_.erase({soa.owner, t.name});
            continue;
        }
        p.fd = socket(t.addr.addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (p.fd < 0 ||
            connect(p.fd, reinterpret_cast<const sockaddr*>(&t.addr.addr), t.addr.len) != 0) {
            log_error("NOTIFY " + p.zone_text + " to " + t.name + " (" + t.addr.text +
                      "): cannot open a socket");
            if (p.fd >= 0) close(p.fd);
            pending_.erase({soa.owner, t.name});
            continue;
        }
        send(p);
    }
}

void Notifier::send(Pending& p) {
    ::send(p.fd, p.msg.data(), p.msg.size(), MSG_DONTWAIT);
    ++counters_.sent;
    p.deadline = Clock::now() + first_timeout_ * (1u << std::min(p.sent, 6u));
    ++p.sent;
}

void Notifier::poll_fds(std::vector<pollfd>& out) const {
    for (const auto& [k, p] : pending_) out.push_back(pollfd{p->fd, POLLIN, 0});
}

int Notifier::poll_timeout_ms() const {
    if (pending_.empty()) return -1;
    Clock::time_point first = Clock::time_point::max();
    for (const auto& [k, p] : pending_) first = std::min(first, p->deadline);
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(first - Clock::now()).count();
    return int(std::clamp<int64_t>(ms + 1, 0, 60000));
}

bool Notifier::on_reply(Pending& p, const uint8_t* msg, size_t len) {
    if (len < header_size || load16(msg) != p.id || !(msg[2] & 0x80) ||
        opcode_of(msg) != opcode::NOTIFY)
        return false;  // not the answer to this notify
    const std::string who = "NOTIFY " + p.zone_text + " serial " + std::to_string(p.serial) +
                            " to " + p.target.name + " (" + p.target.addr.text + ")";
    if (p.target.key) {
        const TsigReplyCheck c =
            verify_tsig_reply(msg, len, *p.target.key, p.mac, uint64_t(std::time(nullptr)));
        if (c.status != TsigStatus::ok) {
            log_warning(who + ": reply's TSIG " + std::string(tsig_status_name(c.status)) +
                        (c.status == TsigStatus::peer_error
                             ? " (error " + std::to_string(c.peer_error) + ")"
                             : ""));
            ++counters_.failed;
            return true;
        }
    }
    const uint8_t rc = msg[3] & 0xF;
    if (rc != rcode::NOERROR) {
        log_warning(who + ": answered with rcode " + std::to_string(rc));
        ++counters_.failed;
    } else {
        log_info(who + ": acknowledged");
        ++counters_.answered;
    }
    return true;
}

void Notifier::process() {
    const auto now = Clock::now();
    for (auto it = pending_.begin(); it != pending_.end();) {
        Pending& p = *it->second;
        bool settled = false;
        uint8_t buf[65535];
        for (ssize_t n; !settled && (n = recv(p.fd, buf, sizeof buf, MSG_DONTWAIT)) > 0;)
            settled = on_reply(p, buf, size_t(n));
        if (!settled && now >= p.deadline) {
            if (p.sent < tries_) {
                send(p);
            } else {
                log_warning("NOTIFY " + p.zone_text + " serial " + std::to_string(p.serial) +
                            " to " + p.target.name + " (" + p.target.addr.text +
                            "): no answer after " + std::to_string(p.sent) + " tries");
                ++counters_.failed;
                settled = true;
            }
        }
        if (settled) {
            close(p.fd);
            it = pending_.erase(it);
        } else {
            ++it;
        }
    }
}

}  // namespace anamed
