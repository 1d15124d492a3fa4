// What an operator sees of the process: systemd's notifications (READY, RELOADING,
// STOPPING, the watchdog), the metrics endpoint and the values it shows, and SIGHUP's reload
// of the configuration file.
#include <systemd/sd-daemon.h>

#include <algorithm>
#include <ctime>

#include "daemon.hpp"
#include "log.hpp"

namespace anamed {
namespace {

std::string config_key(std::string name) {
    if (name.empty() || name.back() != '.') name += '.';
    return lower_key(text_to_wire(name));
}

double unix_seconds(Clock::time_point t, Clock::time_point now) {
    const auto wall = std::chrono::system_clock::now() - (now - t);
    return std::chrono::duration<double>(wall.time_since_epoch()).count();
}

const char* state_name(AliasAnswer::State s) {
    switch (s) {
    case AliasAnswer::unresolved: return "unresolved";
    case AliasAnswer::resolved: return "resolved";
    case AliasAnswer::failed: return "failed";
    }
    return "unresolved";
}

}  // namespace

void Daemon::notify(const std::string& state) {
    // No NOTIFY_SOCKET (not started by systemd as Type=notify): sd_notify does nothing.
    if (sd_notify(0, state.c_str()) < 0) log_warning("sd_notify(" + state + ") failed");
}

void Daemon::start_watchdog() {
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0) watchdog_interval_ = std::chrono::microseconds(usec / 2);
}

void Daemon::watchdog() {
    if (watchdog_interval_.count() == 0) return;
    const auto now = Clock::now();
    if (now - watchdog_last_ < watchdog_interval_) return;
    watchdog_last_ = now;
    notify("WATCHDOG=1");
}

int Daemon::ops_poll_timeout_ms(int resolver_ms) const {
    int ms = resolver_ms < 0 ? 1000 : std::min(resolver_ms, 1000);  // metrics stay fresh
    if (watchdog_interval_.count() > 0)
        ms = std::min<int>(
            ms,
            int(std::chrono::duration_cast<std::chrono::milliseconds>(watchdog_interval_).count()));
    return ms;
}

bool Daemon::start_metrics() {
    if (cfg_.metrics_listen.empty()) return true;
    try {
        ListenAddr a;
        parse_listen_addr(cfg_.metrics_listen, a);
        update_metrics(true);
        metrics_ = std::make_unique<MetricsServer>(a, counter_sources(), metrics_board_,
                                                   &publisher_.zone_slots());
    } catch (const std::exception& e) {
        log_error(e.what());
        return false;
    }
    log_info("metrics on http://" + cfg_.metrics_listen + "/metrics");
    return true;
}

// The control plane's values for the next scrapes; at most once a second unless `now`.
void Daemon::update_metrics(bool now) {
    const auto t = Clock::now();
    if (!now && t - metrics_updated_ < std::chrono::seconds(1)) return;
    metrics_updated_ = t;
    auto m = std::make_shared<MetricsState>();
    m->version = ANAMED_VERSION;
    m->start_time = unix_seconds(started_, t);
    m->generation = publisher_.generation();
    m->snapshot_bytes = publisher_.live().memory();
    m->changes_applied = changes_applied_;
    m->journal_commits = journal_commits_;
    m->reloads = reloads_;
    const auto& mc = messages_.counters();
    m->axfr = mc.axfr;
    m->ixfr = mc.ixfr;
    m->transfers_refused = mc.transfers_refused;
    m->tsig_errors = mc.tsig_errors;
    m->publish = publisher_.latency();
    for (const Zone* z : store_.zones())
        m->zones.push_back({z->apex_text, z->serial(), uint64_t(z->nodes.size())});
    for (const TargetStatus& s : resolver_.status()) {
        MetricsState::AliasTarget a;
        a.target = s.target;
        a.state = state_name(s.state);
        if (s.last_success != Clock::time_point{}) a.last_success = unix_seconds(s.last_success, t);
        if (s.stale_since != Clock::time_point{})
            a.stale_seconds = std::chrono::duration<double>(t - s.stale_since).count();
        a.refreshes = s.refreshes;
        a.failures = s.failures;
        a.upstream_queries = s.upstream_queries;
        m->aliases.push_back(std::move(a));
    }
    metrics_board_.store(std::move(m));
}

// SIGHUP, as `knotc reload`: the configuration file again (zones added and removed, identity,
// log level, metrics address), then every zone file. A configuration that does not load
// changes nothing; the zone files are still re-read.
void Daemon::reload() {
    notify("RELOADING=1");
    ++reloads_;
    if (cfg_.source != "command line") try {
            Config next = load_config(cfg_.source);
            if (next.listen.empty()) next.listen = cfg_.listen;
            overlay_runtime_zones(next, false);
            validate_config(next);
            apply_config(std::move(next));
        } catch (const std::exception& e) {
            log_error(std::string(e.what()) + "; the configuration in use stays");
        }
    load_zones(file_zones(cfg_.zones));
    read_all_catalogs();
    sync_catalogs();
    publisher_.rebuild();
    log_info("snapshot " + std::to_string(publisher_.generation()) + " published");
    update_metrics(true);
    notify("READY=1");
}

