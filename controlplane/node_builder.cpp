#include "node_builder.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace anamed {

const NodeData empty_node_data{0, 0, 0};

namespace {

const std::string_view placeholder("\xC0\x0C", 2);

bool label_eq(const uint8_t* a, const uint8_t* b) {
    return a[0] == b[0] && same_bytes(a + 1, b + 1, a[0]);
}

// Length of the uncompressed wire name at the start of `s`, 0 when there is none.
size_t name_len(std::string_view s) {
    for (size_t pos = 0; pos < s.size() && pos < max_name_len; pos += 1 + uint8_t(s[pos])) {
        if (s[pos] == 0) return pos + 1;
        if (uint8_t(s[pos]) > 63) return 0;
    }
    return 0;
}

// Writes one block (an RRset and its additional records) into `out`, compressing the
// names that may be compressed against each other and against the owner's suffixes; see
// "compression pointers" in anamed/snapshot.hpp for how the pointers are stored.
class BlockWriter {
public:
    // Offers the owner's suffixes to every block of a node: they become the first entries
    // of scratch.known, and their count is returned. `owner`: the node's lower-case name,
    // which must outlive the writers. A wildcard's own "*" label is not in the packet (the
    // query name stands there), so only its parent's suffixes are offered.
    static size_t offer_owner(std::string_view owner, bool wildcard, BuiltNode::Scratch& scratch) {
        std::vector<Known>& known = scratch.known;
        known.clear();
        const auto* w = reinterpret_cast<const uint8_t*>(owner.data());
        std::array<uint8_t, max_labels> offs;
        size_t labels = 0;
        for (size_t pos = 0; w[pos] != 0; pos += 1 + w[pos]) offs[labels++] = uint8_t(pos);
        int parent = -1;
        for (size_t k = 1; k + (wildcard ? 1 : 0) <= labels; ++k) {
            known.push_back(Known{w + offs[labels - k], parent, uint16_t(ptr_owner_suffix | k)});
            parent = int(known.size() - 1);
        }
        return known.size();
    }
    // A block starts knowing only the owner's suffixes: the first `owner_known` entries.
    BlockWriter(std::string& out, size_t owner_known, BuiltNode::Scratch& scratch)
        : out_(out), start_(out.size()), known_(scratch.known), fixups_(scratch.fixups) {
        known_.resize(owner_known);
        fixups_.clear();
    }

    void rr(std::string_view owner, uint16_t type, uint32_t ttl, std::string_view rdata) {
        out_.append(owner);
        uint8_t fixed[10];
        store16(fixed, type);
        store16(fixed + 2, class_in);
        store32(fixed + 4, ttl);
        out_.append(reinterpret_cast<const char*>(fixed), sizeof fixed);
        const size_t rdata_at = out_.size();
        put_rdata(type, rdata);
        const uint16_t rdlen = uint16_t(out_.size() - rdata_at);
        store16(reinterpret_cast<uint8_t*>(out_.data()) + rdata_at - 2, rdlen);
    }
    // An additional record: its owner is compressed too.
    void additional_rr(std::string_view owner, uint16_t type, uint32_t ttl,
                       std::string_view rdata) {
        put_name(owner);
        rr({}, type, ttl, rdata);
    }
    // The fixups, after the block; returns how many.
    uint16_t finish() {
        for (uint16_t f : fixups_) {
            uint8_t b[2];
            store16(b, f);
            out_.append(reinterpret_cast<const char*>(b), 2);
        }
        return uint16_t(fixups_.size());
    }

private:
    using Known = BuiltNode::Known;  // labels point into the zone data, not into out_ (which grows)

    int add(const uint8_t* label, int parent, uint16_t ptr) {
        known_.push_back(Known{label, parent, ptr});
        return int(known_.size() - 1);
    }
    int find(const uint8_t* label, int parent) const {
        for (size_t i = 0; i < known_.size(); ++i)
            if (known_[i].parent == parent && label_eq(known_[i].label, label)) return int(i);
        return -1;
    }

