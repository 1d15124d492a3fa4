#include "config.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "temp_dir.hpp"

namespace anamed {
namespace {

// A directory of this test's own, removed when the test ends.
class ConfigFile : public ::testing::Test {
protected:
    std::string write_temp(const std::string& name, const std::string& content) const {
        const std::string path = dir_ + name;
        std::ofstream(path) << content;
        return path;
    }
    test::TempDir tmp_;
    std::string dir_ = tmp_.path() + "/";
};

std::string error_of(const std::string& path) {
    try {
        Config c = load_config(path);
        validate_config(c);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

TEST_F(ConfigFile, ReadsListenZonesAndResolvesRelativeFiles) {
    const std::string path = write_temp("ok.yaml",
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
    EXPECT_EQ(c.tcp.idle_timeout_ms, 2000u);
    EXPECT_EQ(c.tcp.max_connections, 10u);
    ASSERT_EQ(c.zones.size(), 2u);
    EXPECT_EQ(c.zones[0].file, dir_ + "zones/example.com.zone");
    EXPECT_EQ(c.zones[1].file, "/abs/other.zone");
}

TEST_F(ConfigFile, UnknownKeysNameTheLine) {
    const std::string path =
        write_temp("typo.yaml", "zones:\n  - name: a.test\n    file: a\nlistne: []\n");
    EXPECT_NE(error_of(path).find("typo.yaml:4: unknown key 'listne'"), std::string::npos)
        << error_of(path);
}

TEST_F(ConfigFile, BadValuesAreRejected) {
    EXPECT_NE(error_of(write_temp("l.yaml",
                                  "listen: [\"localhost:53\"]\nzones: [{name: a.test, file: a}]\n"))
                  .find("l.yaml:1:"),
              std::string::npos);
    EXPECT_NE(
        error_of(write_temp("p.yaml",
                            "listen: [\"127.0.0.1:99999\"]\nzones: [{name: a.test, file: a}]\n"))
            .find("bad port"),
        std::string::npos);
    EXPECT_NE(error_of(write_temp("w.yaml", "workers: -1\nzones: [{name: a.test, file: a}]\n"))
                  .find("w.yaml:1:"),
              std::string::npos);
    EXPECT_NE(error_of(write_temp("d.yaml",
                                  "zones: [{name: a.test, file: a}, {name: A.TEST., file: b}]\n"))
                  .find("listed twice"),
              std::string::npos);
    EXPECT_NE(error_of(write_temp("n.yaml", "zones: []\n")).find("no zones"), std::string::npos);
    EXPECT_NE(error_of(write_temp("y.yaml", "zones: [\n")).find("y.yaml:"), std::string::npos);
    EXPECT_NE(error_of("/nonexistent.yaml").find("cannot read"), std::string::npos);
}

TEST_F(ConfigFile, DpdkSectionFillsTheDataplaneOptions) {
    const Config c =
        load_config(write_temp("dpdk.yaml",
                               "zones: [{name: a.test, file: a}]\n"
                               "dpdk:\n"
                               "  eal-args: [\"--no-huge\", \"-m\", \"512\"]\n"
                               "  workers: 2\n"
                               "  exception-pps: 500\n"
                               "  ports:\n"
                               "    - device: net_tap0\n"
                               "      addresses: [\"192.0.2.53/24\", \"2001:db8::53\"]\n"
                               "      exception: net_tap1\n"
                               "      mac: \"02:00:00:00:00:53\"\n"
                               "      vlans: [100, 200]\n"));
    EXPECT_TRUE(c.dpdk_enabled);
    const DpdkOptions& o = c.dpdk;
    EXPECT_EQ(o.eal_args, (std::vector<std::string>{"--no-huge", "-m", "512"}));
    EXPECT_EQ(o.workers, 2u);
    EXPECT_EQ(o.exception_pps, 500u);
    EXPECT_EQ(o.idle_sleep_us, 0u);
    ASSERT_EQ(o.ports.size(), 1u);
    EXPECT_EQ(o.ports[0].device, "net_tap0");
    EXPECT_EQ(o.ports[0].addresses, (std::vector<std::string>{"192.0.2.53/24", "2001:db8::53"}));
    EXPECT_EQ(o.ports[0].exception, "net_tap1");
    EXPECT_EQ(o.ports[0].mac, "02:00:00:00:00:53");
    EXPECT_EQ(o.ports[0].vlans, (std::vector<unsigned>{100, 200}));

    const Config off = load_config(
        write_temp("off.yaml", "zones: [{name: a.test, file: a}]\ndpdk: {enabled: false}\n"));
    EXPECT_FALSE(off.dpdk_enabled);
    const Config none = load_config(write_temp("none.yaml", "zones: [{name: a.test, file: a}]\n"));
    EXPECT_FALSE(none.dpdk_enabled);
}

TEST_F(ConfigFile, DpdkErrorsNameTheLine) {
    const std::string zones = "zones: [{name: a.test, file: a}]\n";
    EXPECT_NE(error_of(write_temp("np.yaml", zones + "dpdk: {workers: 1}\n"))
                  .find("np.yaml:2: dpdk: ports:"),
              std::string::npos)
        << error_of(dir_ + "np.yaml");
    EXPECT_NE(
        error_of(write_temp("ba.yaml",
                            zones + "dpdk:\n  ports:\n    - {device: d, addresses: [\"x\"]}\n"))
            .find("'x' is not an IPv4 or IPv6 address"),
        std::string::npos);
    EXPECT_NE(error_of(write_temp(
                           "mc.yaml",
                           zones + "dpdk:\n  ports:\n    - {device: d, addresses: [\"192.0.2.1\"], "
                                   "mac: \"01:00:00:00:00:01\"}\n"))
                  .find("multicast"),
              std::string::npos);
    EXPECT_NE(
        error_of(write_temp("tw.yaml",
                            zones +
                                "dpdk:\n  ports:\n    - {device: d, addresses: [\"192.0.2.1\"]}\n"
                                "    - {device: d, addresses: [\"192.0.2.2\"]}\n"))
            .find("listed twice"),
        std::string::npos);
}

}  // namespace
}  // namespace anamed
