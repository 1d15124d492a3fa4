#include "daemon.hpp"

#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <cstring>

#include "compiler.hpp"
#include "log.hpp"
#include "patcher.hpp"
#ifdef ANAMED_WITH_DPDK
#include "anamed/dpdk_frontend.hpp"  // issue 4
#endif

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
    return o;
}

Daemon::Daemon(Config cfg)
    : cfg_(std::move(cfg)), resolver_(alias_options(cfg_)), published_(rcu_), messages_(handler_context()) {}

MessageHandler::Context Daemon::handler_context() {
    MessageHandler::Context c;
    c.store = &store_;
    c.peers = &peers_;
    c.history = [this](const Zone& z) -> const ZoneHistory* {
        auto it = history_.find(z.apex);
        return it == history_.end() ? nullptr : &it->second;
    };
    c.snapshot = [this] { return live_; };
    c.alias_expander = [this](std::string_view owner, const RRset& alias, std::vector<Record>& out) {
        expand_alias(owner, alias, out);
    };
    return c;
}

void Daemon::expand_alias(std::string_view owner, const RRset& alias, std::vector<Record>& out) {
    if (alias.rdata.empty()) return;
    const auto answer = resolver_.answer(lower_key(alias.rdata[0]));
    if (!answer || answer->state != AliasAnswer::resolved) return;
    for (const std::string* rrs : {&answer->a, &answer->aaaa}) {
        // Records as the snapshot stores them: [owner placeholder][type][class][ttl][rdlen][rdata].
        const auto* p = reinterpret_cast<const uint8_t*>(rrs->data());
        for (size_t at = 0; at + rr_fixed <= rrs->size();) {
            const size_t rdlen = load16(p + at + 10);
            if (at + rr_fixed + rdlen > rrs->size()) break;
            out.push_back(Record{std::string(owner), load16(p + at + 2), std::min(load32(p + at + 6), alias.ttl),
                                 std::string(reinterpret_cast<const char*>(p + at + rr_fixed), rdlen)});
            at += rr_fixed + rdlen;
        }
    }
}
Daemon::~Daemon() = default;

void Daemon::rebuild(const std::vector<std::string>* targets) {
    const auto zones = store_.zones();
    resolver_.set_targets(targets ? *targets : alias_targets(zones), zones);
    const auto t0 = Clock::now();
    auto snap = compile(zones, ++generation_, [this](const std::string& t) { return resolver_.answer(t); });
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    size_t nodes = 0;
    for (const auto& z : snap->zones) nodes += z->nodes.size();
    log_info("snapshot " + std::to_string(generation_) + " compiled: " + std::to_string(snap->zones.size()) +
             " zones, " + std::to_string(nodes) + " nodes, " + std::to_string(snap->aliases.size()) +
             " ALIAS targets, " + std::to_string(snap->memory() >> 10) + " KiB, " + std::to_string(int(ms)) + " ms");
    alias_slot_.clear();
    for (uint32_t i = 0; i < snap->alias_targets.size(); ++i) alias_slot_[snap->alias_targets[i]] = i;
    live_ = snap.get();
    promote_ = live_->deferred_huge();
    published_.publish(std::move(snap));
    // A compile frees as much as it keeps (the previous table, the loader's batches): hand
    // that back to the system rather than keep it as heap nobody will use soon.
    malloc_trim(0);
}

// One pointer per changed target; the old answers are released after the grace period.
void Daemon::publish_aliases(const std::vector<std::string>& changed) {
    const auto t0 = Clock::now();
    std::vector<std::shared_ptr<const AliasAnswer>> retired;
    for (const auto& target : changed) {
        auto it = alias_slot_.find(target);
        if (it == alias_slot_.end()) continue;
        auto next = resolver_.answer(target);
        retired.push_back(std::move(live_->alias_owners[it->second]));
        live_->aliases[it->second].store(next.get());
        live_->alias_owners[it->second] = std::move(next);
    }
    const auto visible = Clock::now();
    rcu_.synchronize();
    retired.clear();
    log_info("published " + std::to_string(changed.size()) + " ALIAS change(s) in " +
             std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(visible - t0).count()) + " us");
}

