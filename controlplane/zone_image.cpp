#include "zone_image.hpp"

#include <cstring>
#include <new>

#include "anamed/huge_array.hpp"

namespace anamed {
namespace {

constexpr size_t prefetch_ahead = 8;
// Readers are told of the copied names in steps of this many.
constexpr size_t publish_every = 2048;

// The block kept for the next image; freed at exit.
struct SpareBlock {
    std::atomic<ImageBlock*> block{nullptr};
    static void release(ImageBlock* b) {
        if (b == nullptr) return;
        huge_free(b->p, b->bytes);
        delete b;
    }
    ~SpareBlock() { release(block.exchange(nullptr)); }
};
SpareBlock spare;

ImageMemory take_block(size_t bytes) {
    ImageBlock* b = spare.block.exchange(nullptr, std::memory_order_acq_rel);
    if (b && b->bytes >= bytes) return ImageMemory(b);
    SpareBlock::release(b);
    // Room for the zone to grow a little before the next image needs a larger block.
    const size_t size = bytes + bytes / 16;
    return ImageMemory(new ImageBlock{static_cast<char*>(huge_alloc(size)), size});
}

}  // namespace

void ImageBlockRelease::operator()(ImageBlock* b) const {
    SpareBlock::release(spare.block.exchange(b, std::memory_order_acq_rel));
}

size_t ZoneImage::wait_copied(size_t n) const {
    size_t now = copied_.load(std::memory_order_acquire);
    while (now < n) {
        copied_.wait(now, std::memory_order_acquire);
        now = copied_.load(std::memory_order_acquire);
    }
    return now == failed_mark ? 0 : now;
}

std::shared_ptr<ZoneImage> begin_image(const Zone& z) {
    auto image = std::make_shared<ZoneImage>();
    image->apex = z.apex;
    image->apex_text = z.apex_text;
    image->serial = z.serial();
    image->soa = soa_record(z);
    // Sizes from the map's entries alone (sequential); the blocks are read when copied.
    size_t bytes = 0;
    for (const auto& [key, node] : z.nodes) bytes += key.view().size() + node.block().size();
    const size_t names = z.nodes.size() * sizeof(ZoneImage::Name);
    image->memory = take_block(names + bytes);
    image->names = {reinterpret_cast<ZoneImage::Name*>(image->memory->p), z.nodes.size()};
    image->arena = image->memory->p + names;
    return image;
}

void fill_image(ZoneImage& image, const Zone& z) {
    char* const base = image.arena;
    char* at = base;
    const auto first = z.nodes.begin();
    const size_t n = z.nodes.size();
    for (size_t i = 0; i < n; ++i) {
        // The blocks are scattered over the heap: ask for the ones a few names ahead.
        if (i + prefetch_ahead < n)
            prefetch((first + ptrdiff_t(i + prefetch_ahead))->second.block().data());
        const auto& [key, node] = *(first + ptrdiff_t(i));
        const std::string_view k = key, block = node.block();
        new (&image.names[i])
            ZoneImage::Name{size_t(at - base), uint32_t(block.size()), uint8_t(k.size())};
        std::memcpy(at, k.data(), k.size());
        at += k.size();
        if (!block.empty()) std::memcpy(at, block.data(), block.size());
        at += block.size();
        if ((i + 1) % publish_every == 0) {
            image.copied_.store(i + 1, std::memory_order_release);
            image.copied_.notify_all();
        }
    }
    image.copied_.store(n, std::memory_order_release);
    image.copied_.notify_all();
}

void fail_image(ZoneImage& image) {
    image.copied_.store(ZoneImage::failed_mark, std::memory_order_release);
    image.copied_.notify_all();
}

std::shared_ptr<const ZoneImage> take_image(const Zone& z) {
    std::shared_ptr<ZoneImage> image = begin_image(z);
    fill_image(*image, z);
    return image;
}

ZoneImages::~ZoneImages() {
    for (const Pending& p : pending_)
        if (auto image = p.image.lock()) fail_image(*image);
}

std::shared_ptr<const ZoneImage> ZoneImages::get(const Zone& z) {
    Entry& e = by_apex_[z.apex];
    // Every change to a zone moves its serial, and a zone replaced whole is a new object: an
    // image of the same object, serial and size is of this version.
    if (auto image = e.image.lock(); image && !image->failed() && e.source == &z &&
                                     e.serial == z.serial() && e.names == z.nodes.size())
        return image;
    std::shared_ptr<ZoneImage> image = begin_image(z);
    e = Entry{&z, image->serial, z.nodes.size(), image};
    pending_.push_back(Pending{&z, z.apex, image});
    return image;
}

void ZoneImages::fill_pending(const Current& current) {
    for (const Pending& p : pending_) {
        const std::shared_ptr<ZoneImage> image = p.image.lock();
        if (!image) continue;  // its transfers are over already
        if (current(p.apex, p.source) && p.source->serial() == image->serial &&
            p.source->nodes.size() == image->names.size())
            fill_image(*image, *p.source);
        else
            fail_image(*image);
    }
    pending_.clear();
}

}  // namespace anamed
