// Name compression in precompiled answers (RFC 1035 §4.1.4): names in NS, CNAME, SOA, PTR
// and MX RDATA and the owners of additional records point at names earlier in the reply;
// DNAME and SRV targets and every other type stay as written (RFC 6672 §2.5, RFC 2782).
#include <gtest/gtest.h>

#include <random>
#include <tuple>

#include "patcher.hpp"
#include "test_util.hpp"
#include "zone_store.hpp"

namespace anamed::test {
namespace {

// The shared test zones plus compress.zone (comp.test).
class Compress : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        served_ = new Served();
        LoadResult r = load_zone_file("comp.test", data_path("compress.zone"));
        for (const auto& d : r.diags) ADD_FAILURE() << d.str();
        comp_zone_ = r.zone.release();
        comp_ = compile({comp_zone_}, 1).release();
    }
    static void TearDownTestSuite() {
        delete comp_;
        delete comp_zone_;
        delete served_;
    }
    static Pkt q(const std::string& name, ldns_rr_type t) { return ask(*comp_, name, t); }
    static Served* served_;
    static Zone* comp_zone_;
    static Snapshot* comp_;
};
Served* Compress::served_ = nullptr;
Zone* Compress::comp_zone_ = nullptr;
Snapshot* Compress::comp_ = nullptr;

std::vector<uint8_t> reply(const Snapshot& s, const std::string& name, ldns_rr_type type) {
    const auto query = make_query(name, type);
    std::vector<uint8_t> out(65536);
    out.resize(respond(&s, query.data(), query.size(), out.data(), out.size(), ClientInfo{}));
    return out;
}

struct RawRr {
    uint16_t type;
    std::vector<uint8_t> rdata;  // as on the wire, pointers left in
};

// The records of a reply as they are on the wire, OPT left out.
std::vector<RawRr> raw_rrs(const std::vector<uint8_t>& m) {
    std::vector<RawRr> out;
    size_t pos = skip_name(m.data(), m.size(), header_size) + 4;
    const unsigned n = load16(&m[6]) + load16(&m[8]) + load16(&m[10]);
    for (unsigned i = 0; i < n; ++i) {
        pos = skip_name(m.data(), m.size(), pos);
        const uint16_t type = load16(&m[pos]);
        const size_t rdlen = load16(&m[pos + 8]);
        if (type != rrtype::OPT)
            out.push_back({type, {m.begin() + pos + 10, m.begin() + pos + 10 + rdlen}});
        pos += 10 + rdlen;
    }
    return out;
}
bool has_pointer(const std::vector<uint8_t>& rdata) {
    for (size_t i = 0; i + 1 < rdata.size(); ++i)
        if ((rdata[i] & 0xC0) == 0xC0) return true;
    return false;
}

// The size the reply would have if only owner names were compressed (as before RDATA
// compression): each answer and authority owner a pointer, every other name in full.
size_t owner_only_size(const Pkt& p) {
    size_t n = header_size;
    for (size_t i = 0; i < ldns_rr_list_rr_count(ldns_pkt_question(p.get())); ++i)
        n += ldns_rdf_size(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(p.get()), i))) + 4;
    auto rdata = [](const ldns_rr* rr) {
        size_t s = 0;
        for (size_t i = 0; i < ldns_rr_rd_count(rr); ++i) s += ldns_rdf_size(ldns_rr_rdf(rr, i));
        return s;
    };
    for (const ldns_rr_list* l : {ldns_pkt_answer(p.get()), ldns_pkt_authority(p.get())})
        for (size_t i = 0; i < ldns_rr_list_rr_count(l); ++i)
            n += 2 + 10 + rdata(ldns_rr_list_rr(l, i));
    const ldns_rr_list* add = ldns_pkt_additional(p.get());
    for (size_t i = 0; i < ldns_rr_list_rr_count(add); ++i) {
        const ldns_rr* rr = ldns_rr_list_rr(add, i);
        n += ldns_rdf_size(ldns_rr_owner(rr)) + 10 + rdata(rr);
    }
    return n + (ldns_pkt_edns(p.get()) ? opt_rr_size : 0);
}

Pkt parse(const std::vector<uint8_t>& m) {
    ldns_pkt* p = nullptr;
    EXPECT_EQ(ldns_wire2pkt(&p, m.data(), m.size()), LDNS_STATUS_OK) << "reply does not parse";
    return Pkt(p);
}

