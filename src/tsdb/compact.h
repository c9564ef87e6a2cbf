// Compaction: merging adjacent blocks into longer ones, and writing rollup blocks from a raw
// block. DB decides when (db.cc); this file decides what and does the writing.
//
// Planning follows Prometheus's leveled compactor: blocks are grouped by aligned ranges (for raw
// blocks 2 h -> 6 h -> 24 h), and a group of two or more blocks inside one aligned range is
// merged once the range is wholly before the "horizon" (the time before which no new data can
// arrive for this tier). The merged block's meta lists its sources; DB swaps it in for them.
//
// Times are int64 ms, ranges [mint, maxt] inclusive. Pure functions over immutable blocks:
// thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tsdb/block/block.h"
#include "tyto/env.h"
#include "tyto/status.h"

namespace tyto::tsdb {

// Samples per chunk in blocks written by compaction (and rollups): fewer, longer chunks cost
// less per sample than the 120 of a freshly cut block (docs/performance.md has the figures).
inline constexpr size_t kCompactedChunkSamples = 1920;

// The aligned ranges blocks of a tier are merged into, ascending: `base` times each multiple,
// keeping those no longer than 10% of `retention` (when it is not 0) and 31 days; the first is
// always kept.
std::vector<int64_t> CompactionRanges(int64_t base, const std::vector<int64_t>& multiples,
                                      std::chrono::milliseconds retention);

// The first group to merge among `metas` (one tier's blocks, sorted by min_time): indices of
// two or more blocks that all lie inside one aligned range of `ranges` (smallest range first)
// ending before `horizon`. Empty if there is nothing to do.
std::vector<size_t> PlanCompaction(const std::vector<block::Meta>& metas, const std::vector<int64_t>& ranges,
                                   int64_t horizon);

// Appends `samples` (time order) to `out` as chunks of up to `per_chunk` samples, each encoded
// with chunk::EncodeBest; the chunks' bytes are kept in `owned`. Samples at equal times (a
// rollup counter's tail) stay in one chunk.
void AppendChunks(const std::vector<std::pair<int64_t, double>>& samples, size_t per_chunk,
                  std::vector<std::unique_ptr<chunk::Chunk>>* owned, block::SeriesData* out);

// Every sample of series `id` of `block`, in time order.
Result<std::vector<std::pair<int64_t, double>>> ReadSeries(const block::Reader& block, uint32_t id);

// Merges `sources` (one tier's blocks, sorted by min_time) into one block under `parent_dir`
// covering their whole time range: series with equal labels become one; where samples share a
// timestamp, the later source's wins. A rollup tier's counter aggregate is joined as
// rollup::NewCounterChainIterator does. level = max(source levels) + 1; sources = their ids.
// Returns the new block's meta; writes nothing on error (block::Write's guarantee).
Result<block::Meta> MergeBlocks(Env* env, const std::string& parent_dir,
                                const std::vector<std::shared_ptr<block::Reader>>& sources);

// Writes the rollup of raw block `raw` at `resolution` ms (rollup.h) as a block over the same
// time range under `parent_dir`; `replaces` become its sources. Series that already carry the
// `__rollup__` label are left out and counted in *skipped. Returns the new meta, or an empty id
// if no series had a sample to aggregate (nothing written).
Result<block::Meta> WriteRollup(Env* env, const std::string& parent_dir, const block::Reader& raw,
                                int64_t resolution, std::vector<std::string> replaces, uint64_t* skipped);

}  // namespace tyto::tsdb
