#include "live_snapshot.hpp"

namespace anamed {

namespace {
bool compiled(const ZoneTable& zt, const Node* n) {
    return n >= zt.nodes.begin() && n < zt.nodes.end();
}
}  // namespace

Node& LiveSnapshot::node(ZoneTable& zt, const Node* n) {
    if (compiled(zt, n)) return zt.nodes[size_t(n - zt.nodes.begin())];
    return *patched_.at(n).node;
}

uint32_t& LiveSnapshot::children(const ZoneTable& zt, const Node* n) {
    if (compiled(zt, n)) return zone_books_.at(&zt).child_count[size_t(n - zt.nodes.begin())];
    return patched_.at(n).children;
}

void LiveSnapshot::add_zone(ZoneTable& zt, std::vector<uint32_t> child_count) {
    zone_books_[&zt] = ZoneBook{&zt, std::move(child_count)};
}

}  // namespace anamed
