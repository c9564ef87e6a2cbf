#include "tsdb/rollup.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "tsdb/block/block.h"
#include "tsdb/querier.h"
#include "tsdb/series.h"

namespace tyto::tsdb::rollup {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Sum / count of windows stamped alike (a rollup block writes both at the same times).
class AverageIterator final : public SeriesIterator {
 public:
  AverageIterator(std::unique_ptr<SeriesIterator> sum, std::unique_ptr<SeriesIterator> count)
      : sum_(std::move(sum)), count_(std::move(count)) {}

  bool Next() override {
    bool have_sum = sum_->Next();
    bool have_count = count_->Next();
    while (have_sum && have_count && sum_->At().t != count_->At().t) {
      if (sum_->At().t < count_->At().t) {
        have_sum = sum_->Next();
      } else {
        have_count = count_->Next();
      }
    }
    if (!have_sum || !have_count) return false;
    cur_ = {sum_->At().t, sum_->At().v / count_->At().v};
    started_ = true;
    return true;
  }
  bool Seek(int64_t t) override {
    if (started_ && cur_.t >= t) return true;
    while (Next()) {
      if (cur_.t >= t) return true;
    }
    return false;
  }
  Sample At() const override { return cur_; }
  Status status() const override { return sum_->status().ok() ? count_->status() : sum_->status(); }

 private:
  std::unique_ptr<SeriesIterator> sum_, count_;
  Sample cur_;
  bool started_ = false;
};

class CounterChainIterator final : public SeriesIterator {
 public:
  CounterChainIterator(std::vector<std::unique_ptr<SeriesIterator>> sources, bool keep_tail)
      : src_(std::move(sources)), keep_tail_(keep_tail) {}

  bool Next() override {
    while (status_.ok()) {
      if (i_ >= src_.size()) {
        if (keep_tail_ && chained_ && !tail_emitted_) {
          tail_emitted_ = true;
          cur_ = {end_t_, prev_raw_};
          return true;
        }
        return false;
      }
      Sample s;
      if (buffered_) {
        s = buf_;
        buffered_ = false;
      } else if (!exhausted_ && src_[i_]->Next()) {
        s = src_[i_]->At();
      } else {
        if (!src_[i_]->status().ok()) {
          status_ = src_[i_]->status();
          return false;
        }
        EndSource();
        continue;
      }
      // One sample of lookahead: a next sample at the same time is the source's tail.
      if (!exhausted_ && src_[i_]->Next()) {
        Sample next = src_[i_]->At();
        if (next.t == s.t) {
          tail_seen_ = true;
          tail_ = next;
        } else {
          buf_ = next;
          buffered_ = true;
        }
      } else {
        exhausted_ = true;
      }
      if (started_ && s.t <= cur_.t) continue;  // sources overlapping in time: keep the earlier one's
      if (std::isnan(s.v)) {  // ordinary NaN or a staleness marker: as it is
        cur_ = s;
        started_ = true;
        return true;
      }
      if (!source_started_) {
        source_started_ = true;
        if (chained_) offset_ = s.v >= prev_raw_ ? prev_emitted_ - prev_raw_ : prev_emitted_;
      }
      last_ = s;
      have_last_ = true;
      cur_ = {s.t, offset_ == 0 ? s.v : s.v + offset_};
      started_ = true;
      return true;
    }
    return false;
  }
  bool Seek(int64_t t) override {
    if (started_ && cur_.t >= t) return true;
    while (Next()) {
      if (cur_.t >= t) return true;
    }
    return false;
  }
  Sample At() const override { return cur_; }
  Status status() const override { return status_; }

 private:
  void EndSource() {
    if (have_last_) {
      chained_ = true;
      prev_emitted_ = last_.v + offset_;
      prev_raw_ = tail_seen_ ? tail_.v : last_.v;
      end_t_ = tail_seen_ ? tail_.t : last_.t;
    }
    have_last_ = tail_seen_ = source_started_ = buffered_ = exhausted_ = false;
    ++i_;
  }

  std::vector<std::unique_ptr<SeriesIterator>> src_;
  const bool keep_tail_;
  size_t i_ = 0;
  // The current source.
  Sample buf_;
  bool buffered_ = false;
  bool exhausted_ = false;
  bool source_started_ = false;
  Sample last_;  // its last number, as stored
  bool have_last_ = false;
  Sample tail_;
  bool tail_seen_ = false;
  // Where the sources before it ended.
  bool chained_ = false;
  double prev_emitted_ = 0;
  double prev_raw_ = 0;
  int64_t end_t_ = 0;
  double offset_ = 0;
  bool tail_emitted_ = false;

