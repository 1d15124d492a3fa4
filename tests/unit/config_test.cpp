#include <gtest/gtest.h>

#include <fstream>

#include "config.hpp"
#include "test_util.hpp"

namespace anamed {
namespace {

using test::TempDir;

std::string error_of(const std::string& path) {
    try {
        Config c = load_config(path);
        validate_config(c);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

TEST(Config, ReadsListenZonesAndResolvesRelativeFiles) {
    const TempDir tmp;
    const std::string path = tmp.write("ok.yaml",
                                       "listen: [\"127.0.0.1:5300\", \"[::1]:5300\"]\n"
                                       "workers: 3\n"
                                       "tcp: {idle-timeout-ms: 2000, max-connections: 10}\n"
                                       "zones:\n"
                                       "  - name: example.com\n"
                                       "    file: zones/example.com.zone\n"
                                       "  - name: other.test.\n"
                                       "    file: /abs/other.zone\n");
    Config c = load_config(path);
    validate_config(c);
    EXPECT_EQ(c.listen.size(), 2u);
    EXPECT_EQ(c.workers, 3u);
    EXPECT_EQ(c.tcp_idle_timeout_ms, 2000u);
    EXPECT_EQ(c.tcp_max_connections, 10u);
    ASSERT_EQ(c.zones.size(), 2u);
    EXPECT_EQ(c.zones[0].file, tmp.file("zones/example.com.zone"));
    EXPECT_EQ(c.zones[1].file, "/abs/other.zone");
}

TEST(Config, UnknownKeysNameTheLine) {
    const TempDir tmp;
    const std::string path =
        tmp.write("typo.yaml", "zones:\n  - name: a.test\n    file: a\nlistne: []\n");
    EXPECT_NE(error_of(path).find("typo.yaml:4: unknown key 'listne'"), std::string::npos) << error_of(path);
}

TEST(Config, BadValuesAreRejected) {
    const TempDir tmp;
    EXPECT_NE(error_of(tmp.write("l.yaml",
                                 "listen: [\"localhost:53\"]\nzones: [{name: a.test, file: a}]\n"))
                  .find("l.yaml:1:"),
              std::string::npos);
    EXPECT_NE(
        error_of(tmp.write("p.yaml",
                           "listen: [\"127.0.0.1:99999\"]\nzones: [{name: a.test, file: a}]\n"))
            .find("bad port"),
        std::string::npos);
    EXPECT_NE(error_of(tmp.write("w.yaml", "workers: -1\nzones: [{name: a.test, file: a}]\n"))
                  .find("w.yaml:1:"),
              std::string::npos);
    EXPECT_NE(error_of(tmp.write("d.yaml",
                                 "zones: [{name: a.test, file: a}, {name: A.TEST., file: b}]\n"))
                  .find("listed twice"),
              std::string::npos);
    EXPECT_NE(error_of(tmp.write("n.yaml", "zones: []\n")).find("no zones"), std::string::npos);
    EXPECT_NE(error_of(tmp.write("y.yaml", "zones: [\n")).find("y.yaml:"), std::string::npos);
    EXPECT_NE(error_of("/nonexistent.yaml").find("cannot read"), std::string::npos);
}

}  // namespace
}  // namespace anamed