TEST_F(Compress, MxAndNsRepliesGetSmaller) {
    // example.test MX: "mail" + a pointer to the question; the additional owners are
    // pointers to that name. NS: the same for ns1 and ns2.
    for (auto [type, now, before] :
         {std::tuple{LDNS_RR_TYPE_MX, 106u, 152u}, {LDNS_RR_TYPE_NS, 165u, 253u}}) {
        const auto m = reply(served_->snap(), "example.test.", type);
        auto p = parse(m);
        ASSERT_TRUE(p);
        EXPECT_EQ(owner_only_size(p), before) << type;
        EXPECT_EQ(m.size(), now) << type;
    }
    auto mx = ask(served_->snap(), "example.test.", LDNS_RR_TYPE_MX);
    EXPECT_EQ(answer(mx), V{"example.test.\t3600\tIN\tMX\t10 mail.example.test."});
    EXPECT_EQ(additional(mx), (V{"mail.example.test.\t7200\tIN\tA\t192.0.2.25",
                                 "mail.example.test.\t7200\tIN\tAAAA\t2001:db8::25"}));
}

TEST_F(Compress, MxTargetPointsAtTheQuestionAndAtEarlierTargets) {
    const auto m = reply(*comp_, "comp.test.", LDNS_RR_TYPE_MX);
    const auto rrs = raw_rrs(m);
    ASSERT_GE(rrs.size(), 3u);
    EXPECT_EQ(rrs[0].rdata, (std::vector<uint8_t>{0, 10, 4, 'm', 'a', 'i', 'l', 0xC0, 12}));
    auto p = parse(m);
    EXPECT_EQ(answer(p), (V{"comp.test.\t300\tIN\tMX\t10 mail.comp.test.",
                            "comp.test.\t300\tIN\tMX\t20 mail.other.example.",
                            "comp.test.\t300\tIN\tMX\t30 backup.other.example."}));
    EXPECT_TRUE(has_pointer(rrs[2].rdata))
        << "backup.other.example. shares other.example. with the MX before it";
    EXPECT_EQ(additional(p), (V{"mail.comp.test.\t300\tIN\tA\t192.0.2.25",
                                "mail.comp.test.\t300\tIN\tAAAA\t2001:db8::25"}));
    EXPECT_LT(m.size(), owner_only_size(p));
}

TEST_F(Compress, NsSoaPtrAndCnameNamesDecodeAsWritten) {
    auto ns = q("comp.test.", LDNS_RR_TYPE_NS);
    EXPECT_EQ(answer(ns), (V{"comp.test.\t300\tIN\tNS\tns1.comp.test.",
                             "comp.test.\t300\tIN\tNS\tns2.Comp.Test."}));
    EXPECT_EQ(additional(ns), (V{"ns1.comp.test.\t300\tIN\tA\t192.0.2.1",
                                 "ns2.Comp.Test.\t300\tIN\tA\t192.0.2.2"}));
    const std::string soa =
        "comp.test.\t300\tIN\tSOA\tns1.comp.test. hostmaster.comp.test. 1 7200 3600 1209600 300";
    EXPECT_EQ(answer(q("comp.test.", LDNS_RR_TYPE_SOA)), V{soa});
    EXPECT_EQ(authority(q("nothere.comp.test.", LDNS_RR_TYPE_A)), V{soa});
    EXPECT_EQ(authority(q("a.b.nothere.comp.test.", LDNS_RR_TYPE_A)), V{soa});
    EXPECT_EQ(answer(q("ptr.comp.test.", LDNS_RR_TYPE_PTR)),
              V{"ptr.comp.test.\t300\tIN\tPTR\tns1.comp.test."});
    EXPECT_EQ(answer(q("www.comp.test.", LDNS_RR_TYPE_CNAME)),
              V{"www.comp.test.\t300\tIN\tCNAME\tcomp.test."});
    for (const auto& [name, type] : {std::pair{"comp.test.", LDNS_RR_TYPE_SOA},
                                     {"ptr.comp.test.", LDNS_RR_TYPE_PTR},
                                     {"www.comp.test.", LDNS_RR_TYPE_CNAME},
                                     {"nothere.comp.test.", LDNS_RR_TYPE_A}}) {
        const auto m = reply(*comp_, name, type);
        EXPECT_LT(m.size(), owner_only_size(parse(m))) << name;
    }
}

