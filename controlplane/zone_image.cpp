#include "zone_image.hpp"

#include <sys/mman.h>

#include <cstring>
#include <new>

namespace anamed {
namespace {
constexpr size_t prefetch_ahead = 8;
}  // namespace

void ImageUnmap::operator()(char* p) const {
    if (p) munmap(p, bytes);
}

std::shared_ptr<const ZoneImage> take_image(const Zone& z) {
    auto image = std::make_shared<ZoneImage>();
    image->apex = z.apex;
    image->apex_text = z.apex_text;
    image->serial = z.serial();
    image->soa = soa_record(z);
    // Sizes from the map's entries alone (sequential); the blocks are read once, when copied.
    size_t bytes = 0;
    for (const auto& [key, node] : z.nodes) bytes += key.view().size() + node.block().size();
    const size_t mapped = bytes ? bytes : 1;
    void* p = mmap(nullptr, mapped, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    image->arena = std::unique_ptr<char[], ImageUnmap>(static_cast<char*>(p), ImageUnmap{mapped});
    image->names.resize(z.nodes.size());
    char* const base = image->arena.get();
    char* at = base;
    const auto first = z.nodes.begin();
    const size_t n = z.nodes.size();
    for (size_t i = 0; i < n; ++i) {
        // The blocks are scattered over the heap: ask for the ones a few names ahead.
        if (i + prefetch_ahead < n)
            prefetch((first + ptrdiff_t(i + prefetch_ahead))->second.block().data());
        const auto& [key, node] = *(first + ptrdiff_t(i));
        const std::string_view k = key, block = node.block();
        ZoneImage::Name& name = image->names[i];
        name.at = size_t(at - base);
        name.key_len = uint8_t(k.size());
        name.block_bytes = uint32_t(block.size());
        std::memcpy(at, k.data(), k.size());
        at += k.size();
        if (!block.empty()) std::memcpy(at, block.data(), block.size());
        at += block.size();
    }
    return image;
}

std::shared_ptr<const ZoneImage> ZoneImages::get(const Zone& z) {
    Entry& e = by_apex_[z.apex];
    // Every change to a zone moves its serial, and a zone replaced whole is a new object: an
    // image of the same object, serial and size is of this version.
    if (auto image = e.image.lock();
        image && e.source == &z && e.serial == z.serial() && e.names == z.nodes.size())
        return image;
    auto image = take_image(z);
    e = Entry{&z, image->serial, z.nodes.size(), image};
    return image;
}

}  // namespace anamed
