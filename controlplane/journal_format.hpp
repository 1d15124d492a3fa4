// The journal's on-disk layout, shared by the live journal and its checker. One LMDB file
// with two named databases:
//   entries: key = sequence number (8 bytes, big-endian: sorts in order),
//            value = CRC-32 (4 bytes) | zone apex | NUL | batch JSON
//            The batch is a JSON array of record changes, or a JSON object: a zone record,
//            the zone added or removed at runtime (anamectl zone add/remove, zone_record).
//   flushed: key = zone apex, value = CRC-32 | file serial (4) | last flushed sequence (8)
// Each CRC-32 covers the key and the rest of the value, so a flipped bit, a torn value or
// an entry moved to another key is caught when the journal is opened.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "anamed/wire.hpp"

namespace anamed::journal_format {

inline constexpr const char* entries_db = "entries";
inline constexpr const char* flushed_db = "flushed";

inline uint32_t checksum(std::string_view key, std::string_view rest) {
    uLong c = crc32(0L, Z_NULL, 0);
    c = crc32(c, reinterpret_cast<const Bytef*>(key.data()), uInt(key.size()));
    c = crc32(c, reinterpret_cast<const Bytef*>(rest.data()), uInt(rest.size()));
    return uint32_t(c);
}

inline std::string seq_key(uint64_t seq) {
    std::string k(8, '\0');
    auto* p = reinterpret_cast<uint8_t*>(k.data());
    store32(p, uint32_t(seq >> 32));
    store32(p + 4, uint32_t(seq));
    return k;
}

inline uint64_t key_seq(std::string_view k) {
    const auto* p = reinterpret_cast<const uint8_t*>(k.data());
    return uint64_t(load32(p)) << 32 | load32(p + 4);
}

// A value with its checksum in front.
inline std::string sealed(std::string_view key, const std::string& rest) {
    std::string v(4, '\0');
    store32(reinterpret_cast<uint8_t*>(v.data()), checksum(key, rest));
    return v + rest;
}

// The value after its checksum, or nothing when the checksum does not match.
inline std::optional<std::string_view> unsealed(std::string_view key, std::string_view value) {
    if (value.size() < 4) return std::nullopt;
    const std::string_view rest = value.substr(4);
    if (load32(reinterpret_cast<const uint8_t*>(value.data())) != checksum(key, rest))
        return std::nullopt;
    return rest;
}

struct Entry {
    uint64_t seq = 0;
    std::string zone, batch;
};

inline std::string entry_value(const std::string& zone, const std::string& batch) {
    return zone + '\0' + batch;
}

// An entry's payload (after the checksum): false when it is not zone NUL batch.
inline bool parse_entry(std::string_view rest, Entry& e) {
    const size_t nul = rest.find('\0');
    if (nul == std::string_view::npos || nul == 0) return false;
    e.zone = std::string(rest.substr(0, nul));
    e.batch = std::string(rest.substr(nul + 1));
    return true;
}

// A zone record's batch starts with '{' (an object); a change batch with '[' (an array).
inline bool is_zone_record(std::string_view batch) {
    return !batch.empty() && batch.front() == '{';
}

// What zone flush recorded: the zone file holds every entry up to `through`, and has
// serial `serial` (see Journal::mark_flushed).
struct FlushMark {
    uint32_t serial = 0;
    uint64_t through = 0;
};

inline std::string flush_value(const FlushMark& m) {
    std::string v(12, '\0');
    auto* p = reinterpret_cast<uint8_t*>(v.data());
    store32(p, m.serial);
    store32(p + 4, uint32_t(m.through >> 32));
    store32(p + 8, uint32_t(m.through));
    return v;
}

inline bool parse_flush(std::string_view rest, FlushMark& m) {
    if (rest.size() != 12) return false;
    const auto* p = reinterpret_cast<const uint8_t*>(rest.data());
    m.serial = load32(p);
    m.through = uint64_t(load32(p + 4)) << 32 | load32(p + 8);
    return true;
}

}  // namespace anamed::journal_format
