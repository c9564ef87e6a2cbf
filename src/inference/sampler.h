// What of the inference telemetry is kept in the event store. Metrics are derived from every
// request before these decisions; sampling only bounds what is stored.
//
//   - every failed request and every trace with an error span (keep_errors),
//   - every request and trace at least `slow_threshold` long,
//   - of the rest, the share `rate`, chosen by the trace id (or the request id when there is no
//     trace): the same id always gets the same answer, so a trace's spans, its inference event and
//     the agents that sampled it upstream with OpenTelemetry's TraceIdRatioBased agree.
//
// Events are decided at once. Spans wait in a TraceSampler until their trace has been quiet for
// `decision_wait` (tail sampling: an error or a slow span anywhere in the trace keeps all of it);
// spans arriving after their trace was decided follow the earlier decision while it is remembered.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/mutex.h"
#include "events/model.h"
#include "inference/config.h"

namespace tyto::inference {

class Metrics;

enum class Decision { kDropped, kKeptError, kKeptSlow, kKeptSampled };
inline bool Kept(Decision d) { return d != Decision::kDropped; }
std::string_view DecisionName(Decision d);

// A number in [0, 1) fixed by `id`: for a 32-hex-digit trace id its last 16 digits over 2^64 (as
// OpenTelemetry's ratio sampler reads the random part), otherwise a hash of the bytes.
double SamplingPoint(std::string_view id);

// The decision for one inference event.
Decision DecideEvent(const SamplingConfig& c, const events::InferenceEvent& e);

class TraceSampler {
 public:
  // `metrics` may be null.
  TraceSampler(const SamplingConfig& config, Metrics* metrics);

  // Holds `spans` until their traces are decided; spans of a trace decided recently are returned
  // in *kept or dropped at once.
  void Add(std::vector<events::Span> spans, int64_t now_ms, std::vector<events::Span>* kept) EXCLUDES(mu_);
  // Decides the traces quiet for decision_wait (all of them when `all`, as at shutdown), and
  // appends the spans of those kept to *kept.
  void Poll(int64_t now_ms, bool all, std::vector<events::Span>* kept) EXCLUDES(mu_);
  size_t pending_spans() const EXCLUDES(mu_);

 private:
  struct Pending {
    std::vector<events::Span> spans;
    int64_t first_ms = 0;
    int64_t last_ms = 0;
    bool error = false;
    int64_t longest_ns = 0;
  };
  Decision Decide(const std::string& trace_id, const Pending& p) const;
  void Finish(const std::string& trace_id, Pending p, std::vector<events::Span>* kept) REQUIRES(mu_);

  const SamplingConfig config_;
  Metrics* const metrics_;
  mutable Mutex mu_;
  std::unordered_map<std::string, Pending> pending_ GUARDED_BY(mu_);
  size_t pending_spans_ GUARDED_BY(mu_) = 0;
  // Recent decisions, oldest first, bounded.
  std::unordered_map<std::string, bool> decided_ GUARDED_BY(mu_);
  std::deque<std::string> decided_order_ GUARDED_BY(mu_);
};

}  // namespace tyto::inference
