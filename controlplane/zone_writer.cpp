#include "zone_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>

namespace anamed {
namespace {

// One name to print.
struct Item {
    std::string_view key, owner;
    ZoneNode::Range rrsets;
};

std::vector<Item> items_of(const Zone& z) {
    std::vector<Item> out;
    out.reserve(z.nodes.size());
    for (const auto& [key, node] : z.nodes)
        out.push_back({key, node.owner_view(key), node.rrsets()});
    return out;
}

std::vector<Item> items_of(const ZoneImage& z) {
    std::vector<Item> out;
    out.reserve(z.names.size());
    for (const ZoneImage::Name& n : z.names) out.push_back({z.key(n), z.owner(n), z.rrsets(n)});
    return out;
}

// The text of the zone, handed to `sink` in pieces of about `chunk` bytes. Apex first, then
// names in an order a reader can follow (by reversed labels would be canonical; sorting the
// wire keys groups siblings, which is enough here).
template <class AnyZone>
bool render(const AnyZone& zone, size_t chunk,
            const std::function<bool(const std::string&)>& sink) {
    std::vector<Item> items = items_of(zone);
    const std::string_view apex = zone.apex;
    std::sort(items.begin(), items.end(), [&](const Item& a, const Item& b) {
        if ((a.key == apex) != (b.key == apex)) return a.key == apex;
        return a.key < b.key;
    });
    std::string out = "; zone " + zone.apex_text +
                      " written by anamed (runtime changes included)\n$ORIGIN " + zone.apex_text +
                      "\n";
    for (const Item& item : items) {
        const std::string owner_text = plain_name_text(item.owner);
        for (const RRset rs : item.rrsets)
            for (const auto& rd : rs.rdata)
                append_record_text(out, item.owner, owner_text, rs.type, rs.ttl, rd);
        if (out.size() >= chunk) {
            if (!sink(out)) return false;
            out.clear();
        }
    }
    return sink(out);
}

constexpr size_t write_chunk = 1 << 20;

bool write_all(int fd, const std::string& text) {
    size_t off = 0;
    while (off < text.size()) {
        const ssize_t w = write(fd, text.data() + off, text.size() - off);
        if (w <= 0) return false;
        off += size_t(w);
    }
    return true;
}

// Atomic: a temp file beside `path`, fsync, rename, fsync of the directory. A crash at any
// point leaves the old file or the new one, whole.
template <class AnyZone>
std::string write_file(const AnyZone& zone, const std::string& path) {
    const std::string tmp = path + ".anamed-tmp";
    const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return "cannot write " + tmp + ": " + strerror(errno);
    if (!render(zone, write_chunk, [&](const std::string& text) { return write_all(fd, text); })) {
        const std::string err = "cannot write " + tmp + ": " + strerror(errno);
        close(fd);
        unlink(tmp.c_str());
        return err;
    }
    if (fsync(fd) != 0 || close(fd) != 0) return "cannot sync " + tmp + ": " + strerror(errno);
    if (rename(tmp.c_str(), path.c_str()) != 0)
        return "cannot replace " + path + ": " + strerror(errno);
    // The rename itself must be on disk before the journal drops what the file now holds.
    const size_t slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "."
                            : slash == 0               ? "/"
                                                       : path.substr(0, slash);
    const int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    const bool synced = dfd >= 0 && fsync(dfd) == 0;
    if (dfd >= 0) close(dfd);
    if (!synced) return "cannot sync the directory of " + path + ": " + strerror(errno);
    return "";
}

}  // namespace

std::string zone_to_text(const Zone& zone) {
    std::string text;
    render(zone, SIZE_MAX, [&](const std::string& t) {
        text += t;
        return true;
    });
    return text;
}

std::string write_zone_file(const Zone& zone, const std::string& path) {
    return write_file(zone, path);
}

std::string write_zone_file(const ZoneImage& zone, const std::string& path) {
    return write_file(zone, path);
}

}  // namespace anamed