  Sample cur_;
  bool started_ = false;
  Status status_;
};

// One series of a rollup block as a query sees it: its labels without `__rollup__`, and the
// block's ids of the aggregate series that answer (one, or sum and count for the average).
struct Entry {
  Labels labels;
  uint32_t id = 0;
  uint32_t count_id = 0;  // for the average only
};

class RollupSeriesSet final : public SeriesSet {
 public:
  RollupSeriesSet(std::shared_ptr<block::Reader> block, std::vector<Entry> entries, bool average, int64_t mint,
                  int64_t maxt)
      : block_(std::move(block)), entries_(std::move(entries)), average_(average), mint_(mint), maxt_(maxt) {}

  bool Next() override {
    while (status_.ok() && ++pos_ < entries_.size()) {
      auto chunks = block_->SeriesChunks(entries_[pos_].id, mint_, maxt_);
      if (!chunks.ok()) {
        status_ = chunks.status();
        return false;
      }
      if (chunks->empty()) continue;
      chunks_ = std::move(chunks).value();
      if (average_) {
        auto counts = block_->SeriesChunks(entries_[pos_].count_id, mint_, maxt_);
        if (!counts.ok()) {
          status_ = counts.status();
          return false;
        }
        count_chunks_ = std::move(counts).value();
      }
      return true;
    }
    return false;
  }
  const Labels& labels() const override { return entries_[pos_].labels; }
  std::unique_ptr<SeriesIterator> Iterator() const override {
    auto it = NewBlockSeriesIterator(block_, chunks_, mint_, maxt_);
    if (!average_) return it;
    return std::make_unique<AverageIterator>(std::move(it), NewBlockSeriesIterator(block_, count_chunks_, mint_, maxt_));
  }
  Status status() const override { return status_; }

 private:
  std::shared_ptr<block::Reader> block_;
  std::vector<Entry> entries_;
  bool average_;
  int64_t mint_, maxt_;
  size_t pos_ = static_cast<size_t>(-1);
  std::vector<block::ChunkMeta> chunks_, count_chunks_;
  Status status_;
};

class RollupBlockQuerier final : public Querier {
 public:
  RollupBlockQuerier(std::shared_ptr<block::Reader> block, int64_t mint, int64_t maxt)
      : block_(std::move(block)), mint_(mint), maxt_(maxt) {}

  std::unique_ptr<SeriesSet> Select(const std::vector<Matcher>& matchers) override {
    return SelectWithHints(matchers, SelectHints{});
  }

  std::unique_ptr<SeriesSet> SelectWithHints(const std::vector<Matcher>& matchers, const SelectHints& hints) override {
    std::optional<Aggregate> agg = ForFunction(hints.func);
    auto entries = Find(matchers, agg.value_or(Aggregate::kSum));
    if (!entries.ok()) return NewErrorSeriesSet(entries.status());
    if (!agg) {
      // The average: pair each sum series with the count series of the same labels.
      auto counts = Find(matchers, Aggregate::kCount);
      if (!counts.ok()) return NewErrorSeriesSet(counts.status());
      std::vector<Entry> paired;
      size_t j = 0;
      for (Entry& e : *entries) {
        while (j < counts->size() && (*counts)[j].labels < e.labels) ++j;
        if (j < counts->size() && (*counts)[j].labels == e.labels) {
          e.count_id = (*counts)[j].id;
          paired.push_back(std::move(e));
        }
      }
      *entries = std::move(paired);
    }
    return std::make_unique<RollupSeriesSet>(block_, std::move(entries).value(), !agg.has_value(), mint_, maxt_);
  }

  Result<std::vector<std::string>> LabelNames(const std::vector<Matcher>& matchers) override {
    std::vector<std::string> names;
    if (matchers.empty()) {
      TYTO_ASSIGN_OR_RETURN(names, block_->LabelNames());
    } else {
      TYTO_ASSIGN_OR_RETURN(auto series, Matching(matchers));
      names = LabelNamesOf(series);
    }
    names.erase(std::remove(names.begin(), names.end(), kLabel), names.end());
    return names;
  }

