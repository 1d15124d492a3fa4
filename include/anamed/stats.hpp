// The counter registry. Every counter is defined once in `counter_defs` (name, help, label);
// each frontend worker bumps its own CounterBlock (single writer, no locked instruction);
// read_counters() sums the blocks into a CounterSnapshot that each reader formats: anamectl
// stats (the control socket), DPDK telemetry, a metrics exporter (one loop over the defs).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "anamed/rr_types.hpp"
#include "anamed/zone_slots.hpp"

namespace anamed {

// Why a query or a frame got no answer; the order is the counters' order.
enum class Drop : uint8_t {
    not_ours,         // another MAC/IP, broadcast or multicast junk, unknown ethertype
    malformed,        // truncated or impossible headers
    bad_length,       // IP/UDP lengths disagree with the frame, or a query too long to answer
    vlan,             // a VLAN this port does not serve
    no_reply,         // respond() gave nothing (QR=1, runt DNS)
    exception_limit,  // the kernel path is over its rate
    no_exception,     // kernel traffic on a port without an exception port
    tx_full,          // the TX ring had no room
    handoff_full,     // the control plane's queue had no room for a handed-off message
    rate_limited,     // response rate limiting (rrl.hpp) dropped the response
    update_limit,     // an UPDATE over its own rate to the control plane (DPDK update-pps)
    count
};
inline constexpr std::array<const char*, size_t(Drop::count)> drop_names{
    "not_ours",     "malformed", "bad_length",   "vlan",         "no_reply",    "exception_limit",
    "no_exception", "tx_full",   "handoff_full", "rate_limited", "update_limit"};

// Query types counted one by one (the RR type table's stats_slot); the rest share "other".
consteval size_t count_qtype_buckets() {
    size_t n = 0;
    for (const RRType& t : rr_table::types) n += t.stats_slot != 0;
    return n;
}
consteval std::array<std::pair<uint16_t, const char*>, count_qtype_buckets()> make_qtype_buckets() {
    std::array<std::pair<uint16_t, const char*>, count_qtype_buckets()> out{};
    for (const RRType& t : rr_table::types)
        if (t.stats_slot != 0) out[t.stats_slot - 1] = {t.number, t.mnemonic.data()};
    return out;
}
inline constexpr auto qtype_buckets = make_qtype_buckets();
inline size_t qtype_bucket(uint16_t qtype) {
    const RRType* t = rr_type(qtype);
    return t != nullptr && t->stats_slot != 0 ? t->stats_slot - 1 : qtype_buckets.size();
}

// RCODEs 0-23 one by one (RFC 6895's registry), anything larger shares "other".
inline constexpr std::array<const char*, 25> rcode_names{
    "NOERROR", "FORMERR",  "SERVFAIL",  "NXDOMAIN", "NOTIMP",    "REFUSED", "YXDOMAIN",
    "YXRRSET", "NXRRSET",  "NOTAUTH",   "NOTZONE",  "DSOTYPENI", "RCODE12", "RCODE13",
    "RCODE14", "RCODE15",  "BADVERS",   "BADKEY",   "BADTIME",   "BADMODE", "BADNAME",
    "BADALG",  "BADTRUNC", "BADCOOKIE", "other"};
inline size_t rcode_bucket(unsigned rcode) {
    return rcode < rcode_names.size() - 1 ? rcode : rcode_names.size() - 1;
}

// The dimension a counter is split by (besides the block's own labels, CounterSource).
enum class Label : uint8_t { none, rcode, qtype, reason };

// A CounterBlock's slots: scalars, then one range per labelled counter.
namespace slot {
enum : uint16_t {
    queries,
    truncated,
    rx,
    tx,
    arp_replies,
    nd_advertisements,
    echo_replies,
    to_kernel,
    from_kernel,
    fragments_to_kernel,
    handed_off,
    rrl_slipped,
    cookies_valid,
    cookies_issued,
    tcp_refused,
    tcp_shed,
    tcp_slow_closed,
    answered,                                             // + rcode_bucket()
    answered_qtype = answered + rcode_names.size(),       // + qtype_bucket()
    dropped = answered_qtype + qtype_buckets.size() + 1,  // + Drop
    count = dropped + size_t(Drop::count)
};
}  // namespace slot

struct CounterDef {
    const char* name;  // exported as is (telemetry) or as anamed_NAME_total (metrics)
    const char* help;
    Label label;
    uint16_t first;  // slots [first, first + width)
    uint16_t width;
};

inline constexpr CounterDef counter_defs[] = {
    {"queries", "DNS queries handed to the answer path", Label::none, slot::queries, 1},
    {"answered", "responses sent, by RCODE", Label::rcode, slot::answered, rcode_names.size()},
    {"answered_qtype", "responses sent, by query type", Label::qtype, slot::answered_qtype,
     qtype_buckets.size() + 1},
    {"truncated", "responses sent with TC=1", Label::none, slot::truncated, 1},
    {"dropped", "queries and frames not answered, by reason", Label::reason, slot::dropped,
     size_t(Drop::count)},
    {"rx", "frames received on DPDK ports", Label::none, slot::rx, 1},
    {"tx", "frames sent on DPDK ports", Label::none, slot::tx, 1},
    {"arp_replies", "ARP requests answered by the DPDK dataplane", Label::none, slot::arp_replies,
     1},
    {"nd_advertisements", "neighbour solicitations answered by the DPDK dataplane", Label::none,
     slot::nd_advertisements, 1},
    {"echo_replies", "ICMP and ICMPv6 echo requests answered by the DPDK dataplane", Label::none,
     slot::echo_replies, 1},
    {"to_kernel", "frames passed to the kernel through an exception port", Label::none,
     slot::to_kernel, 1},
    {"from_kernel", "frames the kernel sent out through a DPDK port", Label::none,
     slot::from_kernel, 1},
    {"fragments_to_kernel", "IP fragments passed to the kernel to reassemble", Label::none,
     slot::fragments_to_kernel, 1},
    {"handed_off", "messages passed to the control plane (NOTIFY, UPDATE, transfers, TSIG)",
     Label::none, slot::handed_off, 1},
    {"rrl_slipped", "rate-limited responses sent empty with TC=1 (or BADCOOKIE) instead",
     Label::none, slot::rrl_slipped, 1},
    {"cookies_valid", "queries with a valid server cookie (exempt from rate limiting)", Label::none,
     slot::cookies_valid, 1},
    {"cookies_issued", "queries with a client cookie only (or a stale one): a server cookie sent",
     Label::none, slot::cookies_issued, 1},
    {"tcp_refused", "TCP connections refused: over the per-source limit", Label::none,
     slot::tcp_refused, 1},
    {"tcp_shed", "TCP connections closed to make room for new ones (the longest idle first)",
     Label::none, slot::tcp_shed, 1},
    {"tcp_slow_closed",
     "TCP connections closed for a message not complete in time or a lifetime used up", Label::none,
     slot::tcp_slow_closed, 1},
};

inline constexpr const CounterDef& find_counter(std::string_view name) {
    for (const CounterDef& d : counter_defs)
        if (name == d.name) return d;
    throw std::invalid_argument("no such counter");
}

// Every slot belongs to exactly one counter.
consteval bool defs_cover_every_slot() {
    std::array<int, slot::count> owners{};
    for (const CounterDef& d : counter_defs)
        for (size_t i = d.first; i < size_t(d.first) + d.width; ++i) {
            if (i >= slot::count) return false;
            ++owners[i];
        }
    for (int n : owners)
        if (n != 1) return false;
    return true;
}
static_assert(defs_cover_every_slot(), "counter_defs must cover every CounterBlock slot once");

inline const char* label_name(Label l) {
    switch (l) {
    case Label::none: return "";
    case Label::rcode: return "rcode";
    case Label::qtype: return "qtype";
    case Label::reason: return "reason";
    }
    return "";
}
// The label value of slot `d.first + i`.
inline const char* label_value(Label l, size_t i) {
    switch (l) {
    case Label::none: return "";
    case Label::rcode: return rcode_names[i];
    case Label::qtype: return i < qtype_buckets.size() ? qtype_buckets[i].second : "other";
    case Label::reason: return drop_names[i];
    }
    return "";
}

// Per-zone counters: responses by zone and RCODE class. The control plane gives each served
// apex a small stable index (zone_slots.hpp, kept in the snapshot as ZoneTable::stats_slot);
// respond() reports it as ResponseInfo::zone_slot and each worker bumps its own block. Slot 0
// is "no counted zone" and is not counted: the table is bounded at max_zone_slots - 1 zones,
// and zones past the bound are not counted per zone (the totals count them as always).
inline constexpr size_t max_zone_slots = 1024;
inline constexpr std::array<const char*, 4> zone_rcode_names{"NOERROR", "NXDOMAIN", "SERVFAIL",
                                                             "other"};
inline size_t zone_rcode_bucket(unsigned rcode) {
    return rcode == 0 ? 0 : rcode == 3 ? 1 : rcode == 2 ? 2 : 3;
}
inline constexpr size_t zone_counter_count = max_zone_slots * zone_rcode_names.size();

// The counters of one worker (on one DPDK port, or one kernel socket set).
struct alignas(64) CounterBlock {
    std::array<std::atomic<uint64_t>, slot::count> v{};
    // [zone slot * zone_rcode_names.size() + zone_rcode_bucket()]: one zone's on one line.
    // Mutable: a slot handed to another zone is zeroed by the control plane (reset_zone) while
    // no published snapshot maps it.
    mutable std::array<std::atomic<uint64_t>, zone_counter_count> zone{};