// Each RRset's block is copied alone, so a name may only point into its own block (or at
// the owner): the MX block must not point at shared.example. in the PTR block before it.
TEST_F(Compress, BlocksOfOneOwnerCompressOnlyWithinThemselves) {
    EXPECT_EQ(answer(q("multi.comp.test.", LDNS_RR_TYPE_PTR)),
              V{"multi.comp.test.\t300\tIN\tPTR\tlonger-name.shared.example."});
    const auto m = reply(*comp_, "multi.comp.test.", LDNS_RR_TYPE_MX);
    EXPECT_EQ(answer(parse(m)), V{"multi.comp.test.\t300\tIN\tMX\t10 mx.shared.example."});
    const auto rrs = raw_rrs(m);
    ASSERT_EQ(rrs.size(), 1u);
    EXPECT_FALSE(has_pointer(rrs[0].rdata)) << "nothing in its own block to point at";
}

TEST_F(Compress, CnameChainsFollowCompressedTargets) {
    auto p = q("alias.comp.test.", LDNS_RR_TYPE_MX);
    EXPECT_EQ(answer(p), (V{"alias.comp.test.\t300\tIN\tCNAME\twww.comp.test.",
                            "www.comp.test.\t300\tIN\tCNAME\tcomp.test.",
                            "comp.test.\t300\tIN\tMX\t10 mail.comp.test.",
                            "comp.test.\t300\tIN\tMX\t20 mail.other.example.",
                            "comp.test.\t300\tIN\tMX\t30 backup.other.example."}));
    EXPECT_EQ(additional(p).size(), 2u);
    // A target written in mixed case: the records' names under it keep the zone's case, so
    // they cannot point into the target as it stands in the packet.
    auto m = q("mixed.comp.test.", LDNS_RR_TYPE_MX);
    EXPECT_EQ(answer(m), (V{"mixed.comp.test.\t300\tIN\tCNAME\tComp.Test.",
                            "Comp.Test.\t300\tIN\tMX\t10 mail.comp.test.",
                            "Comp.Test.\t300\tIN\tMX\t20 mail.other.example.",
                            "Comp.Test.\t300\tIN\tMX\t30 backup.other.example."}));
    // A wildcard's target points at the query name's suffix, not at a "*" that is not there.
    auto w = q("Any.Thing.wild.comp.test.", LDNS_RR_TYPE_A);
    EXPECT_EQ(answer(w), (V{"Any.Thing.wild.comp.test.\t300\tIN\tCNAME\tns1.comp.test.",
                            "ns1.comp.test.\t300\tIN\tA\t192.0.2.1"}));
}

// respond_burst chases in-zone CNAMEs on its short path; the pointers it resolves against a
// compressed target (the apex, a name in mixed case, a name below a cut or a DNAME) must
// come out as respond() writes them.
TEST_F(Compress, BurstChasesLikeRespond) {
    std::vector<std::vector<uint8_t>> qs;
    for (const char* n : {"www.comp.test.", "WWW.comp.test.", "www.COMP.test.", "alias.comp.test.",
                          "mixed.comp.test.", "to-dname.comp.test.", "in-deleg.comp.test.",
                          "x.wild.comp.test.", "comp.test.", "mail.comp.test.", "multi.comp.test.",
                          "ptr.comp.test.", "to-inner.comp.test."})
        for (ldns_rr_type t :
             {LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA, LDNS_RR_TYPE_MX, LDNS_RR_TYPE_NS, LDNS_RR_TYPE_SOA,
              LDNS_RR_TYPE_PTR, LDNS_RR_TYPE_CNAME, LDNS_RR_TYPE_TXT})
            for (bool edns : {true, false}) qs.push_back(make_query(n, t, QueryOpts{.edns = edns}));
    expect_burst_like_respond(*comp_, qs);

    // With inner.comp.test. served too, the target is that zone's.
    LoadResult inner = load_zone_file("inner.comp.test", data_path("inner.zone"));
    ASSERT_TRUE(inner.ok());
    const auto both = compile({comp_zone_, inner.zone.get()}, 1);
    expect_burst_like_respond(*both, qs);
    EXPECT_EQ(answer(ask(*both, "to-inner.comp.test.", LDNS_RR_TYPE_A)),
              (V{"to-inner.comp.test.\t300\tIN\tCNAME\twww.inner.comp.test.",
                 "www.inner.comp.test.\t300\tIN\tA\t192.0.2.61"}));
}

