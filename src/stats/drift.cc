#include "stats/drift.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <map>
#include <set>
#include <utility>

#include "stats/distributions.h"

namespace tyto::stats {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Evidently's get_default_stattest switches tests at this reference size.
constexpr uint64_t kSmallReferenceRows = 1000;
// The exact KS p-value costs O(n * m); above this many grid cells the asymptotic one is used.
constexpr uint64_t kExactKsMaxCells = 10'000'000;
// Evidently's normed Wasserstein divides by max(np.std(reference), 0.001).
constexpr double kMinWassersteinNorm = 0.001;
// CompareNumeric's bins are clamped to [1, this]: a UI shows no more.
constexpr int kMaxHistogramBins = 1000;

struct NamedTest {
  Test test;
  std::string_view name;
};
constexpr NamedTest kTests[] = {
    {Test::kKs, "ks"},
    {Test::kChiSquare, "chisquare"},
    {Test::kZ, "z"},
    {Test::kPsi, "psi"},
    {Test::kJensenShannon, "jensenshannon"},
    {Test::kWasserstein, "wasserstein"},
    {Test::kHellinger, "hellinger"},
};

// Counts of one column on both sides over common categories or bins, index by index.
struct Tabulated {
  std::vector<double> reference;
  std::vector<double> current;
  std::string note;  // set when the values were binned
};

std::vector<double> Shares(const std::vector<double>& counts) {
  double total = 0;
  for (double c : counts) total += c;
  std::vector<double> shares(counts.size(), 0.0);
  if (total > 0) {
    for (size_t i = 0; i < counts.size(); ++i) shares[i] = counts[i] / total;
  }
  return shares;
}

// Inner bin edges at the reference's quantiles 1/bins .. (bins-1)/bins: strictly ascending,
// all below the reference's largest retained value (an edge there would leave the top bin
// without reference values).
std::vector<double> ReferenceEdges(const std::vector<CdfPoint>& reference, int bins) {
  std::vector<double> edges;
  if (reference.empty()) return edges;
  const double top = reference.back().value;
  for (int i = 1; i < bins; ++i) {
    const double e = QuantileOfCdf(reference, static_cast<double>(i) / bins);
    if (e >= top) break;
    if (edges.empty() || e > edges.back()) edges.push_back(e);
  }
  return edges;
}

// Counts per bin (-inf, e_0], (e_0, e_1], ..., (e_last, +inf).
std::vector<double> BinCounts(const std::vector<CdfPoint>& points, const std::vector<double>& edges) {
  std::vector<double> counts;
  counts.reserve(edges.size() + 1);
  uint64_t below = 0;
  for (double e : edges) {
    const uint64_t at = CountAtOrBelow(points, e);
    counts.push_back(static_cast<double>(at - below));
    below = at;
  }
  const uint64_t total = points.empty() ? 0 : points.back().at_or_below;
  counts.push_back(static_cast<double>(total - below));
  return counts;
}

Tabulated TabulateNumeric(const QuantileSketch& reference, const QuantileSketch& current) {
  Tabulated t;
  if (!reference.distinct_capped() && !current.distinct_capped()) {
    std::set<double> keys;
    for (const auto& [v, n] : reference.small_values()) keys.insert(v);
    for (const auto& [v, n] : current.small_values()) keys.insert(v);
    for (double key : keys) {
      auto r = reference.small_values().find(key);
      auto c = current.small_values().find(key);
      t.reference.push_back(r == reference.small_values().end() ? 0.0 : static_cast<double>(r->second));
      t.current.push_back(c == current.small_values().end() ? 0.0 : static_cast<double>(c->second));
    }
    return t;
  }
  const std::vector<CdfPoint> ref_points = reference.CdfPoints();
  const std::vector<CdfPoint> cur_points = current.CdfPoints();
  const std::vector<double> edges = ReferenceEdges(ref_points, kDriftBins);
  t.reference = BinCounts(ref_points, edges);
  t.current = BinCounts(cur_points, edges);
  t.note = "binned: more than " + std::to_string(QuantileSketch::kMaxTrackedDistinct) + " distinct values, " +
           std::to_string(edges.size() + 1) + " bins at the reference's quantiles";
  return t;
}

Tabulated TabulateCategories(const CategoryCounts& reference, const CategoryCounts& current) {
  Tabulated t;
  auto r = reference.counts().begin();
  auto c = current.counts().begin();
  // Both maps are sorted by name: walk them together.
  while (r != reference.counts().end() || c != current.counts().end()) {
    if (c == current.counts().end() || (r != reference.counts().end() && r->first < c->first)) {
      t.reference.push_back(static_cast<double>(r->second));
      t.current.push_back(0.0);
      ++r;
    } else if (r == reference.counts().end() || c->first < r->first) {
      t.reference.push_back(0.0);
      t.current.push_back(static_cast<double>(c->second));
      ++c;
    } else {
      t.reference.push_back(static_cast<double>(r->second));
      t.current.push_back(static_cast<double>(c->second));
      ++r;
      ++c;
    }
  }
  return t;
}

void AppendNote(DriftResult* r, std::string_view note) {
  if (note.empty()) return;
  if (!r->note.empty()) r->note += "; ";
  r->note += note;
}

// The tests that work on counts over common categories or bins (index 0 is the smallest value
// or the first category by name: Evidently's z-test compares sorted(keys)[0] with the rest).
void CountTests(const Tabulated& t, DriftResult* r) {
  AppendNote(r, t.note);
  switch (r->test) {
    case Test::kChiSquare: {
      const ChiSquareResult chi = ChiSquareTest(t.reference, t.current);
      r->statistic = chi.statistic;
      r->p_value = chi.p_value;
      if (chi.dof == 0) AppendNote(r, "one category: nothing to compare");
      break;
    }
    case Test::kZ: {
      // Evidently: p-value 1 when both sides hold the same single value.
      if (t.reference.size() <= 1) {
        r->statistic = 0;
        r->p_value = 1;
        AppendNote(r, "one category: nothing to compare");
        break;
      }
      double n1 = 0, n2 = 0;
      for (double x : t.reference) n1 += x;
      for (double x : t.current) n2 += x;
      r->statistic = TwoProportionZ(t.reference[0], n1, t.current[0], n2);
      r->p_value = NormalTwoSidedPValue(r->statistic);
      if (t.reference.size() > 2) AppendNote(r, "more than two categories: the first compared with the rest");
      break;
    }
    case Test::kPsi:
      r->statistic = PopulationStabilityIndex(Shares(t.reference), Shares(t.current));
      break;
    case Test::kJensenShannon:
      r->statistic = JensenShannonDistance(t.reference, t.current);
      break;
    case Test::kHellinger:
      r->statistic = HellingerDistance(Shares(t.reference), Shares(t.current));
      break;
    case Test::kKs:
    case Test::kWasserstein:
      break;
  }
}

void KsTest(const QuantileSketch& reference, const QuantileSketch& current, DriftResult* r) {
  const std::vector<CdfPoint> a = reference.CdfPoints();
  const std::vector<CdfPoint> b = current.CdfPoints();
  const uint64_t n = reference.count();
  const uint64_t m = current.count();
  const double dn = static_cast<double>(n);
  const double dm = static_cast<double>(m);
  // Walk the union of both samples' values; at each, the two CDFs are their last at_or_below.
  double d = 0;
  uint64_t d_scaled = 0;  // max |Fa * m - Fb * n| in counts, while both are exact
  const bool exact = reference.exact() && current.exact() && n * m <= kExactKsMaxCells;
  uint64_t fa = 0, fb = 0;
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    double x;
    if (j == b.size() || (i < a.size() && a[i].value <= b[j].value)) {
      x = a[i].value;
    } else {
      x = b[j].value;
    }
    if (i < a.size() && a[i].value == x) fa = a[i++].at_or_below;
    if (j < b.size() && b[j].value == x) fb = b[j++].at_or_below;
    d = std::max(d, std::fabs(static_cast<double>(fa) / dn - static_cast<double>(fb) / dm));
    if (exact) {
      const uint64_t lhs = fa * m;
      const uint64_t rhs = fb * n;
      d_scaled = std::max(d_scaled, lhs > rhs ? lhs - rhs : rhs - lhs);
    }
  }
  r->statistic = d;
  if (exact) {
    r->p_value = KsTwoSampleExactPValue(n, m, d_scaled);
  } else {
    const double en = dn * dm / (dn + dm);
    r->p_value = KolmogorovSurvival(std::sqrt(en) * d);
    AppendNote(r, "asymptotic p-value");
  }
}

