// AlertmanagerForwarder: sends alerts to external Alertmanagers as Prometheus's notifier does,
// so an existing Alertmanager (and what hangs off it) keeps working beside or instead of Tyto's
// own notifications.
//
// Put queues the alerts (at most queue_capacity; when full the oldest are dropped and counted)
// and returns at once. A sender thread takes up to max_batch alerts at a time and POSTs them to
// every target's <scheme>://<target><path_prefix>/api/v2/alerts as a JSON array of
// {"labels","annotations","startsAt","endsAt","generatorURL"}, all targets at once. A target
// that fails with a network error, a timeout, 429 or 5xx is tried again after a backoff that
// doubles (a Retry-After is honoured), up to max_retries times. A batch no target accepted is
// dropped and counted, as in Prometheus.
//
// Metrics (on the registry given): tyto_notifications_sent_total{alertmanager} (alerts whose
// sending to that Alertmanager finished, failed or not), tyto_notifications_errors_total
// {alertmanager} (alerts that failed there), tyto_notifications_dropped_total,
// tyto_notifications_queue_length, tyto_notifications_queue_capacity,
// tyto_notifications_alertmanagers_discovered. The label is the target's URL, which holds no
// credentials (they travel in headers).
//
// Thread-safe. Stop() (also run by the destructor) sends what is queued for up to
// drain_timeout, then stops; what is left is dropped and counted.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "alertmanager/alert.h"
#include "common/mutex.h"
#include "tyto/status.h"

namespace tyto::http {
class Client;
}
namespace tyto::instrumentation {
class Counter;
class Gauge;
class Registry;
}  // namespace tyto::instrumentation

namespace tyto::alertmanager {

struct ForwarderOptions {
  std::vector<std::string> targets;  // "host:port" (also "[v6]:port", or a host alone)
  std::string scheme = "http";       // "http" or "https"
  std::string path_prefix;           // e.g. "/alertmanager"; empty: none
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};  // per request
  std::string basic_auth_username;
  std::string basic_auth_password;
  std::string bearer_token;  // at most one of basic auth and bearer token
  std::string tls_ca_file;   // https: extra trusted CAs (PEM); empty: the system's
  std::string tls_cert_file, tls_key_file;  // https: a client certificate, both or neither
  std::string tls_server_name;              // https: the name verified; empty: the target's host
  bool tls_insecure_skip_verify = false;
  size_t queue_capacity = 10000;
  size_t max_batch = 64;
  int max_retries = 3;  // further tries of a target after the first
  std::chrono::milliseconds retry_backoff{std::chrono::milliseconds(500)};
  std::chrono::milliseconds max_retry_wait{std::chrono::seconds(10)};
  std::chrono::milliseconds drain_timeout{std::chrono::seconds(5)};
};

class AlertmanagerForwarder : public AlertReceiver {
 public:
  // Checks the options (targets, scheme, auth) and registers the metrics on `registry` (null: a
  // registry of its own). Starts the sender thread.
  static Result<std::unique_ptr<AlertmanagerForwarder>> Create(ForwarderOptions options,
                                                               instrumentation::Registry* registry);
  ~AlertmanagerForwarder() override;

  AlertmanagerForwarder(const AlertmanagerForwarder&) = delete;
  AlertmanagerForwarder& operator=(const AlertmanagerForwarder&) = delete;

  void Put(const std::vector<Alert>& alerts) override;

  // Sends what is queued for up to drain_timeout, then stops the sender. Put after Stop drops.
  void Stop();

  // The URLs alerts are posted to, in the order of options.targets.
  const std::vector<std::string>& urls() const { return urls_; }

  struct Stats {
    uint64_t sent = 0;     // over all targets
    uint64_t errors = 0;   // over all targets
    uint64_t dropped = 0;
    size_t queue_length = 0;
  };
  Stats stats() const;

  // The body posted for `alerts` (Prometheus's PostableAlerts).
  static std::string Body(const std::vector<Alert>& alerts);

 private:
  struct Target;
  AlertmanagerForwarder(ForwarderOptions options, instrumentation::Registry* registry);
  void Run();
  void SendBatch(const std::vector<Alert>& batch);
  // Waits `d`, or less when stopping and the drain deadline comes first; false when it did.
  bool Backoff(std::chrono::milliseconds d);

  const ForwarderOptions options_;
  std::unique_ptr<instrumentation::Registry> own_registry_;
  instrumentation::Registry* registry_;
  std::vector<std::string> urls_;
  std::vector<std::unique_ptr<Target>> targets_;
  std::string authorization_;
  std::unique_ptr<http::Client> client_;
  instrumentation::Counter* dropped_ = nullptr;
  instrumentation::Gauge* queue_length_ = nullptr;

  mutable Mutex mu_;
  std::condition_variable_any cv_;
  std::deque<Alert> queue_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  std::chrono::steady_clock::time_point drain_deadline_ GUARDED_BY(mu_);
  std::thread sender_;
};

}  // namespace tyto::alertmanager
