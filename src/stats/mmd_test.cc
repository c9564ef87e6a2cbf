#include "stats/mmd.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace tyto::stats {
namespace {

VectorReservoir OneDimensional(std::initializer_list<float> values) {
  VectorReservoir r;
  for (float v : values) r.Add(std::vector<float>{v});
  return r;
}

VectorReservoir Gaussian(size_t n, size_t dim, uint64_t seed, float shift) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> d(0, 1);
  VectorReservoir r(n);
  std::vector<float> v(dim);
  for (size_t i = 0; i < n; ++i) {
    for (float& x : v) x = d(rng);
    v[0] += shift;
    r.Add(v);
  }
  return r;
}

TEST(Mmd, HandExample) {
  // X = {0, 1}, Y = {2, 3}. Pairwise distances 1, 2, 3, 1, 2, 1: median of six = (1 + 2) / 2 =
  // 1.5 = sigma; k(d) = exp(-d^2 / 4.5). MMD^2_u = k(0,1) + k(2,3) - (2/4) (k(0,2) + k(0,3) +
  // k(1,2) + k(1,3)) = 2 e^(-1/4.5) - 0.5 (2 e^(-4/4.5) + e^(-9/4.5) + e^(-1/4.5))
  // = 1.6014743 - 0.5 (0.8222233 + 0.1353353 + 0.8007374) = 0.7223262.
  const MmdResult r = MmdTest(OneDimensional({0, 1}), OneDimensional({2, 3}), 200, 1);
  EXPECT_DOUBLE_EQ(r.bandwidth, 1.5);
  EXPECT_NEAR(r.mmd2, 0.7223261722497183, 1e-12);
  EXPECT_EQ(r.reference_n, 2u);
  EXPECT_EQ(r.current_n, 2u);
  // Of the C(4, 2) = 6 splits, the observed one and its mirror reach the observed value: about
  // a third of the permutations do.
  EXPECT_NEAR(r.p_value, 1.0 / 3, 0.1);
  EXPECT_EQ(r.note, "");
}

TEST(Mmd, SameDistributionIsRarelyFlagged) {
  // Under the null hypothesis the permutation p-value is uniform: over 20 independent pairs of
  // samples (8 dimensions, 100 vectors each), about one falls below 0.05; 5 or more would mean
  // a miscalibrated test (P(Binomial(20, 0.05) >= 5) = 0.003).
  int small = 0;
  double sum = 0;
  for (uint64_t trial = 0; trial < 20; ++trial) {
    const MmdResult r = MmdTest(Gaussian(100, 8, 10 + trial, 0), Gaussian(100, 8, 100 + trial, 0), 100, trial + 1);
    small += r.p_value < 0.05 ? 1 : 0;
    sum += r.p_value;
  }
  EXPECT_LT(small, 5);
  EXPECT_GT(sum / 20, 0.3);  // uniform: mean 0.5
}

TEST(Mmd, ShiftedDistributionGetsTheSmallestPValue) {
  // A shift of 1 sd along one of 8 dimensions, 100 vectors a side: no permutation comes near.
  const MmdResult r = MmdTest(Gaussian(100, 8, 1, 0), Gaussian(100, 8, 2, 1.0F), 200, 7);
  EXPECT_DOUBLE_EQ(r.p_value, 1.0 / 201);
  EXPECT_GT(r.mmd2, 0.0);
}

TEST(Mmd, DeterministicForASeed) {
  const VectorReservoir a = Gaussian(60, 4, 1, 0), b = Gaussian(60, 4, 2, 0.2F);
  const MmdResult one = MmdTest(a, b, 100, 3);
  const MmdResult two = MmdTest(a, b, 100, 3);
  EXPECT_EQ(one.p_value, two.p_value);
  EXPECT_EQ(one.mmd2, two.mmd2);
}

TEST(Mmd, NotComputedCases) {
  const VectorReservoir one = OneDimensional({1});
  const VectorReservoir two = OneDimensional({1, 2});
  MmdResult r = MmdTest(one, two);
  EXPECT_TRUE(std::isnan(r.p_value));
  EXPECT_EQ(r.note, "reference has fewer than 2 vectors");
  r = MmdTest(two, VectorReservoir());
  EXPECT_EQ(r.note, "current has fewer than 2 vectors");
  VectorReservoir wide;
  wide.Add(std::vector<float>{1, 2});
  wide.Add(std::vector<float>{3, 4});
  r = MmdTest(two, wide);
  EXPECT_EQ(r.note, "dimensions differ: reference 1, current 2");
  // All vectors equal: nothing to tell apart.
  r = MmdTest(OneDimensional({5, 5, 5}), OneDimensional({5, 5}));
  EXPECT_EQ(r.mmd2, 0.0);
  EXPECT_EQ(r.p_value, 1.0);
}

}  // namespace
}  // namespace tyto::stats
