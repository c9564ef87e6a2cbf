// Connection: one process's connection to NATS (libnats, reconnecting by itself) and its
// JetStream context, and the stream telemetry travels in. The publisher, the consumer and the
// key-value store all use one Connection.
//
// Reconnection: a lost connection is retried forever (every second, with jitter); calls made
// meanwhile fail with kUnavailable and their callers retry. Messages a publisher had not seen
// acknowledged are published again with the same id, which the stream deduplicates.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <string>

#include "common/mutex.h"
#include "nats/config.h"
#include "nats/metrics.h"
#include "tyto/env.h"
#include "tyto/status.h"

// libnats's handles (<nats/nats.h>), declared here so that only src/nats/*.cc include it.
struct __natsConnection;
struct __jsCtx;

namespace tyto::nats {

struct ConnectOptions {
  // The client name NATS shows for this connection (`nats server report connections`).
  std::string name = "tyto";
  // False: Connect fails with kUnavailable when no server answers. True: Connect returns at
  // once and the connection is made in the background (the agent's, so that it starts while NATS
  // is down; its forwarder retries until it is up).
  bool connect_in_background = false;
  // Wait between reconnection attempts to one server.
  std::chrono::milliseconds reconnect_wait{1000};
};

// What the stream holds, for health checks and tests.
struct StreamState {
  uint64_t messages = 0;
  uint64_t bytes = 0;
  uint64_t first_sequence = 0;
  uint64_t last_sequence = 0;
  int64_t consumers = 0;
  // Its limits, as NATS has them.
  std::chrono::milliseconds max_age{0};
  std::chrono::milliseconds duplicate_window{0};
};

// Thread-safe: every method may be called from any thread. Users (Publisher, Consumer,
// KeyValueStore, QueueForwarder) must be destroyed before their Connection.
class Connection {
 public:
  // Validates `config`, reads the password or token (through `env`), and connects. `metrics`
  // may be null; otherwise it must outlive the connection. Errors: kInvalidArgument for a bad
  // config or unreadable TLS files, kUnavailable when no server answers (naming the URLs),
  // kUnauthenticated for refused credentials.
  static Result<std::unique_ptr<Connection>> Connect(const NatsConfig& config, Env* env, Metrics* metrics,
                                                     ConnectOptions options = {});
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Creates the stream (config.stream, subjects <subject_prefix>.>) when missing. When it exists
  // with other limits (max_age, max_bytes, duplicate_window, replicas, subjects) and
  // `update_limits`, updates them: servers do; agents pass false, so that the servers' settings
  // win. kFailedPrecondition when it exists with another storage type (JetStream cannot change
  // it).
  Status EnsureStream(bool update_limits = true);
  Result<StreamState> GetStreamState();

  // For /-/ready: OK while connected and the stream answers within request_timeout; otherwise
  // kUnavailable naming the server ("nats nats://10.0.0.5:4222: ...").
  Status Health();

  // Whether the connection is up now.
  bool connected() const;
  // The server connected to ("nats://127.0.0.1:4222"), or the configured URLs when none.
  std::string server() const;

  // Closes the connection for good: every call fails afterwards (kUnavailable). Tests use it to
  // stand for a crashed process. Idempotent.
  void Close();

  const NatsConfig& config() const { return config_; }
  Metrics* metrics() const { return metrics_; }

  // libnats's handles, for the other classes in src/nats.
  __natsConnection* native() const { return nc_; }
  __jsCtx* jetstream() const { return js_; }

 private:
  Connection(NatsConfig config, Metrics* metrics);
  static void OnDisconnected(__natsConnection* nc, void* closure);
  static void OnReconnected(__natsConnection* nc, void* closure);
  static void OnConnected(__natsConnection* nc, void* closure);
  // libnats's last callback for a connection; the destructor waits for it, since the callbacks
  // run on libnats's threads and use this object.
  static void OnClosed(__natsConnection* nc, void* closure);

  const NatsConfig config_;
  std::unique_ptr<instrumentation::Registry> own_registry_;  // when no Metrics were given
  std::unique_ptr<Metrics> own_metrics_;
  Metrics* const metrics_;
  __natsConnection* nc_ = nullptr;
  __jsCtx* js_ = nullptr;
  std::atomic<bool> closed_{false};

  Mutex callback_mu_;
  std::condition_variable_any callback_cv_;
  bool closed_callback_ran_ GUARDED_BY(callback_mu_) = false;
};

}  // namespace tyto::nats
