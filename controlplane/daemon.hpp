// The control-plane thread: owns the zone store, the ALIAS resolver and the publisher;
// starts the frontends; runs one poll loop over signals, upstream sockets and the control
// socket, whose commands (control_commands.cpp) it answers.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

#include "alias_expansion.hpp"
#include "alias_resolver.hpp"
#include "anamed/control_commands.hpp"
#include "anamed/kernel_frontend.hpp"
#include "anamed/stats.hpp"
#include "config.hpp"
#include "control_server.hpp"
#include "journal.hpp"
#include "journal_replay.hpp"
#include "message_handler.hpp"
#include "metrics_server.hpp"
#include "notifier.hpp"
#include "publisher.hpp"
#include "secondary.hpp"
#include "zone_copy_writer.hpp"
#include "zone_store.hpp"

namespace anamed {

class Daemon {
public:
    explicit Daemon(Config cfg);
    ~Daemon();
    int run();  // returns the exit status

    // A control command's handler; handler(c) is the one for every Command (unit-tested).
    using Handler = nlohmann::json (Daemon::*)(const nlohmann::json& request);
    static Handler handler(Command c);

private:
    // run()'s stages; each logs what failed and returns false when anamed cannot go on.
    bool open_control();
    bool load_and_compile();
    bool start_frontends();
    void serve();  // the control loop, until SIGTERM or SIGINT
    void shutdown();

    // Zone files, then the journal over the zones that loaded; returns how many failed.
    size_t load_zones(const std::vector<ZoneConfig>& zones,
                      std::vector<std::string>* errors = nullptr);
    // Runtime changes: validated, journaled (when `journal`), applied, published.
    ChangeOutcome apply_changes(const std::vector<RecordChange>& changes, bool journal);
    // Dynamic updates (update.hpp): journaled without waiting for the disk and applied;
    // answer_handoffs then publishes the round once, syncs the journal once and sends
    // NOTIFY once before it sends any reply (group commit: a reply still means durable; an
    // update may be visible before its reply). finish_updates() is false when the sync
    // failed: the replies to those updates are not sent.
    ChangeOutcome apply_update(const std::vector<WireChange>& changes, bool* storage_failed);
    bool finish_updates();
    void restore_from_disk(const std::map<std::string, uint32_t>& zones);
    // Every frontend's counter blocks.
    std::vector<CounterSource> counter_sources() const;
    void answer_handoffs();  // the messages the workers handed off (dispatch.hpp)
    // NOTIFY to each zone's notify: remotes (zones by presentation name, with new serials).
    void notify_secondaries(const std::map<std::string, uint32_t>& zones);
    MessageHandler::Context handler_context();
    // daemon_expand.cpp: alias: expand remotes (alias_expansion.hpp).
    void start_expansion();    // the zones with expanding remotes; listens to the publisher
    void forget_expansions();  // after a load: the replayed history's addresses are not known
    void annotate_expansions(const ChangeOutcome& out);  // a change's ALIAS records expanded
    void bump_expanded_zones();  // serial bumps for address changes, when the rate limit allows

    // daemon_ops.cpp: systemd, metrics, reload.
    void notify(const std::string& state);  // sd_notify; nothing when not under systemd
    void start_watchdog();
    void watchdog();  // WATCHDOG=1 when due
    int ops_poll_timeout_ms(int resolver_ms) const;
    bool start_metrics();
    void update_metrics(bool now);  // at most once a second unless now
    void reload();                  // SIGHUP
    // The ALIAS cache (alias_cache.hpp): opened beside the journal, read before the first
    // publish, the resolver's fresh answers saved at most every few seconds (now: at once).
    void open_alias_cache();
    void restore_aliases(const std::vector<std::string>& targets);
    void save_aliases(bool now);
    void apply_config(Config next);

    // control_commands.cpp: one function per command of the table.
    nlohmann::json handle(const nlohmann::json& request);
    nlohmann::json cmd_status(const nlohmann::json& r);
    nlohmann::json cmd_stats(const nlohmann::json& r);
    nlohmann::json cmd_zone_list(const nlohmann::json& r);
    nlohmann::json cmd_zone_check(const nlohmann::json& r);
    nlohmann::json cmd_zone_reload(const nlohmann::json& r);
    nlohmann::json cmd_zone_flush(const nlohmann::json& r);
    nlohmann::json cmd_change(const nlohmann::json& r);
    nlohmann::json cmd_record_show(const nlohmann::json& r);
    nlohmann::json cmd_alias_list(const nlohmann::json& r);
    nlohmann::json cmd_alias_show(const nlohmann::json& r);
    nlohmann::json cmd_alias_refresh(const nlohmann::json& r);
    nlohmann::json zones_json() const;
    // daemon_secondary.cpp: the secondary zones' commands and hooks.
    nlohmann::json cmd_zone_status(const nlohmann::json& r);
    nlohmann::json cmd_zone_refresh(const nlohmann::json& r);
    nlohmann::json cmd_zone_retransfer(const nlohmann::json& r);
    Secondary::Hooks secondary_hooks();
    // daemon_dnssec.cpp: DNSSEC keys (never their private halves).
    nlohmann::json cmd_zone_key_generate(const nlohmann::json& r);
    nlohmann::json cmd_zone_key_list(const nlohmann::json& r);
    nlohmann::json cmd_zone_ds(const nlohmann::json& r);
    nlohmann::json cmd_zone_key_activate(const nlohmann::json& r);
    nlohmann::json cmd_zone_key_retire(const nlohmann::json& r);
    nlohmann::json cmd_zone_key_remove(const nlohmann::json& r);
    // A key's new timing (KeyEvent) written to its files and the zone signed again.
    nlohmann::json set_key_timing(const nlohmann::json& r, int event);
    const ZoneConfig* key_zone(const nlohmann::json& r, nlohmann::json& err);
    // Registers every configured secondary zone (after the zones were loaded).
    void start_secondaries();
    // A transfer's result checked, swapped into the store and published; "" or the error.
    std::string apply_transfer(const std::string& apex, TransferResult& r, const Remote& from);
    // Queues the zone's copy for the writer thread; false when `now` is not asked and a write
    // is under way (the caller asks again later).
    bool save_copy(const std::string& apex, const std::string& file, bool now);
    // The configured zones that are files of ours (a secondary's copy only when it exists).
    std::vector<ZoneConfig> file_zones(const std::vector<ZoneConfig>& zones) const;

