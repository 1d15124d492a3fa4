#include "upstream.hpp"

#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "anamed/wire.hpp"
#include "ldns.hpp"
#include "zone.hpp"

namespace anamed {
namespace {

constexpr int max_chain = 8;  // CNAME/DNAME links followed; a ninth fails

// RFC 2181 §8: a TTL with the top bit set is read as zero.
uint32_t rr_ttl(const ldns_rr* rr) {
    const uint32_t t = ldns_rr_ttl(rr);
    return t > 0x7FFFFFFFu ? 0 : t;
}

void random_bytes(void* p, size_t n) {
    if (getrandom(p, n, 0) != ssize_t(n)) throw std::runtime_error("getrandom failed");
}

bool same_name(const ldns_rdf* a, const std::string& lower_wire) {
    return ldns_rdf_size(a) == lower_wire.size() &&
           lower_key(std::string_view(reinterpret_cast<const char*>(ldns_rdf_data(a)),
                                      ldns_rdf_size(a))) == lower_wire;
}

std::string rdf_wire(const ldns_rdf* r) {
    return {reinterpret_cast<const char*>(ldns_rdf_data(r)), ldns_rdf_size(r)};
}

// The SOA MINIMUM of the authority section, bounded by the SOA's TTL (RFC 2308).
uint32_t negative_ttl(ldns_pkt* pkt, uint32_t fallback) {
    ldns_rr_list* auth = ldns_pkt_authority(pkt);
    for (size_t i = 0; i < ldns_rr_list_rr_count(auth); ++i) {
        ldns_rr* rr = ldns_rr_list_rr(auth, i);
        if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA && ldns_rr_rd_count(rr) == 7)
            return std::min(rr_ttl(rr), ldns_rdf2native_int32(ldns_rr_rdf(rr, 6)) & 0x7FFFFFFFu);
    }
    return fallback;
}

}  // namespace

LookupResult follow_chain(const uint8_t* reply, size_t len, const std::string& qname_wire,
                          uint16_t qtype) {
    LookupResult r;
    ldns_pkt* pkt = nullptr;
    if (ldns_wire2pkt(&pkt, reply, len) != LDNS_STATUS_OK) {
        r.error = "unparseable reply";
        return r;
    }
    const ldns_pkt_rcode rc = ldns_pkt_get_rcode(pkt);
    if (rc != LDNS_RCODE_NOERROR && rc != LDNS_RCODE_NXDOMAIN) {
        r.error = std::string("upstream answered ") + (rc == LDNS_RCODE_SERVFAIL ? "SERVFAIL"
                                                       : rc == LDNS_RCODE_REFUSED
                                                           ? "REFUSED"
                                                           : "rcode " + std::to_string(rc));
        ldns_pkt_free(pkt);
        return r;
    }
    ldns_rr_list* ans = ldns_pkt_answer(pkt);
    std::string cur = lower_key(qname_wire);
    std::vector<std::string> seen{cur};
    uint32_t ttl = UINT32_MAX;
    for (int hop = 0;; ++hop) {
        bool moved = false;
        for (size_t i = 0; i < ldns_rr_list_rr_count(ans); ++i) {
            ldns_rr* rr = ldns_rr_list_rr(ans, i);
            if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN) continue;
            const uint16_t t = ldns_rr_get_type(rr);
            if (t == qtype && same_name(ldns_rr_owner(rr), cur) && ldns_rr_rd_count(rr) == 1) {
                r.rdata.push_back(rdf_wire(ldns_rr_rdf(rr, 0)));
                ttl = std::min(ttl, rr_ttl(rr));
            }
        }
        if (!r.rdata.empty()) break;
        for (size_t i = 0; i < ldns_rr_list_rr_count(ans) && !moved; ++i) {
            ldns_rr* rr = ldns_rr_list_rr(ans, i);
            const uint16_t t = ldns_rr_get_type(rr);
            const std::string owner = lower_key(rdf_wire(ldns_rr_owner(rr)));
            if (t == rrtype::CNAME && owner == cur && ldns_rr_rd_count(rr) == 1) {
                cur = lower_key(rdf_wire(ldns_rr_rdf(rr, 0)));
            } else if (t == rrtype::DNAME && owner != cur && is_subdomain(cur, owner) &&
                       ldns_rr_rd_count(rr) == 1) {
                const std::string target = rdf_wire(ldns_rr_rdf(rr, 0));
                const std::string next =
                    cur.substr(0, cur.size() - owner.size()) + lower_key(target);
                if (next.size() > max_name_len) break;
                cur = next;
            } else {
                continue;
            }
            ttl = std::min(ttl, rr_ttl(rr));
            moved = true;
        }
        if (!moved) break;
        if (std::find(seen.begin(), seen.end(), cur) != seen.end()) {
            r.error = "CNAME/DNAME loop at " + name_to_text(cur);
            ldns_pkt_free(pkt);
            return r;
        }
        seen.push_back(cur);
        if (hop + 1 > max_chain) {
            r.error = "CNAME/DNAME chain longer than " + std::to_string(max_chain);
            ldns_pkt_free(pkt);
            return r;
        }
    }
    r.ok = true;
    if (r.rdata.empty()) {
        r.nxdomain = rc == LDNS_RCODE_NXDOMAIN;
        ttl = std::min(ttl, negative_ttl(pkt, 300));
    }
    r.ttl = ttl;
    std::sort(r.rdata.begin(), r.rdata.end());
    r.rdata.erase(std::unique(r.rdata.begin(), r.rdata.end()), r.rdata.end());
    ldns_pkt_free(pkt);
    return r;
}