    // The RDATA, its names compressed when the type allows it (RFC 3597 §4) and the RDATA
    // has its layout exactly; as it is otherwise.
    void put_rdata(uint16_t type, std::string_view rd) {
        const RRType* t = rr_type(type);
        if (t == nullptr || !t->has(rr_flag::compress) || !fits_layout(t->rdata, rd))
            return void(out_.append(rd));
        size_t at = 0;
        for (RdataField f : t->rdata) {
            const size_t n = f == RdataField::name ? name_len(rd.substr(at)) : fixed_size(f);
            if (f == RdataField::name)
                put_name(rd.substr(at, n));
            else
                out_.append(rd.substr(at, n));
            at += n;
        }
    }
    // The size of a fixed-size field; 0 for the others.
    static size_t fixed_size(RdataField f) {
        switch (f) {
        case RdataField::u8: return 1;
        case RdataField::u16: return 2;
        case RdataField::u32:
        case RdataField::period:
        case RdataField::ipv4: return 4;
        case RdataField::ipv6: return 16;
        default: return 0;
        }
    }
    // Whether rd is exactly the layout's names and fixed-size fields.
    static bool fits_layout(const RdataLayout& layout, std::string_view rd) {
        size_t at = 0;
        for (RdataField f : layout) {
            size_t n = fixed_size(f);
            if (f == RdataField::name) n = name_len(rd.substr(std::min(at, rd.size())));
            if (n == 0 || at + n > rd.size()) return false;
            at += n;
        }
        return at == rd.size();
    }

    // Writes the labels of `name` that no known suffix covers, then a pointer to the one
    // that does; the labels written become known suffixes while they are within reach.
    // `name` stays alive as long as the writer (zone data), so known labels point into it.
    void put_name(std::string_view name) {
        const auto* w = reinterpret_cast<const uint8_t*>(name.data());
        const size_t len = name_len(name);
        std::array<uint8_t, max_labels> offs;
        size_t labels = 0;
        for (size_t pos = 0; len != 0 && w[pos] != 0; pos += 1 + w[pos])
            offs[labels++] = uint8_t(pos);
        int match = -1;
        size_t keep = labels;  // labels [0, keep) are written out, the rest is a pointer
        while (keep > 0) {
            const int i = find(w + offs[keep - 1], match);
            if (i < 0) break;
            match = i;
            --keep;
        }
        const size_t at = out_.size() - start_;
        const size_t ptr_at = at + (keep < labels ? offs[keep] : 0);
        if (match < 0 || ptr_at > 0xFFFF) {  // no pointer (or one a fixup could not locate)
            out_.append(name.substr(0, len == 0 ? name.size() : len));
            match = -1, keep = labels;
        } else {
            out_.append(name.substr(0, offs[keep]));
            uint8_t b[2];
            store16(b, uint16_t(0xC000 | known_[match].ptr));
            out_.append(reinterpret_cast<const char*>(b), 2);
            fixups_.push_back(uint16_t(ptr_at));
        }
        if (keep == 0 || at + offs[keep - 1] >= ptr_owner_suffix) return;
        for (size_t j = keep; j-- > 0;) match = add(w + offs[j], match, uint16_t(at + offs[j]));
    }

