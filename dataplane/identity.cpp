#include "anamed/identity.hpp"

#include <algorithm>

#include "query.hpp"
#include "response_writer.hpp"

namespace anamed {
namespace {

std::string chaos_record(std::string_view text) {
    const size_t n = std::min<size_t>(text.size(), 255);
    std::string r(12, '\0');  // the fixed part of a record as the snapshot stores it
    auto* p = reinterpret_cast<uint8_t*>(r.data());
    store16(p, 0xC000 | header_size);
    store16(p + 2, rrtype::TXT);
    store16(p + 4, class_ch);
    store32(p + 6, 0);
    store16(p + 10, uint16_t(n + 1));
    r.push_back(char(n));
    r.append(text.substr(0, n));
    return r;
}

}  // namespace

Identity make_identity(const IdentityConfig& c) {
    Identity id;
    if (!c.nsid.empty()) {
        const size_t n = std::min<size_t>(c.nsid.size(), 255);
        id.nsid_option.resize(4);
        auto* p = reinterpret_cast<uint8_t*>(id.nsid_option.data());
        store16(p, edns_option_nsid);
        store16(p + 2, uint16_t(n));
        id.nsid_option.append(c.nsid.substr(0, n));
    }
    if (!c.id.empty()) id.chaos_txt[0] = chaos_record(c.id);
    if (!c.hostname.empty()) id.chaos_txt[1] = chaos_record(c.hostname);
    if (!c.version.empty()) id.chaos_txt[2] = id.chaos_txt[3] = chaos_record(c.version);
    return id;
}

namespace detail {

// As Knot and NSD: the record for TXT and ANY, no data for another type of a configured
// name, REFUSED for any other name or one that is not configured.
uint16_t answer_chaos(const Snapshot& snap, const Query& q, ResponseWriter& w) noexcept {
    const int i = chaos_name_index(q.qname.key());
    if (i < 0 || snap.identity.chaos_txt[size_t(i)].empty()) return rcode::REFUSED;
    const std::string& rr = snap.identity.chaos_txt[size_t(i)];
    w.set_aa(true);
    if (q.qtype == rrtype::TXT || q.qtype == rrtype::ANY) {
        w.answer_capped(reinterpret_cast<const uint8_t*>(rr.data()), rr.size(), 1, header_size,
                        UINT32_MAX);
        if (!w.ok()) w.truncate();
    }
    return rcode::NOERROR;
}

}  // namespace detail
}  // namespace anamed
