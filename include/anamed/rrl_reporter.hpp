// Turns the rate limiters' events into log lines, off the answer path: a thread that drains
// every worker's event ring twice a second and writes one line when a client prefix starts
// being limited (in any class, on any worker) and one when none of its buckets limits any
// more, with how many responses were dropped or slipped meanwhile.
#pragma once

#include <algorithm>
#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "anamed/rrl.hpp"

namespace anamed {

class RrlReporter {
public:
    RrlReporter() = default;
    ~RrlReporter();
    RrlReporter(const RrlReporter&) = delete;
    RrlReporter& operator=(const RrlReporter&) = delete;

    // A table shared by several workers is added once, whoever adds it.
    void add(RrlTable* t) {
        if (std::find(tables_.begin(), tables_.end(), t) == tables_.end()) tables_.push_back(t);
    }
    void start();
    void stop();
    // One pass over the rings (the thread's work; tests call it directly).
    void drain();

private:
    struct Limiting {
        std::string prefix;
        unsigned buckets = 0;  // buckets limiting, over all workers
        uint64_t limited = 0;
        std::string classes;
    };
    std::vector<RrlTable*> tables_;
    std::map<uint32_t, std::pair<std::string, unsigned>> tags_;  // tag -> prefix, workers
    std::map<std::string, Limiting> prefixes_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

std::string prefix_text(const ClientAddr& a, unsigned bits);

}  // namespace anamed
