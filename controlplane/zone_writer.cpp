#include "zone_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>

namespace anamed {
namespace {

// A zone's names in an order a reader can follow: apex first, then by wire key (by reversed
// labels would be canonical; sorting the wire keys groups siblings, which is enough here).
template <class Nodes>
std::vector<const NodeMap::value_type*> ordered(std::string_view apex, const Nodes& nodes) {
    std::vector<const NodeMap::value_type*> out;
    out.reserve(nodes.size());
    for (const auto& e : nodes) out.push_back(&e);
    std::sort(out.begin(), out.end(), [&](const auto* a, const auto* b) {
        const std::string_view ka = a->first, kb = b->first;
        if ((ka == apex) != (kb == apex)) return ka == apex;
        return ka < kb;
    });
    return out;
}

std::string header(const std::string& apex_text) {
    return "; zone " + apex_text + " written by anamed (runtime changes included)\n$ORIGIN " +
           apex_text + "\n";
}

// The text of the zone, handed to `sink` in pieces of about `chunk` bytes.
template <class Nodes>
bool render(std::string_view apex, const std::string& apex_text, const Nodes& nodes, size_t chunk,
            const std::function<bool(const std::string&)>& sink) {
    std::string out = header(apex_text);
    for (const NodeMap::value_type* e : ordered(apex, nodes)) {
        const std::string owner = e->second.owner(e->first);
        const std::string owner_text = plain_name_text(owner);
        for (const RRset rs : e->second.rrsets())
            for (const auto& rd : rs.rdata)
                append_record_text(out, owner, owner_text, rs.type, rs.ttl, rd);
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
template <class Nodes>
std::string write_file(std::string_view apex, const std::string& apex_text, const Nodes& nodes,
                       const std::string& path) {
    const std::string tmp = path + ".anamed-tmp";
    const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return "cannot write " + tmp + ": " + strerror(errno);
    if (!render(apex, apex_text, nodes, write_chunk,
                [&](const std::string& text) { return write_all(fd, text); })) {
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
    render(zone.apex, zone.apex_text, zone.nodes, SIZE_MAX, [&](const std::string& t) {
        text += t;
        return true;
    });
    return text;
}

std::string write_zone_file(const Zone& zone, const std::string& path) {
    return write_file(zone.apex, zone.apex_text, zone.nodes, path);
}

std::string write_zone_file(const ZoneImage& zone, const std::string& path) {
    return write_file(zone.apex, zone.apex_text, zone.nodes, path);
}

}  // namespace anamed