void WassersteinTest(const QuantileSketch& reference, const QuantileSketch& current, DriftResult* r) {
  const std::vector<CdfPoint> a = reference.CdfPoints();
  const std::vector<CdfPoint> b = current.CdfPoints();
  const double dn = static_cast<double>(reference.count());
  const double dm = static_cast<double>(current.count());
  // Integral of |Fa - Fb| dx: the step functions are constant between consecutive union values.
  double area = 0;
  double fa = 0, fb = 0;
  double previous = 0;
  bool started = false;
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    double x;
    if (j == b.size() || (i < a.size() && a[i].value <= b[j].value)) {
      x = a[i].value;
    } else {
      x = b[j].value;
    }
    if (started) area += std::fabs(fa - fb) * (x - previous);
    if (i < a.size() && a[i].value == x) fa = static_cast<double>(a[i++].at_or_below) / dn;
    if (j < b.size() && b[j].value == x) fb = static_cast<double>(b[j++].at_or_below) / dm;
    previous = x;
    started = true;
  }
  const double norm = std::max(reference.stddev(), kMinWassersteinNorm);
  r->statistic = area / norm;
}

void Decide(DriftResult* r) {
  if (IsPValueTest(r->test)) {
    r->drift = r->p_value < r->threshold;  // false for NaN
  } else {
    r->drift = r->statistic >= r->threshold;
  }
}

