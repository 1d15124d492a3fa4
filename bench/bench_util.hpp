// What the benchmark programs share: their command line, the zone, the query file and
// query packets built with ldns (so the packets are independent of anamed's own code).
#pragma once

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "ldns.hpp"
#include "zone_loader.hpp"

namespace anamed::bench {

struct Args {
    std::string zone_file, origin = "mywebservice.com.", query_file;
    std::vector<char*> rest;  // for benchmark::Initialize
};

inline Args parse_args(int argc, char** argv) {
    Args a;
    a.rest.push_back(argv[0]);
    for (int i = 1; i < argc; ++i) {
        const std::string s = argv[i];
        if (s == "--zone" && i + 1 < argc)
            a.zone_file = argv[++i];
        else if (s == "--origin" && i + 1 < argc)
            a.origin = argv[++i];
        else if (s == "--queries" && i + 1 < argc)
            a.query_file = argv[++i];
        else
            a.rest.push_back(argv[i]);
    }
    return a;
}

// The zone, or exit(1) with its diagnostics.
inline std::unique_ptr<Zone> load_zone(const std::string& origin, const std::string& file) {
    LoadResult r = load_zone_file(origin, file);
    if (!r.ok()) {
        for (const auto& d : r.diags) std::cerr << d.str() << "\n";
        std::exit(1);
    }
    return std::move(r.zone);
}

// dnsperf-format lines: "name type".
inline std::vector<std::pair<std::string, std::string>> read_queries(const std::string& file) {
    std::vector<std::pair<std::string, std::string>> out;
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream ls(line);
        std::string name, type;
        if (ls >> name >> type) out.emplace_back(name, type);
    }
    return out;
}

inline std::vector<uint8_t> build_query(const std::string& name, const std::string& type,
                                        uint16_t id, bool edns = true) {
    ldns_pkt* p = ldns_pkt_query_new(ldns_dname_new_frm_str(name.c_str()),
                                     ldns_get_rr_type_by_name(type.c_str()), LDNS_RR_CLASS_IN, 0);
    ldns_pkt_set_id(p, id);
    if (edns) {
        ldns_pkt_set_edns_udp_size(p, 1232);
        ldns_pkt_set_edns_data(p, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_UNKNOWN, 0, ""));
    }
    uint8_t* wire = nullptr;
    size_t len = 0;
    ldns_pkt2wire(&wire, p, &len);
    std::vector<uint8_t> out(wire, wire + len);
    free(wire);
    ldns_pkt_free(p);
    return out;
}

}  // namespace anamed::bench