size_t Daemon::load_zones(const std::vector<ZoneConfig>& zones, std::vector<std::string>* errors) {
    std::vector<std::string> loaded;
    const size_t failed_zones = store_.load(zones, &loaded, errors);
    if (!journal_) return failed_zones;
    // Replay: the journal holds every acknowledged change since the file was last flushed.
    size_t replayed = 0, failed = 0;
    journal_->for_each([&](const std::string& zone, const std::string& batch) {
        // Only over zones just read from their files (a zone that failed to load still holds
        // these changes in memory).
        if (std::find(loaded.begin(), loaded.end(), zone) == loaded.end()) return;
        std::vector<RecordChange> changes;
        try {
            for (const auto& j : nlohmann::json::parse(batch)) changes.push_back(change_from_json(j));
        } catch (const std::exception& e) {
            ++failed;
            return log_error("journal " + journal_->path() + ": unreadable entry for " + zone + ": " + e.what());
        }
        const ChangeOutcome out = store_.apply(changes, [] { return std::string(); });
        if (!out.error.empty()) {
            ++failed;
            log_error("journal " + journal_->path() + ": a change to " + zone + " no longer applies (" + out.error +
                      "); it is skipped");
        } else {
            ++replayed;
        }
    });
    if (replayed || failed)
        log_info("journal " + journal_->path() + ": replayed " + std::to_string(replayed) + " change batches" +
                 (failed ? ", " + std::to_string(failed) + " failed" : ""));
    return failed_zones;
}

ChangeOutcome Daemon::apply_changes(const std::vector<RecordChange>& changes, bool journal) {
    if (journal && !journal_)
        return ChangeOutcome{"runtime changes need a journal (journal: in the config, or --journal): "
                             "without one they would not survive a restart",
                             {}, {}};
    ChangeOutcome out = store_.apply(changes, [&]() -> std::string {
        if (!journal) return "";
        // One entry per zone, so that replaying or flushing a zone takes exactly its changes;
        // all in one transaction, so that the batch is durable whole or not at all.
        std::map<std::string, nlohmann::json> per_zone;
        for (const auto& c : changes) {
            const Zone* z = store_.find(c.zone);
            auto& batch = per_zone[z ? z->apex_text : c.zone];
            if (batch.is_null()) batch = nlohmann::json::array();
            batch.push_back(change_to_json(c));
        }
        std::vector<std::pair<std::string, std::string>> entries;
        for (const auto& [zone, batch] : per_zone) entries.emplace_back(zone, batch.dump());
        return journal_->append(entries);
    });
    if (out.error.empty()) {
        changes_applied_ += changes.size();
        publish_changes(out);
    }
    return out;
}

// Patches the changed names into the live snapshot; recompiles only for structural changes.
void Daemon::publish_changes(const ChangeOutcome& outcome) {
    const auto t0 = Clock::now();
    Patcher patcher(*live_, store_, alias_slot_);
    if (std::string why = patcher.plan(outcome); !why.empty()) {
        log_info("change needs a full recompile (" + why + ")");
        rebuild();
        return;
    }
    std::vector<std::unique_ptr<uint8_t[]>> retired;
    patcher.apply(retired);
    const auto visible = Clock::now();
    rcu_.synchronize();
    retired.clear();
    size_t names = 0;
    for (const auto& [zone, keys] : outcome.changed) names += keys.size();
    log_info("patched " + std::to_string(names) + " name(s) into snapshot " + std::to_string(generation_) + " in " +
             std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(visible - t0).count()) + " us");
    // In-zone ALIAS targets may have moved with the change.
    const auto moved = resolver_.reresolve_local(store_.zones());
    if (!moved.empty()) publish_aliases(moved);
}

void Daemon::answer_handoffs() {
    handoff_.drain_signal();
    std::unique_ptr<HandoffMessage> m;
    while (handoff_.pop(m)) frontend_->reply(*m, messages_.handle(*m));
}

