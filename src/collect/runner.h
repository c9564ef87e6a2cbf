// Runner: calls each collector at its interval and appends its rounds to a Storage, the
// embedded store in `tyto serve`, the forwarding queue in `tyto agent`.
//
// One thread for all collectors (a round takes milliseconds). Rounds of a collector start on
// multiples of its interval, so a 15 s collector samples at :00, :15, ... as a scrape would.
// Each round is one appender, committed at its end; a series the previous round had and this
// one lacks (a process gone, a GPU lost, a filesystem unmounted) gets a staleness marker, as a
// scrape's would. Series carry job="host"/"gpu" and instance="<host name>" (RunnerOptions). A round that overruns its interval makes the next one skip, never pile up.
//
// Per collector it reports, on the server's /metrics: tyto_collector_rounds_total,
// tyto_collector_failures_total, tyto_collector_samples (last round),
// tyto_collector_duration_seconds (last round), tyto_collector_append_errors_total.
//
// Statuses() and Stop() are thread-safe; RunDue runs on one thread at a time (the runner's own, once started).
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "collect/collector.h"
#include "collect/registry.h"
#include "common/log.h"
#include "common/mutex.h"
#include "tyto/clock.h"
#include "tyto/storage.h"

namespace tyto::metastore {
class MetadataStore;
}
namespace tyto::instrumentation {
class Registry;
class Counter;
class Gauge;
template <typename M>
class Family;
}  // namespace tyto::instrumentation

namespace tyto::collect {

// The runners' own metrics, registered once in a registry and shared by the runners that
// follow one another there (a reload that changes the collectors replaces the runner).
struct RunnerMetrics {
  explicit RunnerMetrics(instrumentation::Registry* registry);
  instrumentation::Family<instrumentation::Counter>* rounds;
  instrumentation::Family<instrumentation::Counter>* failures;
  instrumentation::Family<instrumentation::Counter>* append_errors;
  instrumentation::Family<instrumentation::Gauge>* samples;
  instrumentation::Family<instrumentation::Gauge>* duration;
};

struct RunnerOptions {
  Storage* storage = nullptr;
  Clock* clock = nullptr;                        // null: Clock::Real()
  metastore::MetadataStore* metadata = nullptr;  // TYPE and HELP of each family, if not null
  RunnerMetrics* metrics = nullptr;              // the runner's own metrics, if not null
  // Every series gets job="<collector name>" and instance="<instance>", as a scrape of an
  // exporter would, so that the rounds of many machines (agents forwarding to one server)
  // stay apart. Empty: the machine's host name. A label the collector sets itself is kept.
  std::string instance;
};

// What the status pages show of a collector.
struct CollectorStatus {
  std::string name;
  std::chrono::milliseconds interval{0};
  int64_t last_round_ms = 0;  // 0: not run yet
  double last_duration_seconds = 0;
  uint64_t last_samples = 0;
  std::string last_error;  // empty when the last round succeeded
};

class Runner {
 public:
  explicit Runner(RunnerOptions options);
  ~Runner();  // Stop()
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  // Adds a collector run every `interval` (clamped to [kMinInterval, kMaxInterval]). Before
  // Start only.
  void Add(std::unique_ptr<Collector> collector, std::chrono::milliseconds interval);

  // Starts the thread. Rounds then run on the clock's time.
  void Start();
  // Stops the thread after the round in progress; idempotent.
  void Stop();

  // Runs, on the caller's thread, one round of every collector whose round is due at `now_ms`
  // (wall-clock milliseconds), and returns the earliest time one is next due. Start's thread
  // calls it; tests call it with a fake clock instead of starting the thread.
  int64_t RunDue(int64_t now_ms);

  std::vector<CollectorStatus> Statuses() const;

 private:
  struct Entry;
  void Run();
  void RunRound(Entry* e, int64_t now_ms);

  RunnerOptions opt_;
  log::Logger log_{"collect"};
  std::vector<std::unique_ptr<Entry>> entries_;  // fixed after Start

  mutable Mutex mu_;  // guards stop_ and the entries' status; rounds run on one thread (or the caller of RunDue)
  std::condition_variable_any cv_;
  bool stop_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

// Creates the enabled collectors of `config` and adds them to a new runner. The runner is not
// started.
std::unique_ptr<Runner> NewRunner(const CollectorsConfig& config, RunnerOptions options);

}  // namespace tyto::collect