DriftResult Start(Test test, double threshold) {
  DriftResult r;
  r.test = test;
  r.threshold = std::isnan(threshold) ? DefaultThreshold(test) : threshold;
  return r;
}

}  // namespace

std::string_view TestName(Test test) {
  for (const NamedTest& t : kTests) {
    if (t.test == test) return t.name;
  }
  return "unknown";
}

Result<Test> ParseTest(std::string_view name) {
  std::string names;
  for (const NamedTest& t : kTests) {
    if (t.name == name) return t.test;
    if (!names.empty()) names += ", ";
    names += t.name;
  }
  return InvalidArgument("unknown drift test '" + std::string(name) + "' (one of: " + names + ")");
}

bool IsPValueTest(Test test) { return test == Test::kKs || test == Test::kChiSquare || test == Test::kZ; }

double DefaultThreshold(Test test) { return IsPValueTest(test) ? 0.05 : 0.1; }

Test DefaultTest(bool numeric, uint64_t reference_rows, size_t distinct_values) {
  if (reference_rows <= kSmallReferenceRows) {
    if (numeric && distinct_values > 5) return Test::kKs;
    return distinct_values > 2 ? Test::kChiSquare : Test::kZ;
  }
  if (numeric && distinct_values > 5) return Test::kWasserstein;
  return Test::kJensenShannon;
}

size_t PooledDistinct(const QuantileSketch& reference, const QuantileSketch& current) {
  constexpr size_t kMore = QuantileSketch::kMaxTrackedDistinct + 1;
  if (reference.distinct_capped() || current.distinct_capped()) return kMore;
  std::set<double> keys;
  for (const auto& [v, n] : reference.small_values()) keys.insert(v);
  for (const auto& [v, n] : current.small_values()) keys.insert(v);
  return std::min(keys.size(), kMore);
}

Test DefaultNumericTest(const QuantileSketch& reference, const QuantileSketch& current) {
  return DefaultTest(true, reference.count(), PooledDistinct(reference, current));
}

Test DefaultCategoricalTest(const CategoryCounts& reference, const CategoryCounts& current) {
  return DefaultTest(false, reference.total(), TabulateCategories(reference, current).reference.size());
}

DriftResult NumericDrift(const QuantileSketch& reference, const QuantileSketch& current, Test test, double threshold) {
  DriftResult r = Start(test, threshold);
  if (reference.count() == 0) {
    r.note = "reference empty";
    return r;
  }
  if (current.count() == 0) {
    r.note = "current empty";
    return r;
  }
  switch (test) {
    case Test::kKs:
      KsTest(reference, current, &r);
      break;
    case Test::kWasserstein:
      WassersteinTest(reference, current, &r);
      break;
    case Test::kZ:
      if (reference.distinct_capped() || current.distinct_capped()) {
        r.note = "z needs a column of few values; this one has more than " +
                 std::to_string(QuantileSketch::kMaxTrackedDistinct) + " distinct values";
        return r;
      }
      CountTests(TabulateNumeric(reference, current), &r);
      break;
    case Test::kChiSquare:
    case Test::kPsi:
    case Test::kJensenShannon:
    case Test::kHellinger:
      CountTests(TabulateNumeric(reference, current), &r);
      break;
  }
  Decide(&r);
  return r;
}

