// The anamed daemon: configuration, zones, the first snapshot, the frontends, and the
// control-plane loop (signals: SIGHUP reloads zones, SIGTERM/SIGINT stop).
#include <signal.h>

#include <chrono>
#include <cstring>
#include <iostream>

#include "anamed/kernel_frontend.hpp"
#include "anamed/publish.hpp"
#include "compiler.hpp"
#include "config.hpp"
#include "log.hpp"
#include "zone_store.hpp"

using namespace anamed;

namespace {

const char* usage =
    "usage: anamed --config FILE\n"
    "       anamed --zone NAME=FILE... [--listen ADDR:PORT...] [--workers N]\n"
    "       anamed --check (--config FILE | --zone NAME=FILE...)\n"
    "\n"
    "  --config FILE       YAML configuration (see README)\n"
    "  --zone NAME=FILE    serve zone NAME from master file FILE (repeatable)\n"
    "  --listen ADDR:PORT  UDP and TCP listen address, [v6]:port for IPv6 (repeatable;\n"
    "                      default 127.0.0.1:53 and [::1]:53)\n"
    "  --workers N         UDP workers per address (default: one per core)\n"
    "  --check             load and compile the zones, report, and exit\n";

[[noreturn]] void usage_error(const std::string& msg) {
    std::cerr << "anamed: " << msg << "\n\n" << usage;
    std::exit(2);
}

Config parse_args(int argc, char** argv, bool& check) {
    Config c;
    std::string config_file;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage_error(a + " needs a value");
            return argv[++i];
        };
        if (a == "--config") config_file = value();
        else if (a == "--zone") {
            const std::string v = value();
            const size_t eq = v.find('=');
            if (eq == std::string::npos || eq == 0 || eq + 1 == v.size()) usage_error("--zone wants NAME=FILE, got '" + v + "'");
            c.zones.push_back({v.substr(0, eq), v.substr(eq + 1)});
        } else if (a == "--listen") c.listen.push_back(value());
        else if (a == "--workers") c.workers = unsigned(std::stoul(value()));
        else if (a == "--check") check = true;
        else if (a == "--help" || a == "-h") {
            std::cout << usage;
            std::exit(0);
        } else if (a == "--version") {
            std::cout << "anamed 0.1.0\n";
            std::exit(0);
        } else usage_error("unknown option " + a);
    }
    if (!config_file.empty()) {
        if (!c.zones.empty() || !c.listen.empty()) usage_error("--config cannot be combined with --zone/--listen");
        c = load_config(config_file);
    }
    if (c.listen.empty()) c.listen = {"127.0.0.1:53", "[::1]:53"};
    validate_config(c);
    return c;
}

std::unique_ptr<Snapshot> build(const ZoneStore& store, uint64_t generation) {
    const auto t0 = std::chrono::steady_clock::now();
    auto snap = compile(store.zones(), generation);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    size_t nodes = 0;
    for (const auto& z : snap->zones) nodes += z->nodes.size();
    log_info("snapshot " + std::to_string(generation) + " compiled: " + std::to_string(snap->zones.size()) +
             " zones, " + std::to_string(nodes) + " nodes, " + std::to_string(snap->memory() >> 10) + " KiB, " +
             std::to_string(int(ms)) + " ms");
    return snap;
}

}  // namespace

int main(int argc, char** argv) {
    bool check = false;
    Config cfg;
    try {
        cfg = parse_args(argc, argv, check);
    } catch (const std::exception& e) {
        std::cerr << "anamed: " << e.what() << "\n";
        return 2;
    }

    // Signals are taken synchronously by this (the control-plane) thread only.
    sigset_t sigs;
    sigemptyset(&sigs);
    for (int s : {SIGHUP, SIGTERM, SIGINT}) sigaddset(&sigs, s);
    pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
    signal(SIGPIPE, SIG_IGN);

    ZoneStore store;
    const size_t failed = store.load(cfg.zones);
    if (check) {
        if (store.size() > 0) build(store, 1);
        return failed == 0 ? 0 : 1;
    }
    if (store.size() == 0) {
        log_error("no zone could be loaded; nothing to serve");
        return 1;
    }

    Rcu rcu;
    Published<Snapshot> published(rcu);
    uint64_t generation = 1;
    published.publish(build(store, generation));

    std::vector<ListenAddr> addrs;
    for (const auto& l : cfg.listen) {
        ListenAddr a;
        parse_listen_addr(l, a);
        addrs.push_back(a);
    }
    KernelFrontend frontend(published, FrontendOptions{cfg.workers, cfg.tcp_idle_timeout_ms, cfg.tcp_max_connections});
    try {
        frontend.start(addrs);
    } catch (const std::exception& e) {
        log_error(std::string(e.what()) + "; is another server running there, or does the port need root?");
        return 1;
    }
    for (const auto& l : cfg.listen) log_info("listening on " + l + " (UDP and TCP)");
    log_info("serving " + std::to_string(store.size()) + " zones; SIGHUP reloads, SIGTERM stops");

    while (true) {
        int sig = 0;
        if (sigwait(&sigs, &sig) != 0) continue;
        if (sig == SIGHUP) {
            log_info("SIGHUP: reloading zones");
            store.load(cfg.zones);
            published.publish(build(store, ++generation));
            log_info("snapshot " + std::to_string(generation) + " published");
        } else {
            log_info(std::string("stopping on ") + strsignal(sig));
            break;
        }
    }
    frontend.stop();
    log_info("stopped");
    return 0;
}
