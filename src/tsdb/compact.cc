#include "tsdb/compact.h"

#include <algorithm>
#include <map>

#include "tsdb/querier.h"
#include "tsdb/rollup.h"
#include "tsdb/series.h"

namespace tyto::tsdb {
namespace {

constexpr int64_t kMaxRange = int64_t{31} * 24 * 3600 * 1000;

using Samples = std::vector<std::pair<int64_t, double>>;

// One source's walk over its series, in label order.
struct Cursor {
  const block::Reader* block;
  std::vector<uint32_t> ids;
  size_t pos = 0;
  Labels labels;
};

Status Advance(Cursor* c) {
  if (c->pos >= c->ids.size()) return Status::Ok();
  TYTO_ASSIGN_OR_RETURN(c->labels, c->block->SeriesLabels(c->ids[c->pos]));
  return Status::Ok();
}

// Samples of several sources in source order, one per timestamp: on equal timestamps the
// later source's sample is kept.
Samples MergeSamples(std::vector<Samples> parts) {
  if (parts.size() == 1) return std::move(parts[0]);
  bool ordered = true;
  for (size_t i = 1; i < parts.size() && ordered; ++i) {
    ordered = parts[i - 1].empty() || parts[i].empty() || parts[i - 1].back().first < parts[i].front().first;
  }
  Samples all;
  for (auto& p : parts) all.insert(all.end(), p.begin(), p.end());
  if (ordered) return all;
  std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  Samples out;
  out.reserve(all.size());
  for (const auto& s : all) {
    if (!out.empty() && out.back().first == s.first) {
      out.back() = s;  // stable: a later source's sample comes after an earlier one's
    } else {
      out.push_back(s);
    }
  }
  return out;
}

// A rollup counter's parts joined as the querier joins them, with the last part's tail kept.
Result<Samples> JoinCounters(std::vector<Samples> parts) {
  std::vector<std::unique_ptr<SeriesIterator>> its;
  for (auto& p : parts) {
    std::vector<Sample> v;
    v.reserve(p.size());
    for (const auto& [t, x] : p) v.push_back({t, x});
    its.push_back(NewVectorIterator(std::move(v)));
  }
  auto it = rollup::NewCounterChainIterator(std::move(its), /*keep_tail=*/true);
  Samples out;
  while (it->Next()) out.emplace_back(it->At().t, it->At().v);
  TYTO_RETURN_IF_ERROR(it->status());
  return out;
}

}  // namespace

std::vector<int64_t> CompactionRanges(int64_t base, const std::vector<int64_t>& multiples,
                                      std::chrono::milliseconds retention) {
  std::vector<int64_t> out;
  for (int64_t m : multiples) {
    int64_t r = base * m;
    bool fits = r <= kMaxRange && (retention.count() == 0 || r <= retention.count() / 10);
    if (out.empty() || fits) out.push_back(r);
  }
  return out;
}

std::vector<size_t> PlanCompaction(const std::vector<block::Meta>& metas, const std::vector<int64_t>& ranges,
                                   int64_t horizon) {
  for (int64_t range : ranges) {
    std::map<int64_t, std::vector<size_t>> groups;  // by aligned range start
    for (size_t i = 0; i < metas.size(); ++i) {
      int64_t lo = BlockStart(metas[i].min_time, range);
      if (metas[i].max_time - lo >= range) continue;  // longer than the range, or not aligned in it
      if (lo + range - 1 >= horizon) continue;        // new data may still arrive in the range
      groups[lo].push_back(i);
    }
    for (auto& [lo, group] : groups) {
      if (group.size() >= 2) return group;
    }
  }
  return {};
}

void AppendChunks(const Samples& samples, size_t per_chunk, std::vector<std::unique_ptr<chunk::Chunk>>* owned,
                  block::SeriesData* out) {
  size_t i = 0;
  while (i < samples.size()) {
    size_t j = std::min(i + per_chunk, samples.size());
    while (j < samples.size() && samples[j].first == samples[j - 1].first) ++j;  // chunks must not share a time
    Samples part(samples.begin() + static_cast<ptrdiff_t>(i), samples.begin() + static_cast<ptrdiff_t>(j));
    owned->push_back(chunk::EncodeBest(part));
    const chunk::Chunk& c = *owned->back();
    out->chunks.push_back({part.front().first, part.back().first, c.encoding(), c.bytes(), c.num_samples()});
    i = j;
  }
}

Result<Samples> ReadSeries(const block::Reader& block, uint32_t id) {
  TYTO_ASSIGN_OR_RETURN(auto chunks, block.SeriesChunks(id, INT64_MIN, INT64_MAX));
  Samples out;
  for (const block::ChunkMeta& cm : chunks) {
    TYTO_ASSIGN_OR_RETURN(auto c, block.ReadChunk(cm));
    auto it = c->NewIterator();
    while (it->Next()) out.emplace_back(it->t(), it->v());
    if (!it->status().ok()) {
      return Status(it->status().code(), block.dir() + ": series " + std::to_string(id) + ": " + it->status().message());
    }
  }
  return out;
}

Result<block::Meta> MergeBlocks(Env* env, const std::string& parent_dir,
                                const std::vector<std::shared_ptr<block::Reader>>& sources) {
  if (sources.empty()) return InvalidArgument("no blocks to merge");
  block::Meta meta;
  meta.min_time = INT64_MAX;
  meta.max_time = INT64_MIN;
  meta.level = 0;
  meta.resolution_ms = sources[0]->meta().resolution_ms;
  std::vector<Cursor> cursors;
  for (const auto& b : sources) {
    const block::Meta& m = b->meta();
    if (m.resolution_ms != meta.resolution_ms) {
      return InvalidArgument("cannot merge block " + m.id + " (resolution " + std::to_string(m.resolution_ms) +
                             " ms) with blocks of resolution " + std::to_string(meta.resolution_ms) + " ms");
    }
    meta.min_time = std::min(meta.min_time, m.min_time);
    meta.max_time = std::max(meta.max_time, m.max_time);
    meta.level = std::max(meta.level, m.level + 1);
    meta.sources.push_back(m.id);
    Cursor c{b.get(), {}, 0, {}};
    TYTO_ASSIGN_OR_RETURN(c.ids, b->Select({}));
    TYTO_RETURN_IF_ERROR(Advance(&c).WithContext(m.id));
    cursors.push_back(std::move(c));
  }
  // K-way merge of the sources' series by labels; each output series is encoded at once, so
  // memory holds the new block's chunks plus one series' samples.
  std::vector<std::unique_ptr<chunk::Chunk>> owned;
  std::vector<block::SeriesData> series;
  while (true) {
    const Labels* smallest = nullptr;
    for (const Cursor& c : cursors) {
      if (c.pos < c.ids.size() && (smallest == nullptr || c.labels < *smallest)) smallest = &c.labels;
    }
    if (smallest == nullptr) break;
    block::SeriesData sd{*smallest, {}};
    std::vector<Samples> parts;
    for (Cursor& c : cursors) {
      if (c.pos >= c.ids.size() || !(c.labels == sd.labels)) continue;
      TYTO_ASSIGN_OR_RETURN(Samples s, ReadSeries(*c.block, c.ids[c.pos]));
      parts.push_back(std::move(s));
      ++c.pos;
      TYTO_RETURN_IF_ERROR(Advance(&c).WithContext(c.block->meta().id));
    }
    Samples merged;
    if (meta.resolution_ms > 0 && sd.labels.Get(rollup::kLabel) == rollup::AggregateName(rollup::Aggregate::kCounter)) {
      TYTO_ASSIGN_OR_RETURN(merged, JoinCounters(std::move(parts)));
    } else {
      merged = MergeSamples(std::move(parts));
    }
    AppendChunks(merged, kCompactedChunkSamples, &owned, &sd);
    if (!sd.chunks.empty()) series.push_back(std::move(sd));
  }
  meta.id = block::NewId(meta.min_time);
  return block::Write(env, parent_dir, meta, series);
}

Result<block::Meta> WriteRollup(Env* env, const std::string& parent_dir, const block::Reader& raw,
                                int64_t resolution, std::vector<std::string> replaces, uint64_t* skipped) {
  TYTO_ASSIGN_OR_RETURN(auto ids, raw.Select({}));
  std::vector<std::unique_ptr<chunk::Chunk>> owned;
  std::vector<block::SeriesData> series;
  for (uint32_t id : ids) {
    TYTO_ASSIGN_OR_RETURN(Labels labels, raw.SeriesLabels(id));
    if (labels.Has(rollup::kLabel)) {
      ++*skipped;
      continue;
    }
    TYTO_ASSIGN_OR_RETURN(Samples samples, ReadSeries(raw, id));
    rollup::SeriesRollup r = rollup::Compute(samples, resolution);
    for (rollup::Aggregate a : rollup::kAggregates) {
      const std::vector<Sample>& agg = r.Of(a);
      if (agg.empty()) continue;
      TYTO_ASSIGN_OR_RETURN(Labels l, rollup::WithAggregate(labels, a));
      Samples s;
      s.reserve(agg.size());
      for (const Sample& x : agg) s.emplace_back(x.t, x.v);
      block::SeriesData sd{std::move(l), {}};
      AppendChunks(s, kCompactedChunkSamples, &owned, &sd);
      series.push_back(std::move(sd));
    }
  }
  if (series.empty()) return block::Meta{};
  // Adding the label can move a series before one it followed.
  std::sort(series.begin(), series.end(), [](const auto& a, const auto& b) { return a.labels < b.labels; });
  block::Meta meta;
  meta.min_time = raw.meta().min_time;
  meta.max_time = raw.meta().max_time;
  meta.resolution_ms = resolution;
  meta.level = 1;
  meta.sources = std::move(replaces);
  meta.id = block::NewId(meta.min_time);
  return block::Write(env, parent_dir, meta, series);
}

}  // namespace tyto::tsdb
