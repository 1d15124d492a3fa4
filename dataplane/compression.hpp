// Compression pointers in a response being written (RFC 1035 §4.1.4): the stored ones a
// precompiled block carries, resolved where the block lands, and names already in the
// packet, walked through their pointers. Shared by respond() and respond_burst().
#pragma once

#include <cstddef>
#include <cstdint>

#include "anamed/snapshot.hpp"
#include "anamed/wire.hpp"

namespace anamed {

// Resolves the stored pointers (see anamed/snapshot.hpp) of a block copied to pkt + block_at:
// those of the fixup list's first `count` entries (ascending offsets in the block) that lie
// in [from, to). `name` is the name being answered as the packet has it: labels(), at(i)
// (where label i starts; the root at at(labels())) and lower_from() (its labels from this one
// on are written in lower case). False when a pointer cannot be resolved: it would point at
// a suffix written in another case than the zone's, or beyond a pointer's reach.
template <class Where>
inline bool resolve_stored_pointers(uint8_t* pkt, size_t block_at, const uint8_t* fixup,
                                    unsigned count, uint32_t from, uint32_t to, const Where& name) {
    for (unsigned i = 0; i < count; ++i) {
        const uint32_t pos = load16(fixup + 2 * i);
        if (pos < from) continue;
        if (pos >= to) break;
        uint8_t* p = pkt + block_at + pos;
        const uint16_t v = load16(p) & 0x3FFF;
        size_t target = block_at + v;
        if (v >= ptr_owner_suffix) {
            const unsigned k = v - ptr_owner_suffix;
            if (k > name.labels() || name.labels() - k < name.lower_from()) return false;
            target = name.at(name.labels() - k);
        }
        if (target > 0x3FFF) return false;
        store16(p, uint16_t(0xC000 | target));
    }
    return true;
}

// Walks the name written at pkt + at (a CNAME's target, which may end in a pointer) and calls
// label(pos, len) for each of its labels in order, the root (len 0) last. Our pointers only
// go backwards, which also bounds the walk; every label must sit where a pointer can reach
// it, and end within size. Returns what label() returned for the root; false for a name that
// breaks these rules, or as soon as label() returns false.
template <class Label>
inline bool walk_name(const uint8_t* pkt, size_t size, size_t at, Label&& label) {
    for (size_t pos = at; pos < size;) {
        const uint8_t l = pkt[pos];
        if ((l & 0xC0) == 0xC0) {
            const size_t to = pos + 1 < size ? load16(pkt + pos) & 0x3FFF : pos;
            if (to >= pos) return false;
            pos = to;
            continue;
        }
        if (l > 63 || pos > 0x3FFF) return false;
        if (l == 0) return label(uint16_t(pos), l);
        if (pos + 1 + l >= size || !label(uint16_t(pos), l)) return false;
        pos += 1 + l;
    }
    return false;
}

}  // namespace anamed
