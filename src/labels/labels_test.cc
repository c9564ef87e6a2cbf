#include "tyto/labels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace tyto {
namespace {

TEST(LabelsTest, SortsAndLooksUp) {
  auto l = Labels::FromPairs({{"job", "node"}, {"__name__", "up"}, {"instance", "a:9100"}});
  ASSERT_TRUE(l.ok());
  ASSERT_EQ(l->size(), 3u);
  EXPECT_EQ(l->pairs()[0].name, "__name__");
  EXPECT_EQ(l->pairs()[2].name, "job");
  EXPECT_EQ(l->Get("job"), "node");
  EXPECT_EQ(l->MetricName(), "up");
  EXPECT_EQ(l->Get("missing"), "");
  EXPECT_FALSE(l->Has("missing"));
}

TEST(LabelsTest, RejectsEmptyAndDuplicateNamesAndDropsEmptyValues) {
  EXPECT_EQ(Labels::FromPairs({{"", "x"}}).status().message(), "empty label name");
  EXPECT_EQ(Labels::FromPairs({{"a", "1"}, {"a", "2"}}).status().message(), "label name 'a' given twice");
  auto l = Labels::FromPairs({{"a", "1"}, {"b", ""}});
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->size(), 1u);
}

TEST(LabelsTest, KeepsUtf8) {
  auto l = Labels::Of({"__name__", "température", "gpu", "０", "model", "llama-3 \"70b\"\n"});
  EXPECT_EQ(l.Get("gpu"), "０");
  EXPECT_EQ(l.ToString(), "température{gpu=\"０\", model=\"llama-3 \\\"70b\\\"\\n\"}");
}

TEST(LabelsTest, HashIsStableAndDistinguishesBoundaries) {
  Labels a = Labels::Of({"a", "bc"});
  Labels b = Labels::Of({"ab", "c"});
  EXPECT_EQ(a.Hash(), Labels::Of({"a", "bc"}).Hash());
  EXPECT_NE(a.Hash(), b.Hash());
  // Fixed value: the hash must not change between releases (it may be persisted).
  EXPECT_EQ(Labels::Of({"__name__", "up"}).Hash(), 14993051474862372328ull);
}

TEST(LabelsTest, OrdersLexicographically) {
  EXPECT_LT(Labels::Of({"a", "1"}), Labels::Of({"a", "2"}));
  EXPECT_LT(Labels::Of({"a", "1"}), Labels::Of({"a", "1", "b", "1"}));
  EXPECT_LT(Labels::Of({"a", "9"}), Labels::Of({"b", "1"}));
  EXPECT_FALSE(Labels::Of({"a", "1"}) < Labels::Of({"a", "1"}));
}

TEST(StaleMarkerTest, IsDistinctFromOrdinaryNaN) {
  double stale = StaleMarker();
  EXPECT_TRUE(std::isnan(stale));
  EXPECT_TRUE(IsStaleMarker(stale));
  EXPECT_FALSE(IsStaleMarker(std::numeric_limits<double>::quiet_NaN()));
  EXPECT_FALSE(IsStaleMarker(0.0));
}

TEST(LabelsBuilderTest, SetsDeletesAndKeepsOrder) {
  LabelsBuilder b(Labels::Of({"job", "node", "instance", "a:1"}));
  b.Set("__name__", "up");
  b.Set("job", "api");
  b.Set("instance", "");  // an empty value deletes
  b.Del("absent");
  b.Set("", "ignored");
  EXPECT_EQ(b.Get("job"), "api");
  EXPECT_EQ(b.Get("instance"), "");
  EXPECT_EQ(b.Build(), Labels::Of({"__name__", "up", "job", "api"}));
  EXPECT_EQ(b.Build().ToString(), "up{job=\"api\"}");
  b.Reset(Labels());
  EXPECT_TRUE(b.empty());
}

}  // namespace
}  // namespace tyto
