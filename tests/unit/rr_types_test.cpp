// The RR type table: its lookups, its agreement with ldns, and the behaviour every part of
// the control plane derives from it, checked entry by entry.
#include "anamed/rr_types.hpp"

#include <gtest/gtest.h>

#include <set>

#include "anamed/stats.hpp"
#include "master_text.hpp"
#include "node_builder.hpp"
#include "record_parser.hpp"
#include "test_util.hpp"
#include "zone_edit.hpp"

namespace anamed::test {
namespace {

// A record's RDATA in presentation form, a value for each field of the layout.
std::string sample_rdata(const RRType& t, const std::string& target = "target.example.test.") {
    std::string out;
    for (RdataField f : t.rdata) {
        if (!out.empty()) out += ' ';
        switch (f) {
        case RdataField::name: out += target; break;
        case RdataField::u8: out += "7"; break;
        case RdataField::u16: out += "512"; break;
        case RdataField::u32: out += "2024010101"; break;
        case RdataField::period: out += "1h"; break;
        case RdataField::ipv4: out += "192.0.2.7"; break;
        case RdataField::ipv6: out += "2001:db8::7"; break;
        case RdataField::string: out += "\"a string\""; break;
        case RdataField::strings: out += "one \"two words\""; break;
        case RdataField::other: ADD_FAILURE() << t.mnemonic; break;
        }
    }
    return out;
}

bool has_name(const RRType& t) {
    for (RdataField f : t.rdata)
        if (f == RdataField::name) return true;
    return false;
}

// The table's types that the record parser reads field by field.
std::vector<const RRType*> simple_types() {
    std::vector<const RRType*> out;
    for (const RRType& t : rr_table::types)
        if (t.rdata.simple()) out.push_back(&t);
    return out;
}

ParsedRecord parsed(const RRType& t, const std::string& target = "target.example.test.") {
    MasterRecord rec{
        "x.example.test. 300 IN " + std::string(t.mnemonic) + " " + sample_rdata(t, target), 1, 0,
        0, 3600};
    ParsedRecord p;
    EXPECT_EQ(parse_master_record(rec, "example.test.", p), "") << rec.text;
    return p;
}

TEST(RRTypes, NumberIndexFindsEveryEntryAndNothingElse) {
    size_t found = 0;
    for (uint32_t n = 0; n <= 65535; ++n)
        if (const RRType* t = rr_type(uint16_t(n))) {
            EXPECT_EQ(t->number, n);
            ++found;
        }
    EXPECT_EQ(found, rr_type_count);
}

TEST(RRTypes, MnemonicsAreFoundInAnyCase) {
    for (const RRType& t : rr_table::types)
        for (std::string_view m : {t.mnemonic, t.alt_mnemonic}) {
            if (m.empty()) continue;
            std::string lower(m), mixed(m);
            for (size_t i = 0; i < m.size(); ++i) {
                lower[i] = char(std::tolower(static_cast<unsigned char>(m[i])));
                if (i % 2) mixed[i] = lower[i];
            }
            for (const std::string& s : {std::string(m), lower, mixed}) {
                EXPECT_EQ(rr_type(s), &t) << s;
                EXPECT_EQ(rr_type_number(s), t.number) << s;
            }
        }
    EXPECT_EQ(rr_type("aname"), rr_type(rrtype::ALIAS));
    for (const char* none :
         {"", "AA", "AAAAA", "CNAMEX", "TYPE1", "A ", "NSEC3PARAMETERS_LONGER_THAN_16"})
        EXPECT_EQ(rr_type(std::string_view(none)), nullptr) << none;
}

TEST(RRTypes, GenericTypeNamesReadAsTheirNumber) {
    EXPECT_EQ(rr_type_number("TYPE1"), 1);
    EXPECT_EQ(rr_type_number("type65401"), 65401);
    EXPECT_EQ(rr_type_number("TYPE65535"), 65535);
    EXPECT_EQ(rr_type_number("TYPE0"), 0);
    for (const char* bad :
         {"TYPE", "TYPE65536", "TYPE-1", "TYPE1x", "TYPE999999", "TYP1", "XTYPE1"})
        EXPECT_EQ(rr_type_number(bad), std::nullopt) << bad;
    EXPECT_EQ(rr_type_text(rrtype::ALIAS), "ALIAS");
    EXPECT_EQ(rr_type_text(rrtype::MX), "MX");
    EXPECT_EQ(rr_type_text(65000), "TYPE65000");
    EXPECT_EQ(rr_type_number(rr_type_text(65000)), 65000);
}

// ldns parses and prints the zone data: where it knows a type, its number and mnemonic are
// the table's. A type it does not know is one the table reads as another (text_as).
TEST(RRTypes, NumbersAndMnemonicsAgreeWithLdns) {
    size_t both = 0;
    for (uint32_t n = 1; n <= 65535; ++n) {
        const ldns_rr_descriptor* d = ldns_rr_descript(uint16_t(n));
        if (d == nullptr || d->_type != n || d->_name == nullptr) continue;
        const std::string ldns_name = d->_name;
        if (ldns_name.rfind("TYPE", 0) == 0) continue;  // a number ldns only holds a place for
        if (const RRType* t = rr_type(uint16_t(n))) {
            EXPECT_TRUE(master_text::iequals(t->mnemonic, ldns_name))
                << n << " " << t->mnemonic << " " << ldns_name;
            ++both;
        }
        if (const RRType* t = rr_type(ldns_name)) {
            EXPECT_EQ(t->number, n) << ldns_name;
        }
    }
    EXPECT_GT(both, 50u);
    for (const RRType& t : rr_table::types) {
        const std::string m(t.mnemonic);
        const auto by_name = uint16_t(ldns_get_rr_type_by_name(m.c_str()));
        if (t.text_as != 0) {
            EXPECT_EQ(by_name, 0) << m << ": ldns knows it; parse it as itself";
            EXPECT_EQ(rr_type(t.text_as)->rdata.count, t.rdata.count) << m;
        } else {
            EXPECT_EQ(by_name, t.number) << m;
        }
    }
}

// The parser's fast path trusts the layouts: each must be what ldns reads the type as.
TEST(RRTypes, SimpleLayoutsAreLdnsFieldTypes) {
    auto ldns_kind = [](RdataField f) {
        switch (f) {
        case RdataField::name: return LDNS_RDF_TYPE_DNAME;
        case RdataField::u8: return LDNS_RDF_TYPE_INT8;
        case RdataField::u16: return LDNS_RDF_TYPE_INT16;
        case RdataField::u32: return LDNS_RDF_TYPE_INT32;
        case RdataField::period: return LDNS_RDF_TYPE_PERIOD;
        case RdataField::ipv4: return LDNS_RDF_TYPE_A;
        case RdataField::ipv6: return LDNS_RDF_TYPE_AAAA;
        case RdataField::string:
        case RdataField::strings: return LDNS_RDF_TYPE_STR;
        default: return LDNS_RDF_TYPE_NONE;
        }
    };
    for (const RRType* t : simple_types()) {
        const ldns_rr_descriptor* d = ldns_rr_descript(t->text_as ? t->text_as : t->number);
        const bool rest = t->rdata.field[t->rdata.count - 1] == RdataField::strings;
        EXPECT_EQ(ldns_rr_descriptor_maximum(d) == t->rdata.count, !rest) << t->mnemonic;
        for (size_t i = 0; i < t->rdata.count; ++i)
            EXPECT_EQ(ldns_rr_descriptor_field_type(d, i), ldns_kind(t->rdata.field[i]))
                << t->mnemonic << " " << i;
    }
}

TEST(RRTypes, FastPathParsesEverySimpleTypeAsLdnsDoes) {
    for (const RRType* t : simple_types()) {
        const std::string text = "x 300 IN " + std::string(t->mnemonic) + " " + sample_rdata(*t);
        MasterRecord rec{text, 1, 0, 0, 3600};
        ParsedRecord fast;
        ASSERT_EQ(parse_master_record(rec, "example.test.", fast), "") << text;
        EXPECT_EQ(fast.type, t->number) << text;
        // ldns, on the text as it reads it (ALIAS as CNAME)
        std::string ldns_text =
            "x 300 IN " + std::string(rr_type(t->text_as ? t->text_as : t->number)->mnemonic) +
            " " + sample_rdata(*t);
        ldns_rdf* origin = ldns_dname_new_frm_str("example.test.");
        ldns_rr* rr = nullptr;
        ASSERT_EQ(ldns_rr_new_frm_str(&rr, ldns_text.c_str(), 3600, origin, nullptr),
                  LDNS_STATUS_OK)
            << ldns_text;
        ldns_buffer* buf = ldns_buffer_new(512);
        ldns_rr_rdata2buffer_wire(buf, rr);
        EXPECT_EQ(fast.rdata, std::string(reinterpret_cast<const char*>(ldns_buffer_begin(buf)),
                                          ldns_buffer_position(buf)))
            << text;
        ldns_buffer_free(buf);
        ldns_rr_free(rr);
        ldns_rdf_deep_free(origin);
    }
}

// A 16-bit or 8-bit field past its range is refused (ldns would wrap it around), on the fast
// path and, for the types without one, by ldns itself.
TEST(RRTypes, NumbersPastTheirFieldAreRefused) {
    for (const RRType* t : simple_types()) {
        for (size_t i = 0; i < t->rdata.count; ++i) {
            const RdataField f = t->rdata.field[i];
            if (f != RdataField::u8 && f != RdataField::u16) continue;
            std::string rd;
            for (size_t j = 0; j < t->rdata.count; ++j) {
                RRType one = *t;
                one.rdata = {t->rdata.field[j]};
                rd += (j ? " " : "") + (j == i ? std::string(f == RdataField::u8 ? "256" : "65536")
                                               : sample_rdata(one));
            }
            MasterRecord rec{"x " + std::string(t->mnemonic) + " " + rd, 1, 0, 0, 3600};
            ParsedRecord p;
            EXPECT_NE(parse_master_record(rec, "example.test.", p), "") << rec.text;
        }
    }
}

// One answer block per type: a name in the RDATA that shares the owner's suffix comes out as
// a compression pointer exactly for the types the table marks (RFC 3597 §4), and the
// RDATA's name gets the additional addresses exactly for those marked so.
TEST(RRTypes, CompressionAndAdditionalAddressesFollowTheTable) {
    ZoneNode target;
    target.add(rrtype::A, 300, std::string("\xC0\x00\x02\x01", 4));
    const NodeLookup lookup = [&](std::string_view key, bool) -> const ZoneNode* {
        return key == text_to_wire("a.x.example.test.") ? &target : nullptr;
    };
    const std::set<std::string_view> rfc1035 = {"NS", "MD", "MF",  "CNAME", "SOA", "MB",
                                                "MG", "MR", "PTR", "MINFO", "MX"};
    for (const RRType* t : simple_types()) {
        if (!has_name(*t)) continue;
        const ParsedRecord p = parsed(*t, "a.x.example.test.");
        ZoneNode zn;
        zn.add(p.type, p.ttl, p.rdata);
        BuiltNode b;
        build_node(zn, text_to_wire("x.example.test."), std::nullopt, lookup, b);
        const auto* nd = reinterpret_cast<const NodeData*>(b.bytes.data());
        const TypeEntry* e = nd->find(t->number);
        ASSERT_NE(e, nullptr) << t->mnemonic;
        // The record's RDATA length in the block: shorter than in the zone data when compressed.
        const uint16_t rdlen = load16(nd->bytes() + e->rr_off + rr_fixed - 2);
        EXPECT_EQ(rdlen < p.rdata.size(), t->has(rr_flag::compress)) << t->mnemonic;
        if (t->has(rr_flag::compress)) {
            EXPECT_TRUE(rfc1035.count(t->mnemonic)) << t->mnemonic << ": RFC 3597 §4";
        }
        EXPECT_EQ(e->add_count, t->has(rr_flag::additional) ? 1 : 0) << t->mnemonic;
    }
}

TEST(RRTypes, NodeFlagsFollowTheTable) {
    EXPECT_EQ(rr_type(rrtype::NS)->node_flags, node_flag::delegation);
    EXPECT_EQ(rr_type(rrtype::CNAME)->node_flags, node_flag::cname);
    EXPECT_EQ(rr_type(rrtype::DNAME)->node_flags, node_flag::dname);
    for (const RRType* t : simple_types()) {
        const ParsedRecord p = parsed(*t);
        ZoneNode zn;
        zn.add(p.type, p.ttl, p.rdata);
        EXPECT_EQ(node_flags(zn, false), t->node_flags) << t->mnemonic;
        EXPECT_EQ(node_flags(zn, true), (t->node_flags & ~node_flag::delegation) | node_flag::apex)
            << t->mnemonic;
        // What the marks answer is what the records say.
        for (const RRType& other : rr_table::types)
            EXPECT_EQ(zn.has(other.number), other.number == t->number);
    }
}

TEST(RRTypes, ZoneEditsFollowTheTable) {
    for (uint16_t dnssec : {46, 47, 50})
        EXPECT_TRUE(rr_type(dnssec)->has(rr_flag::dnssec)) << dnssec;  // RRSIG NSEC NSEC3
    for (uint16_t meta : {rrtype::OPT, rrtype::TSIG, rrtype::TKEY, rrtype::IXFR, rrtype::AXFR,
                          rrtype::MAILA, rrtype::MAILB, rrtype::ANY})
        EXPECT_TRUE(rr_type(meta)->has(rr_flag::meta)) << meta;
    for (const RRType& t : rr_table::types) {
        ParsedRecord p;
        p.owner = text_to_wire("x.example.test.");
        p.type = t.number;
        p.ttl = 300;
        const std::string first =
            t.rdata.simple() ? parsed(t).rdata : std::string("\x01\x02\x03", 3);
        const std::string second = t.rdata.simple() ? parsed(t, "other.example.test.").rdata
                                                    : std::string("\x01\x02\x04", 3);
        p.rdata = first;
        ZoneNode n;
        if (t.has(rr_flag::meta)) {
            EXPECT_NE(add_record(n, p, nullptr), "") << t.mnemonic << " is not zone data";
            continue;
        }
        if (t.number == rrtype::SVCB || t.number == rrtype::HTTPS)
            continue;  // RDATA checked on its own
        ASSERT_EQ(add_record(n, p, nullptr), "") << t.mnemonic;
        if (second != first) {
            p.rdata = second;
            EXPECT_EQ(add_record(n, p, nullptr).empty(), !t.has(rr_flag::single)) << t.mnemonic;
        }
        // Beside a CNAME: DNSSEC data only (or the CNAME itself).
        ZoneNode c;
        ASSERT_EQ(add_record(c, parsed(*rr_type(rrtype::CNAME)), nullptr), "");
        p.rdata = first;
        if (t.number != rrtype::CNAME) {
            EXPECT_EQ(add_record(c, p, nullptr).empty(), t.has(rr_flag::dnssec)) << t.mnemonic;
        }
    }
}

TEST(RRTypes, TypeNamesFromTheControlSocket) {
    EXPECT_EQ(type_from_text("alias"), rrtype::ALIAS);
    EXPECT_EQ(type_from_text("ANAME"), rrtype::ALIAS);
    EXPECT_EQ(type_from_text("TYPE65401"), rrtype::ALIAS);
    EXPECT_EQ(type_from_text("mx"), rrtype::MX);
    // ldns knows types the table does not list.
    for (uint32_t n = 1; n < 300; ++n) {
        const ldns_rr_descriptor* d = ldns_rr_descript(uint16_t(n));
        if (rr_type(uint16_t(n)) || d->_type != n || !d->_name ||
            std::string(d->_name).rfind("TYPE", 0) == 0)
            continue;
        EXPECT_EQ(type_from_text(d->_name), n) << d->_name;
    }
    EXPECT_EQ(type_from_text("NOSUCHTYPE"), 0);
}

// ALIAS is an entry like any other: written by either mnemonic or as TYPE65401 with a name,
// it parses to its own type, and prints back under its name.
TEST(RRTypes, AliasIsReadAndPrintedByItsEntry) {
    for (const char* text :
         {"x ALIAS lb.example.", "x aname lb.example.", "x 60 IN TYPE65401 lb.example."}) {
        for (bool normalize : {false, true}) {
            MasterRecord rec{text, 1, 0, 0, 3600};
            if (normalize) normalize_record(rec);
            ParsedRecord p;
            ASSERT_EQ(parse_master_record(rec, "example.test.", p), "") << text;
            EXPECT_EQ(p.type, rrtype::ALIAS) << text;
            EXPECT_EQ(p.rdata, text_to_wire("lb.example.")) << text;
        }
    }
}

TEST(RRTypes, StatsSlotsAreTheCountedQueryTypes) {
    std::vector<const RRType*> by_slot(qtype_buckets.size() + 1, nullptr);
    for (const RRType& t : rr_table::types) {
        if (t.stats_slot == 0) continue;
        ASSERT_LE(t.stats_slot, qtype_buckets.size()) << t.mnemonic;
        EXPECT_EQ(by_slot[t.stats_slot], nullptr) << t.mnemonic;
        by_slot[t.stats_slot] = &t;
    }
    for (size_t i = 0; i < qtype_buckets.size(); ++i) {
        ASSERT_NE(by_slot[i + 1], nullptr) << i;
        EXPECT_EQ(by_slot[i + 1]->number, qtype_buckets[i].first);
        EXPECT_EQ(by_slot[i + 1]->mnemonic, qtype_buckets[i].second);
    }
}

}  // namespace
}  // namespace anamed::test
