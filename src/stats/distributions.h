// The distribution functions behind the p-values of drift.h: the regularized incomplete gamma
// function (chi-square), the normal tail (z-test), Kolmogorov's distribution and the exact null
// distribution of the two-sample Kolmogorov-Smirnov statistic. Written from their mathematical
// definitions; each is checked against published table values and closed forms in
// distributions_test.cc.
#pragma once

#include <cstdint>

namespace tyto::stats {

// ln Γ(x) for x > 0 (Lanczos' approximation, g = 7, nine terms; relative error below 1e-14).
// NaN for x <= 0 or NaN. Used instead of std::lgamma, which writes the global `signgam`.
double LogGamma(double x);

// The regularized lower and upper incomplete gamma functions P(a, x) and Q(a, x) = 1 - P(a, x),
// a > 0, x >= 0: by the series for x < a + 1 and by the continued fraction (modified Lentz)
// otherwise, each computed directly so that small tails keep their relative accuracy. NaN for
// arguments outside the domain.
double RegularizedGammaP(double a, double x);
double RegularizedGammaQ(double a, double x);

// P(X >= x) for X chi-square with `dof` degrees of freedom (dof >= 1): Q(dof / 2, x / 2).
// 1 for x <= 0; 0 for x = +Inf.
double ChiSquareSurvival(double x, double dof);

// P(|Z| >= |z|) for a standard normal Z: the two-sided p-value of a z statistic.
double NormalTwoSidedPValue(double z);

// Kolmogorov's limiting distribution: P(K > lambda) = 2 sum_{j>=1} (-1)^(j-1) exp(-2 j^2 lambda^2),
// by that series for lambda >= 1 and by the theta-function form
// 1 - sqrt(2 pi) / lambda * sum_{j>=1} exp(-(2j-1)^2 pi^2 / (8 lambda^2)) below, where each
// converges in a few terms. 1 for lambda <= 0.
double KolmogorovSurvival(double lambda);

// The exact two-sided p-value of the two-sample Kolmogorov-Smirnov test for samples of n and m
// values without ties: P(D >= d) under the null hypothesis, where the observed statistic is
// d = d_scaled / (n * m), i.e. d_scaled = max |i * m - j * n| over the two empirical CDFs' count
// pairs (i, j). Counts the share of the C(n+m, n) equally likely orderings whose path (i, j) ever
// reaches |i * m - j * n| >= d_scaled, by dynamic programming over the (n + 1) x (m + 1) grid
// with probabilities (no overflow) and summing the mass that leaves the band, so that small
// p-values keep their relative accuracy. O(n * m) time, O(m) memory. 1 when d_scaled is 0.
// n, m >= 1 and n * m < 2^62.
double KsTwoSampleExactPValue(uint64_t n, uint64_t m, uint64_t d_scaled);

}  // namespace tyto::stats
