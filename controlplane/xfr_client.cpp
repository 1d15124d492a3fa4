#include "xfr_client.hpp"

#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "anamed/wire.hpp"
#include "message_builder.hpp"

namespace anamed {
namespace {

uint64_t now_s() {
    return uint64_t(std::time(nullptr));
}

constexpr size_t tsig_room = 2 * max_name_len + tsig_max_mac + 32;

}  // namespace

XfrClient::XfrClient(XfrRequest req, std::chrono::milliseconds timeout)
    : req_(std::move(req)), timeout_(timeout) {
    if (getrandom(&id_, sizeof id_, 0) != sizeof id_) id_ = uint16_t(std::time(nullptr));
    if (req_.check_soa && req_.our_soa)
        start_soa();
    else
        start_transfer(req_.ixfr && req_.our_soa.has_value());
}

XfrClient::~XfrClient() {
    if (fd_ >= 0) close(fd_);
}

std::string XfrClient::who() const {
    return req_.primary->name + " (" + req_.primary->addr.text + ")";
}

std::optional<pollfd> XfrClient::poll_fd() const {
    if (fd_ < 0 || stage_ == Stage::done) return std::nullopt;
    const short ev = stage_ == Stage::connect || sent_ < out_.size() ? POLLOUT : POLLIN;
    return pollfd{fd_, ev, 0};
}

void XfrClient::finish(std::string error) {
    error_ = std::move(error);
    stage_ = Stage::done;
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
    verifier_.reset();
    reader_.reset();
}

std::vector<uint8_t> XfrClient::signed_request(std::string msg) {
    std::vector<uint8_t> out(msg.begin(), msg.end());
    if (req_.primary->key == nullptr) return out;
    out.resize(msg.size() + tsig_room);
    const size_t n =
        sign_tsig_request(out.data(), msg.size(), out.size(), *req_.primary->key, now_s(), mac_);
    out.resize(n);
    return out;
}

void XfrClient::start_soa() {
    stage_ = Stage::soa;
    MessageBuilder b(512);
    b.begin(id_, 0, req_.apex, rrtype::SOA);
    const std::vector<uint8_t> q = signed_request(b.finish());
    const ListenAddr& a = req_.primary->addr;
    fd_ = socket(a.addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (q.empty() || fd_ < 0 ||
        connect(fd_, reinterpret_cast<const sockaddr*>(&a.addr), a.len) != 0 ||
        send(fd_, q.data(), q.size(), MSG_DONTWAIT) != ssize_t(q.size()))
        return finish("SOA query to " + who() + ": " + std::strerror(errno));
    deadline_ = Clock::now() + std::min(timeout_, std::chrono::milliseconds(3000));
}

void XfrClient::on_soa_reply(const uint8_t* msg, size_t len) {
    if (len < header_size || load16(msg) != id_ || !(msg[2] & 0x80)) return;  // not ours
    std::vector<uint8_t> m(msg, msg + len);
    if (req_.primary->key) {
        const TsigReplyCheck c =
            verify_tsig_reply(m.data(), m.size(), *req_.primary->key, mac_, now_s());
        if (c.status != TsigStatus::ok)
            return finish("SOA reply from " + who() + ": TSIG " +
                          std::string(tsig_status_name(c.status)) +
                          (c.status == TsigStatus::peer_error
                               ? " (error " + std::to_string(c.peer_error) + ")"
                               : ""));
        m.resize(strip_tsig(m.data(), c.tsig_offset));
    }
    std::vector<Record> recs;
    uint8_t rc = 0;
    if (m[2] & (flag_tc >> 8)) return start_transfer(req_.ixfr);  // too big for UDP: ask anyway
    if (std::string err = read_answer_records(m.data(), m.size(), id_, recs, rc); !err.empty())
        return finish("SOA query to " + who() + ": " + err);
    for (const Record& r : recs)
        if (r.type == rrtype::SOA && lower_key(r.owner) == req_.apex) {
            primary_serial_ = serial_of_soa(r);
            if (!serial_gt(primary_serial_, serial_of_soa(*req_.our_soa))) {
                result_.kind = TransferResult::Kind::up_to_date;
                result_.serial = primary_serial_;
                return finish();
            }
            close(fd_);
            fd_ = -1;
            return start_transfer(req_.ixfr);
        }
    finish("SOA query to " + who() + ": the reply holds no SOA of the zone");
}

void XfrClient::start_transfer(bool ixfr) {
    if (fd_ >= 0) close(fd_);
    ixfr_now_ = ixfr && req_.our_soa.has_value();
    const uint32_t ours = req_.our_soa ? serial_of_soa(*req_.our_soa) : 0;
    reader_ = std::make_unique<TransferReader>(req_.apex, ixfr_now_, ours, id_);
    MessageBuilder b;
    b.begin(id_, 0, req_.apex, ixfr_now_ ? rrtype::IXFR : rrtype::AXFR);
    if (ixfr_now_) {
        const Record& s = *req_.our_soa;
        b.add(s.owner, rrtype::SOA, class_in, s.ttl, s.rdata, MessageBuilder::authority);
    }
    const std::vector<uint8_t> q = signed_request(b.finish());
    if (req_.primary->key)
        verifier_ = std::make_unique<TsigStreamVerifier>(*req_.primary->key, mac_);
    out_.assign({uint8_t(q.size() >> 8), uint8_t(q.size())});
    out_.insert(out_.end(), q.begin(), q.end());
    sent_ = 0;
    in_.clear();
    const ListenAddr& a = req_.primary->addr;
    fd_ = socket(a.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (q.empty() || fd_ < 0) return finish("transfer from " + who() + ": no socket");
    if (connect(fd_, reinterpret_cast<const sockaddr*>(&a.addr), a.len) != 0 &&
        errno != EINPROGRESS)
        return finish("transfer from " + who() + ": connect: " + std::strerror(errno));
    stage_ = Stage::connect;
    deadline_ = Clock::now() + timeout_;
}

void XfrClient::send_request() {
    if (stage_ == Stage::connect) {
        int err = 0;
        socklen_t l = sizeof err;
        getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &l);
        if (err == EINPROGRESS) return;
        if (err != 0) return finish("transfer from " + who() + ": connect: " + std::strerror(err));
        stage_ = Stage::transfer;
    }
    while (sent_ < out_.size()) {
        const ssize_t n = send(fd_, out_.data() + sent_, out_.size() - sent_, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) return;
            return finish("transfer from " + who() + ": send: " + std::strerror(errno));
        }
        sent_ += size_t(n);
    }
}

void XfrClient::process() {
    if (stage_ == Stage::done) return;
    if (stage_ == Stage::soa) {
        uint8_t buf[65535];
        for (ssize_t n; stage_ == Stage::soa && (n = recv(fd_, buf, sizeof buf, 0)) > 0;)
            on_soa_reply(buf, size_t(n));
    } else {
        if (stage_ == Stage::connect || sent_ < out_.size()) send_request();
        if (stage_ == Stage::transfer && sent_ == out_.size()) read_stream();
    }
    if (stage_ != Stage::done && Clock::now() >= deadline_)
        finish(std::string(stage_ == Stage::soa ? "SOA query to " : "transfer from ") + who() +
               ": timed out" +
               (reader_ && reader_->records()
                    ? " after " + std::to_string(reader_->records()) + " records"
                    : ""));
}

void XfrClient::read_stream() {
    uint8_t buf[256 * 1024];
    while (stage_ == Stage::transfer) {
        const ssize_t n = recv(fd_, buf, sizeof buf, 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
        if (n <= 0)
            return finish("transfer from " + who() + ": the connection " +
                          (n == 0 ? "closed" : std::string("failed: ") + std::strerror(errno)) +
                          " before the transfer's end" + " (" + std::to_string(reader_->records()) +
                          " records received)");
        deadline_ = Clock::now() + timeout_;
        bytes_ += size_t(n);
        if (bytes_ > max_transfer_bytes)
            return finish("transfer from " + who() + ": more than " +
                          std::to_string(max_transfer_bytes >> 20) + " MiB, refused");
        in_.insert(in_.end(), buf, buf + n);
        size_t at = 0;
        while (stage_ == Stage::transfer && at + 2 <= in_.size()) {
            const size_t len = size_t(in_[at]) << 8 | in_[at + 1];
            if (at + 2 + len > in_.size()) break;
            if (!on_message(in_.data() + at + 2, len)) return;
            at += 2 + len;
        }
        in_.erase(in_.begin(), in_.begin() + ptrdiff_t(at));
    }
}

bool XfrClient::on_message(uint8_t* msg, size_t len) {
    const char* kind = ixfr_now_ ? "IXFR" : "AXFR";
    size_t body = len;
    if (verifier_) {
        const TsigReplyCheck c = verifier_->verify(msg, len, now_s());
        if (c.status != TsigStatus::ok && c.status != TsigStatus::unsigned_pending) {
            finish(std::string(kind) + " from " + who() + ": TSIG " +
                   std::string(tsig_status_name(c.status)) +
                   (c.status == TsigStatus::peer_error
                        ? " (error " + std::to_string(c.peer_error) + ")"
                        : ""));
            return false;
        }
        if (c.tsig_offset) body = strip_tsig(msg, c.tsig_offset);
    }
    if (std::string err = reader_->add(msg, body); !err.empty()) {
        const uint8_t rc = reader_->rcode();
        if (ixfr_now_ && reader_->records() == 0 &&
            (rc == rcode::NOTIMP || rc == rcode::REFUSED || rc == rcode::FORMERR)) {
            start_transfer(false);  // RFC 1995 §4 allows no IXFR: AXFR instead
            return false;
        }
        finish(std::string(kind) + " from " + who() + ": " + err);
        return false;
    }
    if (!reader_->done()) return true;
    if (verifier_ && !verifier_->at_signed_boundary()) {
        finish(std::string(kind) + " from " + who() + ": the last message is not signed");
        return false;
    }
    std::string err = reader_->take(result_);
    finish(err.empty() ? "" : std::string(kind) + " from " + who() + ": " + err);
    return false;
}

}  // namespace anamed
