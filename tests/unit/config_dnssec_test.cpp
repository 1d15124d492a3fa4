// A zone's `dnssec:` section (config_dnssec.cpp).
#include <gtest/gtest.h>

#include "config.hpp"
#include "test_util.hpp"

namespace anamed {
namespace {

using test::TempDir;

std::string zone_with(const std::string& dnssec) {
    return "zones:\n  - name: example.com\n    file: x.zone\n    dnssec: " + dnssec + "\n";
}

std::string error_of(const TempDir& dir, const std::string& dnssec) {
    try {
        load_config(dir.write("c.yaml", zone_with(dnssec)));
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

TEST(DnssecConfig, OffUnlessConfigured) {
    const TempDir dir;
    const Config c =
        load_config(dir.write("c.yaml", "zones: [{name: example.com, file: x.zone}]\n"));
    EXPECT_EQ(c.zones[0].dnssec.mode, DnssecMode::off);
}

TEST(DnssecConfig, SignPolicyWithDurationsAndRelativeKeyDir) {
    const TempDir dir;
    const Config c = load_config(dir.write(
        "c.yaml", zone_with("{policy: sign, key-dir: keys, algorithm: ed25519, nsec3: true, "
                            "nsec3-opt-out: true, validity: 30d, refresh: 10d, jitter: 12h}")));
    const DnssecConfig& d = c.zones[0].dnssec;
    EXPECT_EQ(d.mode, DnssecMode::sign);
    EXPECT_EQ(d.key_dir, dir.path() + "/keys");
    EXPECT_EQ(d.algorithm, 15);
    EXPECT_TRUE(d.sign.nsec3);
    EXPECT_TRUE(d.sign.nsec3_opt_out);
    EXPECT_EQ(d.sign.validity, 30u * 86400);
    EXPECT_EQ(d.sign.refresh, 10u * 86400);
    EXPECT_EQ(d.sign.jitter, 12u * 3600);
}

TEST(DnssecConfig, MistakesNameTheLineAndTheFix) {
    const TempDir dir;
    EXPECT_NE(error_of(dir, "{policy: sign}")
                  .find("c.yaml:4: zone example.com: dnssec: "
                        "policy: sign needs key-dir"),
              std::string::npos)
        << error_of(dir, "{policy: sign}");
    EXPECT_NE(error_of(dir, "{policy: live}").find("policy must be sign, presigned or off"),
              std::string::npos);
    EXPECT_NE(error_of(dir, "{policy: sign, key-dir: k, algorithm: dsa}").find("algorithm must"),
              std::string::npos);
    EXPECT_NE(error_of(dir, "{policy: sign, key-dir: k, validity: 7x}").find("duration"),
              std::string::npos);
    EXPECT_NE(error_of(dir, "{policy: sign, key-dir: k, validity: 7d, refresh: 7d}")
                  .find("refresh must be shorter"),
              std::string::npos);
    EXPECT_NE(error_of(dir, "{policy: sign, key-dir: k, nsec3-opt-out: true}").find("needs nsec3"),
              std::string::npos);
    EXPECT_NE(error_of(dir, "{policy: sign, key-dir: k, salt: ab}").find("unknown key 'salt'"),
              std::string::npos);
    EXPECT_NE(error_of(dir, "{policy: sign, key-dir: k, validity: 99999999999}").find("duration"),
              std::string::npos);
}

TEST(DnssecConfig, Durations) {
    uint32_t v = 0;
    EXPECT_TRUE(parse_duration("90", v));
    EXPECT_EQ(v, 90u);
    EXPECT_TRUE(parse_duration("2w", v));
    EXPECT_EQ(v, 14u * 86400);
    for (const char* bad : {"", "d", "1dd", "-1", "1.5d", "5000000000"})
        EXPECT_FALSE(parse_duration(bad, v)) << bad;
}

}  // namespace
}  // namespace anamed
