// Element-wise and range-vector functions: Prometheus's funcs.go semantics, written afresh.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <numbers>
#include <string_view>

#include "promql/eval.h"

namespace tyto::promql {
namespace {

struct Named {
  std::string_view name;
  ElementFn fn;
};

double Sgn(double v) { return v > 0 ? 1 : v < 0 ? -1 : v; }
double Deg(double v) { return v * 180 / std::numbers::pi; }
double Rad(double v) { return v * std::numbers::pi / 180; }
double Abs(double v) { return std::fabs(v); }
double Ceil(double v) { return std::ceil(v); }
double Floor(double v) { return std::floor(v); }
double Exp(double v) { return std::exp(v); }
double Sqrt(double v) { return std::sqrt(v); }
double Ln(double v) { return std::log(v); }
double Log2(double v) { return std::log2(v); }
double Log10(double v) { return std::log10(v); }
double Sin(double v) { return std::sin(v); }
double Cos(double v) { return std::cos(v); }
double Tan(double v) { return std::tan(v); }
double Asin(double v) { return std::asin(v); }
double Acos(double v) { return std::acos(v); }
double Atan(double v) { return std::atan(v); }
double Sinh(double v) { return std::sinh(v); }
double Cosh(double v) { return std::cosh(v); }
double Tanh(double v) { return std::tanh(v); }
double Asinh(double v) { return std::asinh(v); }
double Acosh(double v) { return std::acosh(v); }
double Atanh(double v) { return std::atanh(v); }

constexpr Named kSimple[] = {
    {"abs", Abs},     {"ceil", Ceil},   {"floor", Floor}, {"exp", Exp},     {"sqrt", Sqrt},   {"ln", Ln},
    {"log2", Log2},   {"log10", Log10}, {"sgn", Sgn},     {"deg", Deg},     {"rad", Rad},     {"sin", Sin},
    {"cos", Cos},     {"tan", Tan},     {"asin", Asin},   {"acos", Acos},   {"atan", Atan},   {"sinh", Sinh},
    {"cosh", Cosh},   {"tanh", Tanh},   {"asinh", Asinh}, {"acosh", Acosh}, {"atanh", Atanh},
};

// Prometheus's extrapolatedRate for rate, increase and delta.
bool ExtrapolatedRate(std::span<const Point> p, const Window& w, bool counter, bool rate, double* out) {
  if (p.size() < 2) return false;
  double result = p.back().v - p.front().v;
  if (counter) {
    for (size_t i = 1; i < p.size(); ++i) {
      if (p[i].v < p[i - 1].v) result += p[i - 1].v;
    }
  }
  const double range_start = static_cast<double>(w.end - w.range);
  const double range_end = static_cast<double>(w.end);
  double to_start = (static_cast<double>(p.front().t) - range_start) / 1000;
  double to_end = (range_end - static_cast<double>(p.back().t)) / 1000;
  const double sampled = static_cast<double>(p.back().t - p.front().t) / 1000;
  const double avg = sampled / static_cast<double>(p.size() - 1);
  const double threshold = avg * 1.1;
  if (to_start >= threshold) to_start = avg / 2;
  if (counter && result > 0 && p.front().v >= 0) {
    const double to_zero = sampled * (p.front().v / result);
    if (to_zero < to_start) to_start = to_zero;
  }
  if (to_end >= threshold) to_end = avg / 2;
  double factor = (sampled + to_start + to_end) / sampled;
  if (rate) factor /= static_cast<double>(w.range) / 1000;
  *out = result * factor;
  return true;
}

// Linear interpolation between two samples at t; for a counter that reset between them, the
// counter is taken to restart from 0 (Prometheus's interpolate).
double Interpolate(const Point& p1, const Point& p2, int64_t t, bool counter) {
  double y1 = p1.v;
  const double y2 = p2.v;
  if (counter && y2 < y1) y1 = 0;
  return y1 + (y2 - y1) * static_cast<double>(t - p1.t) / static_cast<double>(p2.t - p1.t);
}

// The index of the first of p[0, n) for which pred holds, or n (Go's sort.Search).
template <typename Pred>
size_t Search(size_t n, Pred pred) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (!pred(mid)) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

// rate, increase and delta over an anchored or smoothed window (Prometheus's extendedRate): the
// value at the window's start (the last sample at or before it, or interpolated) and at its end,
// with counter resets in between added back. `p` spans the extended window.
bool ExtendedRate(std::span<const Point> p, const Window& w, bool counter, bool rate, double* out) {
  if (p.empty()) return false;
  const int64_t range_start = w.end - w.range;
  const int64_t range_end = w.end;
  size_t last = p.size() - 1;
  const size_t after_start = Search(last, [&](size_t i) { return p[i].t > range_start; });
  size_t first = after_start > 0 ? after_start - 1 : 0;
  if (w.smoothed) last = Search(last, [&](size_t i) { return p[i].t >= range_end; });
  if (p[last].t <= range_start) return false;
  if (w.smoothed && p[first].t > range_end) return false;  // only samples after the window
  const double left = w.smoothed && p[first].t < range_start ? Interpolate(p[first], p[first + 1], range_start, counter)
                                                             : p[first].v;
  const double right = w.smoothed && last > 0 && p[last].t > range_end ? Interpolate(p[last - 1], p[last], range_end, counter)
                                                                       : p[last].v;
  double result = right - left;
  if (counter) {
    // Resets strictly inside the window; those at its edges are in left and right already.
    size_t from = first;
    size_t to = last + 1;  // exclusive
    if (p[from].t <= range_start) ++from;
    if (p[last].t >= range_end) --to;
    double prev = left;
    for (size_t i = from; i < to; ++i) {
      if (p[i].v < prev) result += prev;
      prev = p[i].v;
    }
    if (right < prev) result += prev;
  }
  if (rate) result /= static_cast<double>(w.range) / 1000;
  *out = result;
  return true;
}

bool InstantRate(std::span<const Point> p, bool rate, double* out) {
  if (p.size() < 2) return false;
  const Point& last = p.back();
  const Point& prev = p[p.size() - 2];
  double d = last.v - prev.v;
  if (rate && last.v < prev.v) d = last.v;  // counter reset
  const int64_t dt = last.t - prev.t;
  if (dt == 0) return false;
  if (rate) d /= static_cast<double>(dt) / 1000;
  *out = d;
  return true;
}

// Least-squares slope and intercept at `at` (seconds relative to it), as Prometheus's
// linearRegression.
void LinearRegression(std::span<const Point> p, int64_t at, double* slope, double* intercept) {
  double n = 0, sum_x = 0, sum_y = 0, sum_xy = 0, sum_x2 = 0;
  KahanSum cx, cy, cxy, cx2;
  bool const_y = true;
  const double first = p.front().v;
  for (const Point& q : p) {
    if (q.v != first) const_y = false;
    const double x = static_cast<double>(q.t - at) / 1000;
    n += 1;
    cx.Add(x);
    cy.Add(q.v);
    cxy.Add(x * q.v);
    cx2.Add(x * x);
  }
  if (const_y) {
    *slope = 0;
    *intercept = first;
    return;
  }
  sum_x = cx.Value();
  sum_y = cy.Value();
  sum_xy = cxy.Value();
  sum_x2 = cx2.Value();
  const double cov = sum_xy - sum_x * sum_y / n;
  const double var = sum_x2 - sum_x * sum_x / n;
  *slope = cov / var;
  *intercept = sum_y / n - *slope * sum_x / n;
}

}  // namespace

double Quantile(double q, std::vector<double> v) { return QuantileInPlace(q, &v); }

double QuantileInPlace(double q, std::vector<double>* v) {
  if (v->empty() || std::isnan(q)) return std::numeric_limits<double>::quiet_NaN();
  if (q < 0) return -std::numeric_limits<double>::infinity();
  if (q > 1) return std::numeric_limits<double>::infinity();
  // The two order statistics around the rank, as in the sorted values (NaN first, as Go's
  // sort.Float64s), without sorting the rest.
  auto less = [](double a, double b) { return std::isnan(a) ? !std::isnan(b) : a < b; };
  const double n = static_cast<double>(v->size());
  const double rank = q * (n - 1);
  const auto lower = static_cast<size_t>(std::max(0.0, std::floor(rank)));
  const auto upper = static_cast<size_t>(std::min(n - 1, lower + 1.0));
  const double weight = rank - std::floor(rank);
  std::nth_element(v->begin(), v->begin() + static_cast<ptrdiff_t>(lower), v->end(), less);
  const double lo = (*v)[lower];
  const double hi = upper == lower ? lo : *std::min_element(v->begin() + static_cast<ptrdiff_t>(upper), v->end(), less);
  return lo * (1 - weight) + hi * weight;
}

void SortNaNFirst(std::vector<double>* v) {
  // Go's sort.Float64s, which Prometheus uses: NaN before every other value.
  std::sort(v->begin(), v->end(), [](double a, double b) { return std::isnan(a) ? !std::isnan(b) : a < b; });
}

void AvgAccumulator::Add(double f) {
  count_ += 1;
  if (!incremental_) {
    KahanSum next = sum_;
    next.Add(f);
    // A plain mean while the sum does not overflow (and for the first value in any case).
    if (count_ == 1 || !std::isinf(next.sum)) {
      sum_ = next;
      return;
    }
    incremental_ = true;
    mean_ = sum_.sum / (count_ - 1);
    c_ = sum_.c / (count_ - 1);
  }
  if (std::isinf(mean_)) {
    if (std::isinf(f) && (mean_ > 0) == (f > 0)) return;  // Inf of the same sign: the mean stays
    if (!std::isinf(f) && !std::isnan(f)) return;         // a finite value cannot move an infinite mean
  }
  const double corrected = mean_ + c_;
  KahanSum k{mean_, c_};
  k.Add(f / count_ - corrected / count_);
  mean_ = k.sum;
  c_ = k.c;
}

double AvgAccumulator::Value() const {
  if (incremental_) return mean_ + c_;
  return sum_.sum / count_ + sum_.c / count_;
}


ElementFn SimpleFunction(std::string_view name) {
  for (const Named& n : kSimple) {
    if (n.name == name) return n.fn;
  }
  return nullptr;
}

RangeFn RangeFunctionId(std::string_view name) {
  static constexpr std::pair<std::string_view, RangeFn> kNames[] = {
      {"rate", RangeFn::kRate},
      {"increase", RangeFn::kIncrease},
      {"delta", RangeFn::kDelta},
      {"irate", RangeFn::kIrate},
      {"idelta", RangeFn::kIdelta},
      {"count_over_time", RangeFn::kCountOverTime},
      {"present_over_time", RangeFn::kPresentOverTime},
      {"last_over_time", RangeFn::kLastOverTime},
      {"first_over_time", RangeFn::kFirstOverTime},
      {"sum_over_time", RangeFn::kSumOverTime},
      {"avg_over_time", RangeFn::kAvgOverTime},
      {"min_over_time", RangeFn::kMinOverTime},
      {"max_over_time", RangeFn::kMaxOverTime},
      {"stddev_over_time", RangeFn::kStddevOverTime},
      {"stdvar_over_time", RangeFn::kStdvarOverTime},
      {"quantile_over_time", RangeFn::kQuantileOverTime},
      {"mad_over_time", RangeFn::kMadOverTime},
      {"ts_of_first_over_time", RangeFn::kTsOfFirstOverTime},
      {"ts_of_last_over_time", RangeFn::kTsOfLastOverTime},
      {"ts_of_min_over_time", RangeFn::kTsOfMinOverTime},
      {"ts_of_max_over_time", RangeFn::kTsOfMaxOverTime},
      {"double_exponential_smoothing", RangeFn::kDoubleExponentialSmoothing},
      {"changes", RangeFn::kChanges},
      {"resets", RangeFn::kResets},
      {"deriv", RangeFn::kDeriv},
      {"predict_linear", RangeFn::kPredictLinear},
  };
  for (const auto& [n, fn] : kNames) {
    if (n == name) return fn;
  }
  return RangeFn::kNone;
}

bool RangeFunction(RangeFn fn, std::span<const Point> p, const Window& w, const std::vector<double>& args,
                   double* out) {
  if (w.anchored || w.smoothed) {
    if (fn == RangeFn::kRate) return ExtendedRate(p, w, true, true, out);
    if (fn == RangeFn::kIncrease) return ExtendedRate(p, w, true, false, out);
    if (fn == RangeFn::kDelta) return ExtendedRate(p, w, false, false, out);
    if (fn == RangeFn::kChanges || fn == RangeFn::kResets) {
      // Anchored: from the last sample at or before the window's start.
      const int64_t range_start = w.end - w.range;
      if (p.empty() || p.back().t <= range_start) return false;
      const size_t after_start = Search(p.size() - 1, [&](size_t i) { return p[i].t > range_start; });
      p = p.subspan(after_start > 0 ? after_start - 1 : 0);
    }
  }
  switch (fn) {
    case RangeFn::kRate: return ExtrapolatedRate(p, w, true, true, out);
    case RangeFn::kIncrease: return ExtrapolatedRate(p, w, true, false, out);
    case RangeFn::kDelta: return ExtrapolatedRate(p, w, false, false, out);
    case RangeFn::kIrate: return InstantRate(p, true, out);
    case RangeFn::kIdelta: return InstantRate(p, false, out);
    default: break;
  }
  if (p.empty()) return false;
  switch (fn) {
    case RangeFn::kCountOverTime:
      *out = static_cast<double>(p.size());
      break;
    case RangeFn::kPresentOverTime:
      *out = 1;
      break;
    case RangeFn::kLastOverTime:
      *out = p.back().v;
      break;
    case RangeFn::kFirstOverTime:
      *out = p.front().v;
      break;
    case RangeFn::kSumOverTime: {
      KahanSum k;
      for (const Point& q : p) k.Add(q.v);
      *out = k.Value();
      break;
    }
    case RangeFn::kAvgOverTime: {
      AvgAccumulator avg;
      for (const Point& q : p) avg.Add(q.v);
      *out = avg.Value();
      break;
    }
    case RangeFn::kMinOverTime:
    case RangeFn::kMaxOverTime: {
      const bool want_min = fn == RangeFn::kMinOverTime;
      double m = p.front().v;
      for (const Point& q : p) {
        if ((want_min ? q.v < m : q.v > m) || std::isnan(m)) m = q.v;
      }
      *out = m;
      break;
    }
    case RangeFn::kStddevOverTime:
    case RangeFn::kStdvarOverTime: {
      double n = 0, mean = 0, m2 = 0;
      for (const Point& q : p) {
        n += 1;
        const double delta = q.v - mean;
        mean += delta / n;
        m2 += delta * (q.v - mean);
      }
      const double var = m2 / n;
      *out = fn == RangeFn::kStdvarOverTime ? var : std::sqrt(var);
      break;
    }
    case RangeFn::kQuantileOverTime: {
      thread_local std::vector<double> v;  // reused: one allocation per thread, not per window
      v.clear();
      for (const Point& q : p) v.push_back(q.v);
      *out = QuantileInPlace(args.empty() ? 0 : args[0], &v);
      break;
    }
    case RangeFn::kMadOverTime: {
      std::vector<double> v;
      for (const Point& q : p) {
        if (std::isnan(q.v)) {
          *out = std::numeric_limits<double>::quiet_NaN();  // a NaN sample makes the result NaN
          return true;
        }
        v.push_back(q.v);
      }
      const double median = Quantile(0.5, v);
      for (double& x : v) x = std::fabs(x - median);
      *out = Quantile(0.5, std::move(v));
      break;
    }
    case RangeFn::kTsOfFirstOverTime:
      *out = static_cast<double>(p.front().t) / 1000;
      break;
    case RangeFn::kTsOfLastOverTime:
      *out = static_cast<double>(p.back().t) / 1000;
      break;
    case RangeFn::kTsOfMinOverTime:
    case RangeFn::kTsOfMaxOverTime: {
      const bool want_min = fn == RangeFn::kTsOfMinOverTime;
      size_t best = 0;
      for (size_t i = 1; i < p.size(); ++i) {
        // The latest of equal extremes, as Prometheus.
        if ((want_min ? p[i].v <= p[best].v : p[i].v >= p[best].v) || std::isnan(p[best].v)) best = i;
      }
      *out = static_cast<double>(p[best].t) / 1000;
      break;
    }
    case RangeFn::kDoubleExponentialSmoothing: {
      // Prometheus's funcDoubleExponentialSmoothing (formerly holt_winters).
      const double sf = args.size() > 0 ? args[0] : 0, tf = args.size() > 1 ? args[1] : 0;
      if (p.size() < 2) return false;
      double s0 = 0, s1 = p[0].v, b = p[1].v - p[0].v;
      for (size_t i = 1; i < p.size(); ++i) {
        const double x = sf * p[i].v;
        b = i > 1 ? tf * (s1 - s0) + (1 - tf) * b : b;
        s0 = s1;
        s1 = x + (1 - sf) * (s0 + b);
      }
      *out = s1;
      break;
    }
    case RangeFn::kChanges: {
      double n = 0;
      for (size_t i = 1; i < p.size(); ++i) {
        if (p[i].v != p[i - 1].v && !(std::isnan(p[i].v) && std::isnan(p[i - 1].v))) n += 1;
      }
      *out = n;
      break;
    }
    case RangeFn::kResets: {
      double n = 0;
      for (size_t i = 1; i < p.size(); ++i) n += p[i].v < p[i - 1].v;
      *out = n;
      break;
    }
    case RangeFn::kDeriv: {
      if (p.size() < 2) return false;
      double slope = 0, intercept = 0;
      LinearRegression(p, p.front().t, &slope, &intercept);
      *out = slope;
      break;
    }
    case RangeFn::kPredictLinear: {
      if (p.size() < 2) return false;
      double slope = 0, intercept = 0;
      LinearRegression(p, w.step_time, &slope, &intercept);  // at the step's time, even with @
      *out = slope * (args.empty() ? 0 : args[0]) + intercept;
      break;
    }
    default:
      return false;
  }
  return true;
}

std::vector<Point> ExtendFloats(std::span<const Point> p, int64_t start, int64_t end, bool smoothed) {
  if (p.empty()) return {};
  size_t last = p.size() - 1;
  const size_t after_start = Search(last, [&](size_t i) { return p[i].t > start; });
  size_t first = after_start > 0 ? after_start - 1 : 0;
  if (smoothed) last = Search(last, [&](size_t i) { return p[i].t >= end; });
  if (p[last].t <= start) return {};
  const double left = smoothed && p[first].t < start ? Interpolate(p[first], p[first + 1], start, false) : p[first].v;
  const double right = smoothed && last > 0 && p[last].t > end ? Interpolate(p[last - 1], p[last], end, false) : p[last].v;
  // The samples on the edges are replaced by the points made for them.
  size_t from = first;
  size_t to = last + 1;
  if (p[from].t <= start) ++from;
  if (p[last].t >= end) --to;
  std::vector<Point> out;
  out.reserve(to > from ? to - from + 2 : 2);
  out.push_back({start, left});
  for (size_t i = from; i < to; ++i) out.push_back(p[i]);
  out.push_back({end, right});
  return out;
}

bool SmoothedValue(std::span<const Point> p, int64_t t, double* out) {
  const size_t i = Search(p.size(), [&](size_t k) { return p[k].t >= t; });
  if (i < p.size() && p[i].t == t) {
    *out = p[i].v;
  } else if (i > 0 && i < p.size()) {
    *out = Interpolate(p[i - 1], p[i], t, false);
  } else if (i > 0) {
    *out = p[i - 1].v;  // nothing after t yet: the last value carries forward
  } else {
    return false;
  }
  return true;
}

// Classic buckets sorted by upper bound with equal bounds merged (Prometheus's coalesceBuckets);
// empty unless the last bound is +Inf.
std::vector<std::pair<double, double>> CoalesceBuckets(std::vector<std::pair<double, double>> buckets) {
  std::sort(buckets.begin(), buckets.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  if (buckets.empty() || !(std::isinf(buckets.back().first) && buckets.back().first > 0)) return {};
  std::vector<std::pair<double, double>> b;
  for (const auto& x : buckets) {
    if (!b.empty() && b.back().first == x.first) {
      b.back().second += x.second;
    } else {
      b.push_back(x);
    }
  }
  return b;
}

// As Prometheus's almost.Equal with a relative tolerance.
bool NearlyEqual(double a, double b, double epsilon) {
  if (a == b) return true;
  const double abs_sum = std::fabs(a) + std::fabs(b);
  const double diff = std::fabs(a - b);
  constexpr double kMinNormal = std::numeric_limits<double>::min();
  if (a == 0 || b == 0 || abs_sum < kMinNormal) return diff < epsilon * kMinNormal;
  return diff / std::min(abs_sum, std::numeric_limits<double>::max()) < epsilon;
}

double BucketQuantile(double q, std::vector<std::pair<double, double>> buckets, bool* forced_monotonic) {
  *forced_monotonic = false;
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  if (std::isnan(q)) return kNaN;
  if (q < 0) return -std::numeric_limits<double>::infinity();
  if (q > 1) return std::numeric_limits<double>::infinity();
  std::vector<std::pair<double, double>> b = CoalesceBuckets(std::move(buckets));
  if (b.size() < 2) return kNaN;
  // Differences within 1e-12 (floating-point noise) are evened out silently; decreases are
  // raised to the count before them, which Prometheus reports as an info.
  double prev = b[0].second;
  for (size_t i = 1; i < b.size(); ++i) {
    const double curr = b[i].second;
    if (curr == prev) continue;
    if (NearlyEqual(prev, curr, 1e-12)) {
      b[i].second = prev;
    } else if (curr < prev) {
      b[i].second = prev;
      *forced_monotonic = true;
    } else {
      prev = curr;
    }
  }
  const double observations = b.back().second;
  if (observations == 0) return kNaN;
  double rank = q * observations;
  const size_t idx = Search(b.size() - 1, [&](size_t i) { return b[i].second >= rank; });
  if (idx == b.size() - 1) return b[b.size() - 2].first;
  if (idx == 0 && b[0].first <= 0) return b[0].first;
  double start = 0, count = b[idx].second;
  const double end = b[idx].first;
  if (idx > 0) {
    start = b[idx - 1].first;
    count -= b[idx - 1].second;
    rank -= b[idx - 1].second;
  }
  return start + (end - start) * (rank / count);
}

double BucketFraction(double lower, double upper, std::vector<std::pair<double, double>> buckets) {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  constexpr double kInf = std::numeric_limits<double>::infinity();
  std::vector<std::pair<double, double>> b = CoalesceBuckets(std::move(buckets));
  if (b.empty()) return kNaN;
  for (size_t i = 1; i < b.size(); ++i) b[i].second = std::max(b[i].second, b[i - 1].second);
  const double count = b.back().second;
  if (count == 0 || std::isnan(lower) || std::isnan(upper)) return kNaN;
  if (lower >= upper) return 0;
  double rank = 0, lower_rank = 0, upper_rank = 0;
  bool lower_set = false, upper_set = false;
  for (size_t i = 0; i < b.size(); ++i) {
    // The first bucket starts at 0 when its upper bound is positive, as for histogram_quantile.
    const double lb = i > 0 ? b[i - 1].first : (b[0].first > 0 ? 0 : -kInf);
    const double ub = b[i].first;
    // A bound inside a bucket: interpolate linearly. A bucket of infinite width has its
    // observations at its infinite end, so such a bound takes none or all of them.
    auto rank_at = [&](double v) {
      if (std::isinf(lb)) return b[i].second;
      if (std::isinf(ub)) return rank;
      return rank + (b[i].second - rank) * (v - lb) / (ub - lb);
    };
    if (!lower_set && lb >= lower) {
      lower_rank = rank;
      lower_set = true;
    }
    if (!upper_set && lb >= upper) {
      upper_rank = rank;
      upper_set = true;
    }
    if (lower_set && upper_set) break;
    if (!lower_set && lb < lower && ub > lower) {
      lower_rank = rank_at(lower);
      lower_set = true;
    }
    if (!upper_set && lb < upper && ub > upper) {
      upper_rank = rank_at(upper);
      upper_set = true;
    }
    if (lower_set && upper_set) break;
    rank = b[i].second;
  }
  if (!lower_set || lower_rank > count) lower_rank = count;
  if (!upper_set || upper_rank > count) upper_rank = count;
  return (upper_rank - lower_rank) / count;
}

namespace {

// xxHash64 (seed 0), the hash Prometheus's labels.Hash uses.
uint64_t XxHash64(std::string_view data) {
  constexpr uint64_t kP1 = 11400714785074694791ull, kP2 = 14029467366897019727ull, kP3 = 1609587929392839161ull,
                     kP4 = 9650029242287828579ull, kP5 = 2870177450012600261ull;
  auto rotl = [](uint64_t x, int r) { return (x << r) | (x >> (64 - r)); };
  auto read64 = [](const char* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;  // little-endian hosts, as Go's xxhash reads
  };
  auto read32 = [](const char* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return static_cast<uint64_t>(v);
  };
  auto round = [&](uint64_t acc, uint64_t input) { return rotl(acc + input * kP2, 31) * kP1; };
  auto merge = [&](uint64_t acc, uint64_t val) { return (acc ^ round(0, val)) * kP1 + kP4; };
  const char* p = data.data();
  const char* const end = p + data.size();
  uint64_t h;
  if (data.size() >= 32) {
    uint64_t v1 = kP1 + kP2, v2 = kP2, v3 = 0, v4 = 0 - kP1;
    for (; p + 32 <= end; p += 32) {
      v1 = round(v1, read64(p));
      v2 = round(v2, read64(p + 8));
      v3 = round(v3, read64(p + 16));
      v4 = round(v4, read64(p + 24));
    }
    h = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18);
    h = merge(merge(merge(merge(h, v1), v2), v3), v4);
  } else {
    h = kP5;
  }
  h += data.size();
  for (; p + 8 <= end; p += 8) h = rotl(h ^ round(0, read64(p)), 27) * kP1 + kP4;
  if (p + 4 <= end) {
    h = rotl(h ^ (read32(p) * kP1), 23) * kP2 + kP3;
    p += 4;
  }
  for (; p < end; ++p) h = rotl(h ^ (static_cast<uint64_t>(static_cast<unsigned char>(*p)) * kP5), 11) * kP1;
  h ^= h >> 33;
  h *= kP2;
  h ^= h >> 29;
  h *= kP3;
  h ^= h >> 32;
  return h;
}

}  // namespace

double RatioSampleOffset(const Labels& l) {
  std::string bytes;
  for (const Label& x : l) {
    bytes += x.name;
    bytes += '\xff';
    bytes += x.value;
    bytes += '\xff';
  }
  return static_cast<double>(XxHash64(bytes)) / static_cast<double>(std::numeric_limits<uint64_t>::max());
}

std::string FormatGoFloat(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // Shortest digits; exponent form when the exponent is < -4 or >= 6, as Go's 'g' with -1.
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  std::string sci(buf, ec == std::errc() ? end : buf);
  const size_t e = sci.find('e');
  const int exp = std::stoi(sci.substr(e + 1));
  if (exp < -4 || exp >= 6) {
    // Go writes at least two exponent digits: 1e+06, 1.5e-07.
    const int magnitude = exp < 0 ? -exp : exp;
    std::string out = sci.substr(0, e);
    out += exp < 0 ? "e-" : "e+";
    if (magnitude < 10) out += '0';
    out += std::to_string(magnitude);
    return out;
  }
  auto [fend, fec] = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
  return std::string(buf, fec == std::errc() ? fend : buf);
}

void Annotations::Add(std::vector<std::string>* to, std::string_view kind, std::string_view text, PositionRange pos) {
  std::string s(kind);
  s += text;
  s += " (1:";
  s += std::to_string(pos.start + 1);
  s += ')';
  if (seen_.insert(s).second) to->push_back(std::move(s));
}

}  // namespace tyto::promql
