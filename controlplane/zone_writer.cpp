#include "zone_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "anamed/rr_types.hpp"
#include "anamed/wire.hpp"
#include "ldns.hpp"

namespace anamed {
// One record as ldns prints it, from its wire parts.
std::string record_text(std::string_view owner, uint16_t type, uint32_t ttl,
                        std::string_view rdata) {
    // A type ldns does not know is printed as the one it shares its format with, renamed.
    const RRType* t = rr_type(type);
    const uint16_t as = t && t->text_as ? t->text_as : 0;
    std::string wire(owner);
    uint8_t fixed[10];
    store16(fixed, as ? as : type);
    store16(fixed + 2, class_in);
    store32(fixed + 4, ttl);
    store16(fixed + 8, uint16_t(rdata.size()));
    wire.append(reinterpret_cast<const char*>(fixed), sizeof fixed);
    wire += rdata;
    ldns_rr* rr = nullptr;
    size_t pos = 0;
    if (ldns_wire2rr(&rr, reinterpret_cast<const uint8_t*>(wire.data()), wire.size(), &pos,
                     LDNS_SECTION_ANSWER) != LDNS_STATUS_OK)
        return "; (unprintable record at " + name_to_text(owner) + ")\n";
    char* s = ldns_rr2str(rr);
    std::string text = s ? s : "";
    free(s);
    ldns_rr_free(rr);
    if (as) {
        const std::string printed = "\t" + std::string(rr_type(as)->mnemonic) + "\t";
        const size_t at = text.find(printed);
        if (at != std::string::npos)
            text.replace(at, printed.size(), "\t" + std::string(t->mnemonic) + "\t");
    }
    if (text.empty() || text.back() != '\n') text += '\n';
    return text;
}

std::string zone_to_text(const Zone& zone) {
    std::vector<std::string_view> keys;
    for (const auto& [k, n] : zone.nodes) keys.push_back(k);
    // Apex first, then names in an order a reader can follow (by reversed labels would be
    // canonical; sorting the wire keys groups siblings, which is enough here).
    std::sort(keys.begin(), keys.end(), [&](std::string_view a, std::string_view b) {
        if ((a == zone.apex) != (b == zone.apex)) return a == zone.apex;
        return a < b;
    });
    std::string out =
        "; zone " + zone.apex_text + " written by anamed (runtime changes included)\n";
    out += "$ORIGIN " + zone.apex_text + "\n";
    for (std::string_view k : keys) {
        const ZoneNode& n = *zone.find(k);
        for (const RRset rs : n.rrsets())
            for (const auto& rd : rs.rdata) out += record_text(n.owner(k), rs.type, rs.ttl, rd);
    }
    return out;
}

std::string write_zone_file(const Zone& zone, const std::string& path) {
    const std::string text = zone_to_text(zone);
    const std::string tmp = path + ".anamed-tmp";
    const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return "cannot write " + tmp + ": " + strerror(errno);
    size_t off = 0;
    while (off < text.size()) {
        const ssize_t w = write(fd, text.data() + off, text.size() - off);
        if (w <= 0) {
            close(fd);
            unlink(tmp.c_str());
            return "cannot write " + tmp + ": " + strerror(errno);
        }
        off += size_t(w);
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

}  // namespace anamed
