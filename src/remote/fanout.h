// Fanout: a server's remote_write destinations. Each destination has its own on-disk queue
// (forward::DiskQueue in <data_dir>/remote_write/<name>/, docs/format/agent-queue.md) and
// remote-write sender (forward::Sender: shards, retries with backoff, forever), exactly as
// `tyto agent` forwards; what a commit wrote into a queue survives restarts and receiver
// outages, bounded by queue_config.max_size.
//
// Fanout is a write-only Storage: an Appender's Commit writes its samples, after each
// destination's write_relabel_configs, into every destination's queue (one record each; a
// local disk write, never a network wait). TeeStorage (tee_storage.h) puts it beside the
// server's own storage; RemoteStorage (remote_storage.h) writes through it in remote mode.
//
// Metrics: tyto_remote_storage_* (forward/metrics.h) labelled remote_name and url.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "forward/disk_queue.h"
#include "forward/metrics.h"
#include "forward/sender.h"
#include "remote/config.h"
#include "tyto/clock.h"
#include "tyto/env.h"
#include "tyto/status.h"
#include "tyto/storage.h"

namespace tyto::instrumentation {
class Registry;
}

namespace tyto::remote {

struct DestinationStatus {
  std::string name;  // remote_name
  std::string url;
  forward::DiskQueueStats queue;
  forward::SenderStats sender;
};

// Thread-safe, as a Storage is: many appenders at once, each used by one thread. One Fanout per
// metrics registry (its metric families are registered once).
class Fanout final : public Storage {
 public:
  // Opens every destination's queue (creating <data_dir>/remote_write/<QueueName>/) and creates
  // its sender; nothing is sent before Start. Credentials files are read once, here. Queue
  // folders of destinations no longer configured are left alone (logged: delete them by hand).
  // `registry` may be null; `clock` may be null (the real clock). Errors: the configuration's
  // (CheckRemoteWriteList, a relabel rule, a URL), the queue's (another process holds it, I/O).
  static Result<std::unique_ptr<Fanout>> Open(Env* env, Clock* clock, const std::string& data_dir,
                                              const std::vector<RemoteWriteConfig>& configs,
                                              instrumentation::Registry* registry);
  // Stop(), then closes the queues.
  ~Fanout() override;
  Fanout(const Fanout&) = delete;
  Fanout& operator=(const Fanout&) = delete;

  // Starts every sender. Call once.
  void Start();
  // Stops the senders (each within its stop_grace); what is unsent stays queued for the next
  // run. Appends still go into the queues until destruction. Idempotent.
  void Stop();

  // Append checks what would make a receiver refuse the whole request: labels empty or without
  // a metric name (kInvalidArgument); the ref passed in is ignored (labels always come with it).
  // A destination's relabeling may drop a series, or leave one without a metric name, which
  // that destination then never gets. Commit writes into every queue even when one fails, and
  // returns the first failure (naming the destination); the failed queue's samples are counted
  // (tyto_remote_storage_samples_dropped_total{reason="write_failed"}) and logged.
  std::unique_ptr<Appender> NewAppender() override;
  // kUnimplemented: nothing is kept to read.
  Result<std::unique_ptr<Querier>> NewQuerier(int64_t mint, int64_t maxt) override;

  size_t size() const { return destinations_.size(); }
  // Each destination's queue and sender counts, in configuration order.
  std::vector<DestinationStatus> Destinations() const;
  // Syncs every queue (the fsync policy does it too; for a clean shutdown or a test).
  Status Sync();

 private:
  struct Destination;
  class FanoutAppender;
  Fanout();
  // Declared in the order they are needed: the families outlive every destination's metrics.
  std::unique_ptr<instrumentation::Registry> own_registry_;
  std::unique_ptr<forward::MetricFamilies> families_;
  std::vector<std::unique_ptr<Destination>> destinations_;
};

}  // namespace tyto::remote