// A name deleted at runtime stays in the node table (its index slot is tombstoned), and one
// added again gets a new node: the burst's chase, which finds its target through the
// CNAME's hint, must still answer as the index does.
TEST(BurstPatch, ChaseFollowsNamesDeletedAndAddedAtRuntime) {
    ZoneStore store;
    ASSERT_EQ(store.load({ZoneConfig{"comp.test", data_path("compress.zone")}}), 0u);
    const auto snap = compile(store.zones(), 1);
    const std::unordered_map<std::string, uint32_t> alias_slots;
    auto patch = [&](const RecordChange& change) {
        const ChangeOutcome out = store.apply({change}, [] { return std::string(); });
        ASSERT_EQ(out.error, "");
        Patcher patcher(*snap, store, alias_slots);
        ASSERT_EQ(patcher.plan(out), "");
        Patcher::Retired retired;
        patcher.apply(retired);
    };
    std::vector<std::vector<uint8_t>> qs;
    for (ldns_rr_type t : {LDNS_RR_TYPE_A, LDNS_RR_TYPE_TXT})
        for (bool edns : {true, false})
            qs.push_back(make_query("to-leaf.comp.test.", t, QueryOpts{.edns = edns}));
    expect_burst_like_respond(*snap, qs);

    patch({RecordChange::Op::del, "comp.test", "leaf", "TXT", "", std::nullopt});
    const Pkt gone = ask(*snap, "to-leaf.comp.test.", LDNS_RR_TYPE_TXT);
    EXPECT_EQ(ldns_pkt_get_rcode(gone.get()), LDNS_RCODE_NXDOMAIN);
    EXPECT_EQ(answer(gone), V{"to-leaf.comp.test.\t300\tIN\tCNAME\tleaf.comp.test."});
    expect_burst_like_respond(*snap, qs);

    patch({RecordChange::Op::add, "comp.test", "leaf", "TXT", "\"again\"", 300});
    EXPECT_EQ(answer(ask(*snap, "to-leaf.comp.test.", LDNS_RR_TYPE_TXT)),
              (V{"to-leaf.comp.test.\t300\tIN\tCNAME\tleaf.comp.test.",
                 "leaf.comp.test.\t300\tIN\tTXT\t\"again\""}));
    expect_burst_like_respond(*snap, qs);
}

TEST_F(Compress, DnameAndSrvTargetsAreNeverCompressed) {
    const auto m = reply(*comp_, "to-dname.comp.test.", LDNS_RR_TYPE_A);
    auto p = parse(m);
    EXPECT_EQ(answer(p), (V{"to-dname.comp.test.\t300\tIN\tCNAME\ta.b.dn.comp.test.",
                            "dn.comp.test.\t300\tIN\tDNAME\ttarget.comp.test.",
                            "a.b.dn.comp.test.\t300\tIN\tCNAME\ta.b.target.comp.test.",
                            "a.b.target.comp.test.\t300\tIN\tA\t192.0.2.9"}));
    const std::string target = text_to_wire("target.comp.test.");
    for (const RawRr& rr : raw_rrs(m)) {
        if (rr.type == rrtype::DNAME) {
            EXPECT_EQ(std::string(rr.rdata.begin(), rr.rdata.end()), target);
        }
    }

    const auto srv = raw_rrs(reply(*comp_, "srv.comp.test.", LDNS_RR_TYPE_SRV));
    ASSERT_EQ(srv.size(), 2u);  // the SRV and the A of its target
    EXPECT_EQ(std::string(srv[0].rdata.begin() + 6, srv[0].rdata.end()),
              text_to_wire("ns1.comp.test."));
    EXPECT_EQ(answer(q("srv.comp.test.", LDNS_RR_TYPE_SRV)),
              V{"srv.comp.test.\t300\tIN\tSRV\t0 0 53 ns1.comp.test."});
}

TEST_F(Compress, ReferralNamesPointAtTheCutAndAtEachOther) {
    const auto m = reply(*comp_, "www.deleg.comp.test.", LDNS_RR_TYPE_A);
    auto p = parse(m);
    EXPECT_EQ(authority(p), (V{"deleg.comp.test.\t300\tIN\tNS\tns.deleg.comp.test.",
                               "deleg.comp.test.\t300\tIN\tNS\tns.other.example."}));
    EXPECT_EQ(additional(p), V{"ns.deleg.comp.test.\t300\tIN\tA\t192.0.2.53"});
    EXPECT_LT(m.size(), owner_only_size(p));
}

