#include "tsdb/db.h"

#include <algorithm>
#include <map>
#include <set>

#include "common/log.h"
#include "tsdb/block/block.h"
#include "tsdb/chunk/chunk.h"
#include "tsdb/compact.h"
#include "tsdb/querier.h"
#include "tsdb/rollup.h"

namespace tyto::tsdb {
namespace {

const log::Logger kLog("tsdb");

// The tiers, finest first, and the multiples of the block range their blocks are merged into:
// raw 2 h -> 6 h -> 24 h; rollups (written from 24 h raw blocks) -> 7 d, and for 1 h -> 28 d.
struct Tier {
  int64_t resolution_ms;
  std::vector<int64_t> multiples;
};
const Tier kTiers[] = {{0, {1, 3, 12}}, {rollup::k5m, {12, 84}}, {rollup::k1h, {12, 84, 336}}};

bool Overlaps(const block::Meta& m, int64_t mint, int64_t maxt) { return m.max_time >= mint && m.min_time <= maxt; }

void SortBlocks(std::vector<std::shared_ptr<block::Reader>>* blocks) {
  std::sort(blocks->begin(), blocks->end(), [](const auto& a, const auto& b) {
    const block::Meta &x = a->meta(), &y = b->meta();
    if (x.min_time != y.min_time) return x.min_time < y.min_time;
    if (x.resolution_ms != y.resolution_ms) return x.resolution_ms < y.resolution_ms;
    return x.id < y.id;
  });
}

}  // namespace

DB::DB(Env* env, std::string dir, DBOptions options)
    : env_(env), dir_(std::move(dir)), blocks_dir_(dir_ + "/blocks"), options_(options) {}

DB::~DB() { (void)Close(); }

Result<std::unique_ptr<DB>> DB::Open(Env* env, const std::string& dir, DBOptions options,
                                     instrumentation::Registry* registry) {
  std::unique_ptr<DB> db(new DB(env, dir, options));
  if (registry == nullptr) {
    db->own_registry_ = std::make_unique<instrumentation::Registry>();
    registry = db->own_registry_.get();
  }
  db->blocks_corrupted_ = &registry->AddCounter("tyto_tsdb_blocks_corrupted_total",
                                                "Blocks found damaged: not opened at start (their data is not "
                                                "served), or a read failing its checksum (queries reading that part fail).")
                               .WithLabels({});
  if (!options.head.read_only) {
    TYTO_RETURN_IF_ERROR(env->CreateDirs(db->blocks_dir_));
    TYTO_RETURN_IF_ERROR(block::CleanupTemporary(env, db->blocks_dir_));
  }
  auto dirs = env->FileExists(db->blocks_dir_) ? block::ListBlocks(env, db->blocks_dir_)
                                               : Result<std::vector<std::string>>(std::vector<std::string>{});
  if (!dirs.ok()) return dirs.status();
  int64_t persisted_before = INT64_MIN;
  {
    MutexLock lock(&db->blocks_mu_);
    for (const std::string& d : *dirs) {
      auto r = db->OpenBlock(d);
      if (!r.ok()) {
        // A damaged block is left where it is for inspection, and its data is not served.
        db->ReportDamage(d, r.status());
        continue;
      }
      db->blocks_.push_back(std::move(r).value());
    }
    // A block named in the sources of another complete block was merged into it; a crash
    // came between writing the new block and removing this one. Its data is in the new one.
    std::set<std::string> merged;
    for (const auto& b : db->blocks_) merged.insert(b->meta().sources.begin(), b->meta().sources.end());
    std::vector<std::shared_ptr<block::Reader>> live;
    for (auto& b : db->blocks_) {
      if (merged.count(b->meta().id) == 0) {
        live.push_back(std::move(b));
        continue;
      }
      if (options.head.read_only) continue;
      kLog.Info("removing a block left by an interrupted compaction", {{"block", b->dir()}});
      TYTO_RETURN_IF_ERROR(block::Remove(env, b->dir()).WithContext("removing compacted block " + b->meta().id));
    }
    db->blocks_ = std::move(live);
    SortBlocks(&db->blocks_);
    for (const auto& b : db->blocks_) persisted_before = std::max(persisted_before, b->meta().max_time + 1);
  }
  options.head.persisted_before = std::max(options.head.persisted_before, persisted_before);
  db->options_.head = options.head;
  TYTO_ASSIGN_OR_RETURN(db->head_, Head::Open(env, dir + "/wal", options.head, registry));
  db->blocks_written_ = &registry->AddCounter("tyto_tsdb_blocks_written_total", "Blocks cut from the head.").WithLabels({});
  db->blocks_removed_ = &registry->AddCounter("tyto_tsdb_blocks_removed_total", "Blocks removed by retention.").WithLabels({});
  db->maintenance_failures_ = &registry->AddCounter("tyto_tsdb_maintenance_failures_total",
                                                    "Block cuts, compactions or retention passes that failed.").WithLabels({});
  db->compactions_ = &registry->AddCounter("tyto_tsdb_compactions_total",
                                           "Blocks written by merging blocks into a longer one.").WithLabels({});
  db->compaction_failures_ = &registry->AddCounter("tyto_tsdb_compaction_failures_total",
                                                   "Block merges that failed (the source blocks stay).").WithLabels({});
  db->rollups_written_ = &registry->AddCounter("tyto_tsdb_rollup_blocks_written_total",
                                               "Rollup blocks (5 m, 1 h) written from raw blocks before retention removed them.")
                             .WithLabels({});
  db->rollup_series_skipped_ = &registry->AddCounter("tyto_tsdb_rollup_series_skipped_total",
                                                     "Series left out of rollups because they carry the reserved __rollup__ label.")
                                   .WithLabels({});
  DB* raw = db.get();
  registry->AddCallback("tyto_tsdb_blocks", "Blocks on disk.", instrumentation::Type::kGauge,
                        [raw] { return static_cast<double>(raw->num_blocks()); });
  registry->AddCallback("tyto_tsdb_blocks_bytes", "Bytes of the blocks on disk.", instrumentation::Type::kGauge,
                        [raw] { return static_cast<double>(raw->blocks_bytes()); });
  return db;
}

Result<std::shared_ptr<block::Reader>> DB::OpenBlock(const std::string& block_dir) {
  TYTO_ASSIGN_OR_RETURN(auto reader, block::Reader::Open(env_, block_dir));
  reader->OnDamage([this, block_dir](const Status& error) { ReportDamage(block_dir, error); });
  return std::shared_ptr<block::Reader>(std::move(reader));
}

void DB::ReportDamage(const std::string& block_dir, const Status& error) {
  {
    MutexLock lock(&damage_mu_);
    if (!damaged_.insert(block_dir).second) return;
  }
  blocks_corrupted_->Inc();
  kLog.Error("block damaged: what cannot be read is not served; the other blocks and the head are",
             {{"block", block_dir}, {"error", error}});
}

std::unique_ptr<Appender> DB::NewAppender() { return head_->NewAppender(); }

Result<std::unique_ptr<Querier>> DB::NewQuerier(int64_t mint, int64_t maxt) {
  if (mint > maxt) return InvalidArgument("query range start " + std::to_string(mint) + " is after its end " + std::to_string(maxt));
  std::vector<std::unique_ptr<Querier>> qs;
  std::vector<std::shared_ptr<block::Reader>> rollups;
  {
    MutexLock lock(&blocks_mu_);
    // Raw samples wherever they exist; where they do not, the finest rollup that does not
    // overlap finer data (rollup blocks replace whole raw blocks, so they fit between them).
    std::vector<std::pair<int64_t, int64_t>> covered;
    if (head_->min_time() <= head_->max_time()) covered.emplace_back(head_->min_time(), INT64_MAX);
    for (const auto& b : blocks_) {
      if (b->meta().resolution_ms != 0) continue;
      covered.emplace_back(b->meta().min_time, b->meta().max_time);
      if (Overlaps(b->meta(), mint, maxt)) qs.push_back(NewBlockQuerier(b, mint, maxt));
    }
    for (const Tier& tier : kTiers) {
      if (tier.resolution_ms == 0) continue;
      std::vector<std::pair<int64_t, int64_t>> tier_covered;
      for (const auto& b : blocks_) {
        const block::Meta& m = b->meta();
        if (m.resolution_ms != tier.resolution_ms) continue;
        bool finer = std::any_of(covered.begin(), covered.end(),
                                 [&](const auto& c) { return m.max_time >= c.first && m.min_time <= c.second; });
        if (finer) continue;
        tier_covered.emplace_back(m.min_time, m.max_time);
        if (Overlaps(m, mint, maxt)) rollups.push_back(b);
      }
      covered.insert(covered.end(), tier_covered.begin(), tier_covered.end());
    }
  }
  TYTO_ASSIGN_OR_RETURN(auto head_q, head_->NewQuerier(mint, maxt));
  qs.push_back(std::move(head_q));
  auto raw = NewMergeQuerier(std::move(qs));
  if (rollups.empty()) return raw;
  SortBlocks(&rollups);
  return rollup::NewTieredQuerier(std::move(rollups), std::move(raw), mint, maxt);
}

Result<int> DB::WriteBlock(int64_t mint, int64_t maxt, const std::vector<SeriesSamples>& collected) {
  if (collected.empty()) return 0;
  // Each series' samples, re-encoded for the block with the best encoding, in chunks of up to
  // kBlockChunkSamples. A freshly cut block holds the newest data, which instant queries ("now",
  // alerts) read: chunks as short as the head's (and Prometheus's) keep such a read to at most
  // 120 samples decoded per series. 480 (2 h at 15 s) cost 3.7% fewer bytes but made an instant
  // query over many series 1.4 times slower (docs/performance.md); compaction merges into longer
  // chunks (kCompactedChunkSamples) once the data is older.
  constexpr size_t kBlockChunkSamples = 120;
  std::vector<std::unique_ptr<chunk::Chunk>> owned;
  std::vector<block::SeriesData> series;
  series.reserve(collected.size());
  for (const auto& [labels, samples] : collected) {
    if (samples.empty()) continue;
    block::SeriesData sd{labels, {}};
    AppendChunks(samples, kBlockChunkSamples, &owned, &sd);
    series.push_back(std::move(sd));
  }
  block::Meta meta;
  meta.id = block::NewId(mint);
  meta.min_time = mint;
  meta.max_time = maxt;
  auto written = block::Write(env_, blocks_dir_, meta, series);
  if (!written.ok()) return written.status();
  auto reader = OpenBlock(blocks_dir_ + "/" + written->id);
  if (!reader.ok()) return reader.status();
  {
    MutexLock lock(&blocks_mu_);
    blocks_.push_back(std::move(reader).value());
    SortBlocks(&blocks_);
  }
  blocks_written_->Inc();
  kLog.Info("block written", {{"id", written->id},
                              {"series", written->num_series},
                              {"samples", written->num_samples},
                              {"min_time", mint},
                              {"max_time", maxt}});
  return 1;
}

Result<int> DB::PersistRange(int64_t mint, int64_t maxt) {
  TYTO_ASSIGN_OR_RETURN(int written, WriteBlock(mint, maxt, head_->CollectRange(mint, maxt)));
  // The block is durable (or there was nothing to keep): the head can let go of the range.
  TYTO_RETURN_IF_ERROR(head_->Truncate(maxt + 1));
  return written;
}

Result<int> DB::Import(std::vector<SeriesSamples> series, const std::function<void(size_t done, size_t total)>& progress) {
  MutexLock lock(&cut_mu_);
  const int64_t range = options_.head.block_range.count();
  // Split every series by block range.
  std::map<int64_t, std::vector<SeriesSamples>> by_range;
  std::sort(series.begin(), series.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [labels, samples] : series) {
    size_t i = 0;
    while (i < samples.size()) {
      int64_t lo = BlockStart(samples[i].first, range);
      size_t j = i;
      while (j < samples.size() && samples[j].first < lo + range) ++j;
      by_range[lo].emplace_back(labels, std::vector<std::pair<int64_t, double>>(
                                            samples.begin() + static_cast<ptrdiff_t>(i), samples.begin() + static_cast<ptrdiff_t>(j)));
      i = j;
    }
  }
  // Refuse overlaps before writing anything.
  const int64_t head_min = head_->min_time();
  for (const auto& [lo, part] : by_range) {
    int64_t hi = lo + range - 1;
    if (head_->max_time() != INT64_MIN && hi >= head_min) {
      return FailedPrecondition("imported samples in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                                "] overlap data already in the head (from " + std::to_string(head_min) +
                                "); import older data only, or into a new data directory");
    }
    MutexLock blocks_lock(&blocks_mu_);
    for (const auto& b : blocks_) {
      if (Overlaps(b->meta(), lo, hi)) {
        return FailedPrecondition("imported samples in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                                  "] overlap block " + b->meta().id);
      }
    }
  }
  int written = 0;
  size_t done = 0;
  for (const auto& [lo, part] : by_range) {
    TYTO_ASSIGN_OR_RETURN(int n, WriteBlock(lo, lo + range - 1, part));
    written += n;
    if (progress) progress(++done, by_range.size());
  }
  // The head holds only newer samples (checked above); from now on it refuses samples in the
  // imported ranges too, as it does for blocks it cut, and compaction may merge them.
  if (!by_range.empty()) TYTO_RETURN_IF_ERROR(head_->Truncate(by_range.rbegin()->first + range));
  return written;
}

Result<int> DB::PersistOldestRanges(int64_t keep_span) {
  MutexLock lock(&cut_mu_);
  const int64_t range = options_.head.block_range.count();
  int written = 0;
  // Each pass persists the head's oldest range and truncates the head past it, so min_time
  // moves forward by at least a range; an empty head has min_time > max_time.
  while (head_->min_time() <= head_->max_time() && head_->max_time() - head_->min_time() > keep_span) {
    int64_t lo = BlockStart(head_->min_time(), range);
    TYTO_ASSIGN_OR_RETURN(int n, PersistRange(lo, lo + range - 1));
    written += n;
  }
  return written;
}

// Cut the oldest range while the head spans more than 1.5 ranges, as Prometheus does, so late
// samples within the window still land in the head.
Result<int> DB::CutBlocks() { return PersistOldestRanges(options_.head.block_range.count() * 3 / 2); }

Result<int> DB::Flush() { return PersistOldestRanges(-1); }

std::vector<std::shared_ptr<block::Reader>> DB::BlocksOf(int64_t resolution_ms) const {
  MutexLock lock(&blocks_mu_);
  std::vector<std::shared_ptr<block::Reader>> out;
  for (const auto& b : blocks_) {
    if (b->meta().resolution_ms == resolution_ms) out.push_back(b);
  }
  return out;
}

int64_t DB::Horizon(int64_t resolution_ms) const {
  // Raw blocks: the head refuses samples before persisted_before, so ranges ending before it
  // are complete. A rollup tier: up to where the next finer tier starts, so merged rollup
  // blocks never reach into time that finer data covers (queries pick whole blocks).
  if (resolution_ms == 0) return head_->persisted_before();
  int64_t finer_start = head_->min_time() <= head_->max_time() ? head_->min_time() : INT64_MAX;
  MutexLock lock(&blocks_mu_);
  for (const auto& b : blocks_) {
    if (b->meta().resolution_ms < resolution_ms) finer_start = std::min(finer_start, b->meta().min_time);
  }
  return finer_start;
}

Status DB::SwapIn(const block::Meta& written) {
  TYTO_ASSIGN_OR_RETURN(auto reader, OpenBlock(blocks_dir_ + "/" + written.id));
  std::vector<std::shared_ptr<block::Reader>> replaced;
  {
    MutexLock lock(&blocks_mu_);
    std::vector<std::shared_ptr<block::Reader>> kept;
    for (auto& b : blocks_) {
      const auto& src = written.sources;
      if (std::find(src.begin(), src.end(), b->meta().id) != src.end()) {
        replaced.push_back(std::move(b));
      } else {
        kept.push_back(std::move(b));
      }
    }
    kept.push_back(std::move(reader));
    SortBlocks(&kept);
    blocks_ = std::move(kept);
  }
  // Queries that hold a replaced block keep reading its mapping after its files are gone. A
  // crash before the removal is finished leaves blocks that Open removes (they are sources).
  for (const auto& b : replaced) {
    TYTO_RETURN_IF_ERROR(block::Remove(env_, b->dir()).WithContext("removing block " + b->meta().id + " after merging it"));
  }
  return Status::Ok();
}

Result<bool> DB::CompactOnce(int64_t resolution_ms) {
  const Tier& tier = *std::find_if(std::begin(kTiers), std::end(kTiers),
                                   [&](const Tier& t) { return t.resolution_ms == resolution_ms; });
  std::chrono::milliseconds retention = resolution_ms == 0             ? options_.retention
                                        : resolution_ms == rollup::k5m ? options_.retention_5m
                                                                       : options_.retention_1h;
  auto blocks = BlocksOf(resolution_ms);
  std::vector<block::Meta> metas;
  for (const auto& b : blocks) metas.push_back(b->meta());
  auto plan = PlanCompaction(metas, CompactionRanges(options_.head.block_range.count(), tier.multiples, retention),
                             Horizon(resolution_ms));
  if (plan.empty()) return false;
  std::vector<std::shared_ptr<block::Reader>> sources;
  for (size_t i : plan) sources.push_back(blocks[i]);
  auto written = MergeBlocks(env_, blocks_dir_, sources);
  if (!written.ok()) return written.status().WithContext("merging " + std::to_string(sources.size()) + " blocks from " + sources.front()->meta().id);
  TYTO_RETURN_IF_ERROR(SwapIn(*written));
  compactions_->Inc();
  kLog.Info("blocks compacted", {{"id", written->id},
                                 {"sources", static_cast<uint64_t>(sources.size())},
                                 {"level", written->level},
                                 {"resolution_ms", resolution_ms},
                                 {"min_time", written->min_time},
                                 {"max_time", written->max_time}});
  return true;
}

Result<int> DB::Compact(const std::function<void(int merged)>& progress) {
  MutexLock lock(&cut_mu_);
  int written = 0;
  for (const Tier& tier : kTiers) {
    while (true) {
      auto more = CompactOnce(tier.resolution_ms);
      if (!more.ok()) {
        compaction_failures_->Inc();
        return more.status();
      }
      if (!*more) break;
      ++written;
      if (progress) progress(written);
    }
  }
  return written;
}

Status DB::EnsureRollup(const block::Reader& raw, int64_t resolution_ms) {
  const block::Meta& r = raw.meta();
  std::vector<std::string> replaces;
  for (const auto& b : BlocksOf(resolution_ms)) {
    const block::Meta& m = b->meta();
    if (!Overlaps(m, r.min_time, r.max_time)) continue;
    if (m.min_time <= r.min_time && m.max_time >= r.max_time) return Status::Ok();  // done before
    if (m.min_time >= r.min_time && m.max_time <= r.max_time) {
      replaces.push_back(m.id);  // rolled up from part of this block's data earlier
      continue;
    }
    kLog.Warn("raw block not rolled up: a rollup block overlaps part of it",
              {{"block", r.id}, {"rollup", m.id}, {"resolution_ms", resolution_ms}});
    return Status::Ok();
  }
  uint64_t skipped = 0;
  auto written = WriteRollup(env_, blocks_dir_, raw, resolution_ms, std::move(replaces), &skipped);
  rollup_series_skipped_->Inc(static_cast<double>(skipped));
  if (!written.ok()) return written.status().WithContext("rolling up block " + r.id);
  if (written->id.empty()) return Status::Ok();  // no samples to aggregate
  TYTO_RETURN_IF_ERROR(SwapIn(*written));
  rollups_written_->Inc();
  kLog.Info("rollup block written", {{"id", written->id},
                                     {"from", r.id},
                                     {"resolution_ms", resolution_ms},
                                     {"series", written->num_series}});
  return Status::Ok();
}

Result<int> DB::ApplyRetention() {
  MutexLock lock(&cut_mu_);
  auto retention_of = [this](int64_t resolution_ms) {
    return resolution_ms == 0 ? options_.retention : resolution_ms == rollup::k5m ? options_.retention_5m : options_.retention_1h;
  };
  int64_t newest = head_->max_time();
  for (const auto& b : BlocksOf(0)) newest = std::max(newest, b->meta().max_time);
  // Counts back from the newest sample; 0 keeps everything.
  auto too_old = [&](const block::Meta& m) {
    int64_t keep = retention_of(m.resolution_ms).count();
    return keep > 0 && newest != INT64_MIN && m.max_time < newest - keep;
  };
  // Raw data on its way out is rolled up first, into every tier that would keep it.
  for (const auto& raw : BlocksOf(0)) {
    if (!too_old(raw->meta())) continue;
    for (int64_t res : {rollup::k5m, rollup::k1h}) {
      block::Meta as_rollup = raw->meta();
      as_rollup.resolution_ms = res;
      if (!too_old(as_rollup)) TYTO_RETURN_IF_ERROR(EnsureRollup(*raw, res));
    }
  }
  std::vector<std::shared_ptr<block::Reader>> doomed;
  {
    MutexLock blocks_lock(&blocks_mu_);
    uint64_t total = 0;
    for (const auto& b : blocks_) total += b->size_bytes();
    // Oldest time first; at equal times the finest first, so a range's rollups outlive its raw
    // block.
    std::vector<std::shared_ptr<block::Reader>> by_age = blocks_;
    std::sort(by_age.begin(), by_age.end(), [](const auto& a, const auto& b) {
      const block::Meta &x = a->meta(), &y = b->meta();
      if (x.max_time != y.max_time) return x.max_time < y.max_time;
      return x.resolution_ms < y.resolution_ms;
    });
    std::set<const block::Reader*> gone;
    for (const auto& b : by_age) {
      bool too_big = options_.retention_bytes > 0 && total > options_.retention_bytes;
      if (too_old(b->meta()) || too_big) {
        total -= b->size_bytes();
        doomed.push_back(b);
        gone.insert(b.get());
      }
    }
    std::vector<std::shared_ptr<block::Reader>> kept;
    for (const auto& b : blocks_) {
      if (gone.count(b.get()) == 0) kept.push_back(b);
    }
    blocks_ = std::move(kept);
  }
  // Queries holding a block keep reading its mapping; the files go away with the last one.
  for (const auto& b : doomed) {
    TYTO_RETURN_IF_ERROR(block::Remove(env_, b->dir()));
    blocks_removed_->Inc();
    kLog.Info("block removed by retention", {{"id", b->meta().id},
                                             {"resolution_ms", b->meta().resolution_ms},
                                             {"max_time", b->meta().max_time}});
  }
  return static_cast<int>(doomed.size());
}

void DB::StartBackground(std::chrono::milliseconds every) {
  bg_ = std::thread([this, every] {
    while (true) {
      {
        MutexLock lock(&bg_mu_);
        bg_cv_.wait_for(bg_mu_.native(), every, [this]() NO_THREAD_SAFETY_ANALYSIS { return bg_stop_; });
        if (bg_stop_) return;
      }
      auto cut = CutBlocks();
      auto compacted = cut.ok() ? Compact() : Result<int>(cut.status());
      auto removed = compacted.ok() ? ApplyRetention() : Result<int>(compacted.status());
      if (!removed.ok()) {
        maintenance_failures_->Inc();
        kLog.Error("metrics engine maintenance failed; will retry", {{"error", removed.status()}});
      }
    }
  });
}

Status DB::Close() {
  {
    MutexLock lock(&bg_mu_);
    bg_stop_ = true;
  }
  bg_cv_.notify_all();
  if (bg_.joinable()) bg_.join();
  return head_ ? head_->Sync() : Status::Ok();
}

std::vector<block::Meta> DB::BlockMetas() const {
  MutexLock lock(&blocks_mu_);
  std::vector<block::Meta> out;
  for (const auto& b : blocks_) out.push_back(b->meta());
  return out;
}

std::vector<uint64_t> DB::BlockSizes() const {
  MutexLock lock(&blocks_mu_);
  std::vector<uint64_t> out;
  for (const auto& b : blocks_) out.push_back(b->size_bytes());
  return out;
}

size_t DB::num_blocks() const {
  MutexLock lock(&blocks_mu_);
  return blocks_.size();
}

uint64_t DB::blocks_bytes() const {
  MutexLock lock(&blocks_mu_);
  uint64_t n = 0;
  for (const auto& b : blocks_) n += b->size_bytes();
  return n;
}

}  // namespace tyto::tsdb
