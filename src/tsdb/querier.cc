#include "tsdb/querier.h"

#include <algorithm>

#include "tsdb/block/block.h"

namespace tyto::tsdb {
namespace {

void SortUnique(std::vector<std::string>* v) {
  std::sort(v->begin(), v->end());
  v->erase(std::unique(v->begin(), v->end()), v->end());
}

// Samples of one block series: its chunks in order, read (and checksummed) one at a time.
class BlockSeriesIterator final : public SeriesIterator {
 public:
  BlockSeriesIterator(std::shared_ptr<block::Reader> block, std::vector<block::ChunkMeta> chunks, int64_t mint,
                      int64_t maxt)
      : block_(std::move(block)), chunks_(std::move(chunks)), mint_(mint), maxt_(maxt) {}

  bool Next() override {
    while (status_.ok()) {
      if (it_ && it_->Next()) {
        cur_ = {it_->t(), it_->v()};
        if (cur_.t > maxt_) return false;
        if (cur_.t >= mint_) return true;
        continue;
      }
      if (it_ && !it_->status().ok()) {
        status_ = it_->status();
        return false;
      }
      if (next_ >= chunks_.size()) return false;
      auto c = block_->ReadChunk(chunks_[next_++]);
      if (!c.ok()) {
        status_ = c.status();
        return false;
      }
      const bool starts_before = chunks_[next_ - 1].mint < mint_;
      chunk_ = std::move(c).value();
      it_ = chunk_->NewIterator();
      // A chunk that starts before the range: its iterator skips to mint (faster than sample by
      // sample through this loop).
      if (starts_before) {
        if (!it_->Seek(mint_)) continue;  // nothing in range here (or corrupt: checked above)
        cur_ = {it_->t(), it_->v()};
        if (cur_.t > maxt_) return false;
        return true;
      }
    }
    return false;
  }
  bool Seek(int64_t t) override {
    mint_ = std::max(mint_, t);
    if (it_ && cur_.t >= t) return true;
    return Next();
  }
  Sample At() const override { return cur_; }
  Status status() const override { return status_; }

 private:
  std::shared_ptr<block::Reader> block_;
  std::vector<block::ChunkMeta> chunks_;
  int64_t mint_, maxt_;
  size_t next_ = 0;
  std::unique_ptr<chunk::Chunk> chunk_;
  std::unique_ptr<chunk::Iterator> it_;
  Sample cur_;
  Status status_;
};

class BlockSeriesSet final : public SeriesSet {
 public:
  BlockSeriesSet(std::shared_ptr<block::Reader> block, std::vector<uint32_t> ids, int64_t mint, int64_t maxt)
      : block_(std::move(block)), ids_(std::move(ids)), mint_(mint), maxt_(maxt) {}

  bool Next() override {
    while (status_.ok() && ++pos_ < ids_.size()) {
      auto chunks = block_->SeriesChunks(ids_[pos_], mint_, maxt_);
      if (!chunks.ok()) {
        status_ = chunks.status();
        return false;
      }
      if (chunks->empty()) continue;
      auto labels = block_->SeriesLabels(ids_[pos_]);
      if (!labels.ok()) {
        status_ = labels.status();
        return false;
      }
      labels_ = std::move(labels).value();
      chunks_ = std::move(chunks).value();
      return true;
    }
    return false;
  }
  const Labels& labels() const override { return labels_; }
  std::unique_ptr<SeriesIterator> Iterator() const override {
    return std::make_unique<BlockSeriesIterator>(block_, chunks_, mint_, maxt_);
  }
  Status status() const override { return status_; }

 private:
  std::shared_ptr<block::Reader> block_;
  std::vector<uint32_t> ids_;
  int64_t mint_, maxt_;
  size_t pos_ = static_cast<size_t>(-1);
  Labels labels_;
  std::vector<block::ChunkMeta> chunks_;
  Status status_;
};

class ErrorSeriesSet final : public SeriesSet {
 public:
  explicit ErrorSeriesSet(Status s) : status_(std::move(s)) {}
  bool Next() override { return false; }
  const Labels& labels() const override { return labels_; }
  std::unique_ptr<SeriesIterator> Iterator() const override { return nullptr; }
  Status status() const override { return status_; }

