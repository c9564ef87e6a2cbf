// QueueForwarder: `tyto agent`'s forwarding over NATS JetStream, in place of forward::Sender.
// It reads the agent's on-disk queue (forward::DiskQueue) in order and publishes each record, a
// snappy-compressed remote-write 1.0 WriteRequest, as one message to
// <subject_prefix>.<tenant>.metrics; a queue record is acknowledged only after JetStream stored
// its message.
//
// Exactly once into the stream: a message's id (Nats-Msg-Id) is derived from the record:
// "<publisher id>:<segment>:<offset>:<crc32 of the payload>[:<part>]", where segment and offset
// are the record's end in the queue. A record published and not yet acknowledged in the queue
// when the agent stopped (or crashed) is published again after a restart with the same id, and
// the stream stores it once as long as the agent returns within the stream's duplicate_window.
// The publisher id tells agents apart (LoadOrCreatePublisherId keeps one per data directory);
// the checksum tells apart two records that reused a queue position (a queue whose cursor was
// lost starts numbering again).
//
// NATS down: every publish is retried with exponential backoff (min_backoff to max_backoff),
// forever; the records wait in the queue, which drops only when full (as with the Sender).
// Records larger than the server's max_payload are split by series (and a huge series by
// samples) into parts of one id each. Records that cannot be decoded are dropped and counted
// (tyto_agent_samples_dropped_total{reason="corrupt"}), as the Sender does.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "common/mutex.h"
#include "forward/disk_queue.h"
#include "forward/metrics.h"
#include "nats/connection.h"
#include "nats/publisher.h"
#include "tyto/clock.h"
#include "tyto/env.h"
#include "tyto/status.h"

namespace tyto::nats {

struct QueueForwarderOptions {
  std::string tenant = "default";
  // Tells this agent's messages apart from other agents' (1 to 64 of [A-Za-z0-9_-]); keep it
  // across restarts (LoadOrCreatePublisherId).
  std::string publisher_id;
  std::chrono::milliseconds min_backoff{100};  // first retry delay, doubled per failure
  std::chrono::milliseconds max_backoff{5000};
  // The queue's cursor is written after this many published records, or when no record is
  // waiting (each write is an fsync: batching them keeps a busy agent fast).
  uint32_t records_per_ack = 64;
};

struct QueueForwarderStats {
  uint64_t records = 0;      // published (stored or found duplicate) and acknowledged in the queue
  uint64_t messages = 0;     // messages stored (parts count one each)
  uint64_t duplicates = 0;   // messages the stream had already
  uint64_t samples = 0;
  uint64_t retries = 0;      // publishes tried again
  uint64_t corrupt_records = 0;
  uint64_t acks = 0;         // cursor writes
};

// Reads the publisher id kept at `path`, or makes a random one (16 hex digits) and writes it
// there first (atomically). Errors: the Env's, or kCorruption for a file that holds no valid id.
Result<std::string> LoadOrCreatePublisherId(Env* env, const std::string& path);

// Thread-safe. Start once; Stop (or destruction) ends the publishing thread.
class QueueForwarder {
 public:
  // `queue` and `conn` must outlive the forwarder; `clock` may be null (the real clock);
  // `metrics` may be null. The stream is created (EnsureStream) when the connection allows; an
  // agent without that permission publishes to a stream made by the servers. kInvalidArgument
  // for bad options.
  static Result<std::unique_ptr<QueueForwarder>> Create(forward::DiskQueue* queue, Connection* conn,
                                                        QueueForwarderOptions options, Clock* clock,
                                                        forward::Metrics* metrics);
  ~QueueForwarder();  // Stop()
  QueueForwarder(const QueueForwarder&) = delete;
  QueueForwarder& operator=(const QueueForwarder&) = delete;

  void Start() EXCLUDES(mu_);
  // Ends publishing: a publish in progress gets its answer (at most request_timeout), what was
  // published is acknowledged in the queue, the rest stays there. Idempotent.
  void Stop() EXCLUDES(mu_);

  QueueForwarderStats stats() const EXCLUDES(mu_);

 private:
  struct Part;

  QueueForwarder(forward::DiskQueue* queue, Connection* conn, QueueForwarderOptions options, Clock* clock,
                 forward::Metrics* metrics);
  void Run();
  // Publishes one record (all its parts); false when stopped first.
  bool PublishRecord(const forward::QueueRecord& record);
  // Publishes one message until it is stored or Stop; false when stopped.
  bool PublishUntilStored(const Batch& batch);
  void AckPublished();
  void Pause(std::chrono::milliseconds d) EXCLUDES(mu_);

  forward::DiskQueue* const queue_;
  Connection* const conn_;
  const QueueForwarderOptions options_;
  Clock* const clock_;
  std::unique_ptr<instrumentation::Registry> own_registry_;  // when no Metrics were given
  std::unique_ptr<forward::Metrics> own_metrics_;
  forward::Metrics* const metrics_;
  Publisher publisher_;

  std::atomic<bool> stopping_{false};
  std::thread thread_;
  bool stream_ensured_ = false;  // publishing thread only
  bool have_pending_ = false;    // published records not yet acknowledged in the queue
  forward::QueuePosition pending_end_;
  uint32_t pending_records_ = 0;

  mutable Mutex mu_;
  std::condition_variable_any cv_;  // Stop
  bool started_ GUARDED_BY(mu_) = false;
  QueueForwarderStats stats_ GUARDED_BY(mu_);
  int64_t highest_sent_ GUARDED_BY(mu_) = INT64_MIN;
};

}  // namespace tyto::nats
