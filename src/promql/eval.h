// The evaluator's internals, shared by engine.cc and the function and operator files (private to
// src/promql).
#pragma once

#include <cmath>
#include <cstdint>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "promql/engine.h"

namespace tyto::promql {

// An instant-vector element inside the evaluator: `t` is the sample's own timestamp for a
// selector's element (timestamp() reads it), the evaluation time otherwise. `drop_name`: with
// delayed name removal (EngineOptions), the metric name is still in `metric` but goes when the
// query ends (or a subquery's result is formed), as Prometheus's Sample.DropName.
struct Elem {
  Labels metric;
  double v = 0;
  int64_t t = 0;
  bool drop_name = false;
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
// Extended range selectors see more: `anchored` also the lookback delta before the window,
// `smoothed` the lookback delta before and after it (their functions pick the samples at the
// window's edges from those).
struct Window {
  std::vector<SeriesView> series;
  int64_t end = 0;        // the window is (end - range, end]
  int64_t range = 0;      // ms
  int64_t step_time = 0;  // the evaluation step's time (differs from end with @ or offset)
  bool anchored = false;
  bool smoothed = false;
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
// The same, reordering *v instead of copying it.
double QuantileInPlace(double q, std::vector<double>* v);

// A range-vector node at every step: the series (read once, staleness markers removed) and each
// step's window over them.
struct Windows {
  std::vector<Series> data;
  std::vector<Window> steps;
};

// Labels without the metric name and the metadata labels that go with it (__type__, __unit__),
// as Prometheus drops them together.
Labels DropName(const Labels& l);
bool IsMetadataLabel(std::string_view name);

// Prometheus's labels.String(): {__name__="up", job="node"}, names quoted where not plain.
std::string LabelsString(const Labels& l);

// Go's strconv.FormatFloat(v, 'g', -1, 64), as Prometheus's messages print numbers ("%g").
std::string FormatGoFloat(double v);

// The warnings and infos of one query (Prometheus's annotations), each text once, in the order
// first reported. A message ends with the position of the expression it is about, " (1:7)":
// line 1 and the byte column, which Engine::Instant and Range turn into the line and column of
// a query written over several lines.
class Annotations {
 public:
  void Warn(std::string_view text, PositionRange pos) { Add(&warnings_, "PromQL warning: ", text, pos); }
  void Info(std::string_view text, PositionRange pos) { Add(&infos_, "PromQL info: ", text, pos); }
  std::vector<std::string> TakeWarnings() { return std::move(warnings_); }
  std::vector<std::string> TakeInfos() { return std::move(infos_); }

 private:
  void Add(std::vector<std::string>* to, std::string_view kind, std::string_view text, PositionRange pos);
  std::set<std::string> seen_;
  std::vector<std::string> warnings_;
  std::vector<std::string> infos_;
};

// The value of an instant-vector function of one argument, element by element (abs, ceil, ...),
// or null if `name` is not one.
using ElementFn = double (*)(double);
ElementFn SimpleFunction(std::string_view name);

// Evaluates a range-vector function (rate, *_over_time, ...) over one series' window; false when
// it has no value there.
// Resolved once per call, not per step and series.
enum class RangeFn : uint8_t {
  kNone, kRate, kIncrease, kDelta, kIrate, kIdelta, kCountOverTime, kPresentOverTime, kLastOverTime,
  kFirstOverTime, kSumOverTime, kAvgOverTime, kMinOverTime, kMaxOverTime, kStddevOverTime, kStdvarOverTime,
  kQuantileOverTime, kMadOverTime, kTsOfFirstOverTime, kTsOfLastOverTime, kTsOfMinOverTime, kTsOfMaxOverTime,
  kDoubleExponentialSmoothing, kChanges, kResets, kDeriv, kPredictLinear,
};
RangeFn RangeFunctionId(std::string_view name);  // kNone for a name that is not one
bool RangeFunction(RangeFn fn, std::span<const Point> points, const Window& w, const std::vector<double>& args,
                   double* out);

// An anchored or smoothed range as Prometheus's extendFloats returns it for a range-vector
// result: a point at the window's start and one at its end (picked, or interpolated when
// smoothed) around the samples strictly inside. `points` spans the extended window.
std::vector<Point> ExtendFloats(std::span<const Point> points, int64_t start, int64_t end, bool smoothed);

// A smoothed instant selector's value at t from a series' samples in (t - lookback, t + lookback]:
// the sample at t, or the linear interpolation between its neighbours, or the last one before t;
// false when there is none before or at t.
bool SmoothedValue(std::span<const Point> points, int64_t t, double* out);

// Prometheus's classic-histogram bucket quantile: `buckets` are (upper bound, cumulative count)
// pairs. Sets *forced_monotonic when decreasing counts had to be raised (an info in Prometheus).
double BucketQuantile(double q, std::vector<std::pair<double, double>> buckets, bool* forced_monotonic);
// The fraction of observations between lower and upper in classic buckets (linear
// interpolation inside a bucket; none inside a bucket of infinite width).
double BucketFraction(double lower, double upper, std::vector<std::pair<double, double>> buckets);

// info(): whether a series is itself one of the info metrics asked for (its name matches every
// __name__ matcher, one of them positive, as the engine makes sure), which info() leaves as it is.
bool IsInfoSeries(const Labels& l, const std::vector<Matcher>& name_matchers);
// info(): enriches each step's elements of `base` with the data labels of the info series (read
// over the query, staleness markers kept) current at that step's reference time: the newest
// sample within the lookback delta per info metric and identifying labels (instance, job).
// With data matchers, only their labels are added, and a series no info series describes is
// dropped unless every data matcher matches the empty string. Errors as Prometheus's: two info
// series with the same identifying labels and sample time, or two info metrics giving a label
// different values ("conflicting label: x").
Status EnrichWithInfo(const std::vector<Series>& info, std::span<const int64_t> ref_times, int64_t lookback,
                      const std::vector<Matcher>& name_matchers, const std::vector<Matcher>& data_matchers, Val* base);

// Where limit_ratio puts a series in [0, 1): Prometheus's hash of its labels (xxHash64 of
// name\xffvalue\xff...) over the largest uint64.
double RatioSampleOffset(const Labels& l);

}  // namespace tyto::promql
