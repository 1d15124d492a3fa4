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

// The reader table grows by blocks that never move, so that any number of dataplane
// threads (workers x addresses, TCP, DPDK lcores: more than a fixed table on a large host)
// can register while the control plane scans it; a block, once published, stays.
class Rcu {
public:
    static constexpr size_t block_slots = 64;
    static constexpr size_t max_blocks = 1024;  // 65,536 readers
    static constexpr uint64_t offline_mark = ~uint64_t(0);

    Rcu() = default;
    Rcu(const Rcu&) = delete;
    Rcu& operator=(const Rcu&) = delete;
    ~Rcu() {
        for (auto& b : blocks_) delete b.load();
    }

    int register_reader() {
        for (size_t bi = 0; bi < max_blocks; ++bi) {
            Block* b = blocks_[bi].load();
            if (b == nullptr) {
                auto* fresh = new Block;
                if (blocks_[bi].compare_exchange_strong(b, fresh))
                    b = fresh;
                else
                    delete fresh;  // another thread added this block first
            }
            for (size_t i = 0; i < block_slots; ++i) {
                bool expected = false;
                if (b->slots[i].used.compare_exchange_strong(expected, true)) {
                    b->slots[i].seen.store(offline_mark);
                    return int(bi * block_slots + i);
                }
            }
        }
        throw std::runtime_error("more than 65536 dataplane threads");
    }
    void unregister_reader(int id) {
        slot(id).seen.store(offline_mark);
        slot(id).used.store(false);
    }
    void quiescent(int id) { slot(id).seen.store(epoch_.load()); }
    void online(int id) { slot(id).seen.store(epoch_.load()); }
    void offline(int id) { slot(id).seen.store(offline_mark); }

    // Waits until every reader has passed a quiescent point (or gone offline) after now.
    void synchronize() {
        const uint64_t target = epoch_.fetch_add(1) + 1;
        for (auto& bp : blocks_) {
            Block* b = bp.load();
            if (b == nullptr) break;
            for (auto& s : b->slots) {
                if (!s.used.load()) continue;
                while (s.seen.load() < target)
                    std::this_thread::sleep_for(std::chrono::microseconds(50));
            }
        }
    }

private:
    struct alignas(64) Slot {
        std::atomic<uint64_t> seen{offline_mark};
        std::atomic<bool> used{false};
    };
    struct Block {
        std::array<Slot, block_slots> slots{};
    };
    Slot& slot(int id) {
        return blocks_[size_t(id) / block_slots].load()->slots[size_t(id) % block_slots];
    }

    std::atomic<uint64_t> epoch_{1};
    std::array<std::atomic<Block*>, max_blocks> blocks_{};
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
