// libFuzzer: any bytes as a query to respond() over the unit-test zones (and ALIAS names). Checks
// what every frontend relies on: the reply fits both the buffer and the transport, and is valid
// DNS.
//
// Input: byte 0 picks the transport and the output capacity, the rest is the query.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "alias_resolver.hpp"
#include "anamed/respond.hpp"
#include "compiler.hpp"
#include "zone_loader.hpp"

// After the C++ headers: clang 14 rejects libstdc++ 12 headers included after ldns.h.
#include <tbb/global_control.h>

#include "ldns.hpp"

namespace {

using namespace anamed;

// A failed check must look like a crash to libFuzzer, with a reason next to the input.
#define FUZZ_CHECK(cond)                                                                         \
    do {                                                                                         \
        if (!(cond)) {                                                                           \
            std::fprintf(stderr, "fuzz_respond: check failed: %s (line %d)\n", #cond, __LINE__); \
            std::abort();                                                                        \
        }                                                                                        \
    } while (0)

struct Served {
    std::vector<std::unique_ptr<Zone>> zones;
    std::unique_ptr<Snapshot> snap;
};

// Built once: loading and compiling per input would drown respond() in setup cost.
const Served& served() {
    static const Served s = [] {
        tbb::global_control one_thread(tbb::global_control::max_allowed_parallelism, 1);
        Served out;
        std::vector<const Zone*> zs;
        for (auto [name, file] : {std::pair{"example.test", "test.zone"},
                                  {"other.test", "second.zone"},
                                  {"sub2.example.test", "child.zone"},
                                  {"alias.test", "alias.zone"}}) {
            LoadResult r = load_zone_file(name, std::string(ANAMED_TESTDATA) + "/" + file);
            for (const auto& d : r.diags) std::fprintf(stderr, "%s\n", d.str().c_str());
            if (!r.ok()) std::abort();  // fuzzing without the zones would prove nothing
            zs.push_back(r.zone.get());
            out.zones.push_back(std::move(r.zone));
        }
        // ALIAS targets in each state: resolved, failed past the stale limit, never resolved.
        const std::string v4a{char(203), 0, char(113), 10}, v4b{char(203), 0, char(113), 11};
        const auto lb = make_alias_answer(AliasAnswer::resolved, {v4a, v4b},
                                          {std::string(15, '\0') + '\1'}, 3600);
        const auto down = make_alias_answer(AliasAnswer::failed, {}, {}, 0);
        out.snap =
            compile(zs, 1, [&](const std::string& target) -> std::shared_ptr<const AliasAnswer> {
                if (target == text_to_wire("lb.offsite.example.")) return lb;
                if (target == text_to_wire("down.offsite.example.")) return down;
                return nullptr;
            });
        return out;
    }();
    return s;
}

// The frontends' real buffer sizes plus odd ones, so every min(limit, capacity) case is hit.
constexpr size_t capacities[8] = {512, 1232, 65535, 4096, 1400, 700, 300, 64};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;  // no selector byte
    const uint8_t sel = data[0];
    const Transport transport = (sel & 1) ? Transport::tcp : Transport::udp;
    const size_t cap = capacities[(sel >> 1) & 7];
    // One selector in sixteen asks a server with nothing loaded.
    const Snapshot* snap = (sel >> 4) == 0xF ? nullptr : served().snap.get();

    // Exactly `cap` bytes on the heap, so ASan flags a single byte written past the limit.
    // The query already ends at the end of libFuzzer's own exactly-sized allocation.
    std::unique_ptr<uint8_t[]> out(new uint8_t[cap]);
    ResponseInfo info;
    const size_t n =
        respond(snap, data + 1, size - 1, out.get(), cap, ClientInfo{transport}, &info);

    // respond_burst (the dataplane's path: stages of prefetching, hints from the answer
    // blocks) must give the same bytes, here for the input alone and as every query of a
    // burst long enough to run all its stages.
    constexpr size_t burst = 9;
    std::unique_ptr<uint8_t[]> outs(new uint8_t[burst * cap]);
    BurstItem items[burst];
    for (size_t k = 0; k < burst; ++k)
        items[k] = BurstItem{data + 1, size - 1, outs.get() + k * cap, cap, 0, {}};
    for (size_t count : {size_t(1), burst}) {
        respond_burst(snap, items, count, ClientInfo{transport});
        for (size_t k = 0; k < count; ++k) {
            FUZZ_CHECK(items[k].out_len == n);
            FUZZ_CHECK(std::memcmp(items[k].out, out.get(), n) == 0);
            FUZZ_CHECK(n == 0 ||
                       (items[k].info.rcode == info.rcode && items[k].info.qtype == info.qtype &&
                        items[k].info.truncated == info.truncated));
        }
    }
    // In place, as the DPDK worker answers: the reply written over the query (in a buffer
    // as big as the query at least, like the mbuf it arrived in).
    if (cap >= size - 1) {
        std::unique_ptr<uint8_t[]> frame(new uint8_t[cap]);
        std::memcpy(frame.get(), data + 1, size - 1);
        BurstItem it{frame.get(), size - 1, frame.get(), cap, 0, {}};
        respond_burst(snap, &it, 1, ClientInfo{transport});
        FUZZ_CHECK(it.out_len == n);
        FUZZ_CHECK(std::memcmp(frame.get(), out.get(), n) == 0);
    }
    if (n == 0) return 0;

    FUZZ_CHECK(n <= cap);
    FUZZ_CHECK(n <= (transport == Transport::tcp ? 65535u : 1232u));
    FUZZ_CHECK(n >= 12 && size - 1 >= 12);
    FUZZ_CHECK(out[0] == data[1] && out[1] == data[2]);  // same ID
    FUZZ_CHECK(out[2] & 0x80);                           // QR
    FUZZ_CHECK(bool(out[2] & 0x02) == info.truncated);   // TC as reported
    FUZZ_CHECK((out[3] & 0x0F) == (info.rcode & 0x0F));

    ldns_pkt* pkt = nullptr;
    FUZZ_CHECK(ldns_wire2pkt(&pkt, out.get(), n) == LDNS_STATUS_OK);
    // A reply without OPT answers a query without EDNS: RFC 1035's 512 octets apply.
    if (transport == Transport::udp && !ldns_pkt_edns(pkt)) FUZZ_CHECK(n <= 512);
    static const bool verbose = std::getenv("ANAMED_FUZZ_VERBOSE") != nullptr;  // corpus work
    if (verbose) ldns_pkt_print(stderr, pkt);
    ldns_pkt_free(pkt);
    return 0;
}