void Daemon::apply_config(Config next) {
    std::vector<std::string> removed;
    for (const ZoneConfig& old : cfg_.zones) {
        const bool kept = std::any_of(next.zones.begin(), next.zones.end(), [&](const auto& z) {
            return config_key(z.name) == config_key(old.name);
        });
        if (!kept) removed.push_back(old.name);
    }
    for (const auto& name : removed) {
        store_.remove(name);
        log_info("zone " + name + " removed (no longer in " + next.source + ")");
    }
    if (next.listen != cfg_.listen)
        log_warning("listen: changed in " + next.source +
                    "; the addresses in use stay until anamed restarts");
    if (next.control_socket != cfg_.control_socket || next.journal != cfg_.journal ||
        next.workers != cfg_.workers || next.dpdk_enabled != cfg_.dpdk_enabled)
        log_warning("control:, journal:, workers: and dpdk: changes take effect on restart");
    if (next.upstreams != cfg_.upstreams || next.alias_require_ad != cfg_.alias_require_ad ||
        next.alias_cache != cfg_.alias_cache ||
        next.alias_stale_limit_s != cfg_.alias_stale_limit_s ||
        next.alias_refresh_min_s != cfg_.alias_refresh_min_s ||
        next.alias_refresh_max_s != cfg_.alias_refresh_max_s ||
        next.alias_query_timeout_ms != cfg_.alias_query_timeout_ms)
        log_warning("upstreams: and alias: changes take effect on restart");
    if (next.keys.size() != cfg_.keys.size() || next.remotes.size() != cfg_.remotes.size())
        log_warning("keys: and remotes: changes take effect on restart");
    set_log_level(next.log_level);
    publisher_.set_identity(make_identity(next.identity));
    publisher_.set_signing(next.zones);
    const bool metrics_moved = next.metrics_listen != cfg_.metrics_listen;
    // Kept as in use: what a reload cannot change.
    next.listen = cfg_.listen;
    next.control_socket = cfg_.control_socket;
    next.journal = cfg_.journal;
    next.workers = cfg_.workers;
    next.dpdk_enabled = cfg_.dpdk_enabled;
    next.dpdk = cfg_.dpdk;
    next.upstreams = cfg_.upstreams;
    next.alias_require_ad = cfg_.alias_require_ad;
    next.alias_cache = cfg_.alias_cache;
    next.alias_stale_limit_s = cfg_.alias_stale_limit_s;
    next.alias_refresh_min_s = cfg_.alias_refresh_min_s;
    next.alias_refresh_max_s = cfg_.alias_refresh_max_s;
    next.alias_query_timeout_ms = cfg_.alias_query_timeout_ms;
    cfg_ = std::move(next);
    if (metrics_moved) {
        metrics_.reset();
        start_metrics();
    }
}

}  // namespace anamed

namespace anamed {

void Daemon::open_alias_cache() {
    std::string path = cfg_.alias_cache;
    if (path.empty() && !cfg_.journal.empty()) path = cfg_.journal + "-alias";
    if (path.empty() || path == "none") return;
    try {
        alias_cache_ = std::make_unique<AliasCache>(path);
    } catch (const std::exception& e) {
        log_warning(std::string(e.what()) +
                    "; ALIAS answers are not kept across restarts (alias: cache: sets the path)");
    }
}

void Daemon::restore_aliases(const std::vector<std::string>& targets) {
    if (!alias_cache_) return;
    size_t skipped = 0;
    const auto saved = alias_cache_->load(&skipped);
    if (skipped > 0)
        log_warning("ALIAS cache " + alias_cache_->path() + ": " + std::to_string(skipped) +
                    " entries unreadable, ignored");
    const size_t n = resolver_.restore(saved, int64_t(std::time(nullptr)));
    if (n > 0)
        log_info("ALIAS cache " + alias_cache_->path() + ": " + std::to_string(n) +
                 " targets answer their saved addresses until refreshed");
    // Entries of targets no longer served go; the rest are rewritten as lookups succeed.
    alias_cache_->retain_only(targets);
}

void Daemon::save_aliases(bool now) {
    if (!alias_cache_) return;
    for (auto& [key, c] : resolver_.take_fresh()) alias_cache_->put(key, std::move(c));
    const auto t = Clock::now();
    if (!now && (alias_cache_->pending() == 0 || t - alias_saved_ < std::chrono::seconds(2)))
        return;
    alias_saved_ = t;
    const std::string err = now ? alias_cache_->sync() : alias_cache_->flush();
    if (!err.empty()) log_warning(err);
}

}  // namespace anamed
