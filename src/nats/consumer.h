// Consumer: the server side of the NATS transport. A durable pull consumer on the stream
// (config.durable, subjects <subject_prefix>.>, explicit acknowledgement, delivered again
// without limit) whose messages are handed to a sink the server gives; every server with the
// same durable name shares the messages, each delivered to one of them at a time.
//
// Delivery contract: a message is acknowledged only after the sink returned OK (the sink
// returns only once the data is committed in the store), so a server that crashes or stops
// mid-message loses nothing: JetStream delivers the message again after ack_wait (to any
// server). It follows that a message may be given to a sink more than once (after a crash
// between commit and acknowledgement, or when an acknowledgement is lost); Message::deliveries
// says so, and the publisher's id (Message::id) lets a store drop what it has already.
//
//   sink returns OK                    -> acknowledged (and the acknowledgement confirmed)
//   sink returns kInvalidArgument      -> terminated: the payload can never be stored; logged
//                                         and counted (tyto_nats_messages_total{result="invalid"}),
//                                         never delivered again
//   sink returns anything else         -> negatively acknowledged with a delay that doubles per
//                                         delivery (1s up to 1m): delivered again, forever
//   subject or kind not understood     -> terminated and counted as invalid, like above
//
// Every message a worker fetched and has not answered yet (the one at the sink and those waiting
// behind it) is kept with progress notes every ack_wait / 3, so a slow store does not cause a
// second delivery to another server. A message that waited longer than ack_wait without a note
// (a starved process) is given to the sink as a possible redelivery (deliveries >= 2).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "common/mutex.h"
#include "nats/connection.h"
#include "nats/publisher.h"
#include "tyto/status.h"

struct __natsMsg;

namespace tyto::nats {

// One message, valid during the sink call only (its views point into libnats's message).
struct Message {
  std::string_view subject;
  std::string_view tenant;  // the subject's tenant token
  Kind kind = Kind::kMetrics;
  std::string_view payload;
  std::string_view content_type;      // the Content-Type header; empty when absent
  std::string_view content_encoding;  // the Content-Encoding header; empty when absent
  std::string_view id;                // the publisher's batch id (Nats-Msg-Id); empty when absent
  std::vector<std::pair<std::string_view, std::string_view>> headers;  // every header, in order
  uint64_t stream_sequence = 0;
  uint64_t deliveries = 1;  // 1 the first time
  int64_t stored_ms = 0;    // when the stream stored it (Unix ms; the same at every delivery); 0: unknown
};

// Returns OK once the message's data is committed; kInvalidArgument when it can never be.
using Sink = std::function<Status(const Message&)>;

struct ConsumerOptions {
  int workers = 0;  // threads taking messages; 0: config.consumer_workers
  int fetch_batch = 16;  // messages asked for at once by a worker
  // How long one fetch waits for messages; Stop returns within about this (plus a sink call).
  std::chrono::milliseconds fetch_wait{1000};
  std::chrono::milliseconds min_redelivery_delay{1000};  // after a failed sink call, doubled per delivery
  std::chrono::milliseconds max_redelivery_delay{60000};
  // Wait after a failed fetch or subscribe before the next (NATS down, consumer being created).
  std::chrono::milliseconds retry_wait{1000};
};

struct ConsumerStats {
  uint64_t acked = 0;
  uint64_t retried = 0;
  uint64_t invalid = 0;
  uint64_t ack_failed = 0;
  uint64_t redelivered = 0;  // messages seen with deliveries > 1
};

// Thread-safe. Start once; Stop (or destruction) ends the workers.
class Consumer {
 public:
  // `conn` must outlive the consumer. The stream and the durable consumer are created by the
  // workers (and again whenever they went missing), so Create succeeds while NATS is down.
  // kInvalidArgument for bad options.
  static Result<std::unique_ptr<Consumer>> Create(Connection* conn, Sink sink, ConsumerOptions options = {});
  ~Consumer();  // Stop()
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  void Start() EXCLUDES(mu_);
  // Waits for the sink calls in progress and settles their messages; messages fetched and not
  // yet given to the sink are negatively acknowledged without delay (delivered again at once,
  // to another server). Idempotent.
  void Stop() EXCLUDES(mu_);

  // Creates the stream and the durable consumer when missing (what the workers do first); for
  // a server that wants to fail its start when NATS is not usable.
  Status EnsureConsumer();

  ConsumerStats stats() const EXCLUDES(mu_);

 private:
  struct Worker;

  Consumer(Connection* conn, Sink sink, ConsumerOptions options);
  void Run(Worker* w);
  void Handle(Worker* w, __natsMsg* msg);
  // Takes `msg` out of the worker's held messages (no more progress notes for it).
  void Release(Worker* w, __natsMsg* msg) EXCLUDES(mu_);
  void KeepAlive();
  // Waits up to `d` or until Stop.
  void Pause(std::chrono::milliseconds d) EXCLUDES(mu_);

  Connection* const conn_;
  const Sink sink_;
  const ConsumerOptions options_;

  std::atomic<bool> stopping_{false};
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
  std::thread keepalive_;

  mutable Mutex mu_;
  std::condition_variable_any cv_;  // Stop
  bool started_ GUARDED_BY(mu_) = false;
  ConsumerStats stats_ GUARDED_BY(mu_);
};

}  // namespace tyto::nats
