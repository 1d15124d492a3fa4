// DO=1 answers from a zone signed in-process by anamed's signer (tests/data/dnssec.zone, a
// fresh ECDSA CSK, NSEC and NSEC3): the shapes RFC 4035 §3.1 and RFC 5155 §7.2 ask for.

#include "dnssec_test_util.hpp"

namespace anamed::test {
namespace {

class RespondDnssec : public ::testing::TestWithParam<bool> {
protected:
    void SetUp() override {
        // The delegation `secure` gets a DS (the integration test makes its child's key).
        std::ifstream in(data_path("dnssec.zone"));
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        text += "secure 3600 IN DS 12345 13 2 " + std::string(64, 'a') + "\n";
        zone_ = load_test_zone("sec.test", dir_.write("dnssec.zone", text));
        ASSERT_TRUE(zone_);
        SignPolicy policy;
        policy.nsec3 = GetParam();
        const ZoneSigner signer(zone_->apex, {make_key(*zone_, 13, KeyRole::csk)}, policy,
                                sign_time);
        ASSERT_EQ(signer.sign_zone(*zone_), "");
        snap_ = compile({zone_.get()}, 1);
    }
    Pkt ask_do(const std::string& name, ldns_rr_type t, uint16_t payload = 1232) {
        return ask(*snap_, name, t, {.payload = payload, .dnssec_ok = true});
    }
    // Types in a section, in order, with each RRSIG as RRSIG(covered).
    static std::vector<std::string> types(const ldns_rr_list* l) {
        std::vector<std::string> out;
        for (size_t i = 0; i < ldns_rr_list_rr_count(l); ++i) {
            const ldns_rr* rr = ldns_rr_list_rr(l, i);
            char* t = ldns_rr_type2str(ldns_rr_get_type(rr));
            std::string s(t);
            free(t);
            if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_RRSIG) {
                char* c = ldns_rr_type2str(ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(rr)));
                s += std::string("(") + c + ")";
                free(c);
            }
            out.push_back(s);
        }
        return out;
    }
    size_t count(const ldns_rr_list* l, const std::string& type) {
        const auto t = types(l);
        return size_t(std::count(t.begin(), t.end(), type));
    }
    const char* denial() const { return GetParam() ? "NSEC3" : "NSEC"; }

    TempDir dir_;
    std::unique_ptr<Zone> zone_;
    std::unique_ptr<Snapshot> snap_;
};

TEST_P(RespondDnssec, PositiveAnswerCarriesItsSignaturesOnlyWithDo) {
    Pkt p = ask_do("host.sec.test.", LDNS_RR_TYPE_A);
    EXPECT_EQ(types(ldns_pkt_answer(p.get())), (std::vector<std::string>{"A", "RRSIG(A)"}));
    EXPECT_TRUE(ldns_pkt_edns_do(p.get()));
    Pkt plain = ask(*snap_, "host.sec.test.", LDNS_RR_TYPE_A);
    EXPECT_EQ(types(ldns_pkt_answer(plain.get())), (std::vector<std::string>{"A"}));
    EXPECT_FALSE(ldns_pkt_edns_do(plain.get()));
}

TEST_P(RespondDnssec, AdditionalRecordsFollowTheSignedAnswer) {
    Pkt p = ask_do("sec.test.", LDNS_RR_TYPE_MX);
    EXPECT_EQ(types(ldns_pkt_answer(p.get())), (std::vector<std::string>{"MX", "RRSIG(MX)"}));
    EXPECT_EQ(rrs(ldns_pkt_additional(p.get())).size(), 1u);  // mail's A (the OPT apart)
}

TEST_P(RespondDnssec, NxdomainProvesTheNameAndTheWildcardAbsent) {
    Pkt p = ask_do("nothere.sec.test.", LDNS_RR_TYPE_A);
    EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NXDOMAIN);
    const ldns_rr_list* auth = ldns_pkt_authority(p.get());
    EXPECT_EQ(count(auth, "SOA"), 1u);
    EXPECT_EQ(count(auth, "RRSIG(SOA)"), 1u);
    const size_t n = count(auth, denial());
    // NSEC: the covering record and the wildcard's (one when the same); NSEC3: the closest
    // encloser's, the next closer's and the wildcard's (two when one covers both).
    EXPECT_GE(n, GetParam() ? 2u : 1u);
    EXPECT_EQ(count(auth, std::string("RRSIG(") + denial() + ")"), n);
}

TEST_P(RespondDnssec, NodataCarriesTheNamesOwnDenial) {
    Pkt p = ask_do("host.sec.test.", LDNS_RR_TYPE_TXT);
    EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
    EXPECT_EQ(ldns_rr_list_rr_count(ldns_pkt_answer(p.get())), 0u);
    EXPECT_EQ(count(ldns_pkt_authority(p.get()), denial()), 1u);
}

