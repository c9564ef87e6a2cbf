// HeadAppender: buffers a batch; Commit hands it to Head::CommitBatch.
#include "tsdb/head.h"

namespace tyto::tsdb {

class HeadAppender final : public Appender {
 public:
  explicit HeadAppender(Head* head) : head_(head) {}
  ~HeadAppender() override { Rollback(); }

  Result<SeriesRef> Append(SeriesRef ref, const Labels& labels, int64_t t, double v) override {
    if (t < head_->persisted_before_.load()) {
      head_->rejected_out_of_order_->Inc();
      return Status(StatusCode::kOutOfOrderSample,
                    "sample at " + std::to_string(t) + " for " + labels.ToString() +
                        " is older than data already persisted to blocks (before " +
                        std::to_string(head_->persisted_before_.load()) + ")");
    }
    // Pinned: the head does not remove the series while the batch holds it.
    MemSeries* s = ref != 0 ? head_->Pin(ref) : nullptr;
    if (s == nullptr) {
      auto created = head_->GetOrCreate(labels);
      if (!created.ok()) return created.status();  // counted under its reason there
      s = *created;
    }
    Unpin unpin{s};
    // Newer than the series' newest sample: the common case, decided without the series lock.
    // Commit checks again under the lock, as it must anyway for samples that other commits
    // overtook meanwhile.
    Verdict verdict = Verdict::kAppend;
    if (t <= s->max_time_unlocked()) {
      MutexLock lock(&s->mu());
      verdict = s->Check(t, v, head_->options_.out_of_order_window.count());
    }
    switch (verdict) {
      case Verdict::kTooOld:
        head_->rejected_out_of_order_->Inc();
        return Status(StatusCode::kOutOfOrderSample,
                      "sample at " + std::to_string(t) + " for " + s->labels().ToString() +
                          " is older than the out-of-order window allows");
      case Verdict::kDuplicate:
        head_->rejected_duplicate_->Inc();
        return Status(StatusCode::kDuplicateSample, "sample at " + std::to_string(t) + " for " +
                                                        s->labels().ToString() +
                                                        " has a different value than the one already stored");
      case Verdict::kIgnore:
        head_->ignored_equal_->Inc();
        return s->ref();
      case Verdict::kAppend:
      case Verdict::kInsertOutOfOrder: break;
    }
    batch_.push_back({s, t, v});
    unpin.series = nullptr;  // the batch keeps the pin until Commit or Rollback
    return s->ref();
  }

  Status Commit() override {
    Status st = head_->CommitBatch(batch_);
    Rollback();
    return st;
  }

  void Rollback() override {
    for (const Head::PendingSample& p : batch_) --p.series->pending_appends;
    batch_.clear();
  }

 private:
  struct Unpin {
    MemSeries* series;
    ~Unpin() {
      if (series != nullptr) --series->pending_appends;
    }
  };

  Head* head_;
  std::vector<Head::PendingSample> batch_;
};

std::unique_ptr<Appender> Head::NewAppender() { return std::make_unique<HeadAppender>(this); }

}  // namespace tyto::tsdb
