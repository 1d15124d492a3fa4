// The control-plane thread: owns the zone store, the ALIAS resolver and the publisher;
// starts the frontends; runs one poll loop over signals and upstream sockets.
#pragma once

#include <memory>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "alias_resolver.hpp"
#include "control_server.hpp"
#include "journal.hpp"
#include "anamed/kernel_frontend.hpp"
#include "anamed/publish.hpp"
#include "config.hpp"
#include "live_snapshot.hpp"
#include "zone_store.hpp"

namespace anamed {

class DpdkFrontend;

class Daemon {
public:
    explicit Daemon(Config cfg);
    ~Daemon();
    int run();  // returns the exit status

private:
    // zones -> new snapshot, published whole; `targets`: the zones' ALIAS targets when the
    // caller has just listed them (listing walks every name of every zone).
    void rebuild(const std::vector<std::string>* targets = nullptr);
    void publish_aliases(const std::vector<std::string>& changed);  // swaps slots only
    // Zone files, then the journal over the zones that loaded; returns how many failed.
    size_t load_zones(const std::vector<ZoneConfig>& zones, std::vector<std::string>* errors = nullptr);
    // Runtime changes: validated, journaled (when `journal`), applied, published.
    ChangeOutcome apply_changes(const std::vector<RecordChange>& changes, bool journal);
    void publish_changes(const ChangeOutcome& outcome);

    // control_commands.cpp: one function per anamectl command.
    nlohmann::json handle(const nlohmann::json& request);
    nlohmann::json cmd_status();
    nlohmann::json cmd_stats();
    nlohmann::json cmd_zone_list();
    nlohmann::json cmd_zone_check(const nlohmann::json& r);
    nlohmann::json cmd_zone_reload(const nlohmann::json& r);
    nlohmann::json cmd_zone_flush(const nlohmann::json& r);
    nlohmann::json cmd_change(const nlohmann::json& r);
    nlohmann::json cmd_record_show(const nlohmann::json& r);
    nlohmann::json cmd_alias_list(const nlohmann::json& r);
    nlohmann::json cmd_alias_refresh(const nlohmann::json& r);

    Config cfg_;
    ZoneStore store_;
    AliasResolver resolver_;
    Rcu rcu_;
    Published<Snapshot> published_;
    LiveSnapshot* live_ = nullptr;  // what published_ holds; the control plane may swap its slots
    std::unordered_map<std::string, uint32_t> alias_slot_;  // target -> slot in live_
    uint64_t generation_ = 0;
    // live_'s answer-block chunks still in small pages: promoted to huge pages one per turn
    // of the control loop once the snapshot serves (see huge_alloc).
    std::vector<std::pair<uint8_t*, size_t>> promote_;
    std::unique_ptr<KernelFrontend> frontend_;
    std::unique_ptr<Journal> journal_;
    std::unique_ptr<ControlServer> control_;
    std::shared_ptr<DpdkFrontend> dpdk_;  // shared_ptr: destroyible where the type is incomplete
    Clock::time_point started_ = Clock::now();
    Clock::time_point last_status_ = started_;  // for the query rates anamectl status shows
    std::vector<uint64_t> last_counts_;
    uint64_t changes_applied_ = 0;
};

AliasOptions alias_options(const Config& c);

}  // namespace anamed
