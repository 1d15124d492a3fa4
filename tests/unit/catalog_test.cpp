// Catalog zones (RFC 9432): members read from a catalog, broken catalogs refused whole,
// properties ignored, and a generated catalog read back as the members it was made of.
#include "catalog.hpp"

#include <gtest/gtest.h>

#include "config.hpp"
#include "test_util.hpp"

namespace anamed {
namespace {

const char* head =
    "$ORIGIN cat.test.\n$TTL 0\n@ SOA invalid. invalid. 1 3600 600 2147483646 0\n@ NS invalid.\n";

std::unique_ptr<Zone> load(const test::TempDir& dir, const std::string& body) {
    LoadResult r = load_zone_file("cat.test.", dir.write("cat.zone", head + body));
    EXPECT_TRUE(r.ok()) << (r.diags.empty() ? "" : r.diags[0].str());
    return std::move(r.zone);
}

std::vector<std::string> names(const CatalogContents& c) {
    std::vector<std::string> out;
    for (const auto& m : c.members) out.push_back(m.text);
    return out;
}

TEST(Catalog, MembersAreReadInLabelOrderAndPropertiesIgnored) {
    test::TempDir dir;
    auto z = load(dir,
                  "version TXT \"2\"\n"
                  "b.zones PTR two.example.\n"
                  "a.zones PTR One.Example.\n"
                  "group.a.zones TXT \"blue\"\n"
                  "coo.b.zones PTR other-cat.test.\n"
                  "ext TXT \"custom\"\n");
    CatalogContents c;
    ASSERT_EQ(read_catalog(*z, c), "");
    EXPECT_EQ(names(c), (std::vector<std::string>{"One.Example.", "two.example."}));
    EXPECT_EQ(c.members[0].label, "a");
    EXPECT_EQ(c.members[0].apex, lower_key(text_to_wire("one.example.")));
    EXPECT_TRUE(c.skipped.empty());
}

TEST(Catalog, BrokenCatalogsAreRefusedWhole) {
    test::TempDir dir;
    CatalogContents c;
    EXPECT_NE(read_catalog(*load(dir, "a.zones PTR one.example.\n"), c).find("no version"),
              std::string::npos);
    EXPECT_NE(read_catalog(*load(dir, "version TXT \"1\"\na.zones PTR one.example.\n"), c)
                  .find("not \"2\""),
              std::string::npos);
    EXPECT_NE(read_catalog(*load(dir, "version TXT \"2\"\nversion TXT \"1\"\n"), c)
                  .find("more than one TXT"),
              std::string::npos);
    EXPECT_NE(read_catalog(*load(dir,
                                 "version TXT \"2\"\na.zones PTR one.example.\n"
                                 "a.zones PTR two.example.\n"),
                           c)
                  .find("more than one PTR"),
              std::string::npos);
    EXPECT_NE(read_catalog(*load(dir,
                                 "version TXT \"2\"\na.zones PTR one.example.\n"
                                 "coo.a.zones PTR x.test.\ncoo.a.zones PTR y.test.\n"),
                           c)
                  .find("coo.a.zones"),
              std::string::npos);
    EXPECT_TRUE(c.members.empty());
}

TEST(Catalog, RepeatedAndInsideMembersAreSkippedTheRestUsed) {
    test::TempDir dir;
    auto z = load(dir,
                  "version TXT \"2\"\n"
                  "a.zones PTR one.example.\n"
                  "b.zones PTR ONE.example.\n"
                  "c.zones PTR sub.cat.test.\n"
                  "d.zones PTR cat.test.\n"
                  "e.zones PTR three.example.\n");
    CatalogContents c;
    ASSERT_EQ(read_catalog(*z, c), "");
    EXPECT_EQ(names(c), (std::vector<std::string>{"one.example.", "three.example."}));
    ASSERT_EQ(c.skipped.size(), 3u);
    EXPECT_NE(c.skipped[0].find("listed again at b"), std::string::npos);
    EXPECT_NE(c.skipped[1].find("inside it"), std::string::npos);
}

TEST(Catalog, LabelsAreStableHexAndIgnoreCase) {
    const std::string a = catalog_label(text_to_wire("customer.com."));
    EXPECT_EQ(a.size(), 16u);
    EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_EQ(a, catalog_label(text_to_wire("Customer.COM.")));
    EXPECT_NE(a, catalog_label(text_to_wire("customer.net.")));
}

TEST(Catalog, GeneratedCatalogReadsBackAsItsMembers) {
    std::string err;
    auto z = generate_catalog("cat.test.", 42, {"b.example", "a.example."}, err);
    ASSERT_TRUE(z) << err;
    EXPECT_EQ(z->serial(), 42u);
    CatalogContents c;
    ASSERT_EQ(read_catalog(*z, c), "");
    std::vector<std::string> got = names(c);
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, (std::vector<std::string>{"a.example.", "b.example."}));
    for (const auto& m : c.members) EXPECT_EQ(m.label, catalog_label(m.apex));
    // SOA and NS at the apex, as every zone has; the NS is invalid. (RFC 9432 §4).
    const ZoneNode* apex = z->find(z->apex);
    ASSERT_NE(apex, nullptr);
    ASSERT_TRUE(apex->find(rrtype::NS));
    EXPECT_EQ(name_to_text(apex->find(rrtype::NS)->rdata[0]), "invalid.");
    // An empty catalog is a valid one.
    auto empty = generate_catalog("cat.test.", 1, {}, err);
    ASSERT_TRUE(empty) << err;
    ASSERT_EQ(read_catalog(*empty, c), "");
    EXPECT_TRUE(c.members.empty());
}

// The configuration's catalog keys, with knot.conf's names and values.
std::string config_error(const test::TempDir& dir, const std::string& zones) {
    const std::string path =
        dir.write("c.yaml", "remotes:\n  - {name: p, address: \"127.0.0.1:53\"}\nzones:\n" + zones);
    try {
        load_config(path);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

TEST(CatalogConfig, RolesAndTheirRules) {
    test::TempDir dir;
    dir.write("m.zone", "");
    EXPECT_EQ(config_error(dir,
                           "  - {name: cat.test, catalog-role: generate}\n"
                           "  - {name: m.test, file: m.zone, catalog-zone: cat.test}\n"
                           "  - {name: n.test, file: m.zone, catalog-role: member, "
                           "catalog-zone: cat.test.}\n"
                           "  - {name: in.test, primary: [p], catalog-role: interpret}\n"),
              "");
    const std::string path = dir.file("c.yaml");
    const Config c = load_config(path);
    EXPECT_EQ(c.zones[0].catalog_role, ZoneConfig::CatalogRole::generate);
    EXPECT_EQ(c.zones[1].catalog_zone, "cat.test");
    EXPECT_EQ(c.zones[3].catalog_role, ZoneConfig::CatalogRole::interpret);
    EXPECT_NE(config_error(dir, "  - {name: c.test, file: m.zone, catalog-role: generate}\n")
                  .find(":4: zone c.test: a generated catalog has no file"),
              std::string::npos);
    EXPECT_NE(config_error(dir, "  - {name: c.test, file: m.zone, catalog-role: interpret}\n")
                  .find("catalog-role: interpret needs primary:"),
              std::string::npos);
    EXPECT_NE(config_error(dir, "  - {name: c.test, file: m.zone, catalog-role: member}\n")
                  .find("member needs catalog-zone:"),
              std::string::npos);
    EXPECT_NE(config_error(dir, "  - {name: c.test, file: m.zone, catalog-role: consume}\n")
                  .find("catalog-role must be 'interpret'"),
              std::string::npos);
    EXPECT_NE(config_error(dir, "  - {name: c.test, file: m.zone, catalog-zone: nowhere.test}\n")
                  .find("catalog-zone: nowhere.test is not a zone with catalog-role: generate"),
              std::string::npos);
    EXPECT_NE(
        config_error(dir, "  - {name: c.test, catalog-role: generate, catalog-zone: c.test}\n")
            .find("a catalog cannot list itself"),
        std::string::npos);
}

}  // namespace
}  // namespace anamed
