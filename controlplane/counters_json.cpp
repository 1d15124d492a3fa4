#include "counters_json.hpp"

#include <string_view>

namespace anamed {
namespace {

using json = nlohmann::json;

// What every frontend has: queries, responses, truncated, drops.
json summary(const CounterValues& v) {
    return json{{"queries", v.total(find_counter("queries"))},
                {"responses", v.total(find_counter("answered"))},
                {"truncated", v.total(find_counter("truncated"))},
                {"dropped", v.total(find_counter("dropped"))}};
}

// Per zone: queries answered from it, and by the response's RCODE (zeros kept, so that two
// readings subtract key by key).
json zones_json(const CounterSnapshot& s) {
    json zones = json::object();
    for (const auto& [slot, name] : s.zones) {
        json rc = json::object();
        for (size_t i = 0; i < zone_rcode_names.size(); ++i)
            rc[zone_rcode_names[i]] = s.total.zone_value(slot, i);
        zones[name] = {{"queries", s.total.zone_total(slot)}, {"rcode", rc}};
    }
    return zones;
}

}  // namespace

json counter_values_json(const CounterValues& v, bool zeros) {
    json j = json::object();
    for (const CounterDef& d : counter_defs) {
        if (d.label == Label::none) {
            if (zeros || v.v[d.first]) j[d.name] = v.v[d.first];
            continue;
        }
        json by = json::object();
        for (size_t i = 0; i < d.width; ++i)
            if (v.v[d.first + i]) by[label_value(d.label, i)] = v.v[d.first + i];
        if (zeros || !by.empty()) j[d.name] = by;
    }
    return j;
}

json counters_json(const CounterSnapshot& s) {
    const json all = counter_values_json(s.total, true);
    json j = summary(s.total);
    j["rcode"] = all["answered"];
    j["qtype"] = all["answered_qtype"];
    j["dropped"] = all["dropped"];  // by reason
    CounterValues udp, tcp, dpdk;
    bool has_dpdk = false;
    json frontends = json::array();
    for (size_t i = 0; i < s.sources.size(); ++i) {
        const CounterSource& src = s.sources[i];
        (std::string_view(src.transport) == "tcp" ? tcp : udp).add(s.values[i]);
        if (std::string_view(src.frontend) == "dpdk") {
            dpdk.add(s.values[i]);
            has_dpdk = true;
        }
        json f = {{"frontend", src.frontend}, {"transport", src.transport}, {"worker", src.worker}};
        if (!src.port.empty()) f["port"] = src.port;
        f.update(summary(s.values[i]));
        frontends.push_back(f);
    }
    j["transport"] = {{"udp", summary(udp)}, {"tcp", summary(tcp)}};
    j["frontends"] = frontends;
    j["dpdk"] = has_dpdk ? counter_values_json(dpdk, true) : json(nullptr);
    j["zones"] = zones_json(s);
    return j;
}

}  // namespace anamed
