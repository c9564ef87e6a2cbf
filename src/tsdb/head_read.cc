// HeadQuerier: reads a snapshot of the head's series over [mint, maxt].
#include <algorithm>

#include "tsdb/head.h"
#include "tsdb/label_stats.h"
#include "tsdb/querier.h"

namespace tyto::tsdb {
namespace {

// Merges a series' chunks (in time order, not overlapping) with its out-of-order samples,
// yielding samples within [mint, maxt].
class SnapshotIterator final : public SeriesIterator {
 public:
  SnapshotIterator(SeriesSnapshot snap, int64_t mint, int64_t maxt)
      : snap_(std::move(snap)), mint_(mint), maxt_(maxt) {}

  bool Next() override {
    while (true) {
      if (!have_chunk_sample_) AdvanceChunk();
      bool have_ooo = ooo_ < snap_.out_of_order.size();
      if (!have_chunk_sample_ && !have_ooo) return false;
      if (have_ooo && (!have_chunk_sample_ || snap_.out_of_order[ooo_].t < chunk_sample_.t)) {
        cur_ = snap_.out_of_order[ooo_++];
      } else {
        cur_ = chunk_sample_;
        have_chunk_sample_ = false;
      }
      if (cur_.t > maxt_) return false;
      if (cur_.t >= mint_) return true;
    }
  }

  bool Seek(int64_t t) override {
    if (started_ && cur_.t >= t) return true;
    started_ = true;
    mint_ = std::max(mint_, t);
    return Next();
  }

  Sample At() const override { return cur_; }
  Status status() const override { return status_; }

 private:
  void AdvanceChunk() {
    while (true) {
      if (it_ && it_->Next()) {
        chunk_sample_ = {it_->t(), it_->v()};
        have_chunk_sample_ = true;
        return;
      }
      if (it_ && !it_->status().ok() && status_.ok()) status_ = it_->status();
      if (next_chunk_ >= snap_.chunks.size()) {
        it_.reset();
        return;
      }
      it_ = snap_.chunks[next_chunk_++].chunk->NewIterator();
    }
  }

  SeriesSnapshot snap_;
  int64_t mint_;
  int64_t maxt_;
  size_t next_chunk_ = 0;
  std::unique_ptr<chunk::Iterator> it_;
  Sample chunk_sample_;
  bool have_chunk_sample_ = false;
  size_t ooo_ = 0;
  Sample cur_;
  bool started_ = false;
  Status status_;
};

struct SelectedSeries {
  Labels labels;
  SeriesSnapshot snap;
};

class HeadSeriesSet final : public SeriesSet {
 public:
  HeadSeriesSet(std::vector<SelectedSeries> series, int64_t mint, int64_t maxt)
      : series_(std::move(series)), mint_(mint), maxt_(maxt) {}
  bool Next() override { return ++pos_ < series_.size(); }
  const Labels& labels() const override { return series_[pos_].labels; }
  std::unique_ptr<SeriesIterator> Iterator() const override {
    return std::make_unique<SnapshotIterator>(series_[pos_].snap, mint_, maxt_);
  }
  Status status() const override { return Status::Ok(); }

 private:
  std::vector<SelectedSeries> series_;
  int64_t mint_;
  int64_t maxt_;
  size_t pos_ = static_cast<size_t>(-1);
};

}  // namespace

class HeadQuerier final : public Querier {
 public:
  HeadQuerier(Head* head, int64_t mint, int64_t maxt) : head_(head), mint_(mint), maxt_(maxt) {}

  std::unique_ptr<SeriesSet> Select(const std::vector<Matcher>& matchers) override {
    std::vector<SelectedSeries> out;
    for (SeriesRef ref : head_->index_.Select(matchers)) {
      const std::shared_ptr<MemSeries> s = head_->Get(ref);
      if (s == nullptr) continue;
      MutexLock lock(&s->mu());
      if (s->empty() || s->max_time() < mint_ || s->min_time() > maxt_) continue;
      SeriesSnapshot snap = s->Snapshot(mint_, maxt_);
      if (snap.chunks.empty() && snap.out_of_order.empty()) continue;
      out.push_back({s->labels(), std::move(snap)});
    }
    std::sort(out.begin(), out.end(), [](const SelectedSeries& a, const SelectedSeries& b) { return a.labels < b.labels; });
    return std::make_unique<HeadSeriesSet>(std::move(out), mint_, maxt_);
  }

  Result<std::vector<std::string>> LabelNames(const std::vector<Matcher>& matchers) override {
    return LabelNamesOf(InRange(matchers));
  }

  Result<std::vector<std::string>> LabelValues(const std::string& name, const std::vector<Matcher>& matchers) override {
    return LabelValuesOf(InRange(matchers), name);
  }

 private:
  // Label sets of series with samples in range that match (all series when no matchers).
  std::vector<Labels> InRange(const std::vector<Matcher>& matchers) {
    std::vector<Labels> out;
    for (SeriesRef ref : head_->index_.Select(matchers)) {
      const std::shared_ptr<MemSeries> s = head_->Get(ref);
      if (s == nullptr) continue;
      MutexLock lock(&s->mu());
      if (s->empty() || s->max_time() < mint_ || s->min_time() > maxt_) continue;
      out.push_back(s->labels());
    }
    return out;
  }

  Head* head_;
  int64_t mint_;
  int64_t maxt_;
};

HeadStats Head::Stats(size_t top) const {
  HeadStats st;
  LabelStats labels;
  st.min_time = INT64_MAX;
  st.max_time = INT64_MIN;
  MutexLock lock(&series_mu_);
  for (const auto& s : by_ref_) {
    if (!s) continue;
    MutexLock series_lock(&s->mu());
    ++st.series;
    st.samples += s->num_samples();
    st.chunk_bytes += s->chunk_bytes();
    if (!s->empty()) {
      st.min_time = std::min(st.min_time, s->min_time());
      st.max_time = std::max(st.max_time, s->max_time());
    }
    labels.Add(s->labels());
  }
  if (st.min_time > st.max_time) st.min_time = st.max_time = 0;
  st.series_by_metric = labels.SeriesByMetric(top);
  st.series_by_label_pair = labels.SeriesByLabelPair(top);
  st.values_by_label_name = labels.ValuesByLabelName(top);
  return st;
}

Result<std::unique_ptr<Querier>> Head::NewQuerier(int64_t mint, int64_t maxt) {
  if (mint > maxt) return InvalidArgument("query range start " + std::to_string(mint) + " is after its end " + std::to_string(maxt));
  return std::unique_ptr<Querier>(new HeadQuerier(this, mint, maxt));
}

}  // namespace tyto::tsdb