    std::string& out_;
    const size_t start_;
    std::vector<Known>& known_;
    std::vector<uint16_t>& fixups_;
};

// A/AAAA of in-zone targets.
// No 64 KiB message holds more address records than this (16 octets each at the least), so
// a block never carries more, however many addresses the targets have.
constexpr uint16_t max_additional = 65535 / 16;

uint16_t add_addresses(const RRset& rs, const NodeLookup& lookup, BlockWriter& out,
                       BuiltNode& built) {
    const RRType* t = rr_type(rs.type);
    const int off = t && t->has(rr_flag::additional) ? t->name_offset() : -1;
    if (off < 0) return 0;
    // A delegation's name servers may be below the cut: their addresses are glue.
    const bool glue_ok = (t->node_flags & node_flag::delegation) != 0;
    uint16_t count = 0;
    auto& done = built.scratch.done;
    done.clear();
    for (const auto& rd : rs.rdata) {
        if (rd.size() <= size_t(off)) continue;
        const std::string_view target(rd.data() + off, rd.size() - off);
        if (std::find(done.begin(), done.end(), target) != done.end()) continue;
        done.push_back(target);
        std::string& key = built.scratch.key;
        key.assign(target);
        lower_in_place(key);
        built.targets.push_back(key);
        const ZoneNode* zn = lookup(key, glue_ok);
        if (zn == nullptr) continue;
        for (uint16_t type : {rrtype::A, rrtype::AAAA}) {
            const std::optional<RRset> addr = zn->find(type);
            if (!addr) continue;
            for (const auto& a : addr->rdata) {
                if (count == max_additional) return count;
                out.additional_rr(target, type, addr->ttl, a);
                ++count;
            }
        }
    }
    return count;
}

// The type an RRSIG's RDATA covers (RFC 4034 §3.1.1); 0 when the RDATA is too short.
uint16_t covered_type(std::string_view rd) {
    return rd.size() < 18 ? 0 : load16(reinterpret_cast<const uint8_t*>(rd.data()));
}

// One entry per covered type, so that an answer finds its RRset's signatures by the type it
// wrote (NodeData::find_sig). Each signature gets the TTL of the RRset it covers (RFC 4034
// §3): a zone keeps one TTL per RRset, and the RRSIG RRset mixes the covered TTLs.
void add_signatures(const ZoneNode& zn, const RRset& sigs, size_t owner_known,
                    BuiltNode::Scratch& scratch) {
    std::vector<uint16_t> covered;
    for (const auto& rd : sigs.rdata)
        if (std::find(covered.begin(), covered.end(), covered_type(rd)) == covered.end())
            covered.push_back(covered_type(rd));
    std::sort(covered.begin(), covered.end());
    for (uint16_t type : covered) {
        const std::optional<RRset> target = zn.find(type);
        const uint32_t ttl = target ? target->ttl : sigs.ttl;
        TypeEntry e{rrtype::RRSIG, 0, type, 0, uint32_t(scratch.records.size()), 0, 0};
        BlockWriter block(scratch.records, owner_known, scratch);
        for (const auto& rd : sigs.rdata) {
            if (covered_type(rd) != type) continue;
            block.rr(placeholder, rrtype::RRSIG, ttl, rd);
            ++e.rr_count;
        }
        e.rr_len = uint32_t(scratch.records.size() - e.rr_off);
        e.fixups = block.finish();
        scratch.entries.push_back(e);
    }
}

// The negative SOA's signatures (covered: NodeData::negative_soa_type), with its TTL, so
// that a DO=1 negative answer copies them as they are.
void add_negative_signatures(const ZoneNode& zn, BuiltNode::Scratch& scratch) {
    const TypeEntry* soa = nullptr;
    const TypeEntry* sig = nullptr;
    for (const TypeEntry& e : scratch.entries) {
        if (e.type == NodeData::negative_soa_type) soa = &e;
        if (e.type == rrtype::RRSIG && e.covered() == rrtype::SOA) sig = &e;
    }
    if (soa == nullptr || sig == nullptr || !zn.has(rrtype::SOA)) return;
    const uint32_t ttl =
        load32(reinterpret_cast<const uint8_t*>(scratch.records.data()) + soa->rr_off + rr_ttl_at);
    TypeEntry e = *sig;
    e.add_count = NodeData::negative_soa_type;
    e.rr_off = uint32_t(scratch.records.size());
    const std::string copy = scratch.records.substr(sig->rr_off, sig->rr_len);
    scratch.records += copy;
    auto* p = reinterpret_cast<uint8_t*>(scratch.records.data()) + e.rr_off;
    for (size_t i = 0; i < e.rr_len; i += rr_fixed + load16(p + i + 10))
        store32(p + i + rr_ttl_at, ttl);
    scratch.entries.push_back(e);
}

}  // namespace