TEST_P(RespondDnssec, WildcardAnswerIsSignedByTheWildcardAndProvesNoCloserName) {
    Pkt p = ask_do("x.y.wc.sec.test.", LDNS_RR_TYPE_A);
    const ldns_rr_list* an = ldns_pkt_answer(p.get());
    ASSERT_EQ(types(an), (std::vector<std::string>{"A", "RRSIG(A)"}));
    const ldns_rr* sig = ldns_rr_list_rr(an, 1);
    char* owner = ldns_rdf2str(ldns_rr_owner(sig));
    EXPECT_STREQ(owner, "x.y.wc.sec.test.");
    free(owner);
    EXPECT_EQ(ldns_rdf2native_int8(ldns_rr_rrsig_labels(sig)), 3);  // wc.sec.test.
    EXPECT_EQ(count(ldns_pkt_authority(p.get()), denial()), 1u);
}

TEST_P(RespondDnssec, ReferralCarriesTheSignedDsOrItsDenial) {
    Pkt secure = ask_do("a.secure.sec.test.", LDNS_RR_TYPE_A);
    EXPECT_EQ(types(ldns_pkt_authority(secure.get())),
              (std::vector<std::string>{"NS", "DS", "RRSIG(DS)"}));
    EXPECT_EQ(ldns_rr_list_rr_count(ldns_pkt_additional(secure.get())), 1u);  // glue
    Pkt insecure = ask_do("a.insecure.sec.test.", LDNS_RR_TYPE_A);
    const ldns_rr_list* auth = ldns_pkt_authority(insecure.get());
    EXPECT_EQ(count(auth, "NS"), 1u);
    EXPECT_EQ(count(auth, "DS"), 0u);
    EXPECT_EQ(count(auth, denial()), 1u);
}

TEST_P(RespondDnssec, DnameIsSignedItsSynthesisedCnameIsNot) {
    Pkt p = ask_do("x.dname.sec.test.", LDNS_RR_TYPE_A);
    EXPECT_EQ(types(ldns_pkt_answer(p.get())),
              (std::vector<std::string>{"DNAME", "RRSIG(DNAME)", "CNAME", "A", "RRSIG(A)"}));
}

TEST_P(RespondDnssec, ASignedAnswerTooLargeForThePayloadTruncates) {
    std::vector<uint8_t> q =
        make_query("sec.test.", LDNS_RR_TYPE_DNSKEY, {.payload = 512, .dnssec_ok = true});
    std::vector<uint8_t> buf(65536);
    // Room for the question and the DNSKEY, not for its signature.
    const size_t n = respond(snap_.get(), q.data(), q.size(), buf.data(), 150, ClientInfo{});
    ASSERT_GT(n, 12u);
    EXPECT_TRUE(buf[2] & 0x02);      // TC
    EXPECT_EQ(load16(&buf[6]), 0u);  // no answer records left half-signed
}

TEST_P(RespondDnssec, RrsigQueryAnswersEverySignatureAtTheName) {
    Pkt p = ask(*snap_, "host.sec.test.", LDNS_RR_TYPE_RRSIG);
    const auto t = types(ldns_pkt_answer(p.get()));
    EXPECT_EQ(count(ldns_pkt_answer(p.get()), "RRSIG(A)"), 1u);
    EXPECT_EQ(count(ldns_pkt_answer(p.get()), "RRSIG(AAAA)"), 1u);
}

// Disabled: setting up the in-process signed zone does not finish yet (under investigation).
// RFC 5155 §7.2.8: an NSEC3 record's owner is no name of the zone; asked for, it gets the
// answer of a name that does not exist, with or without DO.
TEST_P(RespondDnssec, Nsec3OwnerNamesAreNotAnswered) {
    if (!GetParam()) GTEST_SKIP() << "NSEC3 only";
    std::string owner;
    for (const auto& [key, node] : zone_->nodes)
        if (node.has(50)) owner = name_to_text(key.str());
    ASSERT_FALSE(owner.empty());
    for (const bool dnssec : {true, false}) {
        Pkt p = ask(*snap_, owner, LDNS_RR_TYPE_NSEC3, {.payload = 1232, .dnssec_ok = dnssec});
        EXPECT_EQ(count(ldns_pkt_answer(p.get()), "NSEC3"), 0u) << owner;
        const Pkt plain = ask(*snap_, "nothere.sec.test.", LDNS_RR_TYPE_NSEC3,
                              {.payload = 1232, .dnssec_ok = dnssec});
        EXPECT_EQ(ldns_pkt_get_rcode(p.get()), ldns_pkt_get_rcode(plain.get())) << owner;
    }
}

INSTANTIATE_TEST_SUITE_P(NsecAndNsec3, RespondDnssec, ::testing::Bool());

}  // namespace
}  // namespace anamed::test
