// The anamed daemon: configuration, zones, the first snapshot, the frontends, and the
// control-plane loop (signals: SIGHUP reloads zones, SIGTERM/SIGINT stop).
#include <algorithm>
#include <iostream>

#include "compiler.hpp"
#include "config.hpp"
#include "daemon.hpp"
#include "journal_check.hpp"
#include "log.hpp"
#include "zone_store.hpp"

using namespace anamed;

namespace {

const char* usage =
    "usage: anamed [--config FILE]\n"
    "       anamed --zone NAME=FILE... [--listen ADDR:PORT...] [--upstream ADDR:PORT...]\n"
    "       anamed --check (--config FILE | --zone NAME=FILE...)\n"
    "       anamed --journal-check (--config FILE | --journal PATH)\n"
    "\n"
    "  --config FILE       YAML configuration, anamed.yaml(5) (default " ANAMED_DEFAULT_CONFIG
    ")\n"
    "  --zone NAME=FILE    serve zone NAME from master file FILE (repeatable)\n"
    "  --listen ADDR:PORT  UDP and TCP listen address, [v6]:port for IPv6 (repeatable;\n"
    "                      default 127.0.0.1:53 and [::1]:53)\n"
    "  --upstream ADDR:PORT recursive resolver for ALIAS targets (repeatable)\n"
    "  --control PATH      control socket for anamectl (mode 0600)\n"
    "  --journal PATH      durable journal of runtime changes (LMDB file)\n"
    "  --workers N         UDP workers per address (default: one per core)\n"
    "  --check             load and compile the zones, report, and exit\n"
    "  --journal-check     validate the journal, print what is damaged or lost, and exit\n"
    "                      (1 when it is damaged)\n"
    "  --journal-salvage   start even over a damaged journal: the damaged file is moved\n"
    "                      aside and its intact entries are kept (the rest is lost)\n";

[[noreturn]] void usage_error(const std::string& msg) {
    std::cerr << "anamed: " << msg << "\n\n" << usage;
    std::exit(2);
}

unsigned workers_arg(const std::string& v) {
    // The configuration file's limit for workers:, the same here.
    if (v.empty() || v.size() > 3 || v.find_first_not_of("0123456789") != std::string::npos ||
        std::stoul(v) > 256)
        usage_error(
            "--workers wants a number of UDP workers per address, 0 to 256 (0: one per core), got "
            "'" +
            v + "'");
    return unsigned(std::stoul(v));
}

struct Modes {
    bool check = false;
    bool journal_check = false;
    bool journal_salvage = false;
};

Config parse_args(int argc, char** argv, Modes& m) {
    Config c;
    std::string config_file;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage_error(a + " needs a value");
            return argv[++i];
        };
        if (a == "--config")
            config_file = value();
        else if (a == "--zone") {
            const std::string v = value();
            const size_t eq = v.find('=');
            if (eq == std::string::npos || eq == 0 || eq + 1 == v.size())
                usage_error("--zone wants NAME=FILE, got '" + v + "'");
            c.zones.push_back({v.substr(0, eq), v.substr(eq + 1)});
        } else if (a == "--listen")
            c.listen.push_back(value());
        else if (a == "--upstream")
            c.upstreams.push_back(value());
        else if (a == "--control")
            c.control_socket = value();
        else if (a == "--journal")
            c.journal = value();
        else if (a == "--workers")
            c.workers = workers_arg(value());
        else if (a == "--check")
            m.check = true;
        else if (a == "--journal-check")
            m.journal_check = true;
        else if (a == "--journal-salvage")
            m.journal_salvage = true;
        else if (a == "--help" || a == "-h") {
            std::cout << usage;
            std::exit(0);
        } else if (a == "--version") {
            std::cout << "anamed " ANAMED_VERSION "\n";
            std::exit(0);
        } else
            usage_error("unknown option " + a);
    }
    // Nothing to serve named on the command line: the installed configuration.
    if (config_file.empty() && c.zones.empty()) config_file = ANAMED_DEFAULT_CONFIG;
    if (!config_file.empty()) {
        if (!c.zones.empty() || !c.listen.empty() || !c.upstreams.empty() ||
            !c.control_socket.empty() || !c.journal.empty())
            usage_error(
                "--config cannot be combined with --zone/--listen/--upstream/--control/--journal");
        c = load_config(config_file);
    }
    if (c.listen.empty()) c.listen = {"127.0.0.1:53", "[::1]:53"};
    c.journal_salvage = m.journal_salvage;
    if ((m.journal_check || m.journal_salvage) && c.journal.empty())
        usage_error("--journal-check and --journal-salvage need a journal (journal: or --journal)");
    if (m.journal_check) return c;
    validate_config(c);
    return c;
}

// " (N zone records)": zones added or removed at runtime, among the entries.
std::string zone_records_note(const JournalReport& r) {
    const auto n = std::count_if(r.entries.begin(), r.entries.end(), [](const auto& e) {
        return journal_format::is_zone_record(e.batch);
    });
    return n == 0 ? "" : n == 1 ? " (1 zone record)" : " (" + std::to_string(n) + " zone records)";
}

// Prints the journal's state; 0 intact, 1 damaged.
int journal_check(const std::string& path) {
    const JournalReport r = inspect_journal(path);
    if (!r.intact()) {
        std::cout << r.describe() << "\nanamed --journal-salvage starts with the intact entries "
                  << "(the damaged file is kept beside it)\n";
        return 1;
    }
    std::cout << "journal " << path << ": "
              << (r.exists ? "intact, " + std::to_string(r.entries.size()) + " entries" +
                                 zone_records_note(r)
                           : "does not exist yet")
              << "\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    Modes modes;
    Config cfg;
    try {
        cfg = parse_args(argc, argv, modes);
    } catch (const std::exception& e) {
        std::cerr << "anamed: " << e.what() << "\n";
        return 2;
    }
    set_log_level(cfg.log_level);
    if (modes.journal_check) return journal_check(cfg.journal);
    if (modes.check) {
        ZoneStore store;
        const size_t failed = store.load(cfg.zones);
        if (store.size() > 0) {
            auto snap = compile(store.zones(), 1);
            log_info("compiled: " + std::to_string(snap->zones.size()) + " zones, " +
                     std::to_string(snap->aliases.size()) + " ALIAS targets, " +
                     std::to_string(snap->memory() >> 10) + " KiB");
        }
        return failed == 0 ? 0 : 1;
    }
    return Daemon(std::move(cfg)).run();
}
