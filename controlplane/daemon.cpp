#include "daemon.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "compiler.hpp"
#include "journal_replay.hpp"
#include "log.hpp"

namespace anamed {

AliasOptions alias_options(const Config& c) {
    AliasOptions o;
    for (const auto& u : c.upstreams) {
        ListenAddr a;
        parse_listen_addr(u, a);
        o.upstreams.push_back(a);
    }
    o.refresh_min = std::chrono::seconds(c.alias_refresh_min_s);
    o.refresh_max = std::chrono::seconds(c.alias_refresh_max_s);
    o.stale_limit = std::chrono::seconds(c.alias_stale_limit_s);
    o.query_timeout = std::chrono::milliseconds(c.alias_query_timeout_ms);
    o.require_ad = c.alias_require_ad;
    return o;
}

Daemon::Daemon(Config cfg)
    : cfg_(std::move(cfg)),
      resolver_(alias_options(cfg_)),
      publisher_(store_, resolver_),
      secondary_(secondary_hooks()),
      messages_(handler_context()) {}

MessageHandler::Context Daemon::handler_context() {
    MessageHandler::Context c;
    c.store = &store_;
    c.peers = &peers_;
    c.history = [this](const Zone& z) { return store_.history(z.apex); };
    c.snapshot = [this] { return &publisher_.live(); };
    c.signed_zone = [this](const std::string& apex) { return publisher_.signed_zone(apex); };
    c.alias_expander = [this](std::string_view owner, const RRset& alias,
                              std::vector<Record>& out) { expansion_.expand(owner, alias, out); };
    c.signed_alias_expander = [this](std::string_view owner, const RRset& alias,
                                     std::vector<Record>& out) {
        publisher_.expand_signed(owner, alias, out);
    };
    c.notify = [this](const std::string& apex, const sockaddr_storage& peer, const TsigKey* key) {
        return secondary_.on_notify(apex, peer, key);
    };
    c.apply_update = [this](const std::vector<WireChange>& changes, bool* storage_failed) {
        return apply_update(changes, storage_failed);
    };
    return c;
}

Daemon::~Daemon() {
    if (signal_fd_ >= 0) close(signal_fd_);
}

size_t Daemon::load_zones(const std::vector<ZoneConfig>& zones, std::vector<std::string>* errors) {
    std::map<std::string, uint32_t> before;
    for (const Zone* z : store_.zones()) before[z->apex_text] = z->serial();
    std::vector<std::string> loaded;
    const size_t failed = store_.load(zones, &loaded, errors);
    // The journal holds every acknowledged change since the file was last flushed.
    if (journal_) replay_journal(*journal_, store_, loaded);
    forget_expansions();
    std::map<std::string, uint32_t> changed;
    for (const Zone* z : store_.zones())
        if (auto it = before.find(z->apex_text); it == before.end() || it->second != z->serial())
            changed[z->apex_text] = z->serial();
    notify_secondaries(changed);
    return failed;
}

void Daemon::notify_secondaries(const std::map<std::string, uint32_t>& zones) {
    for (const auto& [name, serial] : zones) {
        const Zone* z = store_.find(name);
        const ZonePeers* zp = z ? peers_.zone(z->apex) : nullptr;
        if (zp == nullptr || zp->notify.empty()) continue;
        std::vector<NotifyTarget> targets;
        for (const Remote* r : zp->notify)
            targets.push_back(NotifyTarget{r->name, r->addr, r->key});
        notifier_.notify(soa_record(*z), targets);
    }
}

ChangeOutcome Daemon::apply_changes(const std::vector<RecordChange>& changes, bool journal) {
    if (journal && !journal_)
        return ChangeOutcome{
            "runtime changes need a journal (journal: in the config, or --journal): "
            "without one they would not survive a restart",
            {},
            {}};
    // All zones' entries in one transaction: the batch is durable whole or not at all.
    ChangeOutcome out = store_.apply(changes, [&]() -> std::string {
        return journal ? journal_->append(journal_entries(changes, store_)) : "";
    });
    if (out.error.empty()) {
        annotate_expansions(out);
        changes_applied_ += changes.size();
        if (journal) ++journal_commits_;
        publisher_.publish_changes(out);
        notify_secondaries(out.serials);
    }
    return out;
}

std::vector<CounterSource> Daemon::counter_sources() const {
    std::vector<CounterSource> all =
        frontend_ ? frontend_->counter_sources() : std::vector<CounterSource>{};
#ifdef ANAMED_WITH_DPDK
    if (dpdk_)
        for (auto& s : dpdk_->counter_sources()) all.push_back(std::move(s));
#endif
    return all;
}

void Daemon::answer_handoffs() {
    handoff_.drain_signal();
    std::unique_ptr<HandoffMessage> next;
    std::vector<std::pair<std::unique_ptr<HandoffMessage>, Reply>> done;
    std::vector<bool> applied;
    while (true) {
        // In rounds, so that a full queue still gets its replies at a steady pace. A transfer
        // that may stream is a round of its own, first and last: the updates before it are
        // durable and answered before it goes out, and nothing changes the zone between its
        // image being begun and filled (after its reply, so the stream starts meanwhile).
        done.clear();
        applied.clear();
        while (done.size() < 256 && (next || handoff_.pop(next))) {
            const bool streams = MessageHandler::may_stream(*next);
            if (streams && !done.empty()) break;  // the next round's
            const uint64_t before = changes_applied_;
            Reply r = messages_.handle(*next);
            applied.push_back(changes_applied_ != before);
            done.emplace_back(std::move(next), std::move(r));
            if (streams) break;
        }
        if (done.empty()) return;
        const bool durable = finish_updates();
        for (size_t i = 0; i < done.size(); ++i)
            if (durable || !applied[i]) frontend_->reply(*done[i].first, done[i].second);
        messages_.fill_images();
    }
}

ChangeOutcome Daemon::apply_update(const std::vector<WireChange>& changes, bool* storage_failed) {
    if (!journal_) {
        *storage_failed = true;
        return ChangeOutcome{"dynamic updates need a journal (journal: in the config)", {}, {}};
    }
    std::string journal_error;
    ChangeOutcome out = store_.apply_wire(changes, [&] {
        return journal_error = journal_->append_unsynced(journal_entries(changes));
    });
    if (!journal_error.empty()) *storage_failed = true;
    if (!out.error.empty() || out.serials.empty()) return out;
    annotate_expansions(out);
    changes_applied_ += changes.size();
    sync_pending_ = true;
    for (auto& [apex, keys] : out.changed) {
        auto& all = updates_pending_.changed[apex];
        all.insert(all.end(), keys.begin(), keys.end());
    }
    for (const auto& [zone, serial] : out.serials) updates_pending_.serials[zone] = serial;
    return out;
}

// The round's updates reach the dataplane first (visible while the disk works), then one
// fsync covers them all; only after it are their replies sent and secondaries told.
bool Daemon::finish_updates() {
    if (!sync_pending_) return true;
    sync_pending_ = false;
    for (auto& [apex, keys] : updates_pending_.changed) {
        std::sort(keys.begin(), keys.end());
        keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    }
    publisher_.publish_changes(updates_pending_);
    bool durable = true;
    if (const std::string err = journal_->sync(); !err.empty()) {
        log_error("journal " + journal_->path() + ": " + err +
                  "; the updates since the last sync are not acknowledged and are undone");
        durable = false;
        restore_from_disk(updates_pending_.serials);
    }
    if (durable) notify_secondaries(updates_pending_.serials);
    updates_pending_ = ChangeOutcome{};
    return durable;
}

// The zones go back to what their files and the journal hold: changes that were applied in
// memory but never reached the disk are served no longer.
void Daemon::restore_from_disk(const std::map<std::string, uint32_t>& zones) {
    std::vector<ZoneConfig> which;
    for (const ZoneConfig& zc : cfg_.zones)
        if (const Zone* z = store_.find(zc.name); z && zones.count(z->apex_text))
            which.push_back(zc);
    load_zones(file_zones(which));
    publisher_.rebuild();
}

int Daemon::run() {
    sigset_t sigs;
    sigemptyset(&sigs);
    for (int s : {SIGHUP, SIGTERM, SIGINT}) sigaddset(&sigs, s);
    pthread_sigmask(SIG_BLOCK, &sigs, nullptr);  // before any thread starts: they inherit it
    signal(SIGPIPE, SIG_IGN);
    signal_fd_ = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
    set_log_level(cfg_.log_level);
    publisher_.set_identity(make_identity(cfg_.identity));
    publisher_.set_signing(cfg_.zones);
    publisher_.set_zone_slot_reset([this](uint16_t slot) {
        for (const CounterSource& s : counter_sources()) s.block->reset_zone(slot);
    });
    if (!open_control() || !load_and_compile() || !start_frontends()) return 1;
    if (!start_metrics()) {
        shutdown();
        return 1;
    }
    start_watchdog();
    notify("READY=1\nSTATUS=serving " + std::to_string(store_.size()) + " zones");
    serve();
    notify("STOPPING=1");
    shutdown();
    return 0;
}

// The journal and the control socket, before anything slow: a bad path fails at once.
bool Daemon::open_control() {
    try {
        if (!cfg_.journal.empty())
            journal_ = std::make_unique<Journal>(cfg_.journal, cfg_.journal_salvage);
        read_runtime_zones();
        overlay_runtime_zones(cfg_, true);
        build_peers(cfg_, peers_);
        start_expansion();
        open_alias_cache();
        if (!cfg_.control_socket.empty())
            control_ = std::make_unique<ControlServer>(
                cfg_.control_socket, cfg_.control_group,
                [this](const nlohmann::json& r) { return handle(r); });
    } catch (const std::exception& e) {
        log_error(e.what());
        return false;
    }
    return true;
}

// Zones and journal, the ALIAS targets resolved once (bounded), the first snapshot.
bool Daemon::load_and_compile() {
    load_zones(file_zones(cfg_.zones));
    start_secondaries();
    read_all_catalogs();
    sync_catalogs();
    if (store_.size() == 0 && secondary_.apexes().empty()) {
        if (!cfg_.zones.empty() || zone_records_.empty()) {
            log_error("no zone could be loaded; nothing to serve");
            return false;
        }
        log_warning(
            "every zone was removed with anamectl zone remove: serving none until "
            "anamectl zone add");
    }
    const std::vector<std::string> targets = alias_targets(store_.zones());
    resolver_.set_targets(targets, store_.zones());
    restore_aliases(targets);
    resolver_.resolve_all(std::chrono::milliseconds(3 * cfg_.alias_query_timeout_ms));
    publisher_.rebuild(&targets);
    return true;
}

bool Daemon::start_frontends() {
    std::vector<ListenAddr> addrs;
    for (const auto& l : cfg_.listen) {
        ListenAddr a;
        parse_listen_addr(l, a);
        addrs.push_back(a);
    }
    FrontendOptions fo;
    fo.udp_workers = cfg_.workers;
    fo.handoff = &handoff_;
    fo.guard = &cfg_.guard;
    fo.udp_rcvbuf = cfg_.udp_rcvbuf;
    fo.tcp = cfg_.tcp;
    frontend_ = std::make_unique<KernelFrontend>(publisher_.published(), fo);
    try {
        frontend_->start(addrs);
    } catch (const std::exception& e) {
        log_error(std::string(e.what()) +
                  "; is another server running there, or does the port need root?");
        return false;
    }
    for (const auto& l : cfg_.listen) log_info("listening on " + l + " (UDP and TCP)");
    if (cfg_.guard.rrl.enabled)
        log_info("response rate limiting: " + std::to_string(cfg_.guard.rrl.rate) +
                 " responses/s per class, name and /" + std::to_string(cfg_.guard.rrl.v4_prefix) +
                 " (IPv4) or /" + std::to_string(cfg_.guard.rrl.v6_prefix) + " (IPv6), slip " +
                 std::to_string(cfg_.guard.rrl.slip));
    if (cfg_.guard.cookies.enabled)
        log_info(std::string("DNS cookies on") +
                 (cfg_.guard.cookies.has_previous ? " (the previous secret still accepted)" : ""));
#ifdef ANAMED_WITH_DPDK  // after the signal mask is set: the lcores inherit it
    if (cfg_.dpdk_enabled) try {
            cfg_.dpdk.guard = &cfg_.guard;
            cfg_.dpdk.zone_slots = &publisher_.zone_slots();
            dpdk_ = std::make_shared<DpdkFrontend>(publisher_.published(), cfg_.dpdk);
            dpdk_->start();
        } catch (const std::exception& e) {
            log_error(std::string("DPDK dataplane: ") + e.what());
            dpdk_.reset();
            frontend_->stop();
            return false;
        }
#else
    if (cfg_.dpdk_enabled)
        log_warning("dpdk: ignored, this anamed was built without DPDK (ANAMED_DPDK=OFF)");
#endif
    if (control_) log_info("control socket " + cfg_.control_socket);
    log_info("serving " + std::to_string(store_.size()) + " zones; SIGHUP reloads, SIGTERM stops");
    return true;
}

void Daemon::serve() {
    std::vector<pollfd> fds;
    while (true) {
        fds.assign({pollfd{signal_fd_, POLLIN, 0}, pollfd{handoff_.fd(), POLLIN, 0}});
        resolver_.poll_fds(fds);
        if (control_) control_->poll_fds(fds);
        notifier_.poll_fds(fds);
        secondary_.poll_fds(fds);
        const bool busy = (control_ && control_->busy()) || publisher_.promoting();
        int timeout = resolver_.poll_timeout_ms();
        if (const int n = notifier_.poll_timeout_ms(); n >= 0 && (timeout < 0 || n < timeout))
            timeout = n;
        if (const int n = secondary_.poll_timeout_ms(); n >= 0 && (timeout < 0 || n < timeout))
            timeout = n;
        if (const int n = expansion_.poll_timeout_ms(Clock::now());
            n >= 0 && (timeout < 0 || n < timeout))
            timeout = n;
        if (const int n = publisher_.poll_timeout_ms(); n >= 0 && (timeout < 0 || n < timeout))
            timeout = n;
        poll(fds.data(), fds.size(), busy ? 0 : ops_poll_timeout_ms(timeout));
        watchdog();
        publisher_.promote_step();  // one chunk per turn: the loop stays responsive
        const auto changed = resolver_.process();
        if (!changed.empty()) publisher_.publish_aliases(changed);
        publisher_.process();
        save_aliases(false);
        if (control_) control_->process();
        answer_handoffs();
        bump_expanded_zones();
        notifier_.process();
        secondary_.process();
        sync_catalogs();
        update_metrics(!changed.empty());
        signalfd_siginfo si;
        if (read(signal_fd_, &si, sizeof si) != sizeof si) continue;
        if (si.ssi_signo != SIGHUP) {
            log_info(std::string("stopping on ") + strsignal(int(si.ssi_signo)));
            return;
        }
        log_info("SIGHUP: reloading zones and the configuration");
        reload();
    }
}

void Daemon::shutdown() {
    save_aliases(true);
    // The secondaries' copies hold the last serial transferred: a restart serves it at once.
    secondary_.save_pending();
    copies_.wait();
    metrics_.reset();  // it reads the frontends' counters
#ifdef ANAMED_WITH_DPDK
    if (dpdk_) dpdk_->stop();
#endif
    frontend_->stop();
    log_info("stopped");
}

}  // namespace anamed
