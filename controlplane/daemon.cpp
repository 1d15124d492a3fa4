#include "daemon.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

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
    return o;
}

Daemon::Daemon(Config cfg)
    : cfg_(std::move(cfg)),
      resolver_(alias_options(cfg_)),
      publisher_(store_, resolver_),
      messages_(handler_context()) {}

MessageHandler::Context Daemon::handler_context() {
    MessageHandler::Context c;
    c.store = &store_;
    c.peers = &peers_;
    c.history = [this](const Zone& z) -> const ZoneHistory* {
        auto it = history_.find(z.apex);
        return it == history_.end() ? nullptr : &it->second;
    };
    c.snapshot = [this] { return &publisher_.live(); };
    c.alias_expander = [this](std::string_view owner, const RRset& alias,
                              std::vector<Record>& out) { expand_alias(owner, alias, out); };
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
            out.push_back(Record{
                std::string(owner), load16(p + at + 2), std::min(load32(p + at + 6), alias.ttl),
                std::string(reinterpret_cast<const char*>(p + at + rr_fixed), rdlen)});
            at += rr_fixed + rdlen;
        }
    }
}

Daemon::~Daemon() {
    if (signal_fd_ >= 0) close(signal_fd_);
}

size_t Daemon::load_zones(const std::vector<ZoneConfig>& zones, std::vector<std::string>* errors) {
    std::vector<std::string> loaded;
    const size_t failed = store_.load(zones, &loaded, errors);
    // The journal holds every acknowledged change since the file was last flushed.
    if (journal_) replay_journal(*journal_, store_, loaded);
    return failed;
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
        changes_applied_ += changes.size();
        publisher_.publish_changes(out);
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
    std::unique_ptr<HandoffMessage> m;
    while (handoff_.pop(m)) frontend_->reply(*m, messages_.handle(*m));
}

int Daemon::run() {
    sigset_t sigs;
    sigemptyset(&sigs);
    for (int s : {SIGHUP, SIGTERM, SIGINT}) sigaddset(&sigs, s);
    pthread_sigmask(SIG_BLOCK, &sigs, nullptr);  // before any thread starts: they inherit it
    signal(SIGPIPE, SIG_IGN);
    signal_fd_ = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
    if (!open_control() || !load_and_compile() || !start_frontends()) return 1;
    serve();
    shutdown();
    return 0;
}

// The journal and the control socket, before anything slow: a bad path fails at once.
bool Daemon::open_control() {
    try {
        if (!cfg_.journal.empty())
            journal_ = std::make_unique<Journal>(cfg_.journal, cfg_.journal_salvage);
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
    load_zones(cfg_.zones);
    if (store_.size() == 0) {
        log_error("no zone could be loaded; nothing to serve");
        return false;
    }
    const std::vector<std::string> targets = alias_targets(store_.zones());
    resolver_.set_targets(targets, store_.zones());
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
    frontend_ = std::make_unique<KernelFrontend>(
        publisher_.published(), FrontendOptions{cfg_.workers, cfg_.tcp_idle_timeout_ms,
                                                cfg_.tcp_max_connections, &handoff_});
    try {
        frontend_->start(addrs);
    } catch (const std::exception& e) {
        log_error(std::string(e.what()) +
                  "; is another server running there, or does the port need root?");
        return false;
    }
    for (const auto& l : cfg_.listen) log_info("listening on " + l + " (UDP and TCP)");
#ifdef ANAMED_WITH_DPDK  // after the signal mask is set: the lcores inherit it
    if (cfg_.dpdk_enabled) try {
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
        const bool busy = (control_ && control_->busy()) || publisher_.promoting();
        poll(fds.data(), fds.size(), busy ? 0 : resolver_.poll_timeout_ms());
        publisher_.promote_step();  // one chunk per turn: the loop stays responsive
        const auto changed = resolver_.process();
        if (!changed.empty()) publisher_.publish_aliases(changed);
        if (control_) control_->process();
        answer_handoffs();
        signalfd_siginfo si;
        if (read(signal_fd_, &si, sizeof si) != sizeof si) continue;
        if (si.ssi_signo != SIGHUP) {
            log_info(std::string("stopping on ") + strsignal(int(si.ssi_signo)));
            return;
        }
        log_info("SIGHUP: reloading zones");
        load_zones(cfg_.zones);
        publisher_.rebuild();
        log_info("snapshot " + std::to_string(publisher_.generation()) + " published");
    }
}

void Daemon::shutdown() {
#ifdef ANAMED_WITH_DPDK
    if (dpdk_) dpdk_->stop();
#endif
    frontend_->stop();
    log_info("stopped");
}

}  // namespace anamed
