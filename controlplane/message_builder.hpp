// Writes DNS messages record by record, with name compression (RFC 1035 §4.1.4), up to a
// size limit: what the control plane sends (transfers, NOTIFY, UPDATE and refresh queries).
// The dataplane's answers are precompiled instead (anamed/snapshot.hpp).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace anamed {

class MessageBuilder {
public:
    enum Section : uint8_t { answer = 0, authority = 1, additional = 2 };

    // limit: the largest message (65535 over TCP); room is kept below it for a TSIG record.
    explicit MessageBuilder(size_t limit = 65535);

    // Starts a message: the header (counts zero) and, unless empty, one question (the name in
    // wire form, then type and class).
    void begin(uint16_t id, uint16_t flags, std::string_view qname = {}, uint16_t qtype = 0,
               uint16_t qclass = 1);
    // Appends a record to `section` (sections are filled in order). Names in the RDATA of
    // RFC 1035's types are compressed. False, with nothing written, when it does not fit.
    bool add(std::string_view owner, uint16_t type, uint16_t klass, uint32_t ttl,
             std::string_view rdata, Section section = answer);
    uint16_t records() const { return uint16_t(count_[0] + count_[1] + count_[2]); }
    size_t size() const { return len_; }
    // The message, with capacity for `spare` more bytes (a TSIG record the caller appends);
    // the builder is empty afterwards.
    std::string finish(size_t spare = 0);

private:
    void put_name(std::string_view name);
    bool put_rdata(uint16_t type, std::string_view rdata);
    void put(const void* p, size_t n);
    void put16(uint16_t v);
    void put32(uint32_t v);
    // The offset of an earlier copy of the name (exact bytes), or 0.
    uint16_t find(std::string_view name, uint64_t h) const;
    void remember(uint64_t h, size_t at);
    bool same_name_at(size_t at, std::string_view name) const;

    struct Slot {
        uint64_t hash;
        uint32_t gen;
        uint16_t off;
    };
    size_t limit_;
    // Room for a whole record past the limit: add() writes first and checks after.
    std::unique_ptr<uint8_t[]> buf_;
    size_t len_ = 0;
    uint16_t count_[3] = {0, 0, 0};
    Section section_ = answer;
    // The last record's owner and where it is written: the next record of the same owner
    // (most of a zone's records) points there without a lookup. at 0: none.
    uint8_t last_owner_[256];
    size_t last_owner_len_ = 0;
    uint16_t last_owner_at_ = 0;
    std::vector<Slot> table_;
    uint32_t gen_ = 1;
};

}  // namespace anamed
