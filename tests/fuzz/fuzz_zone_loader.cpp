// libFuzzer: any bytes as the master file of zone fuzz.test. Whatever the loader accepts
// must compile, and the snapshot must answer a few queries with well-formed replies.
//
// The input goes to one temp file per process, in a private (0700) directory: a fuzzed
// $INCLUDE of a relative name can then only reach that same file (depth-bounded by the
// reader). Absolute $INCLUDE paths can read any file we can; acceptable for a fuzzer.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "anamed/respond.hpp"
#include "anamed/wire.hpp"
#include "compiler.hpp"
#include "zone_loader.hpp"

// After the C++ headers: clang 14 rejects libstdc++ 12 headers included after ldns.h.
#include <tbb/global_control.h>

#include "ldns.hpp"

namespace {

using namespace anamed;

#define FUZZ_CHECK(cond)                                                                  \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            std::fprintf(stderr, "fuzz_zone_loader: check failed: %s (line %d)\n", #cond, \
                         __LINE__);                                                       \
            std::abort();                                                                 \
        }                                                                                 \
    } while (0)

struct TempZone {
    std::string dir, path;
    int fd = -1;
};

TempZone make_temp_zone() {
    TempZone t;
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/anamed-fuzz-XXXXXX";
    if (mkdtemp(templ.data()) == nullptr) {
        std::perror("fuzz_zone_loader: mkdtemp");
        std::abort();
    }
    t.dir = templ;
    std::string file = t.dir + "/zone-XXXXXX";
    t.fd = mkstemp(file.data());
    if (t.fd < 0) {
        std::perror("fuzz_zone_loader: mkstemp");
        std::abort();
    }
    t.path = file;
    return t;
}

// Never destroyed: the atexit cleanup below runs after static destructors would have.
const TempZone& temp_zone() {
    static const TempZone* t = [] {
        auto* made = new TempZone(make_temp_zone());
        std::atexit([] {
            unlink(temp_zone().path.c_str());
            rmdir(temp_zone().dir.c_str());
        });
        return made;
    }();
    return *t;
}

void write_input(const TempZone& t, const uint8_t* data, size_t size) {
    size_t done = 0;
    while (done < size) {
        const ssize_t n = pwrite(t.fd, data + done, size - done, off_t(done));
        FUZZ_CHECK(n > 0);
        done += size_t(n);
    }
    FUZZ_CHECK(ftruncate(t.fd, off_t(size)) == 0);
}

// The lowest free descriptor number: it moves up if any run leaves a file open.
int lowest_free_fd(int any_open_fd) {
    const int fd = fcntl(any_open_fd, F_DUPFD, 0);
    FUZZ_CHECK(fd >= 0);
    close(fd);
    return fd;
}

std::string rr_bytes(uint16_t type, const std::string& rdata) {
    uint8_t fixed[rr_fixed];
    store16(fixed, 0xC00C);
    store16(fixed + 2, type);
    store16(fixed + 4, class_in);
    store32(fixed + 6, 300);
    store16(fixed + 10, uint16_t(rdata.size()));
    return std::string(reinterpret_cast<const char*>(fixed), rr_fixed) + rdata;
}

// ALIAS targets get every state respond() distinguishes, chosen by the target's hash.
std::shared_ptr<const AliasAnswer> fake_alias(const std::string& target) {
    auto a = std::make_shared<AliasAnswer>();
    switch (hash_name(target) % 4) {
    case 0: return nullptr;  // unresolved
    case 1: a->state = AliasAnswer::failed; break;
    case 2: a->state = AliasAnswer::resolved; break;  // no addresses: NODATA
    default:
        a->state = AliasAnswer::resolved;
        a->a = rr_bytes(rrtype::A, std::string("\xC0\x00\x02\x07", 4));
        a->aaaa =
            rr_bytes(rrtype::AAAA, std::string("\x20\x01\x0d\xb8", 4) + std::string(12, '\x07'));
        a->a_count = a->aaaa_count = 1;
    }
    return a;
}

