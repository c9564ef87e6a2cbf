#include "stats/category_counts.h"

#include <gtest/gtest.h>

#include <string>

namespace tyto::stats {
namespace {

TEST(CategoryCounts, CountsAndTotal) {
  CategoryCounts c;
  c.Add("positive");
  c.Add("negative", 3);
  c.Add("positive", 2);
  c.Add("neutral", 0);  // nothing
  EXPECT_EQ(c.total(), 6u);
  EXPECT_EQ(c.count("positive"), 3u);
  EXPECT_EQ(c.count("negative"), 3u);
  EXPECT_EQ(c.count("neutral"), 0u);
  EXPECT_EQ(c.counts().size(), 2u);
  EXPECT_EQ(c.counts().begin()->first, "negative");  // sorted by name
}

TEST(CategoryCounts, NewCategoriesPastTheCapCountAsOther) {
  CategoryCounts c(2);
  c.Add("a");
  c.Add("b", 2);
  c.Add("c", 5);  // third name: under __other__
  c.Add("d");
  c.Add("a");  // known names keep counting
  EXPECT_EQ(c.total(), 10u);
  EXPECT_EQ(c.count("a"), 2u);
  EXPECT_EQ(c.count("c"), 0u);
  EXPECT_EQ(c.count(CategoryCounts::kOther), 6u);
  EXPECT_EQ(c.counts().size(), 3u);
  // The literal name is the same entry and does not take a named slot.
  CategoryCounts d(1);
  d.Add(CategoryCounts::kOther, 4);
  d.Add("x");
  EXPECT_EQ(d.count("x"), 1u);
  EXPECT_EQ(d.count(CategoryCounts::kOther), 4u);
}

TEST(CategoryCounts, MergeAddsByCategoryUnderTheSameCap) {
  CategoryCounts a(3), b;
  a.Add("x", 1);
  a.Add("y", 2);
  b.Add("y", 10);
  b.Add("z", 20);
  b.Add("w", 30);
  a.Merge(b);
  // a keeps x, y and then w (names in b's order: w < y < z), z goes to __other__.
  EXPECT_EQ(a.total(), 63u);
  EXPECT_EQ(a.count("y"), 12u);
  EXPECT_EQ(a.count("w"), 30u);
  EXPECT_EQ(a.count("z"), 0u);
  EXPECT_EQ(a.count(CategoryCounts::kOther), 20u);
  a.Merge(a);
  EXPECT_EQ(a.total(), 126u);
  EXPECT_EQ(a.count("x"), 2u);
}

TEST(CategoryCounts, TopByCountThenName) {
  CategoryCounts c;
  c.Add("b", 5);
  c.Add("a", 5);
  c.Add("c", 9);
  c.Add("d", 1);
  const auto top = c.Top(3);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0].first, "c");
  EXPECT_EQ(top[1].first, "a");
  EXPECT_EQ(top[2].first, "b");
}

TEST(CategoryCounts, MemoryGrowsWithCategoriesOnly) {
  CategoryCounts c(100);
  for (int i = 0; i < 10000; ++i) c.Add("category-with-a-long-name-" + std::to_string(i));
  EXPECT_EQ(c.counts().size(), 101u);
  EXPECT_LT(c.MemoryBytes(), 101u * 200);
  EXPECT_GT(c.MemoryBytes(), 101u * 40);
}

}  // namespace
}  // namespace tyto::stats
