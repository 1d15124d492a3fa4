// TSIG keys in the configuration: the `keys:` section, and key files written by the real
// tsig-keygen (BIND) and keymgr -t (Knot).
#include "key_file.hpp"

#include "config.hpp"
#include "tsig_test_util.hpp"

namespace anamed::test {
namespace {

const std::string tools_path = "PATH=\"$PATH:/usr/sbin:/sbin\" ";

struct TsigKeys : ::testing::Test {
    TempDir dir;

    std::string write(const std::string& name, const std::string& text) {
        std::ofstream(dir.file(name)) << text;
        return dir.file(name);
    }
    Config load(const std::string& keys_yaml) {
        return load_config(
            write("anamed.yaml", "zones: [{name: a.test, file: a.zone}]\nkeys:\n" + keys_yaml));
    }
    std::string error_of(const std::string& keys_yaml) {
        try {
            load(keys_yaml);
        } catch (const ConfigError& e) {
            return e.what();
        }
        return "(no error)";
    }
};

TEST_F(TsigKeys, InlineKeysLoadWithEveryAlgorithm) {
    std::string yaml;
    for (TsigAlgorithm a : all_tsig_algorithms)
        yaml += "  - {name: k-" + std::string(tsig_algorithm_name(a)) +
                ", algorithm: " + std::string(tsig_algorithm_name(a)) +
                ", secret: \"c2VjcmV0LWtleQ==\"}\n";
    const Config c = load(yaml);
    ASSERT_EQ(c.keys.size(), all_tsig_algorithms.size());
    for (size_t i = 0; i < c.keys.size(); ++i) {
        EXPECT_EQ(c.keys[i].algorithm, all_tsig_algorithms[i]);
        EXPECT_EQ(std::string(c.keys[i].secret.begin(), c.keys[i].secret.end()), "secret-key");
        EXPECT_EQ(c.keys[i].origin, dir.file("anamed.yaml") + ":" + std::to_string(i + 3));
    }
    const TsigKeyring ring = make_keyring(c.keys);
    EXPECT_NE(ring.find(text_to_wire("K-HMAC-SHA1."), TsigAlgorithm::hmac_sha1), nullptr);
}

TEST_F(TsigKeys, ErrorsNameTheLine) {
    const std::string f = dir.file("anamed.yaml");
    EXPECT_EQ(error_of("  - {name: a, algorithm: hmac-sha256, secret: \"no!base64\"}\n"),
              f + ":3: key a: the secret is not valid base64 (write it as tsig-keygen or keymgr -t "
                  "print it)");
    EXPECT_EQ(error_of("  - {name: a, algorithm: hmac-sha999, secret: \"c2VjcmV0\"}\n"),
              f + ":3: key a: unknown algorithm 'hmac-sha999' (known: hmac-md5, hmac-sha1, "
                  "hmac-sha224, hmac-sha256, hmac-sha384, hmac-sha512)");
    EXPECT_EQ(error_of("  - {name: a, algorithm: hmac-sha1, secret: \"c2VjcmV0\"}\n"
                       "  - {name: A., algorithm: hmac-md5, secret: \"c2VjcmV0\"}\n"),
              f + ":4: keys: key A. is listed twice (first at " + f + ":3)");
    EXPECT_EQ(error_of("  - {name: a, secret: \"c2VjcmV0\"}\n"),
              f + ":3: keys: key a needs algorithm and secret, or file (a key file written by "
                  "tsig-keygen or keymgr -t)");
    EXPECT_EQ(error_of("  - {algorithm: hmac-sha1, secret: \"c2VjcmV0\"}\n"),
              f + ":3: keys: each key needs a name");
    EXPECT_EQ(error_of("  - {name: a, file: k, secret: \"c2VjcmV0\"}\n"),
              f + ":3: keys: key a: give either file, or algorithm and secret, not both");
    EXPECT_EQ(error_of("  - {name: a, algorithm: hmac-sha1, secret: \"\"}\n"),
              f + ":3: key a: the secret is not valid base64 (write it as tsig-keygen or keymgr -t "
                  "print it)");
    EXPECT_NE(
        error_of("  - {name: a, algoritm: hmac-sha1}\n").find(":3: keys: unknown key 'algoritm'"),
        std::string::npos);
    EXPECT_EQ(error_of("  - {name: \"a..b\", algorithm: hmac-sha1, secret: \"c2VjcmV0\"}\n"),
              f + ":3: keys: 'a..b' is not a valid key name (a domain name)");
    EXPECT_EQ(error_of("  - {name: a, file: missing.key}\n"),
              dir.file("missing.key") + ": cannot read the key file");
}

TEST_F(TsigKeys, TsigKeygenFilesLoadForEveryAlgorithm) {
    for (TsigAlgorithm a : all_tsig_algorithms) {
        const std::string alg(tsig_algorithm_name(a));
        SCOPED_TRACE(alg);
        // Two keys in one file: the configuration picks its own by name.
        run(tools_path + "tsig-keygen -a " + alg + " other.example > " + dir.file("bind.key"));
        run(tools_path + "tsig-keygen -a " + alg + " xfr.example >> " + dir.file("bind.key"));
        const std::vector<KeyFileEntry> entries = read_key_file(dir.file("bind.key"));
        ASSERT_EQ(entries.size(), 2u);
        EXPECT_EQ(entries[1].name, "xfr.example");
        EXPECT_EQ(entries[1].line, 5u);
        const Config c = load("  - {name: xfr.example., file: bind.key}\n");
        ASSERT_EQ(c.keys.size(), 1u);
        EXPECT_EQ(c.keys[0].algorithm, a);
        EXPECT_EQ(c.keys[0].secret.size(), tsig_digest_size(a));
        EXPECT_EQ(c.keys[0].origin, dir.file("bind.key") + ":5");
        // The key from the file verifies what dnspython signs with the same file's secret.
        const TsigKeyring ring = make_keyring(c.keys);
        const TsigKey* key = ring.find(text_to_wire("xfr.example."), a);
        ASSERT_NE(key, nullptr);
        TsigKey from_file{key->name, a, {}};
        ASSERT_TRUE(decode_base64(entries[1].secret, from_file.secret));
        Dnspython py(dir, "xfr.example.", from_file);
        const Bytes q = py.sign_query("example.", "SOA");
        EXPECT_EQ(verify_tsig_request(q.data(), q.size(), ring, now()).status, TsigStatus::ok);
    }
}

TEST_F(TsigKeys, KeymgrFilesLoad) {
    run(tools_path + "keymgr -t transfer hmac-sha384 > " + dir.file("knot.key"));
    run(tools_path + "keymgr -t Notify.Example hmac-md5 >> " + dir.file("knot.key"));
    // keymgr writes "key:" with every key; two of its outputs in one file make a YAML error.
    EXPECT_NE(error_of("  - {name: transfer, file: knot.key}\n").find(dir.file("knot.key") + ":"),
              std::string::npos);
    run(tools_path + "keymgr -t transfer hmac-sha384 > " + dir.file("knot.key"));
    const Config c = load("  - {name: transfer, file: knot.key}\n");
    ASSERT_EQ(c.keys.size(), 1u);
    EXPECT_EQ(c.keys[0].algorithm, TsigAlgorithm::hmac_sha384);
    EXPECT_EQ(c.keys[0].secret.size(), 48u);
    EXPECT_EQ(c.keys[0].origin, dir.file("knot.key") + ":3");
    EXPECT_EQ(error_of("  - {name: other, file: knot.key}\n"),
              dir.file("anamed.yaml") + ":3: keys: key file " + dir.file("knot.key") +
                  " has no key named other (it has: transfer)");
}

TEST_F(TsigKeys, KeyFileSyntaxErrorsNameTheLine) {
    auto error_in = [&](const std::string& text) {
        try {
            read_key_file(write("bad.key", text));
        } catch (const ConfigError& e) {
            return std::string(e.what());
        }
        return std::string("(no error)");
    };
    const std::string f = dir.file("bad.key");
    EXPECT_EQ(error_in("key \"a\" {\n\talgorithm hmac-sha256\n\tsecret \"c2VjcmV0\";\n};\n"),
              f + ":3: expected ';' after algorithm hmac-sha256, found 'secret'");
    EXPECT_EQ(error_in("# comment\nkey \"a\" {\n\tsecrets \"x\";\n};\n"),
              f + ":3: unknown statement 'secrets' in key \"a\" (known: algorithm, secret)");
    EXPECT_EQ(error_in("/* two\nlines */ key a { algorithm hmac-md5; };\n"),
              f + ":2: key \"a\" has no secret");
    EXPECT_EQ(error_in("key \"a\" {\n algorithm hmac-md5;\n"),
              f + ":3: key \"a\" is not closed with };");
    EXPECT_EQ(error_in("options { };\n"),
              f + ":1: expected a key statement (key \"NAME\" { ... };), found 'options'");
    EXPECT_EQ(error_in("// nothing\n"), f + ": the key file holds no key");
    EXPECT_EQ(error_in("key:\n  - id: a\n    algorithm: hmac-md5\n"),
              f + ":2: each key needs secret");
    EXPECT_EQ(
        error_in("key:\n  - id: a\n    algorithm: hmac-md5\n    secret: c2VjcmV0\nserver: []\n"),
        f + ":5: unknown key 'server' (known here: key)");
    // Comments in BIND's three styles, and several keys.
    const std::vector<KeyFileEntry> ok = read_key_file(
        write("ok.key",
              "// a\nkey k1 { algorithm hmac-sha1; secret \"c2Vj cmV0\"; }; # b\n"
              "/* c */ key \"k2\" { secret \"c2VjcmV0\"; algorithm hmac-sha512; };\n"));
    ASSERT_EQ(ok.size(), 2u);
    EXPECT_EQ(ok[0].name, "k1");
    EXPECT_EQ(ok[0].secret, "c2Vj cmV0");
    EXPECT_EQ(ok[1].algorithm, "hmac-sha512");
    EXPECT_EQ(ok[1].line, 3u);
}

TEST(Base64, StrictDecoding) {
    std::vector<uint8_t> out;
    EXPECT_TRUE(decode_base64("c2VjcmV0", out));
    EXPECT_EQ(std::string(out.begin(), out.end()), "secret");
    EXPECT_TRUE(decode_base64("c2VjcmV0LQ==", out));
    EXPECT_EQ(std::string(out.begin(), out.end()), "secret-");
    EXPECT_TRUE(decode_base64(" c2Vj\ncmV0LWs= ", out));
    EXPECT_EQ(std::string(out.begin(), out.end()), "secret-k");
    for (const char* bad :
         {"", "c2VjcmV", "c2Vj=mV0", "c2VjcmV0LQ=", "c2V===0", "c2Vj*mV0", "===="})
        EXPECT_FALSE(decode_base64(bad, out)) << bad;
}

}  // namespace
}  // namespace anamed::test