std::vector<uint8_t> make_query(const std::string& qname, uint16_t qtype, bool edns) {
    std::vector<uint8_t> q(header_size);
    store16(q.data(), 0xBEEF);
    store16(q.data() + 2, flag_rd);
    store16(q.data() + 4, 1);
    store16(q.data() + 10, edns ? 1 : 0);
    q.insert(q.end(), qname.begin(), qname.end());
    const uint8_t tail[4] = {uint8_t(qtype >> 8), uint8_t(qtype), 0, 1};
    q.insert(q.end(), tail, tail + 4);
    if (edns) {
        const uint8_t opt[11] = {0, 0, 41, 0x04, 0xD0, 0, 0, 0x80, 0, 0, 0};  // 1232, DO
        q.insert(q.end(), opt, opt + 11);
    }
    return q;
}

void ask(const Snapshot& snap, const std::string& qname, uint16_t qtype, unsigned variant) {
    static std::vector<uint8_t> out(65535);
    const bool tcp = variant & 1;
    const std::vector<uint8_t> q = make_query(qname, qtype, variant & 2);
    const size_t n = respond(&snap, q.data(), q.size(), out.data(), out.size(),
                             ClientInfo{tcp ? Transport::tcp : Transport::udp});
    FUZZ_CHECK(n >= header_size);  // a well-formed query always gets a reply
    FUZZ_CHECK(n <= (tcp ? 65535u : (variant & 2) ? 1232u : 512u));
    ldns_pkt* pkt = nullptr;
    FUZZ_CHECK(ldns_wire2pkt(&pkt, out.data(), n) == LDNS_STATUS_OK);
    ldns_pkt_free(pkt);
}

// Appends a label to a wire name, unless that would exceed the 255-octet limit.
std::string below(const std::string& label, const std::string& wire) {
    if (wire.size() + 1 + label.size() > max_name_len) return wire;
    return char(label.size()) + label + wire;
}

void query_zone(const Zone& zone, const Snapshot& snap, uint64_t seed) {
    unsigned variant = unsigned(seed);
    ask(snap, zone.apex, rrtype::SOA, variant++);
    ask(snap, zone.apex, rrtype::ANY, variant++);
    ask(snap, below("nx" + std::to_string(seed % 1000), zone.apex), rrtype::A, variant++);
    // A few names of the zone: their own types, addresses (ALIAS), and a name below each
    // (wildcards, delegations, DNAME substitution).
    unsigned budget = 6;
    for (const auto& [key, node] : zone.nodes) {
        if (budget-- == 0) break;
        const uint16_t own = node.empty() ? rrtype::TXT : (*node.rrsets().begin()).type;
        const std::string owner = node.owner(key);
        ask(snap, owner, own, variant++);
        ask(snap, owner, (seed >> budget) & 1 ? rrtype::A : rrtype::AAAA, variant++);
        ask(snap, below("x", owner), rrtype::A, variant++);
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    // One thread: the loader and compiler use TBB, whose workers would blur coverage and
    // make leaks and timings depend on scheduling.
    static tbb::global_control one_thread(tbb::global_control::max_allowed_parallelism, 1);
    temp_zone();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const TempZone& t = temp_zone();
    static const int fd_floor = lowest_free_fd(t.fd);

    write_input(t, data, size);
    LoadResult r = load_zone_file("fuzz.test", t.path);
    static const bool verbose = std::getenv("ANAMED_FUZZ_VERBOSE") != nullptr;  // corpus work
    if (verbose)
        for (const auto& d : r.diags) std::fprintf(stderr, "%s\n", d.str().c_str());
    if (r.ok()) {
        std::unique_ptr<Snapshot> snap = compile({r.zone.get()}, 1, fake_alias);
        FUZZ_CHECK(snap != nullptr);
        query_zone(*r.zone, *snap,
                   hash_name(std::string_view(reinterpret_cast<const char*>(data), size)));
    }
    // Some slack for lazily opened library files; a per-run leak climbs past it quickly.
    FUZZ_CHECK(lowest_free_fd(t.fd) <= fd_floor + 8);
    return 0;
}
