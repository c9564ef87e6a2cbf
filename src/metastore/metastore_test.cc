#include "metastore/metastore.h"

#include <gtest/gtest.h>

namespace tyto::metastore {
namespace {

TEST(MetadataStoreTest, KeepsDistinctDescriptionsWithinBounds) {
  MetadataStore s(/*max_families=*/2, /*max_per_family=*/2);
  s.Update("up", {"gauge", "Target up.", ""});
  s.Update("up", {"gauge", "Target up.", ""});  // the same again: once
  s.Update("up", {"gauge", "Another help.", ""});
  s.Update("up", {"counter", "Third.", ""});      // over max_per_family
  s.Update("http_requests", {"counter", "Requests.", ""});
  s.Update("third_family", {"gauge", "", ""});    // over max_families
  auto all = s.Get("", 0, 0);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all["up"].size(), 2u);
  EXPECT_EQ(s.dropped(), 2u);
  EXPECT_EQ(s.Get("up", 0, 1)["up"].size(), 1u);
  EXPECT_EQ(s.Get("", 1, 0).size(), 1u);
  EXPECT_TRUE(s.Get("absent", 0, 0).empty());
}

TEST(ExemplarStoreTest, RingDropsTheOldestAndSkipsRepeats) {
  ExemplarStore s(3);
  const Labels a = Labels::Of({"__name__", "lat_bucket", "le", "0.5"});
  const Labels b = Labels::Of({"__name__", "lat_bucket", "le", "1"});
  const Labels trace = Labels::Of({"trace_id", "abc"});
  s.Add(a, {trace, 0.4, 1000});
  s.Add(a, {trace, 0.4, 1000});  // a scrape repeating it
  EXPECT_EQ(s.size(), 1u);
  s.Add(b, {Labels::Of({"trace_id", "def"}), 0.9, 2000});
  s.Add(a, {Labels::Of({"trace_id", "ghi"}), 0.3, 3000});
  s.Add(a, {Labels::Of({"trace_id", "jkl"}), 0.2, 4000});  // full: the first one goes
  EXPECT_EQ(s.size(), 3u);
  auto got = s.Query({*Matcher::Make(MatchType::kEqual, "le", "0.5")}, 0, 10000);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(got[0].exemplars.size(), 2u);
  EXPECT_EQ(got[0].exemplars[0].labels.Get("trace_id"), "ghi");
  EXPECT_EQ(got[0].exemplars[1].timestamp_ms, 4000);
  EXPECT_EQ(s.Query({}, 2500, 10000).size(), 1u);  // only a's, by time
  EXPECT_EQ(s.Query({}, 0, 10000).size(), 2u);
  // After its repeat was evicted, the same exemplar is new again.
  s.Add(b, {Labels::Of({"trace_id", "x"}), 1, 5000});
  s.Add(b, {Labels::Of({"trace_id", "y"}), 1, 6000});
  s.Add(b, {Labels::Of({"trace_id", "z"}), 1, 7000});
  s.Add(a, {Labels::Of({"trace_id", "jkl"}), 0.2, 4000});
  EXPECT_EQ(s.Query({*Matcher::Make(MatchType::kEqual, "le", "0.5")}, 0, 10000).at(0).exemplars.size(), 1u);
}

}  // namespace
}  // namespace tyto::metastore