  Result<std::vector<std::string>> LabelValues(const std::string& name, const std::vector<Matcher>& matchers) override {
    if (name == kLabel) return std::vector<std::string>{};
    if (matchers.empty()) return block_->LabelValues(name);
    TYTO_ASSIGN_OR_RETURN(auto series, Matching(matchers));
    return LabelValuesOf(series, name);
  }

 private:
  // The series of aggregate `a` matching `matchers`, sorted by their labels without
  // `__rollup__` (taking the label out can change the order).
  Result<std::vector<Entry>> Find(std::vector<Matcher> matchers, Aggregate a) {
    TYTO_ASSIGN_OR_RETURN(Matcher m, Matcher::Make(MatchType::kEqual, std::string(kLabel), std::string(AggregateName(a))));
    matchers.push_back(std::move(m));
    TYTO_ASSIGN_OR_RETURN(auto ids, block_->Select(matchers));
    std::vector<Entry> out;
    out.reserve(ids.size());
    for (uint32_t id : ids) {
      TYTO_ASSIGN_OR_RETURN(Labels l, block_->SeriesLabels(id));
      out.push_back({Strip(l), id, 0});
    }
    std::sort(out.begin(), out.end(), [](const Entry& x, const Entry& y) { return x.labels < y.labels; });
    return out;
  }

  // Label sets (without `__rollup__`) of the matching series with samples in range.
  Result<std::vector<Labels>> Matching(const std::vector<Matcher>& matchers) {
    std::vector<Labels> out;
    auto set = SelectWithHints(matchers, SelectHints{.func = "count_over_time"});
    while (set->Next()) out.push_back(set->labels());
    TYTO_RETURN_IF_ERROR(set->status());
    return out;
  }

  std::shared_ptr<block::Reader> block_;
  int64_t mint_, maxt_;
};

class TieredQuerier final : public Querier {
 public:
  TieredQuerier(std::vector<std::shared_ptr<block::Reader>> blocks, std::unique_ptr<Querier> raw, int64_t mint,
                int64_t maxt)
      : raw_(std::move(raw)) {
    for (auto& b : blocks) rollups_.push_back(NewBlockQuerier(std::move(b), mint, maxt));
  }

  std::unique_ptr<SeriesSet> Select(const std::vector<Matcher>& matchers) override {
    return SelectWithHints(matchers, SelectHints{});
  }
  std::unique_ptr<SeriesSet> SelectWithHints(const std::vector<Matcher>& matchers, const SelectHints& hints) override {
    std::vector<std::unique_ptr<SeriesSet>> sets;
    for (auto& q : rollups_) sets.push_back(q->SelectWithHints(matchers, hints));
    sets.push_back(raw_->SelectWithHints(matchers, hints));
    if (ForFunction(hints.func) == Aggregate::kCounter) {
      return NewMergeSeriesSet(std::move(sets), [](std::vector<std::unique_ptr<SeriesIterator>> its) {
        return NewCounterChainIterator(std::move(its), /*keep_tail=*/false);
      });
    }
    return NewMergeSeriesSet(std::move(sets), NewChainIterator);
  }
  Result<std::vector<std::string>> LabelNames(const std::vector<Matcher>& matchers) override {
    return Union([&](Querier& q) { return q.LabelNames(matchers); });
  }
  Result<std::vector<std::string>> LabelValues(const std::string& name, const std::vector<Matcher>& matchers) override {
    return Union([&](Querier& q) { return q.LabelValues(name, matchers); });
  }

