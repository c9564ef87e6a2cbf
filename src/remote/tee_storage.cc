#include "remote/tee_storage.h"

#include <utility>

namespace tyto::remote {
namespace {

class TeeAppender final : public Appender {
 public:
  TeeAppender(std::unique_ptr<Appender> primary, std::unique_ptr<Appender> secondary)
      : primary_(std::move(primary)), secondary_(std::move(secondary)) {}

  Result<SeriesRef> Append(SeriesRef ref, const Labels& labels, int64_t t, double v) override {
    Result<SeriesRef> r = primary_->Append(ref, labels, t, v);
    // The secondary judges the labels itself (Fanout refuses what no receiver would take); its
    // refusal does not concern the primary.
    if (r.ok()) (void)secondary_->Append(0, labels, t, v);
    return r;
  }

  Status Commit() override {
    Status s = primary_->Commit();
    if (!s.ok()) {
      secondary_->Rollback();
      return s;
    }
    (void)secondary_->Commit();  // counted and logged by the secondary
    return s;
  }

  void Rollback() override {
    primary_->Rollback();
    secondary_->Rollback();
  }

 private:
  std::unique_ptr<Appender> primary_;
  std::unique_ptr<Appender> secondary_;
};

}  // namespace

std::unique_ptr<Appender> TeeStorage::NewAppender() {
  return std::make_unique<TeeAppender>(primary_->NewAppender(), secondary_->NewAppender());
}

}  // namespace tyto::remote