 private:
  Status status_;
  Labels labels_;
};

class BlockQuerier final : public Querier {
 public:
  BlockQuerier(std::shared_ptr<block::Reader> block, int64_t mint, int64_t maxt)
      : block_(std::move(block)), mint_(mint), maxt_(maxt) {}

  std::unique_ptr<SeriesSet> Select(const std::vector<Matcher>& matchers) override {
    auto ids = block_->Select(matchers);
    if (!ids.ok()) return NewErrorSeriesSet(ids.status());
    return std::make_unique<BlockSeriesSet>(block_, std::move(ids).value(), mint_, maxt_);
  }

  Result<std::vector<std::string>> LabelNames(const std::vector<Matcher>& matchers) override {
    if (matchers.empty()) return block_->LabelNames();
    TYTO_ASSIGN_OR_RETURN(auto series, Matching(matchers));
    return LabelNamesOf(series);
  }

  Result<std::vector<std::string>> LabelValues(const std::string& name, const std::vector<Matcher>& matchers) override {
    if (matchers.empty()) return block_->LabelValues(name);
    TYTO_ASSIGN_OR_RETURN(auto series, Matching(matchers));
    return LabelValuesOf(series, name);
  }

 private:
  // Label sets of the matching series with chunks in range.
  Result<std::vector<Labels>> Matching(const std::vector<Matcher>& matchers) {
    std::vector<Labels> out;
    auto set = Select(matchers);
    while (set->Next()) out.push_back(set->labels());
    TYTO_RETURN_IF_ERROR(set->status());
    return out;
  }

