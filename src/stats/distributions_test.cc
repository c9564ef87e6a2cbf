#include "stats/distributions.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

namespace tyto::stats {
namespace {

TEST(LogGamma, ClosedForms) {
  // Γ(1) = Γ(2) = 1; Γ(1/2) = sqrt(π); Γ(n) = (n-1)!.
  EXPECT_NEAR(LogGamma(1.0), 0.0, 1e-14);
  EXPECT_NEAR(LogGamma(2.0), 0.0, 1e-14);
  EXPECT_NEAR(LogGamma(0.5), std::log(std::sqrt(std::numbers::pi)), 1e-14);
  EXPECT_NEAR(LogGamma(10.0), std::log(362880.0), 1e-12);
  double log_99_factorial = 0;
  for (int i = 2; i <= 99; ++i) log_99_factorial += std::log(i);
  EXPECT_NEAR(LogGamma(100.0), log_99_factorial, 1e-10);
  // Γ(0.1) = 9.51350769866873 (Abramowitz and Stegun, table 6.1, via Γ(1.1) / 0.1).
  EXPECT_NEAR(LogGamma(0.1), std::log(9.51350769866873), 1e-12);
  EXPECT_TRUE(std::isnan(LogGamma(0.0)));
  EXPECT_TRUE(std::isnan(LogGamma(-1.5)));
}

TEST(ChiSquareSurvival, TableCriticalValues) {
  // The 5% and 1% critical values of the chi-square distribution as printed in the usual tables
  // (e.g. NIST/SEMATECH e-Handbook, section 1.3.6.7.4), to three decimals; a three-decimal
  // rounding moves p by at most ~2e-5 at these points.
  EXPECT_NEAR(ChiSquareSurvival(3.841, 1), 0.05, 1e-4);
  EXPECT_NEAR(ChiSquareSurvival(5.991, 2), 0.05, 1e-4);
  EXPECT_NEAR(ChiSquareSurvival(7.815, 3), 0.05, 1e-4);
  EXPECT_NEAR(ChiSquareSurvival(18.307, 10), 0.05, 1e-4);
  EXPECT_NEAR(ChiSquareSurvival(43.773, 30), 0.05, 1e-4);
  EXPECT_NEAR(ChiSquareSurvival(124.342, 100), 0.05, 1e-4);
  EXPECT_NEAR(ChiSquareSurvival(6.635, 1), 0.01, 1e-4);
  EXPECT_NEAR(ChiSquareSurvival(11.345, 3), 0.01, 1e-4);
  EXPECT_NEAR(ChiSquareSurvival(23.209, 10), 0.01, 1e-4);
  // The median of chi-square with 1 degree of freedom is 0.455 (table).
  EXPECT_NEAR(ChiSquareSurvival(0.455, 1), 0.5, 1e-3);
}

TEST(ChiSquareSurvival, ClosedForms) {
  // dof 2: P(X >= x) = exp(-x/2). dof 1: erfc(sqrt(x/2)). dof 4: exp(-x/2) (1 + x/2).
  // These use only std::exp and std::erfc, independent of the incomplete gamma code; the range
  // covers both the series (x/2 < a + 1) and the continued fraction.
  for (double x : {0.01, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 40.0, 100.0, 300.0}) {
    SCOPED_TRACE(x);
    EXPECT_NEAR(ChiSquareSurvival(x, 2) / std::exp(-x / 2), 1.0, 1e-12);
    EXPECT_NEAR(ChiSquareSurvival(x, 1) / std::erfc(std::sqrt(x / 2)), 1.0, 1e-10);
    EXPECT_NEAR(ChiSquareSurvival(x, 4) / (std::exp(-x / 2) * (1 + x / 2)), 1.0, 1e-12);
  }
  EXPECT_EQ(ChiSquareSurvival(0, 3), 1.0);
  EXPECT_EQ(ChiSquareSurvival(-1, 3), 1.0);
  EXPECT_EQ(ChiSquareSurvival(INFINITY, 3), 0.0);
  EXPECT_TRUE(std::isnan(ChiSquareSurvival(1, 0)));
}

TEST(RegularizedGamma, PAndQAddToOne) {
  for (double a : {0.5, 1.0, 3.5, 20.0, 150.0}) {
    for (double x : {0.1, 1.0, 4.0, 21.0, 160.0}) {
      EXPECT_NEAR(RegularizedGammaP(a, x) + RegularizedGammaQ(a, x), 1.0, 1e-13) << a << " " << x;
    }
  }
  // P(1, x) = 1 - exp(-x).
  EXPECT_NEAR(RegularizedGammaP(1.0, 0.7), 1 - std::exp(-0.7), 1e-14);
}

TEST(NormalTwoSidedPValue, TableValues) {
  // 1.959964 and 2.575829 are the two-sided 5% and 1% points of the standard normal (table);
  // 2 (1 - Φ(1.96)) = 0.0499958 (table of Φ: Φ(1.96) = 0.9750021).
  EXPECT_NEAR(NormalTwoSidedPValue(1.959964), 0.05, 1e-6);
  EXPECT_NEAR(NormalTwoSidedPValue(-2.575829), 0.01, 1e-6);
  EXPECT_NEAR(NormalTwoSidedPValue(1.96), 0.0499958, 1e-7);
  EXPECT_EQ(NormalTwoSidedPValue(0), 1.0);
}

TEST(KolmogorovSurvival, TableValues) {
  // The asymptotic critical values of the Kolmogorov-Smirnov statistic, sqrt(n) D: 1.2238 (10%),
  // 1.3581 (5%), 1.6276 (1%) (Smirnov 1948's table, as in Massey 1951).
  EXPECT_NEAR(KolmogorovSurvival(1.2238), 0.10, 1e-4);
  EXPECT_NEAR(KolmogorovSurvival(1.3581), 0.05, 1e-4);
  EXPECT_NEAR(KolmogorovSurvival(1.6276), 0.01, 1e-4);
}

TEST(KolmogorovSurvival, BothSeriesAgree) {
  // Reference values summed to 200 terms in Python (double precision) from each of the two
  // series forms, which agree to 1e-15 where both converge: below 1 the code uses the theta
  // form, from 1 up the alternating one.
  EXPECT_NEAR(KolmogorovSurvival(0.3), 0.9999906941986655, 1e-13);
  EXPECT_NEAR(KolmogorovSurvival(0.5), 0.9639452436648751, 1e-13);
  EXPECT_NEAR(KolmogorovSurvival(0.8), 0.5441424115741981, 1e-13);
  EXPECT_NEAR(KolmogorovSurvival(1.0), 0.26999967167735456, 1e-13);
  EXPECT_NEAR(KolmogorovSurvival(2.0), 0.0006709252557796953, 1e-15);
  EXPECT_NEAR(KolmogorovSurvival(0.999999), KolmogorovSurvival(1.0), 1e-5);
  EXPECT_EQ(KolmogorovSurvival(0), 1.0);
}

TEST(KsTwoSampleExactPValue, MatchesEnumeration) {
  // P(D >= d) by enumerating all C(n+m, n) orderings of the two samples in Python (itertools
  // .combinations over the positions of the first sample; D scaled by n*m as max |i m - j n|
  // along the path), as exact fractions.
  struct Case {
    uint64_t n, m, d_scaled;
    double p;
  };
  const Case cases[] = {
      {3, 3, 9, 1.0 / 10},    {3, 3, 6, 3.0 / 5},   {3, 3, 3, 1.0},         {2, 2, 4, 1.0 / 3},    {5, 4, 20, 1.0 / 63},
      {5, 4, 16, 5.0 / 63},   {5, 4, 8, 47.0 / 63}, {5, 4, 5, 125.0 / 126}, {4, 6, 24, 1.0 / 105}, {4, 6, 20, 1.0 / 21},
      {4, 6, 12, 58.0 / 105}, {7, 3, 21, 1.0 / 60}, {7, 3, 14, 1.0 / 4},    {7, 3, 11, 8.0 / 15},  {3, 7, 14, 1.0 / 4},
  };
  for (const Case& c : cases) {
    EXPECT_NEAR(KsTwoSampleExactPValue(c.n, c.m, c.d_scaled), c.p, 1e-14) << c.n << " " << c.m << " " << c.d_scaled;
  }
  EXPECT_EQ(KsTwoSampleExactPValue(5, 4, 0), 1.0);
}

TEST(KsTwoSampleExactPValue, SmallTailKeepsRelativeAccuracy) {
  // n = m = 50, the samples wholly separated: the two extreme orderings of C(100, 50):
  // p = 2 / C(100, 50) = 2 / 100891344545564193334812497256 = 1.98233e-29.
  const double p = KsTwoSampleExactPValue(50, 50, 2500);
  EXPECT_NEAR(p / (2 / 1.00891344545564193334812497256e29), 1.0, 1e-9);
}

}  // namespace
}  // namespace tyto::stats
