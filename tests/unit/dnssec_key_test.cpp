// DNSSEC keys: BIND key files from dnssec-keygen load and sign; key tags and DS records
// match dnssec-dsfromkey's; generated keys are written in BIND's format, private half 0600.
#include "dnssec_key.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <filesystem>

#include "key_file.hpp"
#include "test_util.hpp"

namespace anamed {
namespace {

using test::TempDir;

// The first line a command prints, trailing newline removed.
std::string run(const std::string& cmd) {
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return {};
    char buf[4096];
    std::string out;
    if (std::fgets(buf, sizeof buf, p)) out = buf;
    pclose(p);
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
}

// dnssec-keygen in `dir`; returns the key's base path.
std::string bind_keygen(const TempDir& dir, const std::string& args) {
    const std::string base =
        run("cd " + dir.path() + " && dnssec-keygen -q " + args + " example.test 2>/dev/null");
    EXPECT_FALSE(base.empty()) << "dnssec-keygen " << args;
    return dir.file(base);
}

struct AlgCase {
    const char* keygen;
    uint8_t number;
};

class BindKeys : public ::testing::TestWithParam<AlgCase> {};

TEST_P(BindKeys, LoadSignVerifyAndMatchDsFromKey) {
    const TempDir dir;
    const std::string base = bind_keygen(dir, std::string("-a ") + GetParam().keygen + " -f KSK");
    DnssecKey key;
    ASSERT_EQ(load_key_pair(base + ".private", key), "");
    EXPECT_EQ(key.algorithm, GetParam().number);
    EXPECT_EQ(key.flags, 257);
    EXPECT_EQ(key.owner, text_to_wire("example.test."));
    // The tag is the one in the file's name (K<zone>.+AAA+TTTTT).
    char tag[8];
    std::snprintf(tag, sizeof tag, "%05u", unsigned(key.tag));
    EXPECT_TRUE(base.ends_with(tag)) << base << " vs " << tag;

    std::string sig;
    ASSERT_TRUE(key.sign("some data", sig));
    EXPECT_TRUE(key.verify("some data", sig));
    EXPECT_FALSE(key.verify("other data", sig));

    // dnssec-dsfromkey -2 prints "example.test. IN DS TAG ALG 2 HEX".
    const std::string expected = run("dnssec-dsfromkey -2 " + base + ".key");
    const std::string ours = ds_text(key, 3600);
    ASSERT_FALSE(expected.empty());
    EXPECT_EQ(ours.substr(ours.find(" IN DS ")), expected.substr(expected.find(" IN DS ")));
}

INSTANTIATE_TEST_SUITE_P(Algorithms, BindKeys,
                         ::testing::Values(AlgCase{"ECDSAP256SHA256", 13}, AlgCase{"ED25519", 15},
                                           AlgCase{"RSASHA256 -b 2048", 8}),
                         [](const auto& info) {
                             return "alg" + std::to_string(info.param.number);
                         });

class GeneratedKeys : public ::testing::TestWithParam<uint8_t> {};

TEST_P(GeneratedKeys, WrittenInBindFormatPrivate0600AndReadByBind) {
    const TempDir dir;
    DnssecKey key;
    ASSERT_EQ(
        generate_key(text_to_wire("example.test."), GetParam(), KeyRole::zsk, 1700000000, key), "");
    EXPECT_EQ(key.flags, 256);
    ASSERT_EQ(write_key_pair(dir.path(), key, 1700000000), "");
    struct stat st {};
    ASSERT_EQ(::stat((key.file_base + ".private").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    // A second write of the same key does not overwrite it.
    DnssecKey again = key;
    EXPECT_NE(write_key_pair(dir.path(), again, 1700000000), "");

    DnssecKey loaded;
    ASSERT_EQ(load_key_pair(key.file_base, loaded), "");
    EXPECT_EQ(loaded.dnskey_rdata(), key.dnskey_rdata());
    EXPECT_EQ(loaded.tag, key.tag);
    EXPECT_EQ(loaded.activate, std::optional<int64_t>(1700000000));
    std::string sig;
    ASSERT_TRUE(key.sign("data", sig));
    EXPECT_TRUE(loaded.verify("data", sig));

    // BIND reads the pair: dnssec-dsfromkey gives the tag we computed; and with -f on the
    // private file BIND's own parser must accept the private half.
    const std::string ds = run("dnssec-dsfromkey -2 " + key.file_base + ".key");
    EXPECT_NE(
        ds.find(" IN DS " + std::to_string(key.tag) + " " + std::to_string(GetParam()) + " 2 "),
        std::string::npos)
        << ds;
    const std::string settime = run("dnssec-settime -p all " + key.file_base + " 2>&1 | head -1");
    EXPECT_EQ(settime.find("error"), std::string::npos) << settime;
    EXPECT_EQ(settime.find("failed"), std::string::npos) << settime;
}

INSTANTIATE_TEST_SUITE_P(Algorithms, GeneratedKeys, ::testing::Values(8, 13, 15),
                         [](const auto& info) { return "alg" + std::to_string(info.param); });

TEST(DnssecKeys, MismatchedOrDamagedPairsAreRefused) {
    const TempDir dir;
    const std::string a = bind_keygen(dir, "-a ECDSAP256SHA256");
    const std::string b = bind_keygen(dir, "-a ECDSAP256SHA256");
    DnssecKey k;
    // b's private key under a's public key.
    std::filesystem::copy_file(b + ".private", a + ".private",
                               std::filesystem::copy_options::overwrite_existing);
    EXPECT_NE(load_key_pair(a, k).find("does not belong"), std::string::npos);
    dir.write("Kbad.+013+00001.key", "bad. IN DNSKEY 256 3 13 !!!\n");
    dir.write("Kbad.+013+00001.private", "Private-key-format: v1.3\nAlgorithm: 13\n");
    EXPECT_NE(load_key_pair(dir.file("Kbad.+013+00001"), k), "");
    EXPECT_NE(load_key_pair(dir.file("missing"), k).find("cannot read"), std::string::npos);
    // The directory listing reports the damaged pair and still finds the good one.
    std::vector<std::string> errors;
    const std::vector<DnssecKey> keys =
        load_zone_keys(dir.path(), text_to_wire("example.test."), errors);
    ASSERT_EQ(keys.size(), 1u);
    EXPECT_EQ(errors.size(), 1u);
}

// Knot's keymgr keeps PKCS#8 PEM files; its own DS output is the reference.
TEST(DnssecKeys, KeymgrPemKeysLoadWithKnotsTagAndDs) {
    const TempDir dir;
    for (const char* alg : {"13", "15", "8"}) {
        const std::string id =
            run("keymgr -D " + dir.path() + " example.test. generate algorithm=" + alg +
                " ksk=yes" + (std::string(alg) == "8" ? " size=2048" : "") + " 2>/dev/null");
        ASSERT_FALSE(id.empty()) << alg;
        DnssecKey k;
        ASSERT_EQ(load_pem_key(dir.path() + "/keys/" + id + ".pem", text_to_wire("example.test."),
                               true, k),
                  "");
        EXPECT_EQ(std::to_string(k.algorithm), alg);
        // keymgr ds prints "example.test. DS TAG ALG 2 hex" (SHA-256 first).
        std::string ds = run("keymgr -D " + dir.path() + " example.test. ds " + id);
        std::string ours = ds_text(k, 0);
        ours = ours.substr(ours.find(" DS ") + 4);
        ds = ds.substr(ds.find(" DS ") + 4);
        std::transform(ds.begin(), ds.end(), ds.begin(), ::toupper);
        EXPECT_EQ(ours, ds) << alg;
        std::string sig;
        ASSERT_TRUE(k.sign("data", sig));
        EXPECT_TRUE(k.verify("data", sig));
    }
}

TEST(DnssecKeys, KeyTagOfRfc4034Example) {
    // RFC 4034 §5.4's DNSKEY (algorithm 5) has key tag 60485.
    std::vector<uint8_t> pub;
    ASSERT_TRUE(decode_base64(
        "AQOeiiR0GOMYkDshWoSKz9XzfwJr1AYtsmx3TGkJaNXVbfi/2pHm822aJ5iI9BMzNXxeYCmZDRD99WYwYqUSdj"
        "MmmAphXdvxegXd/M5+X7OrzKBaMbCVdFLUUh6DhweJBjEVv5f2wwjM9XzcnOf+EPbtG9DMBmADjFDc2w/rljwv"
        "Fw==",
        pub));
    std::string rd("\x01\x00\x03\x05", 4);
    rd.append(pub.begin(), pub.end());
    EXPECT_EQ(key_tag(rd), 60485);
}

}  // namespace
}  // namespace anamed
