#include "zone.hpp"

#include <ldns/ldns.h>

#include "anamed/wire.hpp"

namespace anamed {

std::string lower_key(std::string_view wire) {
    std::string out(wire);
    for (size_t pos = 0; pos < out.size();) {
        const uint8_t l = uint8_t(out[pos]);
        for (size_t i = pos + 1; i <= pos + l && i < out.size(); ++i)
            out[i] = char(ascii_lower(uint8_t(out[i])));
        pos += 1 + l;
        if (l == 0) break;
    }
    return out;
}

bool is_subdomain(std::string_view name, std::string_view apex) {
    if (name.size() < apex.size()) return false;
    if (name.substr(name.size() - apex.size()) != apex) return false;
    // The match must start on a label boundary.
    size_t pos = 0;
    while (pos < name.size() - apex.size()) pos += 1 + uint8_t(name[pos]);
    return pos == name.size() - apex.size();
}

std::string text_to_wire(std::string_view text) {
    ldns_rdf* rdf = nullptr;
    std::string s(text);
    if (ldns_str2rdf_dname(&rdf, s.c_str()) != LDNS_STATUS_OK) return {};
    std::string out(reinterpret_cast<const char*>(ldns_rdf_data(rdf)), ldns_rdf_size(rdf));
    ldns_rdf_deep_free(rdf);
    return out;
}

size_t soa_serial_offset(std::string_view rd) {
    size_t pos = 0;  // after MNAME and RNAME
    for (int names = 0; names < 2 && pos < rd.size(); ++names) {
        while (pos < rd.size() && rd[pos] != 0) pos += 1 + uint8_t(rd[pos]);
        ++pos;
    }
    return pos + 4 <= rd.size() ? pos : std::string_view::npos;
}

uint32_t Zone::serial() const {
    const ZoneNode* n = find(apex);
    const RRset* soa = n ? n->find(rrtype::SOA) : nullptr;
    if (soa == nullptr || soa->rdata.empty()) return 0;
    const std::string_view rd = soa->rdata[0];
    const size_t at = soa_serial_offset(rd);
    return at == std::string_view::npos ? 0 : load32(reinterpret_cast<const uint8_t*>(rd.data()) + at);
}

}  // namespace anamed
