// The PromQL evaluation engine: runs a parsed expression against the storage, as Prometheus 3
// evaluates it.
//
// A query is evaluated at one time (instant) or at every step of [start, end] (range). The
// selectors' series are read once for the whole query (each over the time it needs: its offset,
// @ modifier, range and the lookback), then every node is evaluated step by step over those
// samples. Semantics followed: the 5-minute lookback (configurable) for instant selectors, a
// staleness marker ending a series, left-open range selectors (t - range, t], offsets and @
// (with start()/end()), subqueries aligned to multiples of their step, Prometheus's
// extrapolation in rate/increase/delta, vector matching with on/ignoring/group_left/group_right,
// bool comparisons, set operators, and the metric name dropped where Prometheus drops it.
//
// Thread-safe: one Engine may run many queries at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "promql/ast.h"
#include "tyto/labels.h"
#include "tyto/status.h"
#include "tyto/storage.h"

namespace tyto::promql {

struct Point {
  int64_t t = 0;
  double v = 0;
};

// One series of a range vector or of a range query's result.
struct Series {
  Labels metric;
  std::vector<Point> points;
};

// One element of an instant vector.
struct Element {
  Labels metric;
  double v = 0;
};

struct QueryResult {
  ValueType type = ValueType::kNone;  // kVector, kMatrix, kScalar or kString
  std::vector<Element> vector;        // kVector (instant queries), at `time`
  std::vector<Series> matrix;         // kMatrix: range queries, and instant range vectors
  double scalar = 0;                  // kScalar (instant)
  std::string string;                 // kString
  int64_t time = 0;                   // the evaluation time of an instant query
  std::vector<std::string> warnings;
  std::vector<std::string> infos;
};

struct EngineOptions {
  std::chrono::milliseconds lookback_delta{std::chrono::minutes(5)};
  // A subquery without a step uses this (Prometheus's global evaluation_interval).
  std::chrono::milliseconds default_subquery_step{std::chrono::minutes(1)};
  // Samples a query may hold in memory at once; more fails the query with kResourceExhausted.
  uint64_t max_samples = 50'000'000;
};

class Engine {
 public:
  Engine(Storage* storage, EngineOptions options = {}) : storage_(storage), options_(options) {}

  // Parses and evaluates. Errors: kInvalidArgument for a query that does not parse (naming the
  // position) or fails at run time as Prometheus's would (e.g. "vector cannot contain metrics
  // with the same labelset"), kResourceExhausted over max_samples, the storage's errors.
  Result<QueryResult> Instant(std::string_view query, int64_t time_ms) const;
  // Steps at start, start + step, ... <= end. Precondition checked: step > 0, start <= end.
  Result<QueryResult> Range(std::string_view query, int64_t start_ms, int64_t end_ms, int64_t step_ms) const;

  // The same on a parsed expression.
  Result<QueryResult> Exec(const Expr& expr, int64_t start_ms, int64_t end_ms, int64_t step_ms, bool instant) const;

 private:
  Storage* storage_;
  EngineOptions options_;
};

}  // namespace tyto::promql