 private:
  template <typename F>
  Result<std::vector<std::string>> Union(F f) {
    TYTO_ASSIGN_OR_RETURN(std::vector<std::string> out, f(*raw_));
    for (auto& q : rollups_) {
      TYTO_ASSIGN_OR_RETURN(auto part, f(*q));
      out.insert(out.end(), part.begin(), part.end());
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

  std::vector<std::unique_ptr<Querier>> rollups_;
  std::unique_ptr<Querier> raw_;
};

}  // namespace

std::string_view AggregateName(Aggregate a) {
  switch (a) {
    case Aggregate::kCount:
      return "count";
    case Aggregate::kSum:
      return "sum";
    case Aggregate::kMin:
      return "min";
    case Aggregate::kMax:
      return "max";
    case Aggregate::kCounter:
      return "counter";
  }
  return "unknown";
}

std::vector<Sample>& SeriesRollup::Of(Aggregate a) {
  switch (a) {
    case Aggregate::kCount:
      return count;
    case Aggregate::kSum:
      return sum;
    case Aggregate::kMin:
      return min;
    case Aggregate::kMax:
      return max;
    case Aggregate::kCounter:
      break;
  }
  return counter;
}

SeriesRollup Compute(const std::vector<std::pair<int64_t, double>>& samples, int64_t resolution) {
  SeriesRollup r;
  bool counting = false;  // a number has been seen: the counter has started
  double prev = 0;        // the last number, raw
  double running = 0;     // the reset-adjusted counter at `prev`
  size_t i = 0;
  while (i < samples.size()) {
    const int64_t end = BlockStart(samples[i].first, resolution) + resolution;
    int64_t count = 0, last_t = 0, counter_t = 0;
    double sum = 0, min = kNaN, max = kNaN;
    bool counter_moved = false;
    for (; i < samples.size() && samples[i].first < end; ++i) {
      const auto [t, v] = samples[i];
      if (IsStaleMarker(v)) continue;
      ++count;
      sum += v;
      last_t = t;
      if (std::isnan(v)) continue;
      if (std::isnan(min) || v < min) min = v;
      if (std::isnan(max) || v > max) max = v;
      if (!counting) {
        counting = true;
        running = v;
        r.counter.push_back({t, v});
      } else {
        running += v < prev ? v : v - prev;  // a drop is a reset: the counter restarted from 0
      }
      prev = v;
      counter_t = t;
      counter_moved = true;
    }
    if (count > 0) {
      r.count.push_back({last_t, static_cast<double>(count)});
      r.sum.push_back({last_t, sum});
      r.min.push_back({last_t, min});
      r.max.push_back({last_t, max});
    }
    // The window's end, unless it is the first sample, already written.
    if (counter_moved && !(r.counter.size() == 1 && r.counter[0].t == counter_t)) {
      r.counter.push_back({counter_t, running});
    }
  }
  if (counting) r.counter.push_back({r.counter.back().t, prev});  // the tail: the last raw value
  return r;
}

std::optional<Aggregate> ForFunction(std::string_view func) {
  if (func == "min" || func == "min_over_time") return Aggregate::kMin;
  if (func == "max" || func == "max_over_time") return Aggregate::kMax;
  if (func == "sum_over_time") return Aggregate::kSum;
  if (func == "count_over_time") return Aggregate::kCount;
  if (func == "rate" || func == "increase" || func == "irate" || func == "resets") return Aggregate::kCounter;
  return std::nullopt;
}

Result<Labels> WithAggregate(const Labels& labels, Aggregate a) {
  if (labels.Has(kLabel)) {
    return InvalidArgument("series " + labels.ToString() + " has the label " + std::string(kLabel) +
                           ", which is reserved for rollups");
  }
  std::vector<Label> pairs = labels.pairs();
  pairs.push_back({std::string(kLabel), std::string(AggregateName(a))});
  return Labels::FromPairs(std::move(pairs));
}

Labels Strip(const Labels& labels) {
  std::vector<Label> pairs;
  pairs.reserve(labels.size());
  for (const Label& l : labels) {
    if (l.name != kLabel) pairs.push_back(l);
  }
  return *Labels::FromPairs(std::move(pairs));  // a subset of valid labels is valid
}

std::unique_ptr<SeriesIterator> NewCounterChainIterator(std::vector<std::unique_ptr<SeriesIterator>> sources,
                                                        bool keep_tail) {
  return std::make_unique<CounterChainIterator>(std::move(sources), keep_tail);
}

std::unique_ptr<Querier> NewBlockQuerier(std::shared_ptr<block::Reader> block, int64_t mint, int64_t maxt) {
  return std::make_unique<RollupBlockQuerier>(std::move(block), mint, maxt);
}

std::unique_ptr<Querier> NewTieredQuerier(std::vector<std::shared_ptr<block::Reader>> rollup_blocks,
                                          std::unique_ptr<Querier> raw, int64_t mint, int64_t maxt) {
  return std::make_unique<TieredQuerier>(std::move(rollup_blocks), std::move(raw), mint, maxt);
}

}  // namespace tyto::tsdb::rollup
