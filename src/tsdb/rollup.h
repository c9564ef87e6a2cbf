// Rollups: per-window aggregates of a series' raw samples, kept after the raw samples expire
// (5-minute windows for 90 days, 1-hour windows for 2 years by default).
//
// A rollup block (block::Meta::resolution_ms = the window length) stores, for every raw series
// with labels L, up to five series L + {__rollup__="<aggregate>"}, one per Aggregate. Every
// aggregate sample is stamped with the time of the last sample of its window that went into
// it. What each holds, exactly, and which PromQL function reads which: docs/format/rollups.md
// and docs/rollups.md. Queries never see the `__rollup__` label: the rollup querier strips it.
//
// Windows are [k * resolution, (k + 1) * resolution), in ms since the epoch. Staleness markers
// are not aggregated. Everything here is a pure function or a querier over an immutable block:
// thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "tyto/labels.h"
#include "tyto/storage.h"

namespace tyto::tsdb {

namespace block {
class Reader;
}

namespace rollup {

inline constexpr std::string_view kLabel = "__rollup__";
inline constexpr int64_t k5m = 5 * 60 * 1000;
inline constexpr int64_t k1h = 60 * 60 * 1000;

enum class Aggregate : uint8_t { kCount, kSum, kMin, kMax, kCounter };
inline constexpr Aggregate kAggregates[] = {Aggregate::kCount, Aggregate::kSum, Aggregate::kMin, Aggregate::kMax,
                                            Aggregate::kCounter};

// "count", "sum", "min", "max", "counter": the value of the `__rollup__` label.
std::string_view AggregateName(Aggregate a);

// The aggregates of one series over one block's samples; each in time order.
struct SeriesRollup {
  std::vector<Sample> count;
  std::vector<Sample> sum;
  std::vector<Sample> min;
  std::vector<Sample> max;
  // The first sample's raw value at its time; then, per window, the reset-adjusted running
  // value at the window's last sample; then the last raw value again at that same time (the
  // "tail"), so a reader can continue the count across blocks. Empty if no sample is a number.
  std::vector<Sample> counter;

  std::vector<Sample>& Of(Aggregate a);
};

// Aggregates `samples` (time order, as a block stores them) over windows of `resolution` ms.
SeriesRollup Compute(const std::vector<std::pair<int64_t, double>>& samples, int64_t resolution);

// The aggregate that answers `func` (a PromQL function or aggregation, SelectHints::func);
// nullopt for the average per window (sum / count), the answer when no aggregate fits.
std::optional<Aggregate> ForFunction(std::string_view func);

// L + {__rollup__="<a>"}; kInvalidArgument if L already has a `__rollup__` label.
Result<Labels> WithAggregate(const Labels& labels, Aggregate a);
// L without its `__rollup__` label.
Labels Strip(const Labels& labels);

// Joins the counter aggregates (or raw samples) of one series from consecutive sources, in time
// order, into one counter that never decreases where the sources' counts continued: each
// source's samples are offset so that its first sample continues from the previous source's
// last raw value (a smaller first value is a reset, counted from 0). A rollup source is
// recognised by its tail (a last sample at the same time as the one before it); the tail is
// dropped, unless `keep_tail` and it is the last source's (for merging rollup blocks). NaN
// samples pass unchanged and do not take part.
std::unique_ptr<SeriesIterator> NewCounterChainIterator(std::vector<std::unique_ptr<SeriesIterator>> sources,
                                                        bool keep_tail);

// Reads a rollup block over [mint, maxt]: series without the `__rollup__` label, whose samples
// are the aggregate `hints.func` asks for (ForFunction), or sum / count per window.
std::unique_ptr<Querier> NewBlockQuerier(std::shared_ptr<block::Reader> block, int64_t mint, int64_t maxt);

// The blocks' (time order, not overlapping) and then `raw`'s samples as one querier: the
// counter aggregate is joined by NewCounterChainIterator, anything else in order.
std::unique_ptr<Querier> NewTieredQuerier(std::vector<std::shared_ptr<block::Reader>> rollup_blocks,
                                          std::unique_ptr<Querier> raw, int64_t mint, int64_t maxt);

}  // namespace rollup
}  // namespace tyto::tsdb
