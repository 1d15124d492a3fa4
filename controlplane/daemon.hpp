// The control-plane thread: owns the zone store, the ALIAS resolver and the publisher;
// starts the frontends; runs one poll loop over signals and upstream sockets.
#pragma once

#include <memory>
#include <unordered_map>

#include "alias_resolver.hpp"
#include "anamed/kernel_frontend.hpp"
#include "anamed/publish.hpp"
#include "config.hpp"
#include "zone_store.hpp"

namespace anamed {

class Daemon {
public:
    explicit Daemon(Config cfg);
    ~Daemon();
    int run();  // returns the exit status

private:
    void rebuild();                                  // zones -> new snapshot, published whole
    void publish_aliases(const std::vector<std::string>& changed);  // swaps slots only

    Config cfg_;
    ZoneStore store_;
    AliasResolver resolver_;
    Rcu rcu_;
    Published<Snapshot> published_;
    const Snapshot* live_ = nullptr;  // what published_ holds; the control plane may swap its slots
    std::unordered_map<std::string, uint32_t> alias_slot_;  // target -> slot in live_
    uint64_t generation_ = 0;
};

AliasOptions alias_options(const Config& c);

}  // namespace anamed
