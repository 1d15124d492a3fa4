// The response rate limiter: buckets per class, name and prefix; slip; exemptions; fixed
// memory under many sources; start/end events; and the guard that frontends call.
#include "anamed/rrl.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "anamed/response_guard.hpp"
#include "anamed/rrl_reporter.hpp"
#include "test_util.hpp"

namespace anamed::test {
namespace {

ClientAddr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    ClientAddr x;
    x.len = 4;
    x.bytes[0] = a, x.bytes[1] = b, x.bytes[2] = c, x.bytes[3] = d;
    return x;
}

struct Tally {
    unsigned pass = 0, drop = 0, slip = 0;
};
Tally run(RrlTable& t, const ClientAddr& a, RrlClass c, uintptr_t name, unsigned n, uint32_t now) {
    Tally r;
    for (unsigned i = 0; i < n; ++i) {
        switch (t.check(a, c, name, now)) {
        case RrlTable::Verdict::pass: ++r.pass; break;
        case RrlTable::Verdict::drop: ++r.drop; break;
        case RrlTable::Verdict::slip: ++r.slip; break;
        }
    }
    return r;
}

// Both kinds of table (rrl.hpp) behave the same for one worker.
class RrlKinds : public ::testing::TestWithParam<RrlTableKind> {
protected:
    RrlConfig config() const {
        RrlConfig cfg;
        cfg.enabled = true;
        cfg.table = GetParam();
        return cfg;
    }
};
INSTANTIATE_TEST_SUITE_P(Tables, RrlKinds,
                         ::testing::Values(RrlTableKind::per_worker, RrlTableKind::shared),
                         [](const auto& info) {
                             return info.param == RrlTableKind::shared ? "shared" : "per_worker";
                         });

TEST_P(RrlKinds, RateThenSlipEveryNth) {
    RrlConfig cfg = config();
    cfg.rate = 10;
    cfg.slip = 3;
    RrlTable t(cfg);
    const Tally r = run(t, v4(198, 51, 100, 1), RrlClass::positive, 1, 100, 5000);
    EXPECT_EQ(r.pass, 10u);
    EXPECT_EQ(r.slip, 30u);  // every third of the 90 limited
    EXPECT_EQ(r.drop, 60u);
    // Half a second later, half the rate again.
    EXPECT_EQ(run(t, v4(198, 51, 100, 1), RrlClass::positive, 1, 100, 5500).pass, 5u);
}

TEST_P(RrlKinds, BucketsArePerPrefixClassAndName) {
    RrlConfig cfg = config();
    cfg.rate = 5;
    cfg.slip = 0;
    RrlTable t(cfg);
    // The whole /24 shares one bucket: spoofed sources in it do not multiply the rate.
    unsigned passed = 0;
    for (unsigned i = 0; i < 200; ++i)
        passed += run(t, v4(198, 51, 100, uint8_t(i)), RrlClass::any, 7, 1, 1000).pass;
    EXPECT_EQ(passed, 5u);
    EXPECT_EQ(run(t, v4(198, 51, 101, 1), RrlClass::any, 7, 10, 1000).pass, 5u);  // next /24
    EXPECT_EQ(run(t, v4(198, 51, 100, 1), RrlClass::any, 8, 10, 1000).pass, 5u);  // next name
    EXPECT_EQ(run(t, v4(198, 51, 100, 1), RrlClass::nxdomain, 7, 10, 1000).pass, 5u);
}

TEST_P(RrlKinds, ExemptPrefixesAreNeverLimited) {
    RrlConfig cfg = config();
    cfg.rate = 1;
    RrlPrefix ex;
    ex.addr = v4(192, 0, 2, 0);
    ex.bits = 24;
    cfg.exempt.push_back(ex);
    RrlTable t(cfg);
    EXPECT_EQ(run(t, v4(192, 0, 2, 9), RrlClass::positive, 1, 50, 1000).pass, 50u);
    EXPECT_EQ(run(t, v4(192, 0, 3, 9), RrlClass::positive, 1, 50, 1000).pass, 1u);
}

TEST_P(RrlKinds, ManySourcesStayInFixedMemoryAndKeepLimiting) {
    RrlConfig cfg = config();
    cfg.rate = 2;
    cfg.slip = 0;
    cfg.table_size = 4096;
    RrlTable t(cfg);
    const size_t bytes = t.memory_bytes();
    EXPECT_EQ(bytes, 4096u * 16);
    // 1M distinct /24s, once each: every one is new, none may be limited wrongly.
    unsigned passed = 0;
    for (uint32_t i = 0; i < 1000000; ++i)
        passed += run(t, v4(uint8_t(1 + (i >> 16)), uint8_t(i >> 8), uint8_t(i), 0), RrlClass::any,
                      1, 1, 1000)
                      .pass;
    EXPECT_EQ(passed, 1000000u);
    EXPECT_EQ(t.memory_bytes(), bytes);
    // A flood from one /24 amid them is still held to its rate.
    EXPECT_EQ(run(t, v4(203, 0, 113, 5), RrlClass::any, 1, 1000, 1000).pass, 2u);
}

TEST_P(RrlKinds, EventsMarkStartAndEndAndTheReporterAggregatesByPrefix) {
    RrlConfig cfg = config();
    cfg.rate = 4;
    RrlTable a(cfg), b(cfg);
    run(a, v4(198, 51, 100, 1), RrlClass::positive, 1, 20, 1000);
    run(b, v4(198, 51, 100, 2), RrlClass::positive, 1, 20, 1000);
    RrlEvent e;
    ASSERT_TRUE(a.pop_event(e));
    EXPECT_TRUE(e.start);
    EXPECT_EQ(prefix_text(e.prefix, e.bits), "198.51.100.0/24");
    EXPECT_FALSE(a.pop_event(e));  // one event, not one per limited response
    // A quiet second: the bucket fills, and the next response ends the limiting.
    run(a, v4(198, 51, 100, 1), RrlClass::positive, 1, 1, 2500);
    ASSERT_TRUE(a.pop_event(e));
    EXPECT_FALSE(e.start);
    EXPECT_EQ(e.limited, 16u);
    RrlReporter rep;
    rep.add(&a);
    rep.add(&b);
    rep.drain();  // logs once for the prefix; must not crash on unmatched ends
}

// A per-worker table allows its share of the rate; a shared one the whole rate to all
// workers together, exactly, however their checks interleave.
TEST(Rrl, PerWorkerTablesSplitTheRateASharedOneHoldsItAcrossThreads) {
    RrlConfig cfg;
    cfg.enabled = true;
    cfg.rate = 1000;
    cfg.slip = 0;
    RrlTable per_worker(cfg, 2);
    EXPECT_EQ(run(per_worker, v4(198, 51, 100, 1), RrlClass::positive, 1, 5000, 1000).pass, 500u);

    cfg.table = RrlTableKind::shared;
    RrlTable shared(cfg, 2);
    EXPECT_TRUE(shared.shared());
    // The bucket exists before the threads start: two workers taking over the same free
    // bucket at the same instant may let one response more through (rrl.hpp).
    EXPECT_EQ(run(shared, v4(198, 51, 100, 1), RrlClass::positive, 1, 1, 1000).pass, 1u);
    std::atomic<unsigned> passed{1}, limited{0};
    std::vector<std::thread> workers;
    for (int w = 0; w < 2; ++w)
        workers.emplace_back([&, w] {
            // The same /24 (as RSS spreads one source's queries over the workers).
            const Tally r =
                run(shared, v4(198, 51, 100, uint8_t(w)), RrlClass::positive, 1, 20000, 1000);
            passed += r.pass;
            limited += r.drop + r.slip;
        });
    for (auto& t : workers) t.join();
    EXPECT_EQ(passed.load(), 1000u);
    EXPECT_EQ(limited.load(), 39001u);
    // Exactly one start event for the bucket, whichever worker saw the first excess.
    RrlEvent e;
    ASSERT_TRUE(shared.pop_event(e));
    EXPECT_TRUE(e.start);
    EXPECT_FALSE(shared.pop_event(e));
    // A worker whose clock reads a little behind the bucket's stamp neither refills it nor
    // moves the stamp back.
    EXPECT_EQ(run(shared, v4(198, 51, 100, 9), RrlClass::positive, 1, 10, 999).pass, 0u);
    EXPECT_EQ(run(shared, v4(198, 51, 100, 9), RrlClass::positive, 1, 1000, 1100).pass, 100u);
}

// Two threads flooding distinct sources through one shared table: every response of a new
// bucket passes, nothing is lost or torn, and the memory stays what it was.
TEST(Rrl, SharedTableUnderAFloodFromTwoThreadsStaysConsistent) {
    RrlConfig cfg;
    cfg.enabled = true;
    cfg.rate = 2;
    cfg.slip = 0;
    cfg.table_size = 4096;
    cfg.table = RrlTableKind::shared;
    RrlTable t(cfg);
    const size_t bytes = t.memory_bytes();
    std::atomic<unsigned> passed{0};
    std::vector<std::thread> workers;
    for (uint32_t w = 0; w < 2; ++w)
        workers.emplace_back([&, w] {
            unsigned p = 0;
            for (uint32_t i = w; i < 400000; i += 2)
                p += run(t, v4(uint8_t(1 + (i >> 16)), uint8_t(i >> 8), uint8_t(i), 0),
                         RrlClass::any, 1, 1, 1000)
                         .pass;
            passed += p;
        });
    for (auto& th : workers) th.join();
    EXPECT_EQ(passed.load(), 400000u);
    EXPECT_EQ(t.memory_bytes(), bytes);
    EXPECT_EQ(run(t, v4(203, 0, 113, 5), RrlClass::any, 1, 1000, 1000).pass, 2u);
}

// The event ring takes events from several producers at once and gives each back once.
TEST(Rrl, EventRingHasManyProducersAndDropsWhenFull) {
    RrlEventRing ring;
    std::vector<std::thread> producers;
    for (uint32_t p = 0; p < 4; ++p)
        producers.emplace_back([&, p] {
            for (uint32_t i = 0; i < 200; ++i) {
                RrlEvent e;
                e.tag = p << 16 | i;
                EXPECT_TRUE(ring.push(e));
            }
        });
    for (auto& t : producers) t.join();
    std::vector<bool> seen(4 << 16);
    RrlEvent e;
    unsigned n = 0;
    while (ring.pop(e)) {
        EXPECT_FALSE(seen[e.tag]);
        seen[e.tag] = true;
        ++n;
    }
    EXPECT_EQ(n, 800u);
    // Full: the 1,025th event is dropped, not waited for; popping makes room again.
    for (unsigned i = 0; i < 1024; ++i) EXPECT_TRUE(ring.push(e));
    EXPECT_FALSE(ring.push(e));
    EXPECT_TRUE(ring.pop(e));
    EXPECT_TRUE(ring.push(e));
}

// Guards built with the frontends' shared table all use it; the reporter drains it once.
TEST(ResponseGuard, SharedTableIsOneForAllGuards) {
    GuardPolicy policy;
    policy.rrl.enabled = true;
    EXPECT_EQ(ResponseGuard::shared_table(&policy), nullptr);  // per-worker: none
    policy.rrl.table = RrlTableKind::shared;
    auto shared = ResponseGuard::shared_table(&policy);
    ASSERT_NE(shared, nullptr);
    ResponseGuard a(&policy, 2, shared.get()), b(&policy, 2, shared.get());
    EXPECT_EQ(a.table(), shared.get());
    EXPECT_EQ(b.table(), shared.get());
    ResponseGuard own(&policy, 2);  // no shared table given: one of its own, of that kind
    ASSERT_NE(own.table(), nullptr);
    EXPECT_NE(own.table(), shared.get());
    EXPECT_TRUE(own.table()->shared());
}

TEST(ResponseGuard, ValidCookieExemptsAndOthersSlipAsBadcookieOrTc) {
    Served served;
    GuardPolicy policy;
    policy.rrl.enabled = true;
    policy.rrl.rate = 2;
    policy.rrl.slip = 1;
    policy.cookies.enabled = true;
    policy.cookies.current[3] = 9;
    ResponseGuard guard(&policy);
    guard.set_clock(1000, 1700000000);
    CounterBlock st;
    const ClientAddr client = v4(198, 51, 100, 77);
    auto q = make_query("www.example.test.", LDNS_RR_TYPE_A);
    std::vector<uint8_t> out(4096);
    auto ask_once = [&](const std::vector<uint8_t>& query, size_t& len) {
        ResponseInfo info;
        len = respond(&served.snap(), query.data(), query.size(), out.data(), out.size(),
                      ClientInfo{Transport::udp, true}, &info);
        return guard.check(out.data(), len, info, client, Transport::udp, st);
    };
    size_t full = 0;
    EXPECT_EQ(ask_once(q, full), full);
    EXPECT_EQ(ask_once(q, full), full);
    const size_t slipped = ask_once(q, full);  // over the rate, no cookie: TC=1
    EXPECT_LT(slipped, full);
    EXPECT_TRUE(out[2] & 0x02);
    EXPECT_EQ(st.v[slot::rrl_slipped].load(), 1u);

    // With a client cookie: BADCOOKIE carrying a server cookie; with that, answered in full.
    std::vector<uint8_t> cq = q;
    const uint8_t cc[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    cq.insert(cq.end(), {0, 10, 0, 8});
    cq.insert(cq.end(), cc, cc + 8);
    store16(&cq[cq.size() - 12 - 2], 12);
    const size_t bad = ask_once(cq, full);
    ASSERT_GT(bad, 24u);
    EXPECT_EQ(out[3] & 0xF, rcode_badcookie & 0xF);
    std::vector<uint8_t> cookie(out.begin() + ptrdiff_t(bad) - 24, out.begin() + ptrdiff_t(bad));
    std::vector<uint8_t> vq = q;
    vq.insert(vq.end(), {0, 10, 0, 24});
    vq.insert(vq.end(), cookie.begin(), cookie.end());
    store16(&vq[vq.size() - 28 - 2], 28);
    for (int i = 0; i < 20; ++i) {
        const size_t n = ask_once(vq, full);
        EXPECT_EQ(n, full);
        EXPECT_EQ(out[3] & 0xF, 0);
    }
    EXPECT_EQ(st.v[slot::cookies_valid].load(), 20u);
    // Over TCP nothing is rate limited.
    ResponseInfo info;
    for (int i = 0; i < 10; ++i) {
        const size_t len = respond(&served.snap(), q.data(), q.size(), out.data(), out.size(),
                                   ClientInfo{Transport::tcp, true}, &info);
        EXPECT_EQ(guard.check(out.data(), len, info, client, Transport::tcp, st), len);
    }
}

}  // namespace
}  // namespace anamed::test
