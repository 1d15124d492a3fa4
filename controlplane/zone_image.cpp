#include "zone_image.hpp"

#include <cstring>

namespace anamed {

std::shared_ptr<const ZoneImage> take_image(const Zone& z) {
    auto image = std::make_shared<ZoneImage>();
    image->apex = z.apex;
    image->apex_text = z.apex_text;
    image->serial = z.serial();
    image->soa = soa_record(z);
    size_t bytes = 0;
    for (const auto& [key, node] : z.nodes) {
        const std::string_view owner = node.owner_view(key);
        bytes += key.view().size() + (owner.data() != key.view().data() ? owner.size() : 0) +
                 node.rrsets_block().size();
    }
    image->arena.reset(new char[bytes ? bytes : 1]);
    image->names.reserve(z.nodes.size());
    char* at = image->arena.get();
    for (const auto& [key, node] : z.nodes) {
        const std::string_view k = key, owner = node.owner_view(key), block = node.rrsets_block();
        ZoneImage::Name n;
        n.at = size_t(at - image->arena.get());
        n.key_len = uint8_t(k.size());
        n.owner_len = owner.data() != k.data() ? uint8_t(owner.size()) : 0;
        n.rrsets_bytes = uint32_t(block.size());
        std::memcpy(at, k.data(), k.size());
        at += k.size();
        if (n.owner_len) {
            std::memcpy(at, owner.data(), owner.size());
            at += owner.size();
        }
        if (!block.empty()) std::memcpy(at, block.data(), block.size());
        at += block.size();
        image->names.push_back(n);
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
