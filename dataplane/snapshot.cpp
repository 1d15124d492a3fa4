// Snapshot support code that is not on the answer path.
#include "anamed/snapshot.hpp"

#include <algorithm>
#include <cstdint>
#include <new>

namespace anamed {

const NodeData removed_node_data{0, 0, 0};

Arena::~Arena() {
    for (auto& [p, n] : chunks_) huge_free(p, n);
}

// Chunks grow from 64 KiB to 4 MiB: a small zone's arena stays small (heap), a large
// one's chunks are whole huge pages.
void* Arena::alloc(size_t n, size_t align) {
    static constexpr size_t first_chunk = 64u << 10, max_chunk = 4u << 20;
    size_t pad = (align - reinterpret_cast<uintptr_t>(cur_) % align) % align;
    if (cur_ == nullptr || pad + n > left_) {
        const size_t grown = chunks_.empty() ? first_chunk : chunks_.back().second * 2;
        const size_t size = std::max(std::min(grown, max_chunk), n + align);
        cur_ = static_cast<uint8_t*>(huge_alloc(size, !defer_huge_));
        chunks_.emplace_back(cur_, size);
        reserved_ += huge_footprint(size);
        left_ = size;
        pad = (align - reinterpret_cast<uintptr_t>(cur_) % align) % align;
    }
    uint8_t* p = cur_ + pad;
    cur_ += pad + n;
    left_ -= pad + n;
    used_ += n;
    return p;
}

std::vector<std::pair<uint8_t*, size_t>> Snapshot::deferred_huge() const {
    std::vector<std::pair<uint8_t*, size_t>> out;
    auto add = [&](uint8_t* p, size_t n) {  // in pieces of 4 MB, each a step of the daemon's loop
        constexpr size_t piece = 2 * huge_page_size;
        for (size_t at = 0; at < n; at += piece) out.emplace_back(p + at, std::min(piece, n - at));
    };
    for (const auto& z : zones)
        if (!small_block(z->nodes.bytes()))
            add(reinterpret_cast<uint8_t*>(z->nodes.begin()), z->nodes.bytes());
    for (const auto& a : arenas)
        for (const auto& [p, n] : a->chunks())
            if (!small_block(n)) add(p, n);
    return out;
}

void Snapshot::promote_huge_pages() const {
    for (const auto& [p, n] : deferred_huge()) huge_promote(p, n);
}

size_t Snapshot::memory() const {
    size_t total = huge_footprint(zone_index.memory()) + aliases.footprint();
    for (const auto& a : arenas) total += a->reserved();
    for (const auto& z : zones)
        total += sizeof(ZoneTable) + huge_footprint(z->index.memory()) + z->nodes.footprint() +
                 (z->denial_chain() ? z->denial_chain()->memory() : 0);
    return total;
}

std::string name_to_text(std::string_view wire) {
    std::string out;
    size_t pos = 0;
    while (pos < wire.size()) {
        const uint8_t l = uint8_t(wire[pos]);
        if (l == 0 || pos + 1 + l > wire.size()) break;
        for (size_t i = pos + 1; i <= pos + l; ++i) {
            const unsigned char c = uint8_t(wire[i]);
            if (c == '.' || c == '\\') {
                out += '\\';
                out += char(c);
            } else if (c <= 0x20 || c >= 0x7F) {
                char buf[5];
                snprintf(buf, sizeof buf, "\\%03u", c);
                out += buf;
            } else {
                out += char(c);
            }
        }
        out += '.';
        pos += 1 + l;
    }
    return out.empty() ? "." : out;
}

}  // namespace anamed
