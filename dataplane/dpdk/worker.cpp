// The run-to-completion loop of one worker lcore, l3fwd-style: rx burst, classify with
// prefetch ahead, answer the DNS queries of the burst together with respond_burst(),
// rewrite headers in the same mbufs, tx burst; a quiescent point once per iteration.
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_prefetch.h>

#include <cstring>

#include "anamed/dispatch.hpp"
#include "anamed/respond.hpp"
#include "frontend_impl.hpp"

namespace anamed::dp {
namespace {

constexpr uint16_t burst = 32;
constexpr unsigned prefetch_ahead = 4;
// The query's source address, from its IP header (before the reply is rewritten).
ClientAddr source_of(const uint8_t* frame, const Classified& c) {
    ClientAddr a;
    a.len = c.v6 ? 16 : 4;
    std::memcpy(a.bytes, frame + c.l3 + (c.v6 ? 8 : 12), a.len);
    return a;
}

struct Scratch {
    BurstItem items[burst];  // each answered in place, over its query in the mbuf
    Classified cls[burst];
    rte_mbuf* qm[burst];
    rte_mbuf* tx[burst];
    rte_mbuf* exc[burst];
    rte_mbuf* drop[burst];
    ClientAddr src[burst];      // the queries' sources, for the guard
    uint64_t guard_key[burst];  // their rate limiting keys (ResponseGuard::prepare)
};

void set_len(rte_mbuf* m, uint32_t len) {
    m->data_len = uint16_t(len);
    m->pkt_len = len;
}

// One burst from a port, in three stages as l3fwd names them: classify every frame (queries
// gathered for answering, ARP/ND/echo answered in place, the rest sorted for the kernel or
// the bin), answer the queries together, transmit.
struct Burst {
    PortState& p;
    CounterBlock& ctr;
    TokenBucket& bucket;
    TokenBucket& update_bucket;
    ResponseGuard& guard;
    Scratch& s;
    unsigned nq = 0, ntx = 0, nexc = 0, ndrop = 0;

    void drop(rte_mbuf* m, Drop why) {
        ctr.drop(why);
        s.drop[ndrop++] = m;
    }
    // The kernel path is slow: it takes what the bucket allows; UPDATE messages what theirs
    // allows, so that they cannot take the room of everything else.
    void to_kernel(rte_mbuf* m, bool fragment, bool update = false) {
        if (p.info.exception_port < 0) return drop(m, Drop::no_exception);
        const auto now = [] { return rte_rdtsc(); };
        if (update && !update_bucket.take(now)) return drop(m, Drop::update_limit);
        if (!update && !bucket.take(now)) return drop(m, Drop::exception_limit);
        if (fragment) ctr.bump(slot::fragments_to_kernel);
        m->ol_flags = 0;
        s.exc[nexc++] = m;
    }

    void classify_frames(rte_mbuf** pkts, uint16_t n) {
        for (unsigned i = 0; i < n && i < prefetch_ahead; ++i)
            rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void*));
        for (unsigned i = 0; i < n; ++i) {
            if (i + prefetch_ahead < n)
                rte_prefetch0(rte_pktmbuf_mtod(pkts[i + prefetch_ahead], void*));
            classify_frame(pkts[i]);
        }
    }

    void classify_frame(rte_mbuf* m) {
        // A tag the PMD stripped (af_packet, some NICs) goes back in, so one parser sees
        // every frame and the reply carries the tag without further thought.
        if ((m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED) && rte_vlan_insert(&m) != 0)
            return drop(m, Drop::malformed);
        Classified c;
        if (m->nb_segs != 1) {
            c.verdict = Verdict::kernel;  // jumbo or scattered: nothing we answer fast
        } else {
            c = classify(rte_pktmbuf_mtod(m, uint8_t*), m->data_len, p.addrs);
        }
        switch (c.verdict) {
        case Verdict::dns:
            s.items[nq] = BurstItem{rte_pktmbuf_mtod_offset(m, uint8_t*, c.dns),
                                    c.dns_len,
                                    rte_pktmbuf_mtod_offset(m, uint8_t*, c.dns),
                                    size_t(m->buf_len - m->data_off - c.dns),
                                    0,
                                    {}};
            s.cls[nq] = c;
            s.qm[nq++] = m;
            return;
        case Verdict::arp:
        case Verdict::nd:
        case Verdict::echo:
            ctr.bump(c.verdict == Verdict::arp  ? slot::arp_replies
                     : c.verdict == Verdict::nd ? slot::nd_advertisements
                                                : slot::echo_replies);
            set_len(m, c.reply_len);
            m->ol_flags = 0;
            s.tx[ntx++] = m;
            return;
        case Verdict::kernel: return to_kernel(m, c.fragment);
        case Verdict::drop: return drop(m, c.why);
        }
    }

    // The sources of the burst's replies and their rate limiting buckets, fetched together.
    void prepare_guard(ResponseGuard& guard) {
        guard.tick();
        for (unsigned i = 0; i < nq; ++i) {
            if (s.items[i].out_len == 0) continue;
            s.src[i] = source_of(rte_pktmbuf_mtod(s.qm[i], uint8_t*), s.cls[i]);
            s.guard_key[i] = guard.prepare(s.items[i].info, s.items[i].out_len, s.src[i]);
        }
    }