DriftResult CategoricalDrift(const CategoryCounts& reference, const CategoryCounts& current, Test test,
                             double threshold) {
  DriftResult r = Start(test, threshold);
  if (test == Test::kKs || test == Test::kWasserstein) {
    r.note = std::string(TestName(test)) + " needs a numeric column";
    return r;
  }
  if (reference.total() == 0) {
    r.note = "reference empty";
    return r;
  }
  if (current.total() == 0) {
    r.note = "current empty";
    return r;
  }
  CountTests(TabulateCategories(reference, current), &r);
  Decide(&r);
  return r;
}

std::vector<double> BonferroniCorrect(const std::vector<double>& p_values) {
  const auto m =
      static_cast<double>(std::count_if(p_values.begin(), p_values.end(), [](double p) { return !std::isnan(p); }));
  std::vector<double> out;
  out.reserve(p_values.size());
  for (double p : p_values) out.push_back(std::isnan(p) ? p : std::min(1.0, p * m));
  return out;
}

ChiSquareResult ChiSquareTest(std::span<const double> reference_counts, std::span<const double> current_counts) {
  ChiSquareResult result;
  const size_t k = std::min(reference_counts.size(), current_counts.size());
  double ref_total = 0, cur_total = 0;
  size_t seen = 0;
  for (size_t i = 0; i < k; ++i) {
    ref_total += reference_counts[i];
    cur_total += current_counts[i];
    if (reference_counts[i] + current_counts[i] > 0) ++seen;
  }
  if (seen < 2) return result;
  result.dof = seen - 1;
  if (ref_total <= 0 || cur_total <= 0) {
    result.statistic = kNaN;
    result.p_value = kNaN;
    return result;
  }
  const double total = ref_total + cur_total;
  double statistic = 0;
  for (size_t i = 0; i < k; ++i) {
    const double both = reference_counts[i] + current_counts[i];
    if (both <= 0) continue;
    const double expected_ref = ref_total * both / total;
    const double expected_cur = cur_total * both / total;
    const double dr = reference_counts[i] - expected_ref;
    const double dc = current_counts[i] - expected_cur;
    statistic += dr * dr / expected_ref + dc * dc / expected_cur;
  }
  result.statistic = statistic;
  result.p_value = ChiSquareSurvival(statistic, static_cast<double>(result.dof));
  return result;
}

double TwoProportionZ(double x1, double n1, double x2, double n2) {
  if (!(n1 > 0) || !(n2 > 0)) return kNaN;
  const double p1 = x1 / n1;
  const double p2 = x2 / n2;
  const double pooled = (x1 + x2) / (n1 + n2);
  const double variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2);
  if (!(variance > 0)) return kNaN;
  return (p1 - p2) / std::sqrt(variance);
}

namespace {
// Evidently's get_binned_data(feel_zeroes=True) for one share vector.
std::vector<double> FillZeroes(std::span<const double> shares) {
  std::vector<double> filled(shares.begin(), shares.end());
  double min_nonzero = std::numeric_limits<double>::infinity();
  for (double s : filled) {
    if (s != 0) min_nonzero = std::min(min_nonzero, s);
  }
  if (std::isinf(min_nonzero)) return filled;
  const double fill = min_nonzero <= 0.0001 ? min_nonzero / 1e6 : 0.0001;
  for (double& s : filled) {
    if (s == 0) s = fill;
  }
  return filled;
}
}  // namespace

double PopulationStabilityIndex(std::span<const double> reference_shares, std::span<const double> current_shares) {
  const size_t k = std::min(reference_shares.size(), current_shares.size());
  const std::vector<double> r = FillZeroes(reference_shares.first(k));
  const std::vector<double> c = FillZeroes(current_shares.first(k));
  double psi = 0;
  for (size_t i = 0; i < k; ++i) psi += (r[i] - c[i]) * std::log(r[i] / c[i]);
  return psi;
}