  std::shared_ptr<block::Reader> block_;
  int64_t mint_, maxt_;
};

// Iterators of one series from several sources, in time order.
class ChainIterator final : public SeriesIterator {
 public:
  explicit ChainIterator(std::vector<std::unique_ptr<SeriesIterator>> its) : its_(std::move(its)) {}
  bool Next() override {
    while (i_ < its_.size()) {
      if (its_[i_]->Next()) {
        Sample s = its_[i_]->At();
        if (started_ && s.t <= cur_.t) continue;  // overlap: keep the first source's sample
        cur_ = s;
        started_ = true;
        return true;
      }
      if (!its_[i_]->status().ok()) {
        status_ = its_[i_]->status();
        return false;
      }
      ++i_;
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
  std::vector<std::unique_ptr<SeriesIterator>> its_;
  size_t i_ = 0;
  Sample cur_;
  bool started_ = false;
  Status status_;
};

// K-way merge of sorted series sets; equal label sets become one series.
class MergeSeriesSet final : public SeriesSet {
 public:
  MergeSeriesSet(std::vector<std::unique_ptr<SeriesSet>> sets, IteratorJoin join)
      : sets_(std::move(sets)), join_(std::move(join)) {
    live_.resize(sets_.size());
    for (size_t i = 0; i < sets_.size(); ++i) Advance(i);
  }

  // The sources holding the current series stay on it until the next call, so Iterator()
  // can be asked again; they move on here.
  bool Next() override {
    for (size_t i : current_) Advance(i);
    current_.clear();
    if (!status_.ok()) return false;
    const Labels* smallest = nullptr;
    for (size_t i = 0; i < sets_.size(); ++i) {
      if (live_[i] && (smallest == nullptr || sets_[i]->labels() < *smallest)) smallest = &sets_[i]->labels();
    }
    if (smallest == nullptr) return false;
    for (size_t i = 0; i < sets_.size(); ++i) {
      if (live_[i] && sets_[i]->labels() == *smallest) current_.push_back(i);
    }
    return true;
  }
  const Labels& labels() const override { return sets_[current_.front()]->labels(); }
  std::unique_ptr<SeriesIterator> Iterator() const override {
    std::vector<std::unique_ptr<SeriesIterator>> its;
    for (size_t i : current_) its.push_back(sets_[i]->Iterator());
    return join_(std::move(its));
  }
  Status status() const override { return status_; }

 private:
  void Advance(size_t i) {
    live_[i] = sets_[i]->Next();
    if (!live_[i] && !sets_[i]->status().ok() && status_.ok()) status_ = sets_[i]->status();
  }

  std::vector<std::unique_ptr<SeriesSet>> sets_;
  IteratorJoin join_;
  std::vector<bool> live_;
  std::vector<size_t> current_;  // sources on the current series, in time order
  Status status_;
};

class MergeQuerier final : public Querier {
 public:
  explicit MergeQuerier(std::vector<std::unique_ptr<Querier>> qs) : qs_(std::move(qs)) {}

  std::unique_ptr<SeriesSet> Select(const std::vector<Matcher>& matchers) override {
    return SelectWithHints(matchers, SelectHints{});
  }
  std::unique_ptr<SeriesSet> SelectWithHints(const std::vector<Matcher>& matchers, const SelectHints& hints) override {
    if (qs_.size() == 1) return qs_[0]->SelectWithHints(matchers, hints);
    std::vector<std::unique_ptr<SeriesSet>> sets;
    for (auto& q : qs_) sets.push_back(q->SelectWithHints(matchers, hints));
    return std::make_unique<MergeSeriesSet>(std::move(sets), NewChainIterator);
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
    std::vector<std::string> out;
    for (auto& q : qs_) {
      auto part = f(*q);
      if (!part.ok()) return part.status();
      out.insert(out.end(), part->begin(), part->end());
    }
    SortUnique(&out);
    return out;
  }

  std::vector<std::unique_ptr<Querier>> qs_;
};

class VectorIterator final : public SeriesIterator {
 public:
  explicit VectorIterator(std::vector<Sample> samples) : samples_(std::move(samples)) {}
  bool Next() override { return ++pos_ < samples_.size(); }
  bool Seek(int64_t t) override {
    if (pos_ == static_cast<size_t>(-1)) pos_ = 0;
    while (pos_ < samples_.size() && samples_[pos_].t < t) ++pos_;
    return pos_ < samples_.size();
  }
  Sample At() const override { return samples_[pos_]; }
  Status status() const override { return Status::Ok(); }

 private:
  std::vector<Sample> samples_;
  size_t pos_ = static_cast<size_t>(-1);
};

}  // namespace

std::unique_ptr<SeriesSet> NewErrorSeriesSet(Status s) { return std::make_unique<ErrorSeriesSet>(std::move(s)); }

std::unique_ptr<SeriesIterator> NewBlockSeriesIterator(std::shared_ptr<block::Reader> block,
                                                       std::vector<block::ChunkMeta> chunks, int64_t mint,
                                                       int64_t maxt) {
  return std::make_unique<BlockSeriesIterator>(std::move(block), std::move(chunks), mint, maxt);
}

std::unique_ptr<SeriesIterator> NewChainIterator(std::vector<std::unique_ptr<SeriesIterator>> its) {
  return std::make_unique<ChainIterator>(std::move(its));
}

std::unique_ptr<SeriesSet> NewMergeSeriesSet(std::vector<std::unique_ptr<SeriesSet>> sets, IteratorJoin join) {
  return std::make_unique<MergeSeriesSet>(std::move(sets), std::move(join));
}

std::unique_ptr<SeriesIterator> NewVectorIterator(std::vector<Sample> samples) {
  return std::make_unique<VectorIterator>(std::move(samples));
}

std::vector<std::string> LabelNamesOf(const std::vector<Labels>& series) {
  std::vector<std::string> names;
  for (const Labels& l : series) {
    for (const Label& p : l) names.push_back(p.name);
  }
  SortUnique(&names);
  return names;
}

std::vector<std::string> LabelValuesOf(const std::vector<Labels>& series, const std::string& name) {
  std::vector<std::string> values;
  for (const Labels& l : series) {
    if (auto v = l.Get(name); !v.empty()) values.emplace_back(v);
  }
  SortUnique(&values);
  return values;
}

std::unique_ptr<Querier> NewBlockQuerier(std::shared_ptr<block::Reader> block, int64_t mint, int64_t maxt) {
  return std::make_unique<BlockQuerier>(std::move(block), mint, maxt);
}

std::unique_ptr<Querier> NewMergeQuerier(std::vector<std::unique_ptr<Querier>> queriers) {
  return std::make_unique<MergeQuerier>(std::move(queriers));
}

}  // namespace tyto::tsdb
