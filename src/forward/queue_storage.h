// QueueStorage: the Storage that `tyto agent` gives its scrape manager and collectors, so they
// write into the agent's DiskQueue unchanged. An Appender's Commit writes its samples as ONE
// queue record: a snappy-compressed remote-write WriteRequest (ingest/write_request.h), one
// TimeSeries per series in the order first appended, samples in the order appended.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "forward/disk_queue.h"
#include "forward/metrics.h"
#include "tyto/storage.h"

namespace tyto::forward {

// Thread-safe: many appenders may run at once (each used by one thread, as the contract says).
// Nothing is stored for reading: NewQuerier returns kUnimplemented.
class QueueStorage final : public Storage {
 public:
  // `queue` must outlive this object and its appenders. `metrics` may be null.
  QueueStorage(DiskQueue* queue, Metrics* metrics);

  // Append checks only what would make a receiver refuse the whole request: labels empty or
  // without a metric name (kInvalidArgument). Order and duplicates are the receiver's to judge.
  // The SeriesRef returned is a hash of the labels (never 0); a ref passed in is ignored, since
  // the labels always come with it. Commit: the queue's Append errors (nothing is queued); a
  // Commit with no samples writes nothing.
  std::unique_ptr<Appender> NewAppender() override;
  Result<std::unique_ptr<Querier>> NewQuerier(int64_t mint, int64_t maxt) override;

 private:
  class QueueAppender;
  DiskQueue* queue_;
  Metrics* metrics_;
  std::atomic<int64_t> highest_timestamp_{INT64_MIN};
};

}  // namespace tyto::forward