UpstreamQuery::UpstreamQuery(const std::string& qname_wire, uint16_t qtype,
                             const ListenAddr& upstream, std::chrono::milliseconds timeout,
                             bool require_ad)
    : qname_(qname_wire),
      qtype_(qtype),
      upstream_(upstream),
      timeout_(timeout),
      require_ad_(require_ad) {
    // 0x20: flip the case of every letter at random; the reply must carry it back exactly.
    std::vector<uint8_t> bits(qname_.size());
    random_bytes(bits.data(), bits.size());
    for (size_t pos = 0; pos < qname_.size() && qname_[pos] != 0; pos += 1 + uint8_t(qname_[pos]))
        for (size_t i = pos + 1; i <= pos + uint8_t(qname_[pos]); ++i) {
            const char c = char(ascii_lower(uint8_t(qname_[i])));
            qname_[i] = (c >= 'a' && c <= 'z' && (bits[i] & 1)) ? char(c - 32) : c;
        }
    random_bytes(&id_, sizeof id_);
    query_.resize(header_size);
    store16(&query_[0], id_);
    store16(&query_[2], uint16_t(flag_rd | (require_ad_ ? flag_ad : 0)));
    store16(&query_[4], 1);
    query_.insert(query_.end(), qname_.begin(), qname_.end());
    uint8_t tail[4 + opt_rr_size] = {};
    store16(tail, qtype_);
    store16(tail + 2, class_in);
    tail[4 + 2] = rrtype::OPT;
    store16(tail + 4 + 3, edns_default_payload);
    if (require_ad_) tail[4 + 7] = 0x80;  // the OPT TTL's flags: DO (RFC 3225)
    query_.insert(query_.end(), tail, tail + sizeof tail);
    store16(&query_[10], 1);  // ARCOUNT: the OPT record

    deadline_ = Clock::now() + timeout_;
    fd_ = socket(upstream_.addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    // connect(): the kernel picks a random ephemeral port and drops datagrams from others.
    if (fd_ < 0 ||
        connect(fd_, reinterpret_cast<const sockaddr*>(&upstream_.addr), upstream_.len) != 0 ||
        send(fd_, query_.data(), query_.size(), 0) != ssize_t(query_.size())) {
        finish(
            LookupResult{false,
                         false,
                         {},
                         0,
                         std::string("cannot send to ") + upstream_.text + ": " + strerror(errno)});
    }
}

UpstreamQuery::~UpstreamQuery() {
    if (fd_ >= 0) close(fd_);
}

void UpstreamQuery::finish(LookupResult r) {
    done_ = true;
    result_ = std::move(r);
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
}

bool UpstreamQuery::acceptable(const uint8_t* p, size_t n) const {
    if (n < header_size + qname_.size() + 4) return false;
    const uint16_t flags = load16(p + 2);
    if (load16(p) != id_ || !(flags & flag_qr) || ((flags >> 11) & 0xF) != 0 || load16(p + 4) != 1)
        return false;
    // The question, byte for byte: the 0x20 case pattern is the second secret after the ID.
    return std::memcmp(p + header_size, query_.data() + header_size, qname_.size() + 4) == 0;
}

short UpstreamQuery::events() const {
    return step_ == Step::tcp_connect || step_ == Step::tcp_send ? POLLOUT : POLLIN;
}

void UpstreamQuery::fail(const std::string& what) {
    finish(LookupResult{false, false, {}, 0, what});
}

void UpstreamQuery::on_readable() {
    if (done_) return;
    if (step_ == Step::udp) return udp_receive();
    tcp_progress();
}

void UpstreamQuery::udp_receive() {
    uint8_t buf[65535];
    while (!done_) {
        sockaddr_storage from{};
        socklen_t from_len = sizeof from;
        const ssize_t n =
            recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &from_len);
        if (n < 0) return;  // EAGAIN (or an ICMP error: wait for the deadline)
        if (from_len != upstream_.len || std::memcmp(&from, &upstream_.addr, from_len) != 0 ||
            !acceptable(buf, size_t(n))) {
            ++rejected_;
            continue;
        }
        if (load16(buf + 2) & flag_tc) return retry_over_tcp();
        return finish_reply(buf, size_t(n));
    }
}