// RDATA keeps the zone's case: a pointer into the question is used only when the client
// wrote that part in the zone's case; otherwise the names are written out in full.
TEST_F(Compress, RdataKeepsItsCaseWhateverTheQuestionsCase) {
    std::mt19937 rng(7);
    auto scramble = [&](std::string s) {
        for (char& c : s)
            if (rng() & 1) c = char(std::toupper(static_cast<unsigned char>(c)));
        return s;
    };
    auto lower_owners = [](V lines) {
        for (auto& l : lines)
            for (size_t i = 0; i < l.find('\t'); ++i)
                l[i] = char(std::tolower(static_cast<unsigned char>(l[i])));
        return lines;
    };
    const std::vector<std::pair<std::string, ldns_rr_type>> cases = {
        {"comp.test.", LDNS_RR_TYPE_MX},       {"comp.test.", LDNS_RR_TYPE_NS},
        {"comp.test.", LDNS_RR_TYPE_SOA},      {"nothere.comp.test.", LDNS_RR_TYPE_A},
        {"alias.comp.test.", LDNS_RR_TYPE_MX}, {"to-dname.comp.test.", LDNS_RR_TYPE_A},
        {"x.wild.comp.test.", LDNS_RR_TYPE_A}, {"www.deleg.comp.test.", LDNS_RR_TYPE_A},
        {"ptr.comp.test.", LDNS_RR_TYPE_PTR},  {"srv.comp.test.", LDNS_RR_TYPE_SRV},
    };
    for (const auto& [name, type] : cases) {
        auto want = q(name, type);
        for (int round = 0; round < 8; ++round) {
            const std::string asked = round == 0 ? name : scramble(name);
            const auto m = reply(*comp_, asked, type);
            auto got = parse(m);
            ASSERT_TRUE(got) << asked;
            EXPECT_EQ(ldns_pkt_get_rcode(got.get()), ldns_pkt_get_rcode(want.get())) << asked;
            EXPECT_EQ(lower_owners(answer(got)), lower_owners(answer(want))) << asked;
            EXPECT_EQ(lower_owners(authority(got)), lower_owners(authority(want))) << asked;
            EXPECT_EQ(lower_owners(additional(got)), lower_owners(additional(want))) << asked;
            EXPECT_LE(m.size(), owner_only_size(got)) << asked;
        }
    }
    // All upper case: every name written out, as before compression.
    const auto m = reply(*comp_, "COMP.TEST.", LDNS_RR_TYPE_NS);
    auto p = parse(m);
    EXPECT_EQ(answer(p), (V{"COMP.TEST.\t300\tIN\tNS\tns1.comp.test.",
                            "COMP.TEST.\t300\tIN\tNS\tns2.Comp.Test."}));
    EXPECT_EQ(additional(p), (V{"ns1.comp.test.\t300\tIN\tA\t192.0.2.1",
                                "ns2.Comp.Test.\t300\tIN\tA\t192.0.2.2"}));
    EXPECT_EQ(m.size(), owner_only_size(p));
}

TEST_F(Compress, OnlyRfc1035TypesCarryPointers) {
    Name n;
    const std::string apex = text_to_wire("comp.test.");
    parse_name(reinterpret_cast<const uint8_t*>(apex.data()), apex.size(), n);
    const ZoneTable* z = comp_->find_zone(n);
    ASSERT_NE(z, nullptr);
    auto data = [&](const char* name) {
        return z->index.find(lower_key(text_to_wire(name)))->load_data();
    };
    EXPECT_EQ(data("dn.comp.test.")->find(rrtype::DNAME)->fixups, 0u);
    const NodeData* srv = data("srv.comp.test.");
    const TypeEntry* e = srv->find(rrtype::SRV);
    ASSERT_EQ(e->fixups, 1u);  // the owner of the additional A, not the target
    EXPECT_GE(load16(e->fixup_list(srv->bytes())), e->rr_len);
    EXPECT_GT(data("comp.test.")->find(rrtype::MX)->fixups, 0u);
}

}  // namespace
}  // namespace anamed::test
