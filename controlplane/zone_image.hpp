// An immutable copy of one version of a zone, for work done off the control thread while the
// zone store keeps changing the zone in place: an AXFR built while it is sent, the secondary's
// copy written to disk. Its names are copied into one mapping (no index, no allocation per
// name); images of the same version are shared.
//
// An image is made in two steps, so that a transfer's first message does not wait for the
// whole copy: begin_image() sizes and maps it (a pass over the map's entries), and
// fill_image() copies the names in order while a reader already works through the ones
// copied (wait_copied()).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "zone.hpp"
#include "zone_history.hpp"

namespace anamed {

// An image's memory: its names, then their bytes, in one block of huge pages. A block freed
// is kept for the next image (the last one freed): memory given back to the kernel and asked
// for again costs more than the copy itself (the kernel zeroes it, and a virtual machine's
// host may have taken it back meanwhile).
struct ImageBlock {
    char* p = nullptr;
    size_t bytes = 0;
};
struct ImageBlockRelease {
    void operator()(ImageBlock* b) const;
};
using ImageMemory = std::unique_ptr<ImageBlock, ImageBlockRelease>;

struct ZoneImage {
    // One name: its key, then its node's block (ZoneNode's layout), in the arena.
    struct Name {
        size_t at = 0;
        uint32_t block_bytes = 0;
        uint8_t key_len = 0;
    };
    std::string apex, apex_text;  // as in Zone
    uint32_t serial = 0;
    Record soa;
    std::span<Name> names;  // in the zone's order; an entry is valid once copied
    char* arena = nullptr;  // the names' keys and blocks
    ImageMemory memory;     // holds both

    std::string_view key(const Name& n) const { return {arena + n.at, n.key_len}; }
    std::string_view block(const Name& n) const {
        return {arena + n.at + n.key_len, n.block_bytes};
    }
    std::string_view owner(const Name& n) const { return ZoneNode::owner_in(block(n), key(n)); }
    ZoneNode::Range rrsets(const Name& n) const { return ZoneNode::rrsets_in(block(n)); }

    // Waits until the first `n` names are copied; how many are (at least n), or 0 when the
    // image failed (its zone changed before it was filled).
    size_t wait_copied(size_t n) const;
    bool failed() const { return copied_.load(std::memory_order_acquire) == failed_mark; }

private:
    friend void fill_image(ZoneImage&, const Zone&);
    friend void fail_image(ZoneImage&);
    static constexpr size_t failed_mark = SIZE_MAX;
    std::atomic<size_t> copied_{0};
};

// An image of the zone's current version with nothing copied yet.
std::shared_ptr<ZoneImage> begin_image(const Zone& z);
// Copies the names of `z` (the version begin_image saw) into the image, readers following.
void fill_image(ZoneImage& image, const Zone& z);
// Readers waiting for names get 0 instead.
void fail_image(ZoneImage& image);
// Both steps at once.
std::shared_ptr<const ZoneImage> take_image(const Zone& z);

// The images still in use, by zone: a second transfer of the same version shares the first
// one's image instead of copying the zone again.
class ZoneImages {
public:
    ZoneImages() = default;
    ZoneImages(const ZoneImages&) = delete;
    ZoneImages& operator=(const ZoneImages&) = delete;
    ~ZoneImages();  // images never filled fail, so that their readers stop

    // The image of the zone's current version: one still in use, or a new one that
    // fill_pending() fills.
    std::shared_ptr<const ZoneImage> get(const Zone& z);
    // Fills the images get() began since the last call. `current(apex, z)`: whether z is
    // still that zone's object. An image whose zone was replaced or changed meanwhile fails
    // rather than copy another version.
    using Current = std::function<bool(const std::string& apex, const Zone* z)>;
    void fill_pending(const Current& current);

private:
    struct Entry {
        const Zone* source = nullptr;
        uint32_t serial = 0;
        size_t names = 0;
        std::weak_ptr<const ZoneImage> image;
    };
    struct Pending {
        const Zone* source = nullptr;
        std::string apex;
        std::weak_ptr<ZoneImage> image;
    };
    std::map<std::string, Entry> by_apex_;
    std::vector<Pending> pending_;
};

}  // namespace anamed
