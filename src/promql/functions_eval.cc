// Element-wise and range-vector functions: Prometheus's funcs.go semantics, written afresh.
#include <algorithm>
#include <cmath>
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

double Quantile(double q, std::vector<double> v) {
  if (v.empty() || std::isnan(q)) return std::numeric_limits<double>::quiet_NaN();
  if (q < 0) return -std::numeric_limits<double>::infinity();
  if (q > 1) return std::numeric_limits<double>::infinity();
  SortNaNFirst(&v);
  const double n = static_cast<double>(v.size());
  const double rank = q * (n - 1);
  const auto lower = static_cast<size_t>(std::max(0.0, std::floor(rank)));
  const auto upper = static_cast<size_t>(std::min(n - 1, lower + 1.0));
  const double weight = rank - std::floor(rank);
  return v[lower] * (1 - weight) + v[upper] * weight;
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

bool RangeFunction(std::string_view name, std::span<const Point> p, const Window& w,
                   const std::vector<double>& args, double* out) {
  if (name == "rate") return ExtrapolatedRate(p, w, true, true, out);
  if (name == "increase") return ExtrapolatedRate(p, w, true, false, out);
  if (name == "delta") return ExtrapolatedRate(p, w, false, false, out);
  if (name == "irate") return InstantRate(p, true, out);
  if (name == "idelta") return InstantRate(p, false, out);
  if (p.empty()) return false;
  if (name == "count_over_time") {
    *out = static_cast<double>(p.size());
  } else if (name == "present_over_time") {
    *out = 1;
  } else if (name == "last_over_time") {
    *out = p.back().v;
  } else if (name == "first_over_time") {
    *out = p.front().v;
  } else if (name == "sum_over_time") {
    KahanSum k;
    for (const Point& q : p) k.Add(q.v);
    *out = k.Value();
  } else if (name == "avg_over_time") {
    AvgAccumulator avg;
    for (const Point& q : p) avg.Add(q.v);
    *out = avg.Value();
  } else if (name == "min_over_time" || name == "max_over_time") {
    const bool want_min = name == "min_over_time";
    double m = p.front().v;
    for (const Point& q : p) {
      if ((want_min ? q.v < m : q.v > m) || std::isnan(m)) m = q.v;
    }
    *out = m;
  } else if (name == "stddev_over_time" || name == "stdvar_over_time") {
    double n = 0, mean = 0, m2 = 0;
    for (const Point& q : p) {
      n += 1;
      const double delta = q.v - mean;
      mean += delta / n;
      m2 += delta * (q.v - mean);
    }
    const double var = m2 / n;
    *out = name == "stdvar_over_time" ? var : std::sqrt(var);
  } else if (name == "quantile_over_time") {
    std::vector<double> v;
    for (const Point& q : p) v.push_back(q.v);
    *out = Quantile(args.empty() ? 0 : args[0], std::move(v));
  } else if (name == "mad_over_time") {
    std::vector<double> v;
    for (const Point& q : p) v.push_back(q.v);
    const double median = Quantile(0.5, v);
    for (double& x : v) x = std::fabs(x - median);
    *out = Quantile(0.5, std::move(v));
  } else if (name == "ts_of_first_over_time") {
    *out = static_cast<double>(p.front().t) / 1000;
  } else if (name == "ts_of_last_over_time") {
    *out = static_cast<double>(p.back().t) / 1000;
  } else if (name == "ts_of_min_over_time" || name == "ts_of_max_over_time") {
    const bool want_min = name == "ts_of_min_over_time";
    size_t best = 0;
    for (size_t i = 1; i < p.size(); ++i) {
      // The latest of equal extremes, as Prometheus.
      if ((want_min ? p[i].v <= p[best].v : p[i].v >= p[best].v) || std::isnan(p[best].v)) best = i;
    }
    *out = static_cast<double>(p[best].t) / 1000;
  } else if (name == "double_exponential_smoothing") {
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
  } else if (name == "changes" || name == "resets") {
    double n = 0;
    for (size_t i = 1; i < p.size(); ++i) {
      if (name == "changes") {
        if (p[i].v != p[i - 1].v && !(std::isnan(p[i].v) && std::isnan(p[i - 1].v))) n += 1;
      } else if (p[i].v < p[i - 1].v) {
        n += 1;
      }
    }
    *out = n;
  } else if (name == "deriv") {
    if (p.size() < 2) return false;
    double slope = 0, intercept = 0;
    LinearRegression(p, p.front().t, &slope, &intercept);
    *out = slope;
  } else if (name == "predict_linear") {
    if (p.size() < 2) return false;
    double slope = 0, intercept = 0;
    LinearRegression(p, w.step_time, &slope, &intercept);  // at the step's time, even with @
    *out = slope * (args.empty() ? 0 : args[0]) + intercept;
  } else {
    return false;
  }
  return true;
}

}  // namespace tyto::promql