void build_node(const ZoneNode& zn, std::string_view owner, const std::optional<RRset>& apex_soa,
                const NodeLookup& lookup, BuiltNode& out) {
    out.targets.clear();
    out.chase.clear();
    const bool wildcard = owner.size() > 2 && owner[0] == 1 && owner[1] == '*';
    const size_t owner_known = BlockWriter::offer_owner(owner, wildcard, out.scratch);
    std::vector<TypeEntry>& entries = out.scratch.entries;
    std::string& bytes = out.scratch.records;
    entries.clear();
    bytes.clear();
    if (apex_soa && !apex_soa->rdata.empty()) {
        const std::string_view rd = apex_soa->rdata[0];
        const uint32_t minimum =
            load32(reinterpret_cast<const uint8_t*>(rd.data()) + rd.size() - 4);
        TypeEntry e{NodeData::negative_soa_type, 1, 0, 0, 0, 0, 0};
        BlockWriter block(bytes, owner_known, out.scratch);
        block.rr(placeholder, rrtype::SOA, std::min(apex_soa->ttl, minimum), rd);
        e.rr_len = uint32_t(bytes.size());
        e.fixups = block.finish();
        entries.push_back(e);
    }
    for (const RRset rs : zn.rrsets()) {
        if (rs.type == rrtype::RRSIG) {
            add_signatures(zn, rs, owner_known, out.scratch);
            continue;
        }
        TypeEntry e{rs.type, uint16_t(rs.rdata.size()), 0, 0, uint32_t(bytes.size()), 0, 0};
        BlockWriter block(bytes, owner_known, out.scratch);
        for (const auto& rd : rs.rdata) block.rr(placeholder, rs.type, rs.ttl, rd);
        if (rs.type == rrtype::CNAME && !rs.rdata.empty()) {
            out.chase.assign(rs.rdata[0]);
            lower_in_place(out.chase);
        }
        e.rr_len = uint32_t(bytes.size() - e.rr_off);
        const size_t add_start = bytes.size();
        e.add_count = add_addresses(rs, lookup, block, out);
        e.add_len = uint32_t(bytes.size() - add_start);
        e.fixups = block.finish();
        entries.push_back(e);
    }
    if (apex_soa && !apex_soa->rdata.empty()) add_negative_signatures(zn, out.scratch);
    const NodeData header{uint32_t(entries.size()), uint32_t(bytes.size()), 0};
    out.bytes.assign(reinterpret_cast<const char*>(&header), sizeof header);
    out.bytes.append(reinterpret_cast<const char*>(entries.data()),
                     entries.size() * sizeof(TypeEntry));
    out.bytes += bytes;
}

namespace {
// The types that set a node flag, from the table, so that a node's flags are a few marks.
constexpr auto flag_types = [] {
    std::array<std::pair<uint16_t, uint16_t>, rr_marked_types.size()> out{};
    size_t k = 0;
    for (const RRType& t : rr_table::types)
        if (t.node_flags != 0) out[k++] = {t.number, t.node_flags};
    return out;
}();
}  // namespace

uint16_t node_flags(const ZoneNode& zn, bool apex) {
    uint16_t flags = 0;
    for (const auto& [type, flag] : flag_types)
        if (flag != 0 && zn.has(type)) flags |= flag;
    // NS at the apex is the zone's own; only below it does NS make a delegation.
    return apex ? uint16_t((flags & ~node_flag::delegation) | node_flag::apex) : flags;
}

const Node* find_served(const Snapshot& snap, std::string_view key, bool glue_ok,
                        const ZoneTable*& zone) {
    zone = nullptr;
    Name n;
    if (parse_name(reinterpret_cast<const uint8_t*>(key.data()), key.size(), n) == 0)
        return nullptr;
    const ZoneTable* zt = snap.find_zone(n);
    if (zt == nullptr) return nullptr;
    const Node* node = zt->index.find(key);
    if (node == nullptr ||
        (!glue_ok && (node->cut != nullptr || (node->flags & node_flag::delegation))))
        return nullptr;
    zone = zt;
    return node;
}

const NodeData* place_node(const BuiltNode& b, void* mem) {
    std::memcpy(mem, b.bytes.data(), b.bytes.size());
    return static_cast<const NodeData*>(mem);
}

}  // namespace anamed