    // zone_admin.cpp: zones added and removed at runtime, and the catalogs' members.
    nlohmann::json cmd_zone_add(const nlohmann::json& r);
    nlohmann::json cmd_zone_remove(const nlohmann::json& r);
    struct ZoneStart {  // a zone checked and ready to serve (prepare_zone, start_zone)
        std::string apex;
        ZoneConfig zc;
        std::unique_ptr<Zone> zone;  // loaded from its file (or a secondary's copy)
        ZonePeers peers;
    };
    // "" or why the zone cannot be served (nothing changed); start_zone cannot fail.
    std::string prepare_zone(const ZoneConfig& zc, ZoneStart& out);
    void start_zone(ZoneStart s);
    void stop_zone(const std::string& apex);  // store, secondary timers, peers, config
    ZoneConfig* zone_config(const std::string& apex);
    void read_runtime_zones();  // the journal's zone records into zone_records_
    // The zone records over a configuration read from its file: zones added at runtime
    // joined, zones removed at runtime taken out (and, on a reload, the catalogs' members
    // kept). at_start: logs each, and forgets removals the file no longer needs.
    void overlay_runtime_zones(Config& c, bool at_start);
    // A zone record's zone joined to c.zones; "" or why it cannot be (then it is not).
    std::string runtime_zone(Config& c, const std::unordered_map<std::string, size_t>& in_file,
                             const std::string& name, const ZoneRecord& rec);
    void keep_catalog_members(Config& c);
    // catalog_sync.cpp
    void catalog_transferred(const std::string& apex);  // a secondary zone changed
    void read_all_catalogs();                           // at start and after a reload
    // What catalog_transferred and zone changes asked for; true when it published.
    bool sync_catalogs();
    bool interpret_catalog(const std::string& apex);        // true when members came or went
    uint32_t generate_catalog_zone(const ZoneConfig& cat);  // its new serial, or 0

    Config cfg_;
    std::map<std::string, ZoneRecord> zone_records_;  // by lower-case wire apex
    std::set<std::string> catalogs_to_read_;          // interpreted catalogs that changed
    bool catalogs_regenerate_ = false;
    std::map<std::string, std::vector<std::string>> generated_;  // catalog -> its members
    ZoneStore store_;
    AliasResolver resolver_;
    Publisher publisher_;
    int signal_fd_ = -1;
    HandoffQueue handoff_{1024};
    Peers peers_;
    Notifier notifier_;
    Secondary secondary_;
    ZoneCopyWriter copies_;  // the secondaries' copies on disk
    AliasExpansion expansion_;
    std::set<std::string> bumped_;  // zones bumped for their addresses since the start
    MessageHandler messages_;
    std::unique_ptr<KernelFrontend> frontend_;
    std::unique_ptr<Journal> journal_;
    std::unique_ptr<AliasCache> alias_cache_;
    Clock::time_point alias_saved_{};
    std::unique_ptr<ControlServer> control_;
    std::shared_ptr<DpdkFrontend> dpdk_;  // shared_ptr: its deleter exists only in DPDK builds
    Clock::time_point started_ = Clock::now();
    Clock::time_point last_status_ = started_;  // for the query rates anamectl status shows
    std::vector<uint64_t> last_counts_;
    uint64_t changes_applied_ = 0;
    uint64_t journal_commits_ = 0;
    uint64_t reloads_ = 0;
    MetricsBoard metrics_board_;
    std::unique_ptr<MetricsServer> metrics_;  // after frontend_: stopped before it
    Clock::time_point metrics_updated_{};
    std::chrono::microseconds watchdog_interval_{0};
    Clock::time_point watchdog_last_{};
    ChangeOutcome updates_pending_;  // applied, not yet synced and published
    bool sync_pending_ = false;
};

AliasOptions alias_options(const Config& c);

}  // namespace anamed
