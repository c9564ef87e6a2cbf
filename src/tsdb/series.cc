#include "tsdb/series.h"

#include <algorithm>
#include <bit>

namespace tyto::tsdb {

std::optional<uint64_t> MemSeries::ValueBitsAt(int64_t t) const {
  auto it = std::lower_bound(out_of_order_.begin(), out_of_order_.end(), t,
                             [](const Sample& s, int64_t x) { return s.t < x; });
  if (it != out_of_order_.end() && it->t == t) return std::bit_cast<uint64_t>(it->v);
  auto look = [t](const chunk::Chunk& c) -> std::optional<uint64_t> {
    auto iter = c.NewIterator();
    if (iter->Seek(t) && iter->t() == t) return std::bit_cast<uint64_t>(iter->v());
    return std::nullopt;
  };
  for (const ClosedChunk& c : closed_) {
    if (t >= c.mint && t <= c.maxt) {
      if (auto bits = look(*c.chunk)) return bits;
    }
  }
  if (open_ && open_->num_samples() > 0 && t >= open_mint_ && t <= max_t_) return look(*open_);
  return std::nullopt;
}

Verdict MemSeries::Check(int64_t t, double v, int64_t ooo_window_ms) const {
  const uint64_t bits = std::bit_cast<uint64_t>(v);
  if (empty() || t > max_t_) return Verdict::kAppend;
  if (t == max_t_) return bits == last_bits_ ? Verdict::kIgnore : Verdict::kDuplicate;
  if (t < max_t_ - ooo_window_ms) return Verdict::kTooOld;
  if (auto existing = ValueBitsAt(t)) return *existing == bits ? Verdict::kIgnore : Verdict::kDuplicate;
  return Verdict::kInsertOutOfOrder;
}

void MemSeries::CloseOpenChunk() {
  if (!open_ || open_->num_samples() == 0) return;
  closed_.push_back({std::shared_ptr<const chunk::Chunk>(std::move(open_)), open_mint_, max_t_});
  appender_.reset();
  open_mint_ = INT64_MAX;
}

void MemSeries::Add(int64_t t, double v, Verdict verdict) {
  if (verdict == Verdict::kInsertOutOfOrder) {
    auto it = std::lower_bound(out_of_order_.begin(), out_of_order_.end(), t,
                               [](const Sample& s, int64_t x) { return s.t < x; });
    out_of_order_.insert(it, Sample{t, v});
    min_t_ = std::min(min_t_, t);
    return;
  }
  if (open_ && (open_->num_samples() >= chunk_samples_ || BlockStart(t, block_range_ms_) != BlockStart(open_mint_, block_range_ms_))) CloseOpenChunk();
  if (!open_) {
    open_ = chunk::NewChunk(chunk::Encoding::kXor);
    appender_ = open_->NewAppender();
    open_mint_ = t;
  }
  appender_->Append(t, v);
  min_t_ = std::min(min_t_, t);
  max_t_ = t;
  max_t_published_.store(t, std::memory_order_relaxed);
  last_bits_ = std::bit_cast<uint64_t>(v);
}

uint64_t MemSeries::num_samples() const {
  uint64_t n = out_of_order_.size();
  for (const ClosedChunk& c : closed_) n += static_cast<uint64_t>(c.chunk->num_samples());
  if (open_) n += static_cast<uint64_t>(open_->num_samples());
  return n;
}

uint64_t MemSeries::chunk_bytes() const {
  uint64_t n = out_of_order_.size() * sizeof(Sample);
  for (const ClosedChunk& c : closed_) n += c.chunk->bytes().size();
  if (open_) n += open_->bytes().size();
  return n;
}

std::vector<std::pair<int64_t, double>> MemSeries::SamplesIn(int64_t mint, int64_t maxt) const {
  std::vector<std::pair<int64_t, double>> out;
  auto take = [&](const chunk::Chunk& c) {
    auto it = c.NewIterator();
    if (!it->Seek(mint)) return;
    do {
      if (it->t() > maxt) return;
      out.emplace_back(it->t(), it->v());
    } while (it->Next());
  };
  for (const ClosedChunk& c : closed_) {
    if (c.maxt >= mint && c.mint <= maxt) take(*c.chunk);
  }
  if (open_ && open_->num_samples() > 0 && max_t_ >= mint && open_mint_ <= maxt) take(*open_);
  size_t in_order = out.size();
  for (const Sample& s : out_of_order_) {
    if (s.t >= mint && s.t <= maxt) out.emplace_back(s.t, s.v);
  }
  std::inplace_merge(out.begin(), out.begin() + static_cast<ptrdiff_t>(in_order), out.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

void MemSeries::DropBefore(int64_t boundary) {
  std::erase_if(closed_, [boundary](const ClosedChunk& c) { return c.maxt < boundary; });
  // A chunk that straddles the boundary keeps only its samples at or after it.
  auto keep_from = [boundary](const chunk::Chunk& c) {
    std::vector<std::pair<int64_t, double>> kept;
    auto it = c.NewIterator();
    if (it->Seek(boundary)) {
      do {
        kept.emplace_back(it->t(), it->v());
      } while (it->Next());
    }
    return kept;
  };
  for (ClosedChunk& c : closed_) {
    if (c.mint >= boundary) continue;
    auto kept = keep_from(*c.chunk);
    c.chunk = chunk::EncodeBest(kept);
    c.mint = kept.front().first;  // non-empty: c.maxt >= boundary
  }
  if (open_ && open_->num_samples() > 0 && open_mint_ < boundary) {
    auto kept = keep_from(*open_);
    open_.reset();
    appender_.reset();
    open_mint_ = INT64_MAX;
    if (!kept.empty()) {
      open_ = chunk::NewChunk(chunk::Encoding::kXor);
      appender_ = open_->NewAppender();
      open_mint_ = kept.front().first;
      for (const auto& [t, v] : kept) appender_->Append(t, v);
    }
  }
  std::erase_if(out_of_order_, [boundary](const Sample& s) { return s.t < boundary; });
  min_t_ = INT64_MAX;
  for (const ClosedChunk& c : closed_) min_t_ = std::min(min_t_, c.mint);
  if (open_ && open_->num_samples() > 0) min_t_ = std::min(min_t_, open_mint_);
  if (!out_of_order_.empty()) min_t_ = std::min(min_t_, out_of_order_.front().t);
  if (min_t_ == INT64_MAX) {
    // Nothing left in memory: the series stays known (and keeps its newest time for the
    // ordering rules), but holds no samples.
    min_t_ = max_t_;
  }
}

SeriesSnapshot MemSeries::Snapshot(int64_t mint, int64_t maxt) const {
  SeriesSnapshot snap;
  for (const ClosedChunk& c : closed_) {
    if (c.maxt >= mint && c.mint <= maxt) snap.chunks.push_back(c);
  }
  if (open_ && open_->num_samples() > 0 && max_t_ >= mint && open_mint_ <= maxt) {
    auto copy = chunk::ChunkFromBytes(open_->encoding(), std::string(open_->bytes()));
    if (copy.ok()) snap.chunks.push_back({std::shared_ptr<const chunk::Chunk>(std::move(copy).value()), open_mint_, max_t_});
  }
  for (const Sample& s : out_of_order_) {
    if (s.t >= mint && s.t <= maxt) snap.out_of_order.push_back(s);
  }
  return snap;
}

}  // namespace tyto::tsdb
