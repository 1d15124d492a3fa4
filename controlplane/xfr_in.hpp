// Transfers in (anamed as a secondary): the records of AXFR (RFC 5936) and IXFR (RFC 1995)
// replies read message by message, names decompressed, and the stream's shape checked: an
// IXFR reply is the new SOA alone (up to date), a whole zone between two copies of the new
// SOA, or differences chained serial to serial. No sockets here: xfr_client.cpp feeds it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "zone.hpp"
#include "zone_history.hpp"

namespace anamed {

struct TransferResult {
    enum class Kind { up_to_date, full, incremental } kind = Kind::up_to_date;
    uint32_t serial = 0;            // the primary's
    std::unique_ptr<Zone> zone;     // full: built and checked as a zone file is
    std::vector<ZoneDelta> deltas;  // incremental: in order, each from the previous one's serial
};

// A zone built record by record from a transfer, under the rules of a zone file: records
// outside the zone, apex-only types below the apex, CNAME beside data, meta types refused.
class ZoneBuilder {
public:
    explicit ZoneBuilder(const std::string& apex);
    std::string add(const Record& r);  // "" or what is wrong
    // The zone, or null with `error` set when its apex lacks SOA or NS.
    std::unique_ptr<Zone> finish(std::string& error);

private:
    std::unique_ptr<Zone> zone_;
    std::string last_owner_;
    ZoneNode* last_node_ = nullptr;
};

// The records of one DNS message's answer section, names uncompressed (owners lower-cased
// only as sent). `rcode` receives the header's RCODE. Returns "" or what is malformed.
std::string read_answer_records(const uint8_t* msg, size_t len, uint16_t expected_id,
                                std::vector<Record>& out, uint8_t& rcode);

class TransferReader {
public:
    // apex: the zone's lower-case wire name; our_serial: for IXFR, the serial asked from.
    TransferReader(std::string apex, bool ixfr, uint32_t our_serial, uint16_t id)
        : apex_(std::move(apex)), ixfr_(ixfr), our_serial_(our_serial), id_(id) {}

    // The next message (its TSIG stripped). Returns "" or what is wrong; rcode() then holds
    // the message's RCODE when it was an error reply.
    std::string add(const uint8_t* msg, size_t len);
    bool done() const { return done_; }
    uint8_t rcode() const { return rcode_; }
    size_t records() const { return count_; }
    // After done(): the result (a full zone checked as a whole). Returns "" or what is wrong.
    std::string take(TransferResult& out);

private:
    std::string add_record(Record r);
    std::string add_full(const Record& r);
    std::string add_incremental(Record r);

    std::string apex_;
    bool ixfr_;
    uint32_t our_serial_;
    uint16_t id_;
    uint8_t rcode_ = 0;
    bool done_ = false;
    size_t count_ = 0;
    // Incremental: whether the current difference is in its deletions (else additions).
    bool deleting_ = false;
    Record first_soa_;
    std::unique_ptr<ZoneBuilder> builder_;  // full transfers
    TransferResult result_;
};

}  // namespace anamed
