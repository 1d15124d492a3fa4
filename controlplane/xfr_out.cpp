#include "xfr_out.hpp"

#include <algorithm>

#include "anamed/wire.hpp"
#include "message_builder.hpp"

namespace anamed {
namespace {

constexpr size_t tcp_limit = 65535;
// Transfer messages over TCP are filled to about 16 KiB: a compression pointer reaches only
// the first 16 KiB of a message (14 bits), so the names in the rest of a 64 KiB message would
// go out whole, and a client reads more bytes for the same records. A larger record goes in
// a message of its own, up to tcp_limit.
constexpr size_t tcp_fill = 16384;

// Fills messages record by record: a record that does not fit closes the message and opens
// the next. The question goes in the first message only (RFC 5936 §2.2).
class Stream {
public:
    // Messages of at most `limit` bytes, filled to about `fill`; emit: each message as it is
    // closed (false: stop); null: kept for finish().
    Stream(const TransferRequest& r, size_t limit, size_t fill, const MessageSink* emit = nullptr)
        : r_(r), b_(limit - r.room), fill_(std::min(fill, limit) - r.room), emit_(emit) {
        open(true);
    }
    Stream(const TransferRequest& r, size_t limit, const MessageSink* emit = nullptr)
        : Stream(r, limit, limit == tcp_limit ? tcp_fill : limit, emit) {}

    bool put(const Record& rec) { return put(rec.owner, rec.type, rec.ttl, rec.rdata); }
    bool put(std::string_view owner, uint16_t type, uint32_t ttl, std::string_view rdata) {
        // At most what the record takes uncompressed: past `fill`, it opens the next message.
        if (b_.records() > 0 && b_.size() + owner.size() + 10 + rdata.size() > fill_ && !next())
            return false;
        if (b_.add(owner, type, class_in, ttl, rdata)) return true;
        if (b_.records() == 0) return false;  // a record larger than a message: never (zone checks)
        return next() && b_.add(owner, type, class_in, ttl, rdata);
    }
    size_t messages() const { return closed_ + 1; }
    std::vector<std::string> finish() {
        close();
        return std::move(out_);
    }
    bool finish_emitting() { return close(); }

private:
    bool next() {
        if (!close()) return false;
        open(false);
        return true;
    }
    void open(bool first) {
        const uint16_t flags = uint16_t(flag_qr | flag_aa | (r_.flags & (flag_rd | flag_cd)));
        if (first)
            b_.begin(r_.id, flags, r_.qname, r_.qtype);
        else
            b_.begin(r_.id, flags);
    }
    bool close() {
        ++closed_;
        if (emit_) return (*emit_)(b_.finish(r_.room));
        out_.push_back(b_.finish(r_.room));
        return true;
    }

    const TransferRequest& r_;
    MessageBuilder b_;
    size_t fill_;
    const MessageSink* emit_;
    std::vector<std::string> out_;
    size_t closed_ = 0;
};

// One name's records but the SOA, ALIAS RRsets expanded when asked.
bool put_node(std::string_view owner, ZoneNode::Range rrsets, const AliasExpander& expand,
              std::vector<Record>& expanded, Stream& s) {
    for (const RRset rs : rrsets) {
        if (rs.type == rrtype::SOA) continue;
        if (rs.type == rrtype::ALIAS && expand) {
            expanded.clear();
            expand(owner, rs, expanded);
            for (const Record& r : expanded)
                if (!s.put(r)) return false;
            continue;
        }
        for (std::string_view rd : rs.rdata)
            if (!s.put(owner, rs.type, rs.ttl, rd)) return false;
    }
    return true;
}

// Every record but the SOA, in the zone's order.
bool put_zone(const Zone& z, const AliasExpander& expand, Stream& s) {
    std::vector<Record> expanded;
    for (const auto& [key, node] : z.nodes)
        if (!put_node(node.owner_view(key), node.rrsets(), expand, expanded, s)) return false;
    return true;
}

// The image's names as they are copied into it.
bool put_zone(const ZoneImage& z, Stream& s) {
    std::vector<Record> expanded;
    for (size_t i = 0, copied = 0; i < z.names.size(); ++i) {
        if (i == copied && (copied = z.wait_copied(i + 1)) == 0) return false;
        const ZoneImage::Name& n = z.names[i];
        if (!put_node(z.owner(n), z.rrsets(n), {}, expanded, s)) return false;
    }
    return true;
}

bool expansions_known(const std::vector<const ZoneDelta*>& deltas) {
    return std::all_of(deltas.begin(), deltas.end(),
                       [](const ZoneDelta* d) { return d->expansion_known; });
}

// One side of a difference: its records, and for an expanding remote the addresses that stand
// in for its ALIAS records.
bool put_records(const std::vector<Record>& records, const std::vector<Record>& expanded,
                 bool expand, Stream& s) {
    for (const Record& rec : records)
        if (!(expand && rec.type == rrtype::ALIAS) && !s.put(rec)) return false;
    if (expand)
        for (const Record& rec : expanded)
            if (!s.put(rec)) return false;
    return true;
}

std::vector<std::string> single_soa(const Zone& z, const TransferRequest& r) {
    Stream s(r, r.udp ? udp_min_payload : tcp_limit);
    s.put(soa_record(z));
    return s.finish();
}

}  // namespace

std::vector<std::string> axfr_messages(const Zone& z, const TransferRequest& r,
                                       const AliasExpander& expand) {
    Stream s(r, tcp_limit);
    const Record soa = soa_record(z);
    if (!s.put(soa) || !put_zone(z, expand, s) || !s.put(soa)) return {};
    return s.finish();
}

bool axfr_stream(const ZoneImage& z, const TransferRequest& r, const MessageSink& emit) {
    Stream s(r, tcp_limit, &emit);
    return s.put(z.soa) && put_zone(z, s) && s.put(z.soa) && s.finish_emitting();
}

std::vector<std::string> ixfr_messages(const Zone& z, const ZoneHistory& history,
                                       const TransferRequest& r, const AliasExpander& expand) {
    const Record soa = soa_record(z);
    if (serial_of_soa(soa) == r.client_serial || serial_gt(r.client_serial, serial_of_soa(soa)))
        return single_soa(z, r);
    std::vector<const ZoneDelta*> deltas;
    if (!history.since(r.client_serial, deltas) || (expand && !expansions_known(deltas))) {
        if (r.udp) return single_soa(z, r);
        return axfr_messages(z, r, expand);
    }
    const bool expanding = bool(expand);
    Stream s(r, r.udp ? udp_min_payload : tcp_limit);
    bool ok = s.put(soa);
    for (const ZoneDelta* d : deltas) {
        ok = ok && s.put(d->old_soa) && put_records(d->removed, d->expanded_removed, expanding, s);
        ok = ok && s.put(d->new_soa) && put_records(d->added, d->expanded_added, expanding, s);
    }
    ok = ok && s.put(soa);
    if (!ok || (r.udp && s.messages() > 1)) return single_soa(z, r);
    return s.finish();
}

}  // namespace anamed
