// The journal's zone records (zones added and removed at runtime): written as entries beside
// change batches, read back as the last record per zone, kept by a flush's drop_through,
// forgotten with a zone's past by drop_zone, and understood by the journal checker.
#include <gtest/gtest.h>

#include "journal.hpp"
#include "journal_check.hpp"
#include "journal_replay.hpp"
#include "test_util.hpp"

namespace anamed {
namespace {

std::string add_record(const std::string& file) {
    return zone_record_json(ZoneRecord{false, file, {}, "", 0});
}

TEST(ZoneRecord, JsonRoundTripAndRefusals) {
    const ZoneRecord r = zone_record_from_json(
        zone_record_json(ZoneRecord{false, "/z/a.zone", {"hidden", "b"}, "cat.test", 7}));
    EXPECT_FALSE(r.removed);
    EXPECT_EQ(r.file, "/z/a.zone");
    EXPECT_EQ(r.primary, (std::vector<std::string>{"hidden", "b"}));
    EXPECT_EQ(r.catalog, "cat.test");
    EXPECT_TRUE(zone_record_from_json(zone_record_json(ZoneRecord{true, "", {}, "", 0})).removed);
    EXPECT_TRUE(journal_format::is_zone_record(add_record("/f")));
    EXPECT_FALSE(journal_format::is_zone_record("[{\"op\":\"add\"}]"));
    EXPECT_THROW(zone_record_from_json("{\"zone-op\":\"rename\"}"), std::invalid_argument);
    EXPECT_THROW(zone_record_from_json("{\"zone-op\":\"add\"}"), std::invalid_argument);
    EXPECT_THROW(zone_record_from_json("{}"), std::invalid_argument);
    EXPECT_ANY_THROW(zone_record_from_json("{\"zone-op\":\"add\",\"primary\":3}"));
}

TEST(ZoneRecord, LastRecordWinsFlushKeepsItRemoveForgetsThePast) {
    test::TempDir dir;
    const std::string path = dir.file("journal.mdb");
    {
        Journal j(path);
        ASSERT_EQ(j.append({{"a.test.", add_record("/a1")}}), "");
        ASSERT_EQ(j.append({{"a.test.", "[{\"op\":\"add\"}]"}, {"b.test.", add_record("/b")}}), "");
        ASSERT_EQ(j.append({{"a.test.", add_record("/a2")}}), "");
        auto records = read_zone_records(j);
        ASSERT_EQ(records.size(), 2u);
        EXPECT_EQ(records["a.test."].file, "/a2");
        EXPECT_EQ(records["a.test."].seq, 4u);
        // A flush drops a zone's changes, never whether it is served.
        ASSERT_EQ(j.drop_through("a.test.", j.last_seq()), "");
        EXPECT_EQ(j.entries(), 3u);
        EXPECT_EQ(read_zone_records(j)["a.test."].file, "/a2");
        journal_format::FlushMark mark;
        ASSERT_EQ(j.mark_flushed("a.test.", 9, mark), "");
        // A removal: its record stays, the zone's past (records, changes, flush mark) goes.
        ASSERT_EQ(j.append({{"a.test.", "[{\"op\":\"add\"}]"}}), "");
        ASSERT_EQ(j.append({{"a.test.", zone_record_json(ZoneRecord{true, "", {}, "", 0})}}), "");
        ASSERT_EQ(j.drop_zone("a.test.", j.last_seq() - 1), "");
        EXPECT_FALSE(j.flushed("a.test.").has_value());
        records = read_zone_records(j);
        EXPECT_TRUE(records["a.test."].removed);
        EXPECT_EQ(records["b.test."].file, "/b");
        EXPECT_EQ(j.entries(), 2u);
    }
    // The checker reads zone records as intact entries.
    const JournalReport r = inspect_journal(path);
    EXPECT_TRUE(r.intact()) << r.describe();
    EXPECT_EQ(r.entries.size(), 2u);
}

}  // namespace
}  // namespace anamed
