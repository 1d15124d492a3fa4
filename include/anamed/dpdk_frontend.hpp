// The DPDK frontend: queries arriving on DPDK ports are answered by respond() on the
// published snapshot without the kernel. One run-to-completion loop per worker lcore, one
// RX/TX queue pair per worker on every port; ARP, ND and echo answered in the dataplane;
// everything else goes to the kernel through an exception port (TAP).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "anamed/publish.hpp"
#include "anamed/response_guard.hpp"
#include "anamed/snapshot.hpp"
#include "anamed/stats.hpp"

namespace anamed {

// What the dataplane needs to know, in its own terms (the dataplane includes no
// control-plane header); the configuration file's `dpdk:` section fills it. Addresses are "ADDR" or
// "ADDR/PREFIX"; the prefix is only used for the exception interface's on-link route (default /24
// and /64).
struct DpdkPortOptions {
    std::string device;
    std::vector<std::string> addresses;
    std::string exception;  // DPDK device name of the TAP (or virtio-user) to the kernel
    std::string mac;        // empty: the device's own
    std::vector<unsigned> vlans;
};
struct DpdkOptions {
    std::vector<std::string> eal_args;
    unsigned workers = 1;
    std::vector<DpdkPortOptions> ports;
    unsigned exception_pps = 10000;  // per port and second, shared by the workers; 0 = no limit
    // UPDATE messages to the control plane: a limit of their own, outside exception_pps.
    unsigned update_pps = 200;
    const ZoneSlots* zone_slots = nullptr;  // the per-zone counters' names (telemetry)
    unsigned idle_sleep_us = 0;
    const GuardPolicy* guard = nullptr;  // rate limiting and cookies; null: neither
};

struct DpdkPortInfo {
    std::string device;
    uint16_t port_id = 0;
    int exception_port = -1;  // DPDK port id of the TAP, -1 for none
    std::string exception_iface;
};

class DpdkFrontend {
public:
    DpdkFrontend(Published<Snapshot>& snap, DpdkOptions opts);
    ~DpdkFrontend();
    DpdkFrontend(const DpdkFrontend&) = delete;
    DpdkFrontend& operator=(const DpdkFrontend&) = delete;

    // Initialises the EAL (call it after blocking signals: lcores inherit the mask), sets up
    // ports and queues, configures the exception interfaces, launches the workers.
    // Throws std::runtime_error naming what failed and what to check.
    void start();
    // Stops the workers, stops and closes every port. Idempotent.
    void stop();

    size_t workers() const;
    const std::vector<DpdkPortInfo>& ports() const;
    // One counter block per worker and port, labelled; empty before start().
    std::vector<CounterSource> counter_sources() const;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace anamed
