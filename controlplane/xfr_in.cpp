#include "xfr_in.hpp"

#include "anamed/rr_types.hpp"
#include "anamed/wire.hpp"
#include "wire_change.hpp"
#include "zone_edit.hpp"

namespace anamed {
namespace {

constexpr size_t rr_fixed = 10;  // type, class, TTL, RDLENGTH

// The RDATA at msg[at, at + rdlen) with its names uncompressed, following the type's layout
// (RFC 3597 §4: RFC 1035's types may be compressed; a few later ones were in the wild); the
// zone's checks read the other types' RDATA as it came.
bool read_rdata(const uint8_t* msg, size_t at, size_t rdlen, uint16_t type, std::string& out) {
    const RRType* t = rr_type(type);
    if (t != nullptr && t->rdata.simple())
        return read_rdata_fields(*t, msg, at, at + rdlen, out).empty();
    out.append(reinterpret_cast<const char*>(msg + at), rdlen);
    return true;
}

std::string name_of(const Record& r) {
    return name_to_text(r.owner);
}

}  // namespace

std::string read_answer_records(const uint8_t* msg, size_t len, uint16_t expected_id,
                                std::vector<Record>& out, uint8_t& rc) {
    if (len < header_size) return "a message shorter than a DNS header";
    if (load16(msg) != expected_id) return "a message with another ID than the request's";
    if (!(msg[2] & 0x80)) return "a message that is not a reply";
    rc = msg[3] & 0xF;
    if (rc != rcode::NOERROR) return "the primary answered with RCODE " + std::to_string(rc);
    const unsigned qd = load16(msg + 4), an = load16(msg + 6);
    if (qd > 1) return "a reply with " + std::to_string(qd) + " questions";
    size_t pos = header_size;
    if (qd == 1) {
        pos = skip_name(msg, len, pos);
        if (pos == 0 || pos + 4 > len) return "a truncated question section";
        pos += 4;
    }
    for (unsigned i = 0; i < an; ++i) {
        Record r;
        pos = read_message_name(msg, len, pos, r.owner);
        if (pos == 0 || pos + rr_fixed > len) return "a truncated or malformed record";
        r.type = load16(msg + pos);
        const uint16_t klass = load16(msg + pos + 2);
        r.ttl = load32(msg + pos + 4) & 0x7FFFFFFF;
        const size_t rdlen = load16(msg + pos + 8);
        pos += rr_fixed;
        if (pos + rdlen > len) return "a record whose RDATA runs past the message";
        if (klass != class_in)
            return "a record of class " + std::to_string(klass) + " (only IN is served)";
        if (!read_rdata(msg, pos, rdlen, r.type, r.rdata))
            return "a malformed RDATA in " + name_to_text(r.owner) + " type " +
                   std::to_string(r.type);
        pos += rdlen;
        out.push_back(std::move(r));
    }
    return "";
}

ZoneBuilder::ZoneBuilder(const std::string& apex) : zone_(std::make_unique<Zone>()) {
    zone_->apex = apex;
    zone_->apex_text = name_to_text(apex);
}

std::string ZoneBuilder::add(const Record& r) {
    if (r.owner != last_owner_) {
        const std::string key = lower_key(r.owner);
        if (!is_subdomain(key, zone_->apex)) return "a record outside the zone: " + name_of(r);
        last_owner_ = r.owner;
        last_node_ = &zone_->nodes[key];
    }
    const RRType* t = rr_type(r.type);
    if (t && t->has(rr_flag::apex_only) && lower_key(r.owner) != zone_->apex)
        return std::string(t->mnemonic) + " below the apex at " + name_of(r);
    ParsedRecord p{r.owner, r.type, class_in, r.ttl, r.rdata};
    std::string warning;
    if (std::string err = anamed::add_record(*last_node_, p, &warning); !err.empty()) {
        last_owner_.clear();  // the node may be left empty: looked up again
        return err;
    }
    return "";
}

std::unique_ptr<Zone> ZoneBuilder::finish(std::string& error) {
    for (const std::string& p : apex_problems(zone_->find(zone_->apex)))
        return error = "the transferred zone has no " + p + " at its apex", nullptr;
    return std::move(zone_);
}

std::string TransferReader::add(const uint8_t* msg, size_t len) {
    if (done_) return "data after the transfer's final SOA";
    std::vector<Record> recs;
    if (std::string err = read_answer_records(msg, len, id_, recs, rcode_); !err.empty())
        return err;
    if (count_ == 0 && recs.empty()) return "the first message of the transfer holds no record";
    for (Record& r : recs)
        if (std::string err = add_record(std::move(r)); !err.empty()) return err;
    return "";
}

std::string TransferReader::add_record(Record r) {
    if (done_) return "records after the transfer's final SOA";
    if (!is_subdomain(lower_key(r.owner), apex_)) return "a record outside the zone: " + name_of(r);
    ++count_;
    const bool soa = r.type == rrtype::SOA;
    if (count_ == 1) {
        if (!soa || lower_key(r.owner) != apex_) return "the transfer does not start with the SOA";
        result_.serial = serial_of_soa(r);
        first_soa_ = std::move(r);
        if (ixfr_ && !serial_gt(result_.serial, our_serial_)) {
            done_ = true;  // RFC 1995 §4: the new SOA alone, we have it
            result_.kind = TransferResult::Kind::up_to_date;
        }
        return "";
    }
    if (result_.kind == TransferResult::Kind::incremental) return add_incremental(std::move(r));
    if (count_ == 2 && ixfr_ && soa) {
        // RFC 1995 §4: the first difference starts with the SOA the client has.
        if (serial_of_soa(r) != our_serial_)
            return "the first difference starts at serial " + std::to_string(serial_of_soa(r)) +
                   ", not at ours (" + std::to_string(our_serial_) + ")";
        result_.kind = TransferResult::Kind::incremental;
        ZoneDelta d;
        d.old_soa = std::move(r);
        result_.deltas.push_back(std::move(d));
        deleting_ = true;
        return "";
    }
    if (count_ == 2) {
        result_.kind = TransferResult::Kind::full;
        builder_ = std::make_unique<ZoneBuilder>(apex_);
        if (std::string err = builder_->add(first_soa_); !err.empty()) return err;
    }
    return add_full(r);
}

std::string TransferReader::add_full(const Record& r) {
    if (r.type == rrtype::SOA) {
        if (lower_key(r.owner) != apex_) return "an SOA below the apex: " + name_of(r);
        if (serial_of_soa(r) != result_.serial)
            return "the closing SOA's serial " + std::to_string(serial_of_soa(r)) +
                   " is not the opening one's (" + std::to_string(result_.serial) + ")";
        done_ = true;
        return "";
    }
    return builder_->add(r);
}

std::string TransferReader::take(TransferResult& out) {
    if (!done_) return "the transfer ended before its final SOA";
    if (builder_) {
        std::string err;
        result_.zone = builder_->finish(err);
        builder_.reset();
        if (!result_.zone) return err;
    }
    out = std::move(result_);
    return "";
}

// The differences: SOA(old) deletions SOA(new) additions, repeated; the transfer ends with the
// final SOA where a difference would start.
std::string TransferReader::add_incremental(Record r) {
    auto& deltas = result_.deltas;
    ZoneDelta& d = deltas.back();
    if (r.type != rrtype::SOA) {
        (deleting_ ? d.removed : d.added).push_back(std::move(r));
        return "";
    }
    if (lower_key(r.owner) != apex_) return "an SOA below the apex: " + name_of(r);
    const uint32_t s = serial_of_soa(r);
    if (deleting_) {  // the difference's new SOA
        if (!serial_gt(s, d.from()))
            return "a difference from serial " + std::to_string(d.from()) + " to " +
                   std::to_string(s) + " does not go forward";
        if (serial_gt(s, result_.serial))
            return "a difference to serial " + std::to_string(s) + " beyond the transfer's (" +
                   std::to_string(result_.serial) + ")";
        d.new_soa = std::move(r);
        deleting_ = false;
        return "";
    }
    if (s == result_.serial && d.to() == result_.serial) {
        done_ = true;  // the final SOA
        return "";
    }
    if (s != d.to())
        return "a difference starts at serial " + std::to_string(s) + " where the previous one " +
               "ended at " + std::to_string(d.to());
    ZoneDelta next;
    next.old_soa = std::move(r);
    deltas.push_back(std::move(next));
    deleting_ = true;
    return "";
}

}  // namespace anamed
