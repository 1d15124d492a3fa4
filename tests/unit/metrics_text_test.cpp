// The Prometheus text of the counter registry and the control plane's values.
#include "metrics_text.hpp"

#include <gtest/gtest.h>

namespace anamed {
namespace {

TEST(MetricsText, CountersPerSourceAndLabel) {
    CounterBlock block;
    block.bump(slot::queries, 7);
    block.answer(3, 1, false);  // NXDOMAIN for an A query
    CounterSource src{"kernel", "udp", "", 2, &block};
    MetricsState m;
    m.version = "1.2";
    m.zones.push_back({"ex\"ample.", 42, 3});
    m.publish[size_t(PublishKind::patch)].observe(0.002);
    m.publish[size_t(PublishKind::patch)].observe(5);
    const std::string t = metrics_text(read_counters({src}), m);
    EXPECT_NE(t.find("# TYPE anamed_queries_total counter\n"), std::string::npos);
    EXPECT_NE(
        t.find("anamed_queries_total{frontend=\"kernel\",transport=\"udp\",worker=\"2\"} 7\n"),
        std::string::npos);
    EXPECT_NE(t.find("anamed_answered_total{frontend=\"kernel\",transport=\"udp\",worker=\"2\","
                     "rcode=\"NXDOMAIN\"} 1\n"),
              std::string::npos);
    EXPECT_NE(t.find("anamed_zone_serial{zone=\"ex\\\"ample.\"} 42\n"), std::string::npos);
    EXPECT_NE(t.find("anamed_publish_duration_seconds_bucket{kind=\"patch\",le=\"0.001\"} 0\n"),
              std::string::npos);
    EXPECT_NE(t.find("anamed_publish_duration_seconds_bucket{kind=\"patch\",le=\"0.005\"} 1\n"),
              std::string::npos);
    EXPECT_NE(t.find("anamed_publish_duration_seconds_bucket{kind=\"patch\",le=\"1\"} 1\n"),
              std::string::npos);
    EXPECT_NE(t.find("anamed_publish_duration_seconds_bucket{kind=\"patch\",le=\"+Inf\"} 2\n"),
              std::string::npos);
    EXPECT_NE(t.find("anamed_publish_duration_seconds_count{kind=\"patch\"} 2\n"),
              std::string::npos);
    EXPECT_NE(t.find("anamed_build_info{version=\"1.2\"} 1\n"), std::string::npos);
}

}  // namespace
}  // namespace anamed
