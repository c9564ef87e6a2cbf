// Runner: evaluates each configured detector's PromQL query every interval, feeds every series
// of the result to its own model (detectors.h), and appends the verdicts as series that rules
// and dashboards read:
//
//   tyto_anomaly_score{detector="d", <series labels>}             the detector's score (ready models only)
//   tyto_anomaly{detector="d", <series labels>}                   1 anomalous, 0 not
//   tyto_anomaly_forecast_seconds{detector="d", <series labels>}  trend: seconds until the threshold
//                                                                 is crossed (0 beyond it, +Inf not heading there)
//   tyto_anomaly_rate{detector="d", host="h"}                     multivariate: share of h's scored series anomalous
//
// The series labels are the query result's labels without __name__; a `detector` label of the
// result is replaced. A series' model is created the first time the query returns it (up to
// max_series per detector; more are refused and counted) and dropped when the query has not
// returned it for series_ttl. Samples are written at the evaluation time.
//
// The runner measures itself: tyto_anomaly_evaluations_total{detector},
// tyto_anomaly_evaluation_failures_total{detector}, tyto_anomaly_series{detector},
// tyto_anomaly_series_refused_total{detector}, tyto_anomaly_series_dropped_total{detector},
// tyto_anomaly_model_bytes{detector}, tyto_anomaly_append_failures_total{detector}.
//
// Thread-safe: Start runs Step on a thread of its own every interval (waiting real time, reading
// the evaluation time from the Clock); tests call Step directly with a FakeClock and never start
// the thread. Steps never overlap.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "anomaly/config.h"
#include "common/mutex.h"
#include "tyto/clock.h"
#include "tyto/env.h"
#include "tyto/status.h"
#include "tyto/storage.h"

namespace tyto::promql {
class Engine;
}
namespace tyto::instrumentation {
class Registry;
}

namespace tyto::anomaly {

class Runner {
 public:
  // Parses every detector's query (kInvalidArgument naming the detector and the position).
  // engine, storage and clock must outlive the runner; registry may be null (metrics are then
  // kept privately).
  static Result<std::unique_ptr<Runner>> Create(const AnomalyConfig& config, promql::Engine* engine, Storage* storage,
                                                Clock* clock, instrumentation::Registry* registry);
  ~Runner();  // stops the thread
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  // Starts the evaluation thread (a first Step after one interval); kFailedPrecondition when
  // already started.
  Status Start();
  // Stops the thread and waits for it; idempotent.
  void Stop();

  // Evaluates every detector once at `now_ms` and commits the result series. Errors of one
  // detector (its query failing) do not stop the others; the first is returned, every one is
  // counted and logged.
  Status Step(int64_t now_ms);

  // Writes every model to `path` atomically (docs/format/anomaly_models.md), so that a restart
  // does not relearn. Call it now and then and at shutdown (after Stop).
  Status SaveModels(Env* env, const std::string& path) const;
  // Reads models written by SaveModels into detectors of the same name and kind; a model whose
  // detector's options changed shape (values_per_slot, train_window, ...) is skipped, as are
  // series beyond max_series. Returns the models loaded. kNotFound when there is no file,
  // kCorruption (nothing loaded) on a bad magic, version or checksum or a malformed body.
  Result<size_t> LoadModels(Env* env, const std::string& path);

  // Series modelled by `detector` now (0 for an unknown name), and the bytes their models hold.
  size_t SeriesCount(const std::string& detector) const;
  size_t MemoryBytes() const;

  struct Impl;

 private:
  explicit Runner(std::unique_ptr<Impl> impl);
  void Loop();

  std::unique_ptr<Impl> impl_;
  Mutex thread_mu_;
  std::condition_variable_any cv_;
  bool stopping_ GUARDED_BY(thread_mu_) = false;
  bool started_ GUARDED_BY(thread_mu_) = false;
  std::thread thread_;
};

}  // namespace tyto::anomaly
