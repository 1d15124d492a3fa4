#include "daemon.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cstring>

#include "compiler.hpp"
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

Daemon::Daemon(Config cfg) : cfg_(std::move(cfg)), resolver_(alias_options(cfg_)), published_(rcu_) {}
Daemon::~Daemon() = default;

void Daemon::rebuild() {
    const auto zones = store_.zones();
    resolver_.set_targets(alias_targets(zones), zones);
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
    published_.publish(std::move(snap));
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

int Daemon::run() {
    sigset_t sigs;
    sigemptyset(&sigs);
    for (int s : {SIGHUP, SIGTERM, SIGINT}) sigaddset(&sigs, s);
    pthread_sigmask(SIG_BLOCK, &sigs, nullptr);  // before any thread starts: they inherit it
    signal(SIGPIPE, SIG_IGN);
    const int sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);

    store_.load(cfg_.zones);
    if (store_.size() == 0) {
        log_error("no zone could be loaded; nothing to serve");
        return 1;
    }
    resolver_.set_targets(alias_targets(store_.zones()), store_.zones());
    resolver_.resolve_all(std::chrono::milliseconds(3 * cfg_.alias_query_timeout_ms));
    rebuild();

    std::vector<ListenAddr> addrs;
    for (const auto& l : cfg_.listen) {
        ListenAddr a;
        parse_listen_addr(l, a);
        addrs.push_back(a);
    }
    KernelFrontend frontend(published_,
                            FrontendOptions{cfg_.workers, cfg_.tcp_idle_timeout_ms, cfg_.tcp_max_connections});
    try {
        frontend.start(addrs);
    } catch (const std::exception& e) {
        log_error(std::string(e.what()) + "; is another server running there, or does the port need root?");
        return 1;
    }
    for (const auto& l : cfg_.listen) log_info("listening on " + l + " (UDP and TCP)");
    log_info("serving " + std::to_string(store_.size()) + " zones; SIGHUP reloads, SIGTERM stops");

    std::vector<pollfd> fds;
    while (true) {
        fds.assign(1, pollfd{sfd, POLLIN, 0});
        resolver_.poll_fds(fds);
        poll(fds.data(), fds.size(), resolver_.poll_timeout_ms());
        const auto changed = resolver_.process();
        if (!changed.empty()) publish_aliases(changed);
        signalfd_siginfo si;
        if (read(sfd, &si, sizeof si) != sizeof si) continue;
        if (si.ssi_signo == SIGHUP) {
            log_info("SIGHUP: reloading zones");
            store_.load(cfg_.zones);
            rebuild();
            log_info("snapshot " + std::to_string(generation_) + " published");
        } else {
            log_info(std::string("stopping on ") + strsignal(int(si.ssi_signo)));
            break;
        }
    }
    frontend.stop();
    close(sfd);
    log_info("stopped");
    return 0;
}

}  // namespace anamed
