// Shared by the unit tests: load the test zones, build queries and read replies with ldns.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "anamed/respond.hpp"
#include "compiler.hpp"
#include "ldns.hpp"
#include "temp_dir.hpp"
#include "zone_loader.hpp"

namespace anamed::test {
using V = std::vector<std::string>;

inline std::string data_path(const std::string& file) {
    return std::string(ANAMED_TESTDATA) + "/" + file;
}

// The test zones compiled into one snapshot (example.test, other.test, sub2.example.test).
class Served {
public:
    Served() {
        for (auto [name, file] : {std::pair{"example.test", "test.zone"},
                                  {"other.test", "second.zone"},
                                  {"sub2.example.test", "child.zone"}}) {
            LoadResult r = load_zone_file(name, data_path(file));
            for (const auto& d : r.diags) ADD_FAILURE() << d.str();
            zones_.push_back(std::move(r.zone));
        }
        std::vector<const Zone*> zs;
        for (const auto& z : zones_) zs.push_back(z.get());
        snap_ = compile(zs, 1);
    }
    const Snapshot& snap() const { return *snap_; }

private:
    std::vector<std::unique_ptr<Zone>> zones_;
    std::unique_ptr<Snapshot> snap_;
};

struct QueryOpts {
    bool edns = true;
    uint16_t payload = 1232;
    bool dnssec_ok = false;
    Transport transport = Transport::udp;
    ldns_rr_class cls = LDNS_RR_CLASS_IN;
    std::string edns_options;  // the OPT record's RDATA (EDNS options, wire form)
};

inline std::vector<uint8_t> make_query(const std::string& name, ldns_rr_type type,
                                       QueryOpts o = {}) {
    ldns_pkt* p = ldns_pkt_query_new(ldns_dname_new_frm_str(name.c_str()), type, o.cls, 0);
    ldns_pkt_set_id(p, 0x1234);
    if (o.edns) {
        ldns_pkt_set_edns_udp_size(p, o.payload);
        ldns_pkt_set_edns_do(p, o.dnssec_ok);
        ldns_pkt_set_edns_data(p,
                               ldns_rdf_new_frm_data(LDNS_RDF_TYPE_UNKNOWN, o.edns_options.size(),
                                                     o.edns_options.data()));
    }
    uint8_t* wire = nullptr;
    size_t len = 0;
    EXPECT_EQ(ldns_pkt2wire(&wire, p, &len), LDNS_STATUS_OK);
    std::vector<uint8_t> out(wire, wire + len);
    free(wire);
    ldns_pkt_free(p);
    return out;
}

struct PktDeleter {
    void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
using Pkt = std::unique_ptr<ldns_pkt, PktDeleter>;

// Runs respond() and parses the reply with ldns (which also validates its wire format).
inline Pkt ask(const Snapshot& s, const std::vector<uint8_t>& q, Transport t = Transport::udp,
               size_t* out_len = nullptr) {
    std::vector<uint8_t> buf(65536);
    const size_t n = respond(&s, q.data(), q.size(), buf.data(), buf.size(), ClientInfo{t});
    if (out_len) *out_len = n;
    if (n == 0) return nullptr;
    ldns_pkt* p = nullptr;
    EXPECT_EQ(ldns_wire2pkt(&p, buf.data(), n), LDNS_STATUS_OK) << "reply does not parse";
    return Pkt(p);
}
inline Pkt ask(const Snapshot& s, const std::string& name, ldns_rr_type type, QueryOpts o = {}) {
    return ask(s, make_query(name, type, o), o.transport);
}

// "owner TTL IN TYPE RDATA" lines of one section, as ldns prints them.
inline std::vector<std::string> rrs(const ldns_rr_list* list) {
    std::vector<std::string> out;
    for (size_t i = 0; i < ldns_rr_list_rr_count(list); ++i) {
        char* s = ldns_rr2str(ldns_rr_list_rr(list, i));
        std::string line(s);
        free(s);
        while (!line.empty() && line.back() == '\n') line.pop_back();
        out.push_back(line);
    }
    return out;
}
inline std::vector<std::string> answer(const Pkt& p) {
    return rrs(ldns_pkt_answer(p.get()));
}
inline std::vector<std::string> authority(const Pkt& p) {
    return rrs(ldns_pkt_authority(p.get()));
}
inline std::vector<std::string> additional(const Pkt& p) {
    return rrs(ldns_pkt_additional(p.get()));
}

// respond_burst over all the queries at once, out of place and in place (each reply written
// over its query, as the DPDK worker answers), against respond() one by one: the same bytes
// and the same report for every query.
inline void expect_burst_like_respond(const Snapshot& s,
                                      const std::vector<std::vector<uint8_t>>& qs,
                                      ClientInfo client = {}) {
    constexpr size_t cap = 1232;
    std::vector<std::array<uint8_t, cap>> outs(qs.size()), frames(qs.size());
    std::vector<BurstItem> items, in_place;
    for (size_t i = 0; i < qs.size(); ++i) {
        ASSERT_LE(qs[i].size(), cap);
        items.push_back({qs[i].data(), qs[i].size(), outs[i].data(), cap, 0, {}});
        std::copy(qs[i].begin(), qs[i].end(), frames[i].begin());
        in_place.push_back({frames[i].data(), qs[i].size(), frames[i].data(), cap, 0, {}});
    }
    respond_burst(&s, items.data(), items.size(), client);
    respond_burst(&s, in_place.data(), in_place.size(), client);
    for (size_t i = 0; i < qs.size(); ++i) {
        std::array<uint8_t, cap> one{};
        ResponseInfo info;
        const size_t n = respond(&s, qs[i].data(), qs[i].size(), one.data(), cap, client, &info);
        ASSERT_EQ(items[i].out_len, n) << "query " << i;
        EXPECT_TRUE(std::equal(one.begin(), one.begin() + n, outs[i].begin())) << "query " << i;
        EXPECT_EQ(items[i].info.rcode, info.rcode) << "query " << i;
        EXPECT_EQ(items[i].info.qtype, info.qtype) << "query " << i;
        EXPECT_EQ(items[i].info.truncated, info.truncated) << "query " << i;
        EXPECT_EQ(items[i].info.name_key, info.name_key) << "query " << i;
        EXPECT_EQ(items[i].info.referral, info.referral) << "query " << i;
        EXPECT_EQ(items[i].info.cookie, info.cookie) << "query " << i;
        ASSERT_EQ(in_place[i].out_len, n) << "in place " << i;
        EXPECT_TRUE(std::equal(one.begin(), one.begin() + n, frames[i].begin()))
            << "in place " << i;
    }
}

}  // namespace anamed::test
