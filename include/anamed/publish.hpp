// Snapshot publication: an atomic pointer plus quiescent-state-based reclamation (QSBR).
//
// Workers call online() before reading the current snapshot, quiescent() at the end of
// every loop iteration (they hold no snapshot reference there), and offline() before a
// blocking wait. The control plane swaps the pointer and frees the old snapshot only after
// every online worker has passed a quiescent point: no lock is ever shared with a worker.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <thread>

namespace anamed {

class Rcu {
public:
    static constexpr size_t max_readers = 256;
    static constexpr uint64_t offline_mark = ~uint64_t(0);

    int register_reader() {
        for (size_t i = 0; i < max_readers; ++i) {
            bool expected = false;
            if (slots_[i].used.compare_exchange_strong(expected, true)) {
                slots_[i].seen.store(offline_mark);
                return int(i);
            }
        }
        throw std::runtime_error("too many dataplane threads for the RCU table");
    }
    void unregister_reader(int id) {
        slots_[id].seen.store(offline_mark);
        slots_[id].used.store(false);
    }
    void quiescent(int id) { slots_[id].seen.store(epoch_.load()); }
    void online(int id) { slots_[id].seen.store(epoch_.load()); }
    void offline(int id) { slots_[id].seen.store(offline_mark); }

    // Waits until every reader has passed a quiescent point (or gone offline) after now.
    void synchronize() {
        const uint64_t target = epoch_.fetch_add(1) + 1;
        for (size_t i = 0; i < max_readers; ++i) {
            if (!slots_[i].used.load()) continue;
            while (slots_[i].seen.load() < target)
                std::this_thread::sleep_for(std::chrono::microseconds(50));
        }
    }

private:
    struct alignas(64) Slot {
        std::atomic<uint64_t> seen{offline_mark};
        std::atomic<bool> used{false};
    };
    std::atomic<uint64_t> epoch_{1};
    std::array<Slot, max_readers> slots_{};
};

// The published pointer. Readers: get(). Writer (control plane only): publish().
template <class T>
class Published {
public:
    explicit Published(Rcu& rcu) : rcu_(rcu) {}
    ~Published() { delete ptr_.load(); }
    const T* get() const { return ptr_.load(std::memory_order_seq_cst); }

    // Swaps in `next`, waits for the grace period, then frees the previous value.
    void publish(std::unique_ptr<const T> next) {
        std::unique_ptr<const T> old(ptr_.exchange(next.release()));
        rcu_.synchronize();
    }
    Rcu& rcu() { return rcu_; }

private:
    Rcu& rcu_;
    std::atomic<const T*> ptr_{nullptr};
};

}  // namespace anamed
