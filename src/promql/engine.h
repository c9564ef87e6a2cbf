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
// bool comparisons, set operators, the metric name (with __type__ and __unit__) dropped where
// Prometheus drops it, anchored and smoothed ranges, info(), and Prometheus's warnings and infos.
//
// Thread-safe: one Engine may run many queries at once.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/mutex.h"
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
  // Prometheus's annotations, in its words, each once, ending with the line and column of the
  // expression they are about: "PromQL warning: quantile value should be between 0 and 1, got
  // 2 (1:20)", "PromQL info: metric might not be a counter, ... (1:6)".
  std::vector<std::string> warnings;
  std::vector<std::string> infos;
};

struct EngineOptions {
  std::chrono::milliseconds lookback_delta{std::chrono::minutes(5)};
  // A subquery without a step uses this (Prometheus's global evaluation_interval).
  std::chrono::milliseconds default_subquery_step{std::chrono::minutes(1)};
  // Prometheus's promql-delayed-name-removal feature (off by default there too): functions and
  // operators that drop the metric name only mark it, and it goes when the query ends, so that
  // label_replace(rate(x[5m]), "__name__", ...) and sum by (__name__) (rate(...)) see it.
  bool delayed_name_removal = false;
  // Prometheus's type-and-unit-labels feature (off by default there too): rate() and increase()
  // judge whether a series is a counter by its __type__ label rather than its name's suffix.
  // (Dropping __type__ and __unit__ with the name happens either way, as in Prometheus.)
  bool type_and_unit_labels = false;
  // Samples a query may hold in memory at once; more fails the query with kResourceExhausted.
  uint64_t max_samples = 50'000'000;
  // A query running longer fails with kDeadlineExceeded ("query timed out in ...").
  std::chrono::milliseconds timeout{std::chrono::minutes(2)};
  // Queries evaluated at once; more wait for a slot, within their timeout.
  int max_concurrency = 20;
};

// What may stop one query early, besides EngineOptions::timeout.
struct QueryContext {
  // Polled now and then while the query waits and runs (at most every few milliseconds); true
  // stops it with kCancelled. The HTTP API passes "the client went away".
  std::function<bool()> cancelled;
  // A shorter limit for this query (the API's `timeout` parameter); the engine's still applies.
  std::optional<std::chrono::milliseconds> timeout;
  // Reads this storage instead of the engine's (a tenant's view of it: tenant/tenant_storage.h).
  Storage* storage = nullptr;
  // A lower max_samples for this query (a tenant's limit); 0: the engine's.
  uint64_t max_samples = 0;
};

class Engine {
 public:
  Engine(Storage* storage, EngineOptions options = {}) : storage_(storage), options_(options) {}

  // Parses and evaluates. Errors: kInvalidArgument for a query that does not parse (naming the
  // position) or fails at run time as Prometheus's would (e.g. "vector cannot contain metrics
  // with the same labelset"), kResourceExhausted over max_samples, kDeadlineExceeded past the
  // timeout (waiting for a slot included), kCancelled when ctx.cancelled says so, the storage's
  // errors.
  Result<QueryResult> Instant(std::string_view query, int64_t time_ms, const QueryContext& ctx = {}) const;
  // Steps at start, start + step, ... <= end. Precondition checked: step > 0, start <= end.
  Result<QueryResult> Range(std::string_view query, int64_t start_ms, int64_t end_ms, int64_t step_ms,
                            const QueryContext& ctx = {}) const;

  // The same on a parsed expression.
  Result<QueryResult> Exec(const Expr& expr, int64_t start_ms, int64_t end_ms, int64_t step_ms, bool instant,
                           const QueryContext& ctx = {}) const;

  const EngineOptions& options() const { return options_; }

 private:
  Storage* storage_;
  EngineOptions options_;
  // The concurrency gate: queries running now, guarded by gate_mu_.
  mutable Mutex gate_mu_;
  mutable std::condition_variable_any gate_cv_;
  mutable int running_ GUARDED_BY(gate_mu_) = 0;
};

}  // namespace tyto::promql
