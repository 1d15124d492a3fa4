#include "zone_image.hpp"

namespace anamed {

std::shared_ptr<const ZoneImage> take_image(const Zone& z) {
    auto image = std::make_shared<ZoneImage>();
    image->apex = z.apex;
    image->apex_text = z.apex_text;
    image->serial = z.serial();
    image->soa = soa_record(z);
    image->nodes.assign(z.nodes.begin(), z.nodes.end());
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
