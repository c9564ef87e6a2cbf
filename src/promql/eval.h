// The evaluator's internals, shared by engine.cc and the function and operator files (private to
// src/promql).
#pragma once

#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "promql/engine.h"

namespace tyto::promql {

// An instant-vector element inside the evaluator: `t` is the sample's own timestamp for a
// selector's element (timestamp() reads it), the evaluation time otherwise.
struct Elem {
  Labels metric;
  double v = 0;
  int64_t t = 0;
};
using Vector = std::vector<Elem>;

// The evaluation times: start, start + step, ..., end.
struct Steps {
  int64_t start = 0;
  int64_t end = 0;
  int64_t step = 1;
  size_t size() const { return static_cast<size_t>((end - start) / step) + 1; }
  int64_t At(size_t i) const { return start + static_cast<int64_t>(i) * step; }
};

// A node's value at every step: scalars, instant vectors, or one string.
struct Val {
  ValueType type = ValueType::kNone;
  std::vector<double> scalars;
  std::vector<Vector> vectors;
  std::string str;
};

// One series' points inside a window: a view into Windows::data (no copy per step).
struct SeriesView {
  size_t index = 0;  // into Windows::data
  std::span<const Point> points;
};

// A range vector at one step: each series' points in its window, and the window's end.
struct Window {
  std::vector<SeriesView> series;
  int64_t end = 0;        // the window is (end - range, end]
  int64_t range = 0;      // ms
  int64_t step_time = 0;  // the evaluation step's time (differs from end with @ or offset)
};

// Kahan-Babuska-Neumaier summation, as Prometheus's kahanSumInc.
struct KahanSum {
  double sum = 0;
  double c = 0;
  void Add(double v) {
    const double t = sum + v;
    if (std::isinf(t)) {
      c = 0;
    } else if (std::fabs(sum) >= std::fabs(v)) {
      c += (sum - t) + v;
    } else {
      c += (v - t) + sum;
    }
    sum = t;
  }
  double Value() const { return sum + c; }
};

// The mean as Prometheus's avg and avg_over_time compute it: a compensated sum while it does not
// overflow, then an incremental mean that keeps infinities right.
class AvgAccumulator {
 public:
  void Add(double v);
  double Value() const;

 private:
  double count_ = 0;
  KahanSum sum_;
  bool incremental_ = false;
  double mean_ = 0;
  double c_ = 0;
};

// Sorts as Go's sort.Float64s: NaN first.
void SortNaNFirst(std::vector<double>* v);
// The φ-quantile of the values, as Prometheus's quantile (NaN for no values).
double Quantile(double q, std::vector<double> v);

// A range-vector node at every step: the series (read once, staleness markers removed) and each
// step's window over them.
struct Windows {
  std::vector<Series> data;
  std::vector<Window> steps;
};

// Labels without __name__.
Labels DropName(const Labels& l);

// The value of an instant-vector function of one argument, element by element (abs, ceil, ...),
// or null if `name` is not one.
using ElementFn = double (*)(double);
ElementFn SimpleFunction(std::string_view name);

// Evaluates a range-vector function (rate, *_over_time, ...) over one series' window; false when
// it has no value there.
bool RangeFunction(std::string_view name, std::span<const Point> points, const Window& w,
                   const std::vector<double>& args, double* out);

}  // namespace tyto::promql
