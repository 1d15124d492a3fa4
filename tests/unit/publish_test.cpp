// The publication scheme: a reader never sees a snapshot freed under it.
#include "anamed/publish.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace anamed {
namespace {

constexpr int versions = 2000;
std::atomic<bool> destroyed[versions + 1];

struct Version {
    explicit Version(int g) : gen(g) {}
    int gen;
    ~Version() { destroyed[gen].store(true); }
};

TEST(Publish, ReadersNeverHoldAFreedSnapshot) {
    for (auto& d : destroyed) d.store(false);
    Rcu rcu;
    Published<Version> pub(rcu);
    pub.publish(std::make_unique<Version>(0));
    std::atomic<bool> stop{false};
    std::atomic<long> violations{0}, reads{0};
    std::atomic<int> ready{0};
    std::vector<std::thread> readers;
    for (int r = 0; r < 3; ++r) {
        readers.emplace_back([&] {
            const int id = rcu.register_reader();
            ready.fetch_add(1);
            while (!stop.load()) {
                rcu.online(id);
                for (int i = 0; i < 50; ++i) {
                    const Version* v = pub.get();
                    const int gen = v->gen;
                    for (int spin = 0; spin < 200; ++spin) {
                        asm volatile("" ::: "memory");
                    }
                    if (destroyed[gen].load()) violations.fetch_add(1);
                    reads.fetch_add(1);
                }
                rcu.quiescent(id);
                if (reads.load() % 7 == 0) {
                    rcu.offline(id);
                    std::this_thread::yield();
                    rcu.online(id);
                }
            }
            rcu.unregister_reader(id);
        });
    }
    while (ready.load() < 3 || reads.load() == 0) std::this_thread::yield();  // readers are live
    for (int g = 1; g <= versions; ++g) pub.publish(std::make_unique<Version>(g));
    stop.store(true);
    for (auto& t : readers) t.join();
    EXPECT_EQ(violations.load(), 0);
    EXPECT_GT(reads.load(), 0);
    for (int g = 0; g < versions; ++g) EXPECT_TRUE(destroyed[g].load()) << g;  // old ones are freed
    EXPECT_FALSE(destroyed[versions].load());
}

TEST(Publish, OfflineReadersDoNotBlockTheWriter) {
    Rcu rcu;
    const int id = rcu.register_reader();
    rcu.offline(id);
    Published<int> pub(rcu);
    pub.publish(std::make_unique<int>(1));
    pub.publish(std::make_unique<int>(2));  // would hang if the offline reader were waited for
    EXPECT_EQ(*pub.get(), 2);
    rcu.unregister_reader(id);
}

}  // namespace
}  // namespace anamed
