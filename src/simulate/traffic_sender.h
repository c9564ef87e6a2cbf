// TrafficSender: posts the simulated inference traffic (traffic.h) to a Tyto, once per tick:
//   POST <base>/v1/traces        ExportTraceServiceRequest, OTLP JSON   (application/json)
//   POST <base>/v1/logs          ExportLogsServiceRequest, OTLP JSON    (application/json)
//   POST <base>/api/v1/events    JSON lines                             (application/x-ndjson)
//   POST <base>/api/v1/feedback  JSON lines, ground truth due this tick (application/x-ndjson)
// with "Authorization: Bearer <token>" when a token is given.
//
// It never blocks the simulator: one thread of its own generates and encodes, and the requests run
// on its own http::Client. At most `max_in_flight` requests wait for an answer. Traces, logs and
// events beyond that are dropped and counted, and never retried (the traffic is simulated: the
// next tick brings more). Feedback is scarcer (a label exists once), so it waits in a queue
// instead: a feedback request that gets no answer, or 408, 429 or 5xx, is queued again after 2 s,
// 4 s, ... (at most 60 s), up to `feedback_max_attempts` sends; other answers (400, 404 from a Tyto
// without the feedback receiver) drop it. At most `max_queued_feedback` lines wait; beyond that
// the oldest are dropped, and every dropped line is counted. A request that fails is counted, and
// failures are logged at most once per `failure_log_interval` with their count and the last error.
// When the thread falls more than `max_catch_up_ticks` behind the clock (a suspended machine), the
// older ticks are skipped.
//
// Thread-safe: Start, Stop, stats and WaitIdle from any thread; SendDue from one thread at a time
// (the sender's own once started).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/mutex.h"
#include "http/client.h"
#include "simulate/traffic.h"
#include "tyto/clock.h"
#include "tyto/status.h"

namespace tyto::simulate {

struct TrafficSenderOptions {
  // Where to send: a Tyto's base URL, "http://127.0.0.1:9800" (a path prefix is kept).
  std::string base_url;
  std::string bearer_token;  // empty: no Authorization header
  http::TlsClientOptions tls;
  int max_in_flight = 12;
  std::chrono::milliseconds timeout{10'000};  // one request
  std::chrono::milliseconds failure_log_interval{60'000};
  int64_t max_catch_up_ticks = 60;
  int feedback_max_attempts = 6;
  size_t max_queued_feedback = 50'000;  // lines
};

struct TrafficStats {
  uint64_t requests_sent = 0;     // answered with 2xx
  uint64_t requests_failed = 0;   // answered otherwise, or not at all
  uint64_t requests_dropped = 0;  // not sent: max_in_flight were waiting
  uint64_t spans_sent = 0;        // in requests answered with 2xx
  uint64_t logs_sent = 0;
  uint64_t events_sent = 0;
  uint64_t feedback_sent = 0;           // lines in feedback requests answered with 2xx
  uint64_t feedback_retries = 0;        // feedback requests queued to be sent again
  uint64_t feedback_dropped = 0;        // lines given up: refused, out of attempts, or the queue full
  uint64_t feedback_queued = 0;         // lines waiting to be sent, now
  uint64_t feedback_not_scheduled = 0;  // never due: the generator had max_pending_feedback waiting
  uint64_t ticks_generated = 0;
  uint64_t ticks_skipped = 0;
  std::string last_error;  // of the last failed request; empty when none failed
};

class TrafficSender {
 public:
  // Sends what `generator` makes for the fleet whose tick 0 is at `start_ms`, ticks `tick_ms`
  // long, reading time from `clock` (which must outlive the sender). kInvalidArgument for a bad
  // URL or option.
  static Result<std::unique_ptr<TrafficSender>> Create(std::unique_ptr<TrafficGenerator> generator, int64_t start_ms,
                                                       int64_t tick_ms, Clock* clock, TrafficSenderOptions options);
  ~TrafficSender();  // Stop(); requests in flight are abandoned
  TrafficSender(const TrafficSender&) = delete;
  TrafficSender& operator=(const TrafficSender&) = delete;

  // Starts the thread that calls SendDue after each tick. Once.
  void Start() EXCLUDES(mu_);
  // Stops the thread; idempotent.
  void Stop() EXCLUDES(mu_);

  // Logs the failures answered since the last call when it is time, then generates every tick
  // the clock has passed since the last call (only the current one on the first call), posts the
  // batch and queues its feedback, and sends the queued feedback that is due. Tests with a
  // FakeClock call it directly instead of Start.
  void SendDue() EXCLUDES(mu_);
  // Waits until no request is in flight or `timeout` passes; whether none is.
  bool WaitIdle(std::chrono::milliseconds timeout) EXCLUDES(mu_);

  TrafficStats stats() const EXCLUDES(mu_);
  const TrafficGenerator& generator() const { return *generator_; }

 private:
  enum class Kind { kTraces, kLogs, kEvents, kFeedback };

  // A feedback request waiting to be sent.
  struct QueuedFeedback {
    std::string body;
    uint64_t lines = 0;
    int attempts = 0;  // sends so far
    int64_t next_try_ms = 0;
  };

  TrafficSender(std::unique_ptr<TrafficGenerator> generator, int64_t start_ms, int64_t tick_ms, Clock* clock,
                TrafficSenderOptions options);
  void Run() EXCLUDES(mu_);
  // Posts unless max_in_flight requests wait (then drops and counts it).
  void Post(Kind kind, std::string body, uint64_t records) EXCLUDES(mu_);
  // Sends with a slot in flight already taken; `attempts` counts earlier sends of a feedback body.
  void Send(Kind kind, std::string body, uint64_t records, int attempts) EXCLUDES(mu_);
  // Queues feedback (oldest dropped beyond max_queued_feedback).
  void QueueFeedback(QueuedFeedback item) REQUIRES(mu_);
  // Sends the queued feedback due at `now_ms`, as far as max_in_flight allows.
  void SendQueuedFeedback(int64_t now_ms) EXCLUDES(mu_);
  void LogFailures(int64_t now_ms) EXCLUDES(mu_);

  const std::unique_ptr<TrafficGenerator> generator_;
  const int64_t start_ms_;
  const int64_t tick_ms_;
  Clock* const clock_;
  const TrafficSenderOptions options_;
  bool https_ = false;
  std::string host_;
  uint16_t port_ = 0;
  std::string path_prefix_;  // without a trailing '/'
  std::vector<std::pair<std::string, std::string>> headers_;

  // Used by SendDue's caller only.
  int64_t last_tick_ = -1;
  TrafficBatch batch_;
  int64_t last_failure_log_ms_ = -1;

  std::atomic<bool> stopping_{false};
  std::thread thread_;

  mutable Mutex mu_;
  std::condition_variable_any cv_;  // Stop, or a request answered
  bool started_ GUARDED_BY(mu_) = false;
  int in_flight_ GUARDED_BY(mu_) = 0;
  TrafficStats stats_ GUARDED_BY(mu_);
  uint64_t failures_unlogged_ GUARDED_BY(mu_) = 0;
  std::deque<QueuedFeedback> feedback_queue_ GUARDED_BY(mu_);  // in the order queued
  uint64_t feedback_queue_lines_ GUARDED_BY(mu_) = 0;

  // Last: destroyed first, so no response callback runs after the state it uses is gone.
  std::unique_ptr<http::Client> client_;
};

}  // namespace tyto::simulate