int Daemon::run() {
    sigset_t sigs;
    sigemptyset(&sigs);
    for (int s : {SIGHUP, SIGTERM, SIGINT}) sigaddset(&sigs, s);
    pthread_sigmask(SIG_BLOCK, &sigs, nullptr);  // before any thread starts: they inherit it
    signal(SIGPIPE, SIG_IGN);
    const int sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);

    try {
        if (!cfg_.journal.empty()) journal_ = std::make_unique<Journal>(cfg_.journal);
        if (!cfg_.control_socket.empty())
            control_ = std::make_unique<ControlServer>(cfg_.control_socket, cfg_.control_group,
                                                       [this](const nlohmann::json& r) { return handle(r); });
    } catch (const std::exception& e) {
        log_error(e.what());
        return 1;
    }
    load_zones(cfg_.zones);
    if (store_.size() == 0) {
        log_error("no zone could be loaded; nothing to serve");
        return 1;
    }
    const std::vector<std::string> targets = alias_targets(store_.zones());
    resolver_.set_targets(targets, store_.zones());
    resolver_.resolve_all(std::chrono::milliseconds(3 * cfg_.alias_query_timeout_ms));
    rebuild(&targets);

    std::vector<ListenAddr> addrs;
    for (const auto& l : cfg_.listen) {
        ListenAddr a;
        parse_listen_addr(l, a);
        addrs.push_back(a);
    }
    frontend_ = std::make_unique<KernelFrontend>(
        published_, FrontendOptions{cfg_.workers, cfg_.tcp_idle_timeout_ms, cfg_.tcp_max_connections, &handoff_});
    try {
        frontend_->start(addrs);
    } catch (const std::exception& e) {
        log_error(std::string(e.what()) + "; is another server running there, or does the port need root?");
        return 1;
    }
    for (const auto& l : cfg_.listen) log_info("listening on " + l + " (UDP and TCP)");
#ifdef ANAMED_WITH_DPDK  // the DPDK dataplane, after the signal mask is set
    if (cfg_.dpdk.enabled) try {
            dpdk_ = std::make_shared<DpdkFrontend>(published_, cfg_.dpdk);
            dpdk_->start();
        } catch (const std::exception& e) {
            log_error(std::string("DPDK dataplane: ") + e.what());
            dpdk_.reset();
            frontend_->stop();
            return 1;
        }
#else
    if (cfg_.dpdk.enabled) log_warning("dpdk: ignored, this anamed was built without DPDK (ANAMED_DPDK=OFF)");
#endif
    if (control_) log_info("control socket " + cfg_.control_socket);
    log_info("serving " + std::to_string(store_.size()) + " zones; SIGHUP reloads, SIGTERM stops");

    std::vector<pollfd> fds;
    while (true) {
        fds.assign({pollfd{sfd, POLLIN, 0}, pollfd{handoff_.fd(), POLLIN, 0}});
        resolver_.poll_fds(fds);
        if (control_) control_->poll_fds(fds);
        const bool busy = (control_ && control_->busy()) || !promote_.empty();
        poll(fds.data(), fds.size(), busy ? 0 : resolver_.poll_timeout_ms());
        if (!promote_.empty()) {  // a 4 MB chunk per turn: the loop stays responsive
            huge_promote(promote_.back().first, promote_.back().second);
            promote_.pop_back();
        }
        const auto changed = resolver_.process();
        if (!changed.empty()) publish_aliases(changed);
        if (control_) control_->process();
        answer_handoffs();
        signalfd_siginfo si;
        if (read(sfd, &si, sizeof si) != sizeof si) continue;
        if (si.ssi_signo == SIGHUP) {
            log_info("SIGHUP: reloading zones");
            load_zones(cfg_.zones);
            rebuild();
            log_info("snapshot " + std::to_string(generation_) + " published");
        } else {
            log_info(std::string("stopping on ") + strsignal(int(si.ssi_signo)));
            break;
        }
    }
#ifdef ANAMED_WITH_DPDK
    if (dpdk_) dpdk_->stop();
#endif
    frontend_->stop();
    close(sfd);
    log_info("stopped");
    return 0;
}

}  // namespace anamed
