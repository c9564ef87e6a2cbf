// Evaluations: runs the configured evaluators (src/evaluate/, src/judge/) on a sample of
// requests, off the ingest path.
//
//   Offer (ingest thread): sampled? (a hash of the request or trace id against the model's rate)
//     -> within the budget (quality.evaluation.max_per_second)? -> copied into a bounded queue
//   worker thread `tyto-quality-eval`: the local (heuristic) evaluators, then, within the remote
//     budget, the remote ones (the LLM judge) on `remote_workers` threads
//   when a request's last evaluator answers: its scores and their weighted mean (the composite)
//     go into tyto_quality_score{model,version,evaluator} histograms, and each becomes an
//     OpenTelemetry gen_ai.evaluation.result log record (explanation redacted) in the event
//     store, with the request's trace and span ids.
//
// Text is evaluated unredacted, in memory only.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "common/mutex.h"
#include "evaluate/evaluator.h"
#include "evaluate/registry.h"
#include "events/model.h"
#include "inference/series_writer.h"
#include "quality/config.h"
#include "tyto/clock.h"
#include "tyto/status.h"

namespace tyto::eventstore {
class TelemetryStore;
}
namespace tyto::redact {
class Redactor;
}

namespace tyto::quality {

class Metrics;

// The bucket bounds of tyto_quality_score: tenths of [0, 1].
const std::vector<double>& ScoreBounds();

// A token bucket: `rate` tokens a second, holding at most max(1, rate).
class TokenBucket {
 public:
  TokenBucket(double rate, int64_t now_ms);
  bool Take(int64_t now_ms);

 private:
  double rate_;
  double tokens_;
  int64_t last_ms_;
};

class Evaluations {
 public:
  struct Deps {
    eventstore::TelemetryStore* store = nullptr;     // where the evaluation records go (null: nowhere)
    const redact::Redactor* redactor = nullptr;  // scrubs explanations before they are stored
    Metrics* metrics = nullptr;
    Clock* clock = nullptr;  // required
  };

  // Builds each configured evaluator through `registry` (errors name the evaluator and option);
  // with none configured, every local evaluator of the registry with its defaults.
  static Result<std::unique_ptr<Evaluations>> Create(const EvaluationConfig& config, const evaluate::Registry& registry,
                                                     const Deps& deps, int64_t now_ms);
  ~Evaluations();  // Stop()

  // Starts the worker threads. Without them, RunPending evaluates on the caller's thread.
  void Start();
  // Evaluates what is queued, stores the records, and stops the threads.
  void Stop();

  // Samples `e` (a request with a response, or with finish reasons) for evaluation.
  void Offer(const events::InferenceEvent& e, int64_t now_ms);
  // Evaluates every queued request now, remote evaluators included (tests).
  void RunPending(int64_t now_ms);
  // Writes the score histograms; stores the records gathered so far.
  void Flush(int64_t now_ms, inference::SeriesWriter& w);

  // The evaluators in use: name, plugin, remote.
  struct Info {
    std::string name, type;
    bool remote = false;
    double weight = 1;
  };
  std::vector<Info> evaluators() const;

 private:
  struct Configured {
    std::string name, type;
    std::vector<std::string> models;
    double weight = 1;
    bool remote = false;
    std::unique_ptr<evaluate::Evaluator> evaluator;
    bool Applies(const std::string& model) const;
  };
  struct Job {
    evaluate::Sample sample;
    std::string trace_id, span_id;
    std::string org;  // the Tyto tenant of the event: its evaluation records are that tenant's
    std::mutex mu;
    std::vector<std::pair<const Configured*, evaluate::Score>> scores;  // guarded by mu
  };

  Evaluations(const EvaluationConfig& config, const Deps& deps, int64_t now_ms);
  double RateOf(const std::string& model) const;
  void Local(const std::shared_ptr<Job>& job, bool inline_remote, int64_t now_ms);
  void RunOne(const std::shared_ptr<Job>& job, const Configured& c, int64_t now_ms);
  void Finish(const std::shared_ptr<Job>& job, int64_t now_ms);
  // Adds a score to its histogram; past 10,000 histograms new ones are refused (counted).
  void Observe(const std::string& model, const std::string& version, const std::string& evaluator, double score)
      REQUIRES(results_mu_);
  void StoreRecords();
  void WorkerLoop();
  void RemoteLoop();

  const EvaluationConfig config_;
  const Deps deps_;
  std::vector<Configured> evaluators_;
  bool any_remote_ = false;

  Mutex budget_mu_;
  TokenBucket budget_ GUARDED_BY(budget_mu_);
  TokenBucket remote_budget_ GUARDED_BY(budget_mu_);

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<std::shared_ptr<Job>> queue_;         // guarded by queue_mu_
  std::deque<std::shared_ptr<Job>> remote_queue_;  // guarded by queue_mu_
  bool stopping_ = false;                          // guarded by queue_mu_
  bool threads_ = false;
  std::vector<std::thread> workers_;

  mutable Mutex results_mu_;
  // (model, version, evaluator) -> score histogram
  std::map<std::tuple<std::string, std::string, std::string>, inference::HistogramState> histograms_
      GUARDED_BY(results_mu_);
  std::vector<events::LogRecord> records_ GUARDED_BY(results_mu_);
};

}  // namespace tyto::quality
