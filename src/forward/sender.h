// Sender: forwards the DiskQueue's records by Prometheus remote write 1.0 to a central Tyto or
// any remote-write receiver (Prometheus, VictoriaMetrics, Mimir).
//
// Design: one thread reads records in order into a batch (up to shards * max_samples_per_send
// samples, or what arrived within batch_send_deadline), splits the batch's series over `shards`
// by a hash of their labels (so each series' samples stay in order), and sends each shard's
// part as snappy-compressed requests of at most max_samples_per_send samples, the shards in
// parallel. 5xx, 429 and network errors are retried with exponential backoff, forever: the data
// stays in the queue, which drops only when full. Other responses drop that request's samples
// (counted as rejected). Only when every shard is done is the batch acknowledged in the queue,
// so the cursor never passes unsent data.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "common/mutex.h"
#include "forward/disk_queue.h"
#include "forward/metrics.h"
#include "http/client.h"
#include "http/url.h"
#include "tyto/clock.h"
#include "tyto/status.h"

namespace tyto::forward {

struct SenderOptions {
  // The receiver's remote-write endpoint: "http://central:9800/api/v1/write".
  std::string url;
  // Credentials: "Authorization: <authorization_type> <token>", or basic auth when a username
  // is set. At most one of the two.
  std::string bearer_token;
  std::string authorization_type = "Bearer";
  std::string basic_auth_username;
  std::string basic_auth_password;
  http::TlsClientOptions tls;
  // Sent with every request (remote_write's `headers`: a tenant id, ...). Refused: the headers
  // the protocol or the credentials set (see Create).
  std::vector<std::pair<std::string, std::string>> headers;

  int shards = 4;                        // requests in flight at once, 1 to 64
  uint32_t max_samples_per_send = 2000;  // per request (Prometheus's queue_config default)
  // How long a batch smaller than shards * max_samples_per_send waits for more records.
  std::chrono::milliseconds batch_send_deadline{5000};
  std::chrono::milliseconds min_backoff{30};  // first retry delay, doubled per failure
  std::chrono::milliseconds max_backoff{5000};
  std::chrono::milliseconds remote_timeout{30000};  // one request, connect to response
  // How long Stop waits for requests in flight to be answered (then their batch is left
  // unacknowledged, and sent again after a restart).
  std::chrono::milliseconds stop_grace{2000};
};

struct SenderStats {
  uint64_t sent_samples = 0;     // accepted by the receiver
  uint64_t failed_samples = 0;   // refused with a non-retryable status (dropped)
  uint64_t corrupt_samples = 0;  // in queue records that could not be decoded (dropped)
  uint64_t requests = 0;         // answered with 2xx
  uint64_t retries = 0;          // requests sent again
  uint64_t batches_acked = 0;
};

// kInvalidArgument, naming `what` ("remote write") and the header, for a name that is empty or not a token, a value with a
// line break, or a header Tyto sets itself (Authorization, Content-Type, Content-Encoding,
// User-Agent, X-Prometheus-Remote-Write-Version, Content-Length, Host, Connection,
// Transfer-Encoding). Create checks SenderOptions::headers with it.
Status CheckHeaders(std::string_view what, const std::vector<std::pair<std::string, std::string>>& headers);

// Thread-safe. Start once; Stop (or destruction) ends the sending thread.
class Sender {
 public:
  // `queue` must outlive the sender; `clock` may be null (the real clock); `metrics` may be
  // null. kInvalidArgument for a bad URL or option.
  static Result<std::unique_ptr<Sender>> Create(DiskQueue* queue, SenderOptions options, Clock* clock,
                                                Metrics* metrics);
  ~Sender();  // Stop()
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;

  void Start() EXCLUDES(mu_);
  // Stops sending. Returns within about stop_grace, however the receiver behaves: a batch whose
  // requests are all answered by then is acknowledged; otherwise it stays in the queue. Waits
  // between retries end at once. Idempotent.
  void Stop() EXCLUDES(mu_);

  SenderStats stats() const EXCLUDES(mu_);

 private:
  struct Batch;
  struct Request {
    std::string body;  // snappy-compressed WriteRequest
    uint64_t samples = 0;
    int64_t max_timestamp = 0;
  };
  struct Shard {
    std::vector<Request> requests;
    size_t next = 0;  // requests before it are done (accepted or rejected)
    bool in_flight = false;
    std::optional<Result<http::ClientResponse>> result;  // set by the response callback
    std::chrono::steady_clock::time_point sent_at;
    std::chrono::steady_clock::time_point retry_at;
    std::chrono::milliseconds backoff{0};
    uint64_t failures = 0;  // consecutive, of requests[next]
  };

  Sender(DiskQueue* queue, SenderOptions options, Clock* clock, Metrics* metrics, http::Url url);

  void Run();
  // Reads records into *batch until it is full, the deadline passes with some records read, or
  // Stop. Returns false when stopped.
  bool FillBatch(Batch* batch);
  // Splits the batch into each shard's requests.
  std::vector<Shard> BuildRequests(const Batch& batch) const;
  // Sends the shards' requests until every one is done (true) or Stop's grace ends (false).
  bool SendShards(std::vector<Shard> shards) EXCLUDES(mu_);
  void Issue(size_t shard) REQUIRES(mu_);
  void HandleResult(size_t shard, std::chrono::steady_clock::time_point now) REQUIRES(mu_);
  // Waits (interruptibly) before retrying a failed queue read.
  void Pause(std::chrono::milliseconds d) EXCLUDES(mu_);

  DiskQueue* const queue_;
  const SenderOptions options_;
  Clock* const clock_;
  std::unique_ptr<instrumentation::Registry> own_registry_;  // when no Metrics were given
  std::unique_ptr<Metrics> own_metrics_;
  Metrics* const metrics_;
  const http::Url url_;
  std::vector<std::pair<std::string, std::string>> headers_;

  std::atomic<bool> stopping_{false};
  std::thread thread_;

  mutable Mutex mu_;
  std::condition_variable_any cv_;  // a response arrived, or Stop
  bool started_ GUARDED_BY(mu_) = false;
  uint64_t generation_ GUARDED_BY(mu_) = 0;  // of the shards being sent; stale responses ignored
  std::vector<Shard> shards_ GUARDED_BY(mu_);
  SenderStats stats_ GUARDED_BY(mu_);
  int64_t highest_sent_ GUARDED_BY(mu_) = INT64_MIN;

  // Last: destroyed first, so no response callback runs after the state it uses is gone.
  std::unique_ptr<http::Client> client_;
};

}  // namespace tyto::forward