void UpstreamQuery::on_deadline() {
    if (done_) return;
    fail(step_ == Step::udp ? "timeout from " + upstream_.text
                            : "TCP retry to " + upstream_.text + " timed out");
}

// A truncated reply: the same query over TCP, within what is left of the deadline.
void UpstreamQuery::retry_over_tcp() {
    close(fd_);
    fd_ = socket(upstream_.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return fail("TCP retry to " + upstream_.text + ": " + strerror(errno));
    tcp_out_ = {uint8_t(query_.size() >> 8), uint8_t(query_.size())};
    tcp_out_.insert(tcp_out_.end(), query_.begin(), query_.end());
    step_ = Step::tcp_connect;
    if (connect(fd_, reinterpret_cast<const sockaddr*>(&upstream_.addr), upstream_.len) != 0 &&
        errno != EINPROGRESS)
        return fail("TCP retry to " + upstream_.text + " failed: " + strerror(errno));
    tcp_progress();
}

// One non-blocking pass over the TCP steps: each goes as far as the socket allows now.
void UpstreamQuery::tcp_progress() {
    if (step_ == Step::tcp_connect) {
        pollfd p{fd_, POLLOUT, 0};
        if (poll(&p, 1, 0) != 1) return;  // still connecting
        int soerr = 0;
        socklen_t len = sizeof soerr;
        if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr != 0)
            return fail("TCP retry to " + upstream_.text + " failed: " + strerror(soerr));
        step_ = Step::tcp_send;
    }
    if (step_ == Step::tcp_send) {
        const ssize_t n = send(fd_, tcp_out_.data() + tcp_sent_, tcp_out_.size() - tcp_sent_,
                               MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (n <= 0) return fail("TCP retry to " + upstream_.text + " failed: " + strerror(errno));
        if ((tcp_sent_ += size_t(n)) < tcp_out_.size()) return;
        step_ = Step::tcp_receive;
    }
    uint8_t buf[4096];
    while (tcp_in_.size() < 2 || tcp_in_.size() < 2 + (size_t(tcp_in_[0]) << 8 | tcp_in_[1])) {
        const ssize_t n = recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (n <= 0) return fail("TCP retry to " + upstream_.text + " closed");
        tcp_in_.insert(tcp_in_.end(), buf, buf + n);
    }
    const size_t len = size_t(tcp_in_[0]) << 8 | tcp_in_[1];
    if (!acceptable(tcp_in_.data() + 2, len)) {
        ++rejected_;
        return fail("TCP reply from " + upstream_.text + " did not match the query");
    }
    finish_reply(tcp_in_.data() + 2, len);
}

void UpstreamQuery::finish_reply(const uint8_t* p, size_t n) {
    if (require_ad_ && !(load16(p + 2) & flag_ad))
        return fail("reply from " + upstream_.text +
                    " without AD (not DNSSEC-validated; alias: require-ad is set)");
    finish(follow_chain(p, n, qname_, qtype_));
}

}  // namespace anamed