    // Single writer: a relaxed load+store is enough and costs no locked instruction.
    void bump(size_t s, uint64_t n = 1) {
        std::atomic<uint64_t>& c = v[s];
        c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    // One response sent (every frontend counts its answers alike).
    void answer(unsigned rcode, uint16_t qtype, bool truncated, uint16_t zone_slot = 0) {
        bump(slot::answered + rcode_bucket(rcode));
        bump(slot::answered_qtype + qtype_bucket(qtype));
        if (truncated) bump(slot::truncated);
        if (zone_slot != 0 && zone_slot < max_zone_slots) {
            std::atomic<uint64_t>& c =
                zone[zone_slot * zone_rcode_names.size() + zone_rcode_bucket(rcode)];
            c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        }
    }
    void reset_zone(size_t zone_slot) const {
        for (size_t i = 0; i < zone_rcode_names.size(); ++i)
            zone[zone_slot * zone_rcode_names.size() + i].store(0, std::memory_order_relaxed);
    }
    void drop(Drop why, uint64_t n = 1) { bump(slot::dropped + size_t(why), n); }
};

// A block and the labels its values are reported with.
struct CounterSource {
    const char* frontend = "";   // "kernel" or "dpdk"
    const char* transport = "";  // "udp" or "tcp"
    std::string port;            // the DPDK device; empty for the kernel frontend
    unsigned worker = 0;
    const CounterBlock* block = nullptr;
};

struct CounterValues {
    std::array<uint64_t, slot::count> v{};
    std::array<uint64_t, zone_counter_count> zone{};

