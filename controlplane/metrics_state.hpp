// The control plane's values for the metrics endpoint: built by the control thread into an
// immutable MetricsState and swapped in whole (MetricsBoard), so the HTTP thread reads a
// consistent set without ever waiting on the control loop, and the dataplane is not involved.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace anamed {

// A latency histogram with Prometheus' cumulative buckets, in seconds.
struct LatencyHistogram {
    static constexpr std::array<double, 8> bounds{0.0001, 0.0005, 0.001, 0.005,
                                                  0.01,   0.05,   0.1,   1.0};
    std::array<uint64_t, bounds.size()> counts{};  // observations <= bounds[i] (not cumulative)
    uint64_t count = 0;
    double sum = 0;

    void observe(double seconds) {
        for (size_t i = 0; i < bounds.size(); ++i)
            if (seconds <= bounds[i]) {
                ++counts[i];
                break;
            }
        ++count;
        sum += seconds;
    }
};

// How a snapshot change became visible to the workers.
enum class PublishKind : uint8_t { rebuild, alias, patch, count };
inline constexpr std::array<const char*, size_t(PublishKind::count)> publish_kind_names{
    "rebuild", "alias", "patch"};

struct MetricsState {
    struct Zone {
        std::string name;
        uint32_t serial = 0;
        uint64_t names = 0;
    };
    struct AliasTarget {
        std::string target;
        std::string state;         // unresolved, resolved, failed
        double last_success = 0;   // unix time of the last good answer, 0 = never
        double stale_seconds = 0;  // how long the served answer has been past its refresh
        uint64_t refreshes = 0, failures = 0, upstream_queries = 0;
    };
    std::string version;
    double start_time = 0;  // unix seconds
    uint64_t generation = 0;
    uint64_t snapshot_bytes = 0;
    uint64_t changes_applied = 0;
    uint64_t journal_commits = 0;
    uint64_t reloads = 0;
    uint64_t axfr = 0, ixfr = 0, transfers_refused = 0, tsig_errors = 0;
    std::array<LatencyHistogram, size_t(PublishKind::count)> publish{};
    std::vector<Zone> zones;
    std::vector<AliasTarget> aliases;
};

// The latest MetricsState: the control thread stores, the HTTP thread loads.
class MetricsBoard {
public:
    void store(std::shared_ptr<const MetricsState> s) { state_.store(std::move(s)); }
    std::shared_ptr<const MetricsState> load() const { return state_.load(); }

private:
    std::atomic<std::shared_ptr<const MetricsState>> state_{std::make_shared<MetricsState>()};
};

}  // namespace anamed
