#include "metrics_text.hpp"

#include <charconv>
#include <string_view>

namespace anamed {
namespace {

// A label value with \, " and newline escaped.
std::string quoted(std::string_view v) {
    std::string out = "\"";
    for (char c : v) {
        if (c == '\\' || c == '"') out += '\\';
        out += c == '\n' ? std::string("\\n") : std::string(1, c);
    }
    return out + "\"";
}

// The shortest text that reads back as v (0.005, not 0.0050000000000000001).
std::string number(double v) {
    char buf[40];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, r.ptr);
}

class Writer {
public:
    void family(const std::string& name, const char* type, const char* help) {
        out_ += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
    }
    // labels: already formatted as a="b",c="d" (may be empty).
    void sample(const std::string& name, const std::string& labels, const std::string& value) {
        out_ += name;
        if (!labels.empty()) out_ += "{" + labels + "}";
        out_ += " " + value + "\n";
    }
    void sample(const std::string& name, const std::string& labels, uint64_t v) {
        sample(name, labels, std::to_string(v));
    }
    std::string take() { return std::move(out_); }

private:
    std::string out_;
};

std::string source_labels(const CounterSource& s) {
    std::string l = "frontend=" + quoted(s.frontend) + ",transport=" + quoted(s.transport) +
                    ",worker=" + quoted(std::to_string(s.worker));
    if (!s.port.empty()) l += ",port=" + quoted(s.port);
    return l;
}

// Every registry counter, per frontend block and label value.
void registry(Writer& w, const CounterSnapshot& c) {
    for (const CounterDef& d : counter_defs) {
        const std::string name = std::string("anamed_") + d.name + "_total";
        w.family(name, "counter", d.help);
        for (size_t s = 0; s < c.sources.size(); ++s) {
            const std::string base = source_labels(c.sources[s]);
            for (size_t i = 0; i < d.width; ++i) {
                std::string labels = base;
                if (d.label != Label::none)
                    labels += std::string(",") + label_name(d.label) + "=" +
                              quoted(label_value(d.label, i));
                w.sample(name, labels, c.values[s].v[d.first + i]);
            }
        }
    }
}

// The per-zone counters, summed over the workers: one series per zone and RCODE class.
void zone_counters(Writer& w, const CounterSnapshot& c) {
    const std::string name = "anamed_zone_queries_total";
    w.family(name, "counter", "queries answered from the zone, by the response's RCODE");
    for (const auto& [slot, zone] : c.zones)
        for (size_t i = 0; i < zone_rcode_names.size(); ++i)
            w.sample(name, "zone=" + quoted(zone) + ",rcode=" + quoted(zone_rcode_names[i]),
                     c.total.zone_value(slot, i));
}

void publish_histogram(Writer& w, const MetricsState& m) {
    const std::string name = "anamed_publish_duration_seconds";
    w.family(name, "histogram",
             "time from the start of a snapshot change until the workers see it, by kind");
    for (size_t k = 0; k < m.publish.size(); ++k) {
        const LatencyHistogram& h = m.publish[k];
        const std::string kind = std::string("kind=") + quoted(publish_kind_names[k]);
        uint64_t cumulative = 0;
        for (size_t i = 0; i < h.bounds.size(); ++i) {
            cumulative += h.counts[i];
            w.sample(name + "_bucket", kind + ",le=" + quoted(number(h.bounds[i])), cumulative);
        }
        w.sample(name + "_bucket", kind + ",le=\"+Inf\"", h.count);
        w.sample(name + "_sum", kind, number(h.sum));
        w.sample(name + "_count", kind, h.count);
    }
}

void control_plane(Writer& w, const MetricsState& m) {
    w.family("anamed_build_info", "gauge", "the running anamed's version");
    w.sample("anamed_build_info", "version=" + quoted(m.version), 1);
    w.family("anamed_start_time_seconds", "gauge", "when anamed started, in unix time");
    w.sample("anamed_start_time_seconds", "", number(m.start_time));
    w.family("anamed_snapshot_generation", "gauge", "generation of the published snapshot");
    w.sample("anamed_snapshot_generation", "", m.generation);
    w.family("anamed_snapshot_bytes", "gauge", "memory of the published snapshot");
    w.sample("anamed_snapshot_bytes", "", m.snapshot_bytes);
    const std::pair<const char*, uint64_t> counters[] = {{"changes_applied", m.changes_applied},
                                                         {"journal_commits", m.journal_commits},
                                                         {"reloads", m.reloads},
                                                         {"axfr_served", m.axfr},
                                                         {"ixfr_served", m.ixfr},
                                                         {"transfers_refused", m.transfers_refused},
                                                         {"tsig_errors", m.tsig_errors}};
    const char* helps[] = {"record changes applied at runtime",
                           "journal transactions committed (one per accepted change batch)",
                           "configuration and zone reloads (SIGHUP)",
                           "outgoing full zone transfers",
                           "outgoing incremental zone transfers",
                           "zone transfer requests refused",
                           "handed-off messages whose TSIG did not verify"};
    for (size_t i = 0; i < std::size(counters); ++i) {
        const std::string name = std::string("anamed_") + counters[i].first + "_total";
        w.family(name, "counter", helps[i]);
        w.sample(name, "", counters[i].second);
    }
    publish_histogram(w, m);
}

void zones_and_aliases(Writer& w, const MetricsState& m) {
    w.family("anamed_zone_serial", "gauge", "SOA serial served, by zone");
    for (const auto& z : m.zones)
        w.sample("anamed_zone_serial", "zone=" + quoted(z.name), z.serial);
    w.family("anamed_zone_names", "gauge", "names (nodes) in the zone");
    for (const auto& z : m.zones) w.sample("anamed_zone_names", "zone=" + quoted(z.name), z.names);
    w.family("anamed_alias_targets", "gauge", "ALIAS targets tracked");
    w.sample("anamed_alias_targets", "", uint64_t(m.aliases.size()));
    w.family("anamed_alias_resolved", "gauge", "1 when the target's served answer is resolved");
    for (const auto& a : m.aliases)
        w.sample("anamed_alias_resolved", "target=" + quoted(a.target),
                 uint64_t(a.state == "resolved"));
    w.family("anamed_alias_last_success_timestamp_seconds", "gauge",
             "unix time of the target's last good upstream answer (0: never)");
    for (const auto& a : m.aliases)
        w.sample("anamed_alias_last_success_timestamp_seconds", "target=" + quoted(a.target),
                 number(a.last_success));
    w.family("anamed_alias_stale_seconds", "gauge",
             "how long the target's answer has been served past its refresh time");
    for (const auto& a : m.aliases)
        w.sample("anamed_alias_stale_seconds", "target=" + quoted(a.target),
                 number(a.stale_seconds));
    const char* names[] = {"anamed_alias_refreshes_total", "anamed_alias_failures_total",
                           "anamed_alias_upstream_queries_total"};
    const char* helps[] = {"good upstream answers for the target", "failed lookups of the target",
                           "queries sent upstream for the target"};
    for (size_t i = 0; i < 3; ++i) {
        w.family(names[i], "counter", helps[i]);
        for (const auto& a : m.aliases)
            w.sample(names[i], "target=" + quoted(a.target),
                     i == 0   ? a.refreshes
                     : i == 1 ? a.failures
                              : a.upstream_queries);
    }
}

}  // namespace

std::string metrics_text(const CounterSnapshot& counters, const MetricsState& state) {
    Writer w;
    registry(w, counters);
    zone_counters(w, counters);
    control_plane(w, state);
    zones_and_aliases(w, state);
    return w.take();
}

}  // namespace anamed