double JensenShannonDistance(std::span<const double> p, std::span<const double> q) {
  const size_t k = std::min(p.size(), q.size());
  double sum_p = 0, sum_q = 0;
  for (size_t i = 0; i < k; ++i) {
    sum_p += p[i];
    sum_q += q[i];
  }
  if (!(sum_p > 0) || !(sum_q > 0)) return kNaN;
  // x ln(x / y), 0 for x = 0 (scipy.special.rel_entr).
  auto rel_entr = [](double x, double y) { return x > 0 ? x * std::log(x / y) : 0.0; };
  double js = 0;
  for (size_t i = 0; i < k; ++i) {
    const double a = p[i] / sum_p;
    const double b = q[i] / sum_q;
    const double mid = (a + b) / 2;
    js += rel_entr(a, mid) + rel_entr(b, mid);
  }
  js /= std::log(2.0);
  return std::sqrt(std::max(0.0, js / 2));
}

double HellingerDistance(std::span<const double> p, std::span<const double> q) {
  const size_t k = std::min(p.size(), q.size());
  double bc = 0;
  for (size_t i = 0; i < k; ++i) bc += std::sqrt(p[i] * q[i]);
  bc = std::clamp(bc, 0.0, 1.0);
  return std::sqrt(1 - bc);
}

ComparedHistogram CompareNumeric(const QuantileSketch& reference, const QuantileSketch& current, int bins) {
  ComparedHistogram h;
  if (reference.count() == 0 && current.count() == 0) return h;
  bins = std::clamp(bins, 1, kMaxHistogramBins);
  const double lo = reference.count() == 0 ? current.min()
                    : current.count() == 0 ? reference.min()
                                           : std::min(reference.min(), current.min());
  const double hi = reference.count() == 0 ? current.max()
                    : current.count() == 0 ? reference.max()
                                           : std::max(reference.max(), current.max());
  const std::vector<CdfPoint> ref_points = reference.CdfPoints();
  const std::vector<CdfPoint> cur_points = current.CdfPoints();
  const std::vector<CdfPoint>& basis = reference.count() > 0 ? ref_points : cur_points;
  h.edges.push_back(lo);
  for (int i = 1; i < bins; ++i) {
    const double e = QuantileOfCdf(basis, static_cast<double>(i) / bins);
    if (e >= hi) break;
    // The first bin is closed, [lo, e1], so e1 may equal lo (a bin of the minimum alone).
    if (h.edges.size() == 1 ? e >= lo : e > h.edges.back()) h.edges.push_back(e);
  }
  h.edges.push_back(hi);
  auto shares = [&h](const std::vector<CdfPoint>& points) {
    std::vector<double> out;
    const double total = points.empty() ? 0.0 : static_cast<double>(points.back().at_or_below);
    uint64_t below = 0;
    for (size_t i = 1; i < h.edges.size(); ++i) {
      const uint64_t at = CountAtOrBelow(points, h.edges[i]);
      out.push_back(total > 0 ? static_cast<double>(at - below) / total : 0.0);
      below = at;
    }
    return out;
  };
  h.reference = shares(ref_points);
  h.current = shares(cur_points);
  return h;
}

ComparedHistogram CompareCategorical(const CategoryCounts& reference, const CategoryCounts& current, size_t top) {
  ComparedHistogram h;
  const double ref_total = static_cast<double>(reference.total());
  const double cur_total = static_cast<double>(current.total());
  auto share = [](uint64_t n, double total) { return total > 0 ? static_cast<double>(n) / total : 0.0; };
  struct Row {
    std::string name;
    double reference;
    double current;
  };
  std::vector<Row> rows;
  std::set<std::string_view> names;
  for (const auto& [name, n] : reference.counts()) names.insert(name);
  for (const auto& [name, n] : current.counts()) names.insert(name);
  double other_ref = 0, other_cur = 0;
  for (std::string_view name : names) {
    const double r = share(reference.count(name), ref_total);
    const double c = share(current.count(name), cur_total);
    if (name == CategoryCounts::kOther) {
      other_ref += r;
      other_cur += c;
    } else {
      rows.push_back({std::string(name), r, c});
    }
  }
  std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return std::max(a.reference, a.current) > std::max(b.reference, b.current);
  });
  for (size_t i = top; i < rows.size(); ++i) {
    other_ref += rows[i].reference;
    other_cur += rows[i].current;
  }
  if (rows.size() > top) rows.resize(top);
  for (Row& row : rows) {
    h.categories.push_back(std::move(row.name));
    h.reference.push_back(row.reference);
    h.current.push_back(row.current);
  }
  if (other_ref > 0 || other_cur > 0) {
    h.categories.emplace_back(CategoryCounts::kOther);
    h.reference.push_back(other_ref);
    h.current.push_back(other_cur);
  }
  return h;
}

}  // namespace tyto::stats
