// The DPDK workers' token buckets (the exception path's, and UPDATE's own): a burst, then the
// rate, the clock read only when the bucket is empty, and separate buckets never sharing.
#include "token_bucket.hpp"

#include <gtest/gtest.h>

namespace anamed::test {
namespace {

constexpr uint64_t hz = 1000000;  // one "cycle" a microsecond

unsigned take_all(dp::TokenBucket& b, uint64_t now, unsigned tries) {
    unsigned n = 0;
    for (unsigned i = 0; i < tries; ++i) n += b.take([&] { return now; });
    return n;
}

TEST(TokenBucket, BurstThenRate) {
    dp::TokenBucket b;
    b.init(1000, hz, 0);  // 1000/s: a burst of 100 (100 ms)
    EXPECT_EQ(take_all(b, 0, 500), 100u);
    EXPECT_EQ(take_all(b, 0, 10), 0u);                   // no time passed: nothing more
    EXPECT_EQ(take_all(b, 10000, 500), 10u);             // 10 ms later: 10 more
    EXPECT_EQ(take_all(b, 10000 + hz * 5, 5000), 100u);  // a long pause refills only the burst
}

TEST(TokenBucket, SmallRatesKeepABurstOf32AndZeroIsUnlimited) {
    dp::TokenBucket b;
    b.init(10, hz, 0);
    EXPECT_EQ(take_all(b, 0, 100), 32u);
    EXPECT_EQ(take_all(b, 99999, 5), 0u);  // under a tenth of a second: not a whole token
    EXPECT_EQ(take_all(b, 100000, 5), 1u);
    dp::TokenBucket open;
    open.init(0, hz, 0);
    EXPECT_EQ(take_all(open, 0, 100000), 100000u);
}

TEST(TokenBucket, TheClockIsReadOnlyWhenEmpty) {
    dp::TokenBucket b;
    b.init(1000, hz, 0);
    unsigned reads = 0;
    for (int i = 0; i < 100; ++i) EXPECT_TRUE(b.take([&] { return ++reads, uint64_t(0); }));
    EXPECT_EQ(reads, 0u);
    EXPECT_FALSE(b.take([&] { return ++reads, uint64_t(0); }));
    EXPECT_EQ(reads, 1u);
}

// An UPDATE flood empties its own bucket; the exception path's keeps every token.
TEST(TokenBucket, AnUpdateFloodLeavesTheExceptionPathAlone) {
    dp::TokenBucket exception, update;
    exception.init(10000, hz, 0);
    update.init(200, hz, 0);
    unsigned updates = 0;
    for (uint64_t t = 0; t < hz; t += 10) updates += take_all(update, t, 1);  // 100,000 in 1 s
    EXPECT_LE(updates, 32u + 200u);
    EXPECT_GE(updates, 200u);
    EXPECT_EQ(take_all(exception, hz, 1000), 1000u);
}

}  // namespace
}  // namespace anamed::test