    void add(const CounterBlock& b) {
        for (size_t i = 0; i < v.size(); ++i) v[i] += b.v[i].load(std::memory_order_relaxed);
        for (size_t i = 0; i < zone.size(); ++i)
            zone[i] += b.zone[i].load(std::memory_order_relaxed);
    }
    void add(const CounterValues& o) {
        for (size_t i = 0; i < v.size(); ++i) v[i] += o.v[i];
        for (size_t i = 0; i < zone.size(); ++i) zone[i] += o.zone[i];
    }
    uint64_t zone_value(size_t zone_slot, size_t rcode_bucket) const {
        return zone[zone_slot * zone_rcode_names.size() + rcode_bucket];
    }
    uint64_t zone_total(size_t zone_slot) const {
        uint64_t n = 0;
        for (size_t i = 0; i < zone_rcode_names.size(); ++i) n += zone_value(zone_slot, i);
        return n;
    }
    uint64_t total(const CounterDef& d) const {
        uint64_t n = 0;
        for (size_t i = d.first; i < size_t(d.first) + d.width; ++i) n += v[i];
        return n;
    }
};

// What the readers format: the values of each source, and their sum.
struct CounterSnapshot {
    std::vector<CounterSource> sources;  // labels; the block pointers are not read again
    std::vector<CounterValues> values;   // values[i] belongs to sources[i]
    CounterValues total;
    std::vector<std::pair<uint16_t, std::string>> zones;  // (slot, zone) of the per-zone ones
};

// `zones`: where the per-zone counters' names come from (none: no per-zone counters).
inline CounterSnapshot read_counters(std::vector<CounterSource> sources,
                                     const ZoneSlots* zones = nullptr) {
    CounterSnapshot s;
    if (zones != nullptr) s.zones = zones->names();
    s.values.resize(sources.size());
    for (size_t i = 0; i < sources.size(); ++i) {
        s.values[i].add(*sources[i].block);
        s.total.add(s.values[i]);
    }
    s.sources = std::move(sources);
    return s;
}

}  // namespace anamed
