// Data drift: does a column's current distribution differ from its reference? Tests over
// QuantileSketch (numeric columns) and CategoryCounts (categorical ones), with the choice of test
// and thresholds Evidently's data-drift preset makes by default (evidently.calculations.stattests:
// registry.py's _get_default_stattest and each test's default_threshold), so that results read
// the same as in the tool most teams know. Where a sketch cannot give what Evidently computes
// from raw rows, the difference is written beside the function.
//
//   stats::Test test = stats::DefaultNumericTest(reference, current);
//   stats::DriftResult r = stats::NumericDrift(reference, current, test);
//   if (r.drift) ...  // r.statistic, r.p_value, r.threshold, r.note
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "stats/category_counts.h"
#include "stats/quantile_sketch.h"
#include "tyto/status.h"

namespace tyto::stats {

// Inside a GoogleTest TEST body, a bare `Test` names testing::Test (the fixture's injected class
// name): write stats::Test there.
enum class Test {
  kKs,             // two-sample Kolmogorov-Smirnov; p-value
  kChiSquare,      // chi-square goodness of fit of current counts to reference shares; p-value
  kZ,              // two-proportion z-test, two-sided; p-value
  kPsi,            // population stability index; distance
  kJensenShannon,  // Jensen-Shannon distance, log base 2 (in [0, 1]); distance
  kWasserstein,    // first Wasserstein distance divided by the reference's standard deviation
  kHellinger,      // Hellinger distance (in [0, 1]); distance
};

// "ks", "chisquare", "z", "psi", "jensenshannon", "wasserstein", "hellinger" (Evidently's names).
std::string_view TestName(Test test);
// The inverse of TestName; InvalidArgument listing the names for anything else.
Result<Test> ParseTest(std::string_view name);
// ks, chisquare and z give a p-value: drift when p_value < threshold. The others give a
// distance: drift when statistic >= threshold.
bool IsPValueTest(Test test);
// Evidently's defaults: 0.05 for ks, chisquare and z; 0.1 for psi, jensenshannon, wasserstein
// and hellinger.
double DefaultThreshold(Test test);

// Evidently's choice of test. `distinct_values` counts the distinct values of reference and
// current together (Evidently's pd.concat([reference, current]).nunique()).
//   reference_rows <= 1000: numeric with > 5 distinct -> ks; numeric or categorical with 3 or
//     more (numeric: 3 to 5) -> chisquare; 2 or fewer -> z.
//   reference_rows > 1000: numeric with > 5 distinct -> wasserstein; otherwise jensenshannon.
Test DefaultTest(bool numeric, uint64_t reference_rows, size_t distinct_values);
// DefaultTest for two sketches / two count tables: the reference's count and the distinct values
// of both together (PooledDistinct).
Test DefaultNumericTest(const QuantileSketch& reference, const QuantileSketch& current);
Test DefaultCategoricalTest(const CategoryCounts& reference, const CategoryCounts& current);
// Distinct values of both sketches together: exact while neither is capped and the union has at
// most QuantileSketch::kMaxTrackedDistinct; otherwise kMaxTrackedDistinct + 1 ("more").
size_t PooledDistinct(const QuantileSketch& reference, const QuantileSketch& current);

struct DriftResult {
  Test test = Test::kKs;
  double statistic = std::numeric_limits<double>::quiet_NaN();  // D, chi-square, z, or the distance
  double p_value = std::numeric_limits<double>::quiet_NaN();    // NaN for distance tests
  double threshold = std::numeric_limits<double>::quiet_NaN();
  bool drift = false;  // false whenever the test could not be computed
  // Why the test was not computed ("reference empty", "ks needs a numeric column"), or how it
  // was computed where that departs from the plain test ("binned: ..."); empty otherwise.
  std::string note;
};

// Number of reference-quantile bins that the binned tests use on a numeric column with more
// distinct values than QuantileSketch tracks.
inline constexpr int kDriftBins = 10;

// A drift test on two numeric sketches; `threshold` NaN means DefaultThreshold(test).
//   ks: D = the largest difference of the two estimated CDFs over every retained value of both
//     (scipy's ks_2samp statistic, exactly so while both sketches are exact). p-value: exact (the
//     null distribution of D without ties, as ks_2samp's method="exact") when both sketches are
//     exact and n * m <= 10^7; otherwise Kolmogorov's limiting distribution at
//     sqrt(n m / (n + m)) * D, noted "asymptotic p-value". (scipy >= 1.5 uses the one-sample
//     finite-n distribution at round(n m / (n + m)) instead; the two agree as the counts grow.)
//     Once a sketch has compacted, its rank error moves D by up to about RankErrorBound() per
//     sketch, while the test's critical D shrinks as 1.36 / sqrt(n m / (n + m)): with tens of
//     thousands of values on both sides the sketch error alone can exceed it, and ks on such
//     sketches over-alarms (drift_test.cc's FalseAlarmRate measures it). Evidently's default
//     for more than 1000 reference rows is wasserstein, which does not have this problem.
//   chisquare, z, psi, jensenshannon, hellinger: while neither sketch has more than 16 distinct
//     values, each value is a category (Evidently does the same up to 20 distinct values).
//     Otherwise the values are binned at the reference's quantiles 1/10, ..., 9/10 (equal
//     reference shares; duplicates and edges at the reference's maximum dropped), noted
//     "binned: ..."; Evidently bins by Sturges' rule into equal-width bins over both samples
//     together, which a sketch cannot reproduce and which outliers stretch. z on a binned column
//     is not computed (it needs two categories).
//   wasserstein: the integral of |F_ref - F_cur| over the union of retained values (scipy's
//     wasserstein_distance, exact while both sketches are), divided by
//     max(reference stddev, 0.001) (Evidently's "normed" Wasserstein; population stddev).
DriftResult NumericDrift(const QuantileSketch& reference, const QuantileSketch& current, Test test,
                         double threshold = std::numeric_limits<double>::quiet_NaN());
// A drift test on two categorical columns; ks and wasserstein are not computed (note says so).
// Every category of either side counts, kOther included.
DriftResult CategoricalDrift(const CategoryCounts& reference, const CategoryCounts& current, Test test,
                             double threshold = std::numeric_limits<double>::quiet_NaN());

// Bonferroni's correction for testing m columns at once: min(1, p * m), where m counts the
// non-NaN p-values; NaN stays NaN.
std::vector<double> BonferroniCorrect(const std::vector<double>& p_values);

// The statistics on explicit counts and shares, as NumericDrift and CategoricalDrift apply them;
// index i of both spans is the same category or bin.
//
// Chi-square test of homogeneity of the two samples (a 2 x k contingency table): expected_i for
// each side = that side's total * (reference_i + current_i) / (both totals), statistic = sum over
// both sides of (observed - expected)^2 / expected, degrees of freedom = categories seen on
// either side - 1 (scipy.stats.chi2_contingency without Yates's correction). Evidently's
// chisquare_stat_test instead takes the reference shares as exact (scipy.stats.chisquare of the
// current counts): with a reference no larger than the window that ignores the reference's own
// noise and flags about one unchanged window in five (measured in drift_test: 19% at 500 rows
// against 500), so Tyto keeps Evidently's choice of test but computes it on both samples. Fewer
// than two categories: statistic 0, p-value 1.
struct ChiSquareResult {
  double statistic = 0;
  double p_value = 1;
  size_t dof = 0;
};
ChiSquareResult ChiSquareTest(std::span<const double> reference_counts, std::span<const double> current_counts);
// The two-proportion z statistic for x1 of n1 against x2 of n2 with the pooled proportion
// (Evidently's proportions_diff_z_stat_ind); its p-value is NormalTwoSidedPValue(z). NaN when a
// sample is empty or the pooled proportion is 0 or 1.
double TwoProportionZ(double x1, double n1, double x2, double n2);
// PSI = sum (r_i - c_i) ln(r_i / c_i) over shares, after Evidently's fill of empty bins: in each
// of the two share vectors separately, a 0 becomes 0.0001, or (min nonzero share) / 10^6 when
// that minimum is <= 0.0001 (get_binned_data with feel_zeroes=True). Not renormalised, as there.
double PopulationStabilityIndex(std::span<const double> reference_shares, std::span<const double> current_shares);
// sqrt((KL(p || m) + KL(q || m)) / 2) with m = (p + q) / 2, logarithms base 2, after scaling p and
// q to sum 1 (scipy.spatial.distance.jensenshannon(p, q, base=2), which Evidently calls); no fill.
double JensenShannonDistance(std::span<const double> p, std::span<const double> q);
// sqrt(1 - sum sqrt(p_i q_i)), the Bhattacharyya coefficient clipped to [0, 1], over shares
// (Evidently's hellinger_distance); equal to sqrt(sum (sqrt p_i - sqrt q_i)^2 / 2) for shares
// that sum to 1.
double HellingerDistance(std::span<const double> p, std::span<const double> q);

// Reference and current shares over common bins, for the UI.
//   numeric: edges.size() == bins + 1 (fewer where reference quantiles coincide; bins is
//     clamped to [1, 1000]); bin 0 is
//     [edges[0], edges[1]], bin i > 0 is (edges[i], edges[i+1]]; edges[0] and edges.back() are
//     the smallest and largest value of both sketches, the inner edges the reference's quantiles
//     i / bins (the current's when the reference is empty). `categories` is empty.
//   categorical: the `top` categories by the larger of their two shares (ties by name), then
//     kOther holding the rest when anything is left. `edges` is empty.
// reference[i] and current[i] are shares in [0, 1]; each vector sums to 1 unless its side is
// empty (all 0).
struct ComparedHistogram {
  std::vector<double> edges;
  std::vector<std::string> categories;
  std::vector<double> reference;
  std::vector<double> current;
};
ComparedHistogram CompareNumeric(const QuantileSketch& reference, const QuantileSketch& current, int bins = 10);
ComparedHistogram CompareCategorical(const CategoryCounts& reference, const CategoryCounts& current, size_t top = 20);

}  // namespace tyto::stats
