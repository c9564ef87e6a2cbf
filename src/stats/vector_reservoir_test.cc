#include "stats/vector_reservoir.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace tyto::stats {
namespace {

std::vector<float> Vec(float a, float b) { return {a, b}; }

TEST(VectorReservoir, KeepsEverythingUntilFull) {
  VectorReservoir r(4);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(r.Add(Vec(static_cast<float>(i), 0)));
  EXPECT_EQ(r.seen(), 3u);
  EXPECT_EQ(r.dim(), 2u);
  ASSERT_EQ(r.vectors().size(), 3u);
  EXPECT_EQ(r.vectors()[2], Vec(2, 0));
  for (int i = 3; i < 100; ++i) r.Add(Vec(static_cast<float>(i), 0));
  EXPECT_EQ(r.vectors().size(), 4u);
  EXPECT_EQ(r.seen(), 100u);
}

TEST(VectorReservoir, RefusesOtherDimensionsAndNonFinite) {
  VectorReservoir r;
  EXPECT_TRUE(r.Add(Vec(1, 2)));
  const std::vector<float> three = {1, 2, 3};
  EXPECT_FALSE(r.Add(three));
  EXPECT_FALSE(r.Add(std::vector<float>{}));
  EXPECT_FALSE(r.Add(Vec(NAN, 1)));
  EXPECT_FALSE(r.Add(Vec(1, INFINITY)));
  EXPECT_EQ(r.seen(), 1u);
  EXPECT_EQ(r.refused(), 4u);
  EXPECT_EQ(r.vectors().size(), 1u);
}

// Algorithm R keeps each of N items with probability capacity / N. 1000 items (1-d vectors
// 0..999) into a reservoir of 100, over 400 seeds: each item's inclusion count is
// Binomial(400, 0.1), mean 40, sd 6. Summed over groups of 100 items (mean 4000, sd ~60 if
// independent), a group far from 4000 would mean a bias by arrival position.
TEST(VectorReservoir, UniformInclusionOverSeeds) {
  std::vector<int> included(1000, 0);
  for (uint64_t seed = 1; seed <= 400; ++seed) {
    VectorReservoir r(100, seed);
    for (int i = 0; i < 1000; ++i) r.Add(std::vector<float>{static_cast<float>(i)});
    for (const std::vector<float>& v : r.vectors()) ++included[static_cast<size_t>(v[0])];
  }
  for (int g = 0; g < 10; ++g) {
    int sum = 0;
    for (int i = g * 100; i < (g + 1) * 100; ++i) sum += included[static_cast<size_t>(i)];
    EXPECT_NEAR(sum, 4000, 300) << "items " << g * 100 << ".." << g * 100 + 99;
  }
}

// Merge draws from each side in proportion to what it has seen: A saw 300 items, B 700, so
// about 30% of the merged sample comes from A; over 400 seeds the share is 0.3 within a few sd
// (sd of one merge's count of A items in 100: sqrt(100 * 0.3 * 0.7 * 900/999) = 4.4).
TEST(VectorReservoir, MergeWeightsBySeenCounts) {
  long from_a = 0;
  for (uint64_t seed = 1; seed <= 400; ++seed) {
    VectorReservoir a(100, seed), b(100, seed + 1000);
    for (int i = 0; i < 300; ++i) a.Add(std::vector<float>{static_cast<float>(i)});
    for (int i = 300; i < 1000; ++i) b.Add(std::vector<float>{static_cast<float>(i)});
    ASSERT_TRUE(a.Merge(b));
    EXPECT_EQ(a.seen(), 1000u);
    EXPECT_EQ(a.vectors().size(), 100u);
    for (const std::vector<float>& v : a.vectors()) from_a += v[0] < 300 ? 1 : 0;
  }
  EXPECT_NEAR(static_cast<double>(from_a) / (400 * 100), 0.3, 0.01);
}

TEST(VectorReservoir, MergeSmallSidesKeepsEverything) {
  VectorReservoir a(10), b(10);
  a.Add(Vec(1, 1));
  b.Add(Vec(2, 2));
  b.Add(Vec(3, 3));
  ASSERT_TRUE(a.Merge(b));
  EXPECT_EQ(a.vectors().size(), 3u);
  EXPECT_EQ(a.seen(), 3u);
  VectorReservoir other_dim;
  other_dim.Add(std::vector<float>{1, 2, 3});
  EXPECT_FALSE(a.Merge(other_dim));
  EXPECT_EQ(a.seen(), 3u);
  VectorReservoir empty;
  EXPECT_TRUE(empty.Merge(a));
  EXPECT_EQ(empty.dim(), 2u);
  EXPECT_EQ(empty.vectors().size(), 3u);
}

TEST(VectorReservoir, DeterministicForASeed) {
  VectorReservoir a(8, 42), b(8, 42);
  for (int i = 0; i < 500; ++i) {
    a.Add(Vec(static_cast<float>(i), 1));
    b.Add(Vec(static_cast<float>(i), 1));
  }
  EXPECT_EQ(a.vectors(), b.vectors());
  EXPECT_EQ(a.Serialize(), b.Serialize());
}

}  // namespace
}  // namespace tyto::stats
