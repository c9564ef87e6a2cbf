#include "stats/distributions.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <vector>

namespace tyto::stats {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kEpsilon = 1e-15;
constexpr int kMaxIterations = 10000;
constexpr double kTiny = 1e-300;  // keeps Lentz's denominators away from zero

// exp(-x + a ln x - ln Γ(a)): the factor the series and the continued fraction share.
double GammaPrefactor(double a, double x) { return std::exp(-x + a * std::log(x) - LogGamma(a)); }

// P(a, x) by its power series: x^a e^-x / Γ(a+1) * sum_n x^n / ((a+1)...(a+n)).
double GammaPSeries(double a, double x) {
  double term = 1.0 / a;
  double sum = term;
  for (int n = 1; n < kMaxIterations; ++n) {
    term *= x / (a + n);
    sum += term;
    if (std::fabs(term) < std::fabs(sum) * kEpsilon) break;
  }
  return sum * GammaPrefactor(a, x);
}

// Q(a, x) by its continued fraction 1/(x+1-a- 1(1-a)/(x+3-a- 2(2-a)/(x+5-a- ...))), evaluated
// by the modified Lentz method.
double GammaQContinuedFraction(double a, double x) {
  double b = x + 1.0 - a;
  double c = 1.0 / kTiny;
  double d = 1.0 / b;
  double h = d;
  for (int i = 1; i < kMaxIterations; ++i) {
    const double an = -i * (i - a);
    b += 2.0;
    d = an * d + b;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = b + an / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    const double delta = d * c;
    h *= delta;
    if (std::fabs(delta - 1.0) < kEpsilon) break;
  }
  return h * GammaPrefactor(a, x);
}

}  // namespace

double LogGamma(double x) {
  if (!(x > 0)) return kNaN;
  if (std::isinf(x)) return x;
  // Lanczos (1964) with g = 7 and the nine coefficients Godfrey published; for x < 0.5 the
  // reflection formula Γ(x) Γ(1-x) = π / sin(πx) keeps the accuracy.
  static constexpr double kG = 7.0;
  static constexpr double kCoefficients[9] = {0.99999999999980993,  676.5203681218851,     -1259.1392167224028,
                                              771.32342877765313,   -176.61502916214059,   12.507343278686905,
                                              -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7};
  if (x < 0.5) return std::log(std::numbers::pi / std::sin(std::numbers::pi * x)) - LogGamma(1.0 - x);
  const double z = x - 1.0;
  double sum = kCoefficients[0];
  for (int i = 1; i < 9; ++i) sum += kCoefficients[i] / (z + i);
  const double t = z + kG + 0.5;
  return 0.5 * std::log(2 * std::numbers::pi) + (z + 0.5) * std::log(t) - t + std::log(sum);
}

double RegularizedGammaP(double a, double x) {
  if (!(a > 0) || !(x >= 0) || std::isinf(a)) return kNaN;
  if (x == 0) return 0.0;
  if (std::isinf(x)) return 1.0;
  if (x < a + 1.0) return GammaPSeries(a, x);
  return 1.0 - GammaQContinuedFraction(a, x);
}

double RegularizedGammaQ(double a, double x) {
  if (!(a > 0) || !(x >= 0) || std::isinf(a)) return kNaN;
  if (x == 0) return 1.0;
  if (std::isinf(x)) return 0.0;
  if (x < a + 1.0) return 1.0 - GammaPSeries(a, x);
  return GammaQContinuedFraction(a, x);
}

double ChiSquareSurvival(double x, double dof) {
  if (std::isnan(x) || !(dof > 0)) return kNaN;
  if (x <= 0) return 1.0;
  return RegularizedGammaQ(dof / 2.0, x / 2.0);
}

double NormalTwoSidedPValue(double z) {
  if (std::isnan(z)) return kNaN;
  return std::erfc(std::fabs(z) / std::numbers::sqrt2);
}

double KolmogorovSurvival(double lambda) {
  if (std::isnan(lambda)) return kNaN;
  if (lambda <= 0) return 1.0;
  if (lambda >= 1.0) {
    double sum = 0;
    double sign = 1;
    for (int j = 1; j <= 100; ++j) {
      const double term = std::exp(-2.0 * j * j * lambda * lambda);
      sum += sign * term;
      if (term < 1e-17) break;
      sign = -sign;
    }
    return std::min(1.0, std::max(0.0, 2.0 * sum));
  }
  const double c = std::numbers::pi * std::numbers::pi / (8.0 * lambda * lambda);
  double sum = 0;
  for (int j = 1; j <= 100; ++j) {
    const double odd = 2.0 * j - 1.0;
    const double term = std::exp(-odd * odd * c);
    sum += term;
    if (term < 1e-17 * sum) break;
  }
  const double cdf = std::sqrt(2.0 * std::numbers::pi) / lambda * sum;
  return std::min(1.0, std::max(0.0, 1.0 - cdf));
}

double KsTwoSampleExactPValue(uint64_t n, uint64_t m, uint64_t d_scaled) {
  if (n == 0 || m == 0) return kNaN;
  if (d_scaled == 0) return 1.0;
  const auto nn = static_cast<int64_t>(n);
  const auto mm = static_cast<int64_t>(m);
  const auto threshold = static_cast<int64_t>(d_scaled);
  auto outside = [&](int64_t i, int64_t j) {
    const int64_t diff = i * mm - j * nn;
    return (diff < 0 ? -diff : diff) >= threshold;
  };
  // row[j]: the probability that a uniformly random path is at (i, j) having stayed inside the
  // band. A uniformly random path steps to (i+1, j) with probability (n-i) / (n-i + m-j): the
  // next of the remaining values comes from the first sample.
  std::vector<double> row(m + 1, 0.0), next(m + 1, 0.0);
  row[0] = 1.0;
  double out = 0;
  for (int64_t i = 0; i <= nn; ++i) {
    std::fill(next.begin(), next.end(), 0.0);
    for (int64_t j = 0; j <= mm; ++j) {
      const double p = row[static_cast<size_t>(j)];
      if (p == 0) continue;
      const int64_t left = (nn - i) + (mm - j);
      if (left == 0) continue;
      if (i < nn) {
        const double q = p * static_cast<double>(nn - i) / static_cast<double>(left);
        if (outside(i + 1, j)) {
          out += q;
        } else {
          next[static_cast<size_t>(j)] += q;
        }
      }
      if (j < mm) {
        const double q = p * static_cast<double>(mm - j) / static_cast<double>(left);
        if (outside(i, j + 1)) {
          out += q;
        } else {
          row[static_cast<size_t>(j + 1)] += q;
        }
      }
    }
    row.swap(next);
  }
  return std::min(1.0, out);
}

}  // namespace tyto::stats
