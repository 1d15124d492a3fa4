// The configuration's `rrl:`, `cookies:`, `tcp:` limits and `udp:` (config_abuse.cpp).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "config.hpp"
#include "temp_dir.hpp"

namespace anamed {
namespace {

class AbuseConfig : public ::testing::Test {
protected:
    std::string path_with(const std::string& extra) const {
        const std::string path = dir_ + "c.yaml";
        std::ofstream(path) << "zones: [{name: example.com, file: x.zone}]\n" << extra;
        return path;
    }
    std::string error_with(const std::string& extra) const {
        try {
            load_config(path_with(extra));
        } catch (const ConfigError& e) {
            return e.what();
        }
        return "";
    }
    test::TempDir tmp_;
    std::string dir_ = tmp_.path() + "/";
};

TEST_F(AbuseConfig, OffByDefault) {
    const Config c = load_config(path_with(""));
    EXPECT_FALSE(c.guard.rrl.enabled);
    EXPECT_FALSE(c.guard.cookies.enabled);
    EXPECT_EQ(c.udp_rcvbuf, 0u);
}

TEST_F(AbuseConfig, ReadsRrlCookiesTcpAndUdp) {
    const Config c = load_config(
        path_with("rrl: {rate-limit: 5, slip: 3, ipv4-prefix: 22, ipv6-prefix: 48,\n"
                  "      table-size: 1024, exempt: [192.0.2.7/24, \"2001:db8::/32\"]}\n"
                  "cookies: {secret: 000102030405060708090a0b0c0d0e0f,\n"
                  "          previous-secret: F0F1F2F3F4F5F6F7F8F9FAFBFCFDFEFF}\n"
                  "tcp: {message-timeout-ms: 500, max-per-source: 4, max-lifetime-ms: 5000}\n"
                  "udp: {rcvbuf: 4194304}\n"));
    EXPECT_TRUE(c.guard.rrl.enabled);
    EXPECT_EQ(c.guard.rrl.rate, 5u);
    EXPECT_EQ(c.guard.rrl.slip, 3u);
    EXPECT_EQ(c.guard.rrl.v4_prefix, 22);
    EXPECT_EQ(c.guard.rrl.v6_prefix, 48);
    EXPECT_EQ(c.guard.rrl.table_size, 1024u);
    ASSERT_EQ(c.guard.rrl.exempt.size(), 2u);
    EXPECT_EQ(c.guard.rrl.exempt[0].bits, 24);
    EXPECT_EQ(c.guard.rrl.exempt[0].addr.bytes[3], 0);  // masked to the prefix
    EXPECT_EQ(c.guard.rrl.exempt[1].addr.len, 16);
    EXPECT_TRUE(c.guard.cookies.enabled);
    EXPECT_EQ(c.guard.cookies.current[15], 0x0f);
    EXPECT_TRUE(c.guard.cookies.has_previous);
    EXPECT_EQ(c.guard.cookies.previous[0], 0xf0);
    EXPECT_EQ(c.tcp.message_timeout_ms, 500u);
    EXPECT_EQ(c.tcp.max_per_source, 4u);
    EXPECT_EQ(c.tcp.max_lifetime_ms, 5000u);
    EXPECT_EQ(c.udp_rcvbuf, 4194304u);
}

TEST_F(AbuseConfig, RrlTableKind) {
    // Per-worker by default: cheaper per response under a flood (docs/PERFORMANCE.md).
    EXPECT_EQ(load_config(path_with("rrl: {}\n")).guard.rrl.table, RrlTableKind::per_worker);
    EXPECT_EQ(load_config(path_with("rrl: {table: shared}\n")).guard.rrl.table,
              RrlTableKind::shared);
    EXPECT_EQ(load_config(path_with("rrl: {table: per-worker}\n")).guard.rrl.table,
              RrlTableKind::per_worker);
}

TEST_F(AbuseConfig, ErrorsNameTheLineAndTheFix) {
    EXPECT_NE(error_with("rrl: {rate-limit: 0}\n").find(":2: rrl: rate-limit must be between"),
              std::string::npos);
    EXPECT_NE(error_with("rrl: {rate: 5}\n").find("unknown key 'rate'"), std::string::npos);
    EXPECT_NE(error_with("rrl: {exempt: [192.0.2.0/33]}\n").find("prefix length is too long"),
              std::string::npos);
    EXPECT_NE(error_with("rrl: {exempt: [nonsense]}\n").find("not an ADDRESS/PREFIX"),
              std::string::npos);
    EXPECT_NE(error_with("rrl: {table: global}\n").find("table must be shared or per-worker"),
              std::string::npos);
    EXPECT_NE(error_with("cookies: {secret: abc}\n").find("32 hex digits"), std::string::npos);
    EXPECT_NE(error_with("cookies: {}\n").find("secret is required"), std::string::npos);
    EXPECT_NE(
        error_with("cookies: {secret: 000102030405060708090a0b0c0d0e0g}\n").find("32 hex digits"),
        std::string::npos);
}

}  // namespace
}  // namespace anamed
