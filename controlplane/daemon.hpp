// The control-plane thread: owns the zone store, the ALIAS resolver and the publisher;
// starts the frontends; runs one poll loop over signals, upstream sockets and the control
// socket, whose commands (control_commands.cpp) it answers.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "alias_resolver.hpp"
#include "anamed/control_commands.hpp"
#include "anamed/kernel_frontend.hpp"
#include "anamed/stats.hpp"
#include "config.hpp"
#include "control_server.hpp"
#include "journal.hpp"
#include "message_handler.hpp"
#include "metrics_server.hpp"
#include "notifier.hpp"
#include "publisher.hpp"
#include "secondary.hpp"
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
    // answer_handoffs then syncs the journal once, publishes once and sends NOTIFY once
    // before it sends any reply (group commit). finish_updates() is false when the sync
    // failed: the replies to those updates are not sent.
    ChangeOutcome apply_update(const std::vector<WireChange>& changes, bool* storage_failed);
    bool finish_updates();
    // Every frontend's counter blocks.
    std::vector<CounterSource> counter_sources() const;
    void answer_handoffs();  // the messages the workers handed off (dispatch.hpp)
    // NOTIFY to each zone's notify: remotes (zones by presentation name, with new serials).
    void notify_secondaries(const std::map<std::string, uint32_t>& zones);
    MessageHandler::Context handler_context();
    // A transfer's records for an ALIAS RRset: the target's resolved A/AAAA.
    void expand_alias(std::string_view owner, const RRset& alias, std::vector<Record>& out);

    // daemon_ops.cpp: systemd, metrics, reload.
    void notify(const std::string& state);  // sd_notify; nothing when not under systemd
    void start_watchdog();
    void watchdog();  // WATCHDOG=1 when due
    int ops_poll_timeout_ms(int resolver_ms) const;
    bool start_metrics();
    void update_metrics(bool now);  // at most once a second unless now
    void reload();                  // SIGHUP
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
    // The configuration of zone `name` (any case, dot or not); null when not configured.
    const ZoneConfig* zone_config(const std::string& name) const;
    // Registers every configured secondary zone (after the zones were loaded).
    void start_secondaries();
    // A transfer's result checked, swapped into the store and published; "" or the error.
    std::string apply_transfer(const std::string& apex, TransferResult& r, const Remote& from);
    void save_copy(const std::string& apex, const std::string& file);
    // The configured zones that are files of ours (a secondary's copy only when it exists).
    std::vector<ZoneConfig> file_zones(const std::vector<ZoneConfig>& zones) const;

    Config cfg_;
    ZoneStore store_;
    AliasResolver resolver_;
    Publisher publisher_;
    int signal_fd_ = -1;
    HandoffQueue handoff_{1024};
    Peers peers_;
    Notifier notifier_;
    Secondary secondary_;
    MessageHandler messages_;
    std::unique_ptr<KernelFrontend> frontend_;
    std::unique_ptr<Journal> journal_;
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