    // Queries answered in place; what respond_burst hands off (NOTIFY, UPDATE, transfers,
    // TSIG) goes to the kernel frontend, which passes it to the control plane.
    void answer(const Snapshot* snap) {
        if (nq == 0) return;
        ctr.bump(slot::queries, nq);
        respond_burst(snap, s.items, nq, ClientInfo{Transport::udp, guard.cookies()});
        if (guard.active()) prepare_guard(guard);
        for (unsigned i = 0; i < nq; ++i) {
            rte_mbuf* m = s.qm[i];
            BurstItem& it = s.items[i];
            if (it.out_len != 0 && guard.active()) {
                it.out_len = guard.check(it.out, it.out_len, it.info, s.src[i], Transport::udp, ctr,
                                         s.guard_key[i]);
                if (it.out_len == 0) {  // rate-limited: counted by the guard
                    s.drop[ndrop++] = m;
                    continue;
                }
            }
            if (it.out_len == 0) {
                if (!it.info.handoff) {
                    drop(m, Drop::no_reply);
                } else {
                    ctr.bump(slot::handed_off);
                    to_kernel(m, false, opcode_of(it.query) == opcode::UPDATE);
                }
                continue;
            }
            const Classified& c = s.cls[i];
            set_len(m, rewrite_dns_reply(rte_pktmbuf_mtod(m, uint8_t*), c, uint16_t(it.out_len),
                                         p.addrs.mac, p.offload));
            if (p.offload) {
                m->l2_len = c.l3;
                m->l3_len = uint16_t(c.l4 - c.l3);
                m->ol_flags =
                    c.v6 ? (RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_UDP_CKSUM)
                         : (RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM);
            } else {
                m->ol_flags = 0;
            }
            ctr.answer(it.info.rcode, it.info.qtype, it.info.truncated, it.info.zone_slot);
            s.tx[ntx++] = m;
        }
    }

    void send(uint16_t port, uint16_t queue, rte_mbuf** pkts, unsigned n, size_t sent_slot) {
        if (n == 0) return;
        const uint16_t sent = rte_eth_tx_burst(port, queue, pkts, uint16_t(n));
        ctr.bump(sent_slot, sent);
        if (sent < n) {
            ctr.drop(Drop::tx_full, n - sent);
            rte_pktmbuf_free_bulk(pkts + sent, n - sent);
        }
    }

    void transmit(uint16_t queue) {
        send(p.info.port_id, queue, s.tx, ntx, slot::tx);
        if (nexc) send(uint16_t(p.info.exception_port), queue, s.exc, nexc, slot::to_kernel);
        if (ndrop) rte_pktmbuf_free_bulk(s.drop, ndrop);
    }
};

void process(const Snapshot* snap, PortState& p, CounterBlock& ctr, TokenBucket& bucket,
             TokenBucket& update_bucket, ResponseGuard& guard, uint16_t queue, rte_mbuf** pkts,
             uint16_t n, Scratch& s) {
    ctr.bump(slot::rx, n);
    Burst b{p, ctr, bucket, update_bucket, guard, s};
    b.classify_frames(pkts, n);
    b.answer(snap);
    b.transmit(queue);
}

// The kernel's replies (TCP, its own ARP and ND) go out the DPDK port unchanged.
bool forward_from_kernel(PortState& p, CounterBlock& ctr, uint16_t queue, rte_mbuf** pkts) {
    const uint16_t n = rte_eth_rx_burst(uint16_t(p.info.exception_port), queue, pkts, burst);
    if (n == 0) return false;
    for (uint16_t i = 0; i < n; ++i) pkts[i]->ol_flags = 0;
    const uint16_t sent = rte_eth_tx_burst(p.info.port_id, queue, pkts, n);
    ctr.bump(slot::from_kernel, sent);
    ctr.bump(slot::tx, sent);
    if (sent < n) {
        ctr.drop(Drop::tx_full, n - sent);
        rte_pktmbuf_free_bulk(pkts + sent, n - sent);
    }
    return true;
}

}  // namespace

int worker_main(void* arg) {
    WorkerCtx& w = *static_cast<WorkerCtx*>(arg);
    DpdkFrontend::Impl& fe = *w.fe;
    Rcu& rcu = fe.snap.rcu();
    const int rid = rcu.register_reader();
    auto scratch = std::make_unique<Scratch>();
    rte_mbuf* pkts[burst];
    const uint16_t queue = uint16_t(w.index);
    unsigned idle = 0;
    rcu.online(rid);
    while (!fe.quit.load(std::memory_order_relaxed)) {
        bool busy = false;
        const Snapshot* snap = fe.snap.get();
        for (size_t pi = 0; pi < fe.ports.size(); ++pi) {
            PortState& p = fe.ports[pi];
            const uint16_t n = rte_eth_rx_burst(p.info.port_id, queue, pkts, burst);
            if (n) {
                busy = true;
                process(snap, p, fe.counter(w.index, pi), w.buckets[pi], w.update_buckets[pi],
                        *w.guard, queue, pkts, n, *scratch);
            }
            if (p.info.exception_port >= 0)
                busy |= forward_from_kernel(p, fe.counter(w.index, pi), queue, pkts);
        }
        rcu.quiescent(rid);
        if (busy || fe.opts.idle_sleep_us == 0) {
            idle = 0;
        } else if (++idle > 64) {
            rcu.offline(rid);
            rte_delay_us_sleep(fe.opts.idle_sleep_us);
            rcu.online(rid);
        }
    }
    rcu.offline(rid);
    rcu.unregister_reader(rid);
    return 0;
}

}  // namespace anamed::dp
