#include "forward/queue_storage.h"

#include <algorithm>
#include <limits>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ingest/snappy_codec.h"
#include "ingest/write_request.h"

namespace tyto::forward {

class QueueStorage::QueueAppender final : public Appender {
 public:
  explicit QueueAppender(QueueStorage* storage) : storage_(storage) {}

  Result<SeriesRef> Append(SeriesRef /*ref*/, const Labels& labels, int64_t t, double v) override {
    if (labels.empty()) return InvalidArgument("a series needs labels");
    if (labels.MetricName().empty()) {
      return InvalidArgument("series " + labels.ToString() + " has no metric name (a non-empty __name__ label)");
    }
    const uint64_t hash = labels.Hash();
    // Series with colliding hashes each get an entry; only the first is found by hash.
    auto it = index_.find(hash);
    size_t i = 0;
    if (it != index_.end() && series_[it->second].labels == labels) {
      i = it->second;
    } else {
      i = series_.size();
      series_.push_back({labels, {}});
      index_.emplace(hash, i);
    }
    series_[i].samples.push_back({t, v});
    ++samples_;
    max_t_ = std::max(max_t_, t);
    return hash != 0 ? hash : 1;
  }

  Status Commit() override {
    if (samples_ == 0) return Status::Ok();
    if (samples_ > std::numeric_limits<uint32_t>::max()) {
      Rollback();
      return ResourceExhausted("agent queue: a commit of more than 2^32-1 samples");
    }
    std::string request;
    ingest::EncodeWriteRequest(series_, &request);
    const uint32_t samples = static_cast<uint32_t>(samples_);
    const int64_t max_t = max_t_;
    Rollback();  // what was appended is now in `request`; nothing of it is kept either way
    TYTO_RETURN_IF_ERROR(storage_->queue_->Append(ingest::SnappyCompress(request), samples));
    int64_t seen = storage_->highest_timestamp_.load();
    while (max_t > seen && !storage_->highest_timestamp_.compare_exchange_weak(seen, max_t)) {
    }
    if (max_t > seen && storage_->metrics_ != nullptr)
      storage_->metrics_->highest_timestamp_in.Set(static_cast<double>(max_t) / 1000.0);
    return Status::Ok();
  }

  void Rollback() override {
    series_.clear();
    index_.clear();
    samples_ = 0;
    max_t_ = std::numeric_limits<int64_t>::min();
  }

 private:
  QueueStorage* storage_;
  std::vector<ingest::SeriesSamples> series_;
  std::unordered_map<uint64_t, size_t> index_;  // labels hash -> series_ index
  uint64_t samples_ = 0;
  int64_t max_t_ = std::numeric_limits<int64_t>::min();
};

QueueStorage::QueueStorage(DiskQueue* queue, Metrics* metrics) : queue_(queue), metrics_(metrics) {}

std::unique_ptr<Appender> QueueStorage::NewAppender() { return std::make_unique<QueueAppender>(this); }

Result<std::unique_ptr<Querier>> QueueStorage::NewQuerier(int64_t /*mint*/, int64_t /*maxt*/) {
  return Status(StatusCode::kUnimplemented, "the agent forwards samples and keeps none to query");
}

}  // namespace tyto::forward
