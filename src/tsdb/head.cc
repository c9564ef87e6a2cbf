// Head: opening, WAL replay, series creation and limits, and the commit path.
// Appending lives in head_append.cc, reading in head_read.cc.
#include "tsdb/head.h"

#include <algorithm>
#include <charconv>
#include <optional>

#include "common/log.h"
#include "tsdb/records.h"
#include "tsdb/wal/wal.h"

namespace tyto::tsdb {
namespace {

const log::Logger kLog("tsdb");

}  // namespace

Head::Head(Env* env, std::string wal_dir, HeadOptions options, instrumentation::Registry* registry)
    : env_(env), wal_dir_(std::move(wal_dir)), options_(options), persisted_before_(options.persisted_before) {
  if (registry == nullptr) {
    own_registry_ = std::make_unique<instrumentation::Registry>();
    registry = own_registry_.get();
  }
  samples_appended_ = &registry->AddCounter("tyto_tsdb_head_samples_appended_total",
                                            "Samples committed to the head.").WithLabels({});
  series_created_ = &registry->AddCounter("tyto_tsdb_head_series_created_total",
                                          "Series created in the head.").WithLabels({});
  series_removed_ = &registry->AddCounter("tyto_tsdb_head_series_removed_total",
                                          "Series removed from the head once all their samples were in blocks.")
                         .WithLabels({});
  auto& rejected = registry->AddCounter("tyto_tsdb_head_samples_rejected_total", "Samples refused, by reason.",
                                        {"reason"});
  rejected_out_of_order_ = &rejected.WithLabels({"out_of_order"});
  rejected_duplicate_ = &rejected.WithLabels({"duplicate"});
  ignored_equal_ = &registry->AddCounter("tyto_tsdb_head_samples_ignored_total",
                                         "Samples equal to one already stored (same timestamp and value), accepted and "
                                         "dropped: what a sender sent again.")
                        .WithLabels({});
  // One reason per limit, named as its option in the storage configuration.
  rejected_limit_ = {&rejected.WithLabels({"max_series"}),           &rejected.WithLabels({"max_series_per_metric"}),
                     &rejected.WithLabels({"max_label_count"}),      &rejected.WithLabels({"max_label_name_bytes"}),
                     &rejected.WithLabels({"max_label_value_bytes"}), &rejected.WithLabels({"invalid_labels"})};
  commits_failed_ = &registry->AddCounter("tyto_tsdb_head_commits_failed_total",
                                          "Commits that could not be written to the WAL.").WithLabels({});
  registry->AddCallback("tyto_tsdb_head_series", "Series in the head.", instrumentation::Type::kGauge,
                        [this] { return static_cast<double>(num_series_.load()); });
}

Head::~Head() {
  StopSyncThread();
  (void)Sync();
}

Result<std::unique_ptr<Head>> Head::Open(Env* env, const std::string& wal_dir, HeadOptions options,
                                         instrumentation::Registry* registry) {
  TYTO_RETURN_IF_ERROR(env->CreateDirs(wal_dir));
  std::unique_ptr<Head> head(new Head(env, wal_dir, options, registry));
  TYTO_RETURN_IF_ERROR(head->Replay());
  if (options.read_only) return head;
  auto writer = wal::Writer::Open(env, wal_dir);
  if (!writer.ok()) return writer.status();
  {
    MutexLock lock(&head->commit_mu_);
    head->wal_ = std::move(writer).value();
  }
  if (options.fsync == FsyncPolicy::kInterval) head->sync_thread_ = std::thread([h = head.get()] { h->SyncLoop(); });
  return head;
}

namespace {

constexpr std::string_view kCheckpointPrefix = "checkpoint.";

// The newest complete checkpoint in `dir`: its path and the last segment it covers.
std::optional<std::pair<std::string, uint64_t>> LatestCheckpoint(Env* env, const std::string& dir) {
  auto names = env->ListDir(dir);
  if (!names.ok()) return std::nullopt;
  std::optional<std::pair<std::string, uint64_t>> best;
  for (const std::string& n : *names) {
    if (n.rfind(kCheckpointPrefix, 0) != 0 || n.find(".tmp") != std::string::npos) continue;
    // A stray name (not all digits, or too large) is skipped, never trusted.
    std::string_view digits = std::string_view(n).substr(kCheckpointPrefix.size());
    uint64_t seg = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), seg);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) continue;
    if (!best || seg > best->second) best = {dir + "/" + n, seg};
  }
  return best;
}

}  // namespace

Status Head::ReplayDir(const std::string& dir, uint64_t from_segment, Status* damage, wal::Position* damage_at) {
  auto reader = wal::Reader::Open(env_, dir, from_segment);
  if (!reader.ok()) return reader.status();
  std::string record;
  std::vector<records::SeriesRecord> series;
  std::vector<records::SampleRecord> samples;
  while (true) {
    wal::Position before = (*reader)->position();
    if (!(*reader)->Next(&record)) {
      *damage = (*reader)->status();
      *damage_at = (*reader)->position();
      return Status::Ok();
    }
    ++replay_.records;
    auto type = records::TypeOf(record);
    Status st = type.ok() ? Status::Ok() : type.status();
    if (st.ok() && *type == records::Type::kSeries) {
      series.clear();
      st = records::DecodeSeries(record, &series);
      for (auto& s : series) {
        if (!st.ok()) break;
        MutexLock lock(&series_mu_);
        if (s.ref == 0 || s.ref > (1ull << 40)) {
          st = Corruption("WAL series record with ref " + std::to_string(s.ref));
          break;
        }
        if (s.ref <= by_ref_.size() && by_ref_[s.ref - 1]) continue;  // logged twice: keep the first
        InsertLocked(s.ref, s.labels.Hash(), s.labels)->logged = true;
        ++replay_.series;
      }
    } else if (st.ok()) {
      samples.clear();
      st = records::DecodeSamples(record, &samples);
      if (st.ok()) {
        const int64_t floor = persisted_before_.load();
        for (const auto& s : samples) {
          if (s.t < floor) continue;  // already in a block
          MemSeries* ms = Get(s.ref).get();  // replay runs alone: nothing removes series meanwhile
          if (ms == nullptr) {
            ++replay_.unknown_series_samples;
            continue;
          }
          if (ApplyLocked(ms, s.t, s.v)) NoteTime(s.t);
          ++replay_.samples;
        }
      }
    }
    if (!st.ok()) {
      // A record that frames correctly but does not decode: damage at its start.
      *damage = st;
      *damage_at = before;
      return Status::Ok();
    }
  }
}

Status Head::Replay() {
  MutexLock commit(&commit_mu_);
  uint64_t from = 0;
  if (auto cp = LatestCheckpoint(env_, wal_dir_)) {
    Status damage;
    wal::Position at;
    TYTO_RETURN_IF_ERROR(ReplayDir(cp->first, 0, &damage, &at));
    if (!damage.ok()) {
      // Checkpoints are written whole and renamed into place, so this is real corruption:
      // keep what was read and say so loudly.
      kLog.Error("WAL checkpoint damaged; keeping what could be read", {{"checkpoint", cp->first}, {"error", damage}});
      replay_.repaired = "checkpoint " + cp->first + ": " + damage.message();
    }
    from = cp->second + 1;
  }
  Status damage;
  wal::Position at;
  TYTO_RETURN_IF_ERROR(ReplayDir(wal_dir_, from, &damage, &at));
  if (!damage.ok() && options_.read_only) {
    replay_.repaired += "not repaired (read-only): " + damage.message();
  } else if (!damage.ok()) {
    auto what = wal::Repair(env_, wal_dir_, at);
    if (!what.ok()) return what.status().WithContext("repairing the WAL after " + damage.message());
    replay_.repaired += damage.message() + "; " + *what;
    kLog.Warn("WAL damaged; cut at the damage and kept everything before it",
              {{"error", damage.message()}, {"dropped", *what}});
  }
  if (replay_.records > 0) {
    kLog.Info("WAL replayed", {{"records", replay_.records},
                               {"series", replay_.series},
                               {"samples", replay_.samples},
                               {"unknown_series_samples", replay_.unknown_series_samples}});
  }
  return Status::Ok();
}

std::vector<std::shared_ptr<MemSeries>> Head::AllSeries() const {
  std::vector<std::shared_ptr<MemSeries>> all;
  MutexLock lock(&series_mu_);
  all.reserve(num_series_.load());
  for (const auto& s : by_ref_) {
    if (s) all.push_back(s);
  }
  return all;
}

std::vector<SeriesSamples> Head::CollectRange(int64_t mint, int64_t maxt) const {
  std::vector<SeriesSamples> out;
  for (const auto& s : AllSeries()) {
    MutexLock lock(&s->mu());
    if (s->empty() || s->max_time() < mint || s->min_time() > maxt) continue;
    auto samples = s->SamplesIn(mint, maxt);
    if (!samples.empty()) out.emplace_back(s->labels(), std::move(samples));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

Status Head::Truncate(int64_t boundary) {
  MutexLock commit(&commit_mu_);
  if (boundary <= persisted_before_.load()) return Status::Ok();
  persisted_before_ = boundary;
  {
    MutexLock lock(&series_mu_);
    for (const auto& s : by_ref_) {
      if (!s) continue;
      MutexLock series_lock(&s->mu());
      s->DropBefore(boundary);
    }
  }
  RemoveEmptySeries();
  min_time_ = std::max(min_time_.load(), boundary);
  if (!wal_) return Status::Ok();
  return WriteCheckpoint();
}

void Head::RemoveEmptySeries() {
  std::vector<std::pair<SeriesRef, Labels>> removed;
  {
    MutexLock lock(&series_mu_);
    for (auto& s : by_ref_) {
      if (!s || s->pending_appends.load() > 0) continue;
      {
        MutexLock series_lock(&s->mu());
        if (s->holds_samples()) continue;
      }
      auto& same_hash = by_hash_[s->labels().Hash()];
      same_hash.erase(std::remove(same_hash.begin(), same_hash.end(), s.get()), same_hash.end());
      if (same_hash.empty()) by_hash_.erase(s->labels().Hash());
      auto metric = per_metric_.find(std::string(s->labels().MetricName()));
      if (metric != per_metric_.end() && --metric->second == 0) per_metric_.erase(metric);
      removed.emplace_back(s->ref(), s->labels());
      s.reset();  // queries holding it keep it alive until they finish
      --num_series_;
    }
  }
  if (removed.empty()) return;
  index_.Remove(removed);
  series_removed_->Inc(static_cast<double>(removed.size()));
  kLog.Info("series without samples in memory removed from the head", {{"series", removed.size()}});
}

// Starts a new segment, writes every series and every sample still in memory into
// checkpoint.<last segment before it>, then deletes the segments the checkpoint replaces.
// Runs under the commit mutex, so no commit interleaves with the copy.
Status Head::WriteCheckpoint() {
  TYTO_RETURN_IF_ERROR(wal_->NextSegment());
  const uint64_t covers = wal_->segment() - 1;
  const std::string final_dir = wal_dir_ + "/" + std::string(kCheckpointPrefix) + wal::SegmentName(covers);
  const std::string tmp_dir = final_dir + ".tmp";
  TYTO_RETURN_IF_ERROR(env_->CreateDirs(tmp_dir));
  auto writer = wal::Writer::Open(env_, tmp_dir);
  if (!writer.ok()) return writer.status();
  std::vector<records::SeriesRecord> series;
  std::vector<records::SampleRecord> samples;
  std::string rec;
  auto flush_samples = [&]() -> Status {
    if (samples.empty()) return Status::Ok();
    rec.clear();
    records::EncodeSamples(samples, &rec);
    samples.clear();
    return (*writer)->Add(rec);
  };
  {
    MutexLock lock(&series_mu_);
    for (const auto& s : by_ref_) {
      if (s && s->logged) series.push_back({s->ref(), s->labels()});
    }
    std::vector<std::string> encoded;
    records::EncodeInRecords(series, {}, &encoded);
    for (const std::string& r : encoded) TYTO_RETURN_IF_ERROR((*writer)->Add(r));
    for (const auto& s : by_ref_) {
      if (!s || !s->logged) continue;
      MutexLock series_lock(&s->mu());
      if (s->empty()) continue;
      for (const auto& [t, v] : s->SamplesIn(INT64_MIN, INT64_MAX)) {
        samples.push_back({s->ref(), t, v});
        if (samples.size() >= records::kSamplesPerRecord) TYTO_RETURN_IF_ERROR(flush_samples());
      }
    }
  }
  TYTO_RETURN_IF_ERROR(flush_samples());
  TYTO_RETURN_IF_ERROR((*writer)->Close());
  TYTO_RETURN_IF_ERROR(env_->RenameFile(tmp_dir, final_dir));
  TYTO_RETURN_IF_ERROR(env_->SyncDir(wal_dir_));
  // The checkpoint is durable: the segments and older checkpoints it replaces can go.
  TYTO_RETURN_IF_ERROR(wal::DeleteSegmentsBefore(env_, wal_dir_, covers + 1));
  auto names = env_->ListDir(wal_dir_);
  if (names.ok()) {
    for (const std::string& n : *names) {
      if (n.rfind(kCheckpointPrefix, 0) == 0 && wal_dir_ + "/" + n != final_dir) {
        (void)RemoveTree(env_, wal_dir_ + "/" + n);
      }
    }
  }
  kLog.Info("WAL checkpoint written", {{"checkpoint", final_dir}, {"series", series.size()}});
  return Status::Ok();
}

std::shared_ptr<MemSeries> Head::Get(SeriesRef ref) const {
  MutexLock lock(&series_mu_);
  if (ref == 0 || ref > by_ref_.size()) return nullptr;
  return by_ref_[ref - 1];
}

MemSeries* Head::Pin(SeriesRef ref) const {
  MutexLock lock(&series_mu_);
  if (ref == 0 || ref > by_ref_.size() || !by_ref_[ref - 1]) return nullptr;
  MemSeries* s = by_ref_[ref - 1].get();
  ++s->pending_appends;
  return s;
}

Status Head::CheckLabels(const Labels& labels) const {
  if (labels.empty()) {
    rejected_limit_.invalid_labels->Inc();
    return InvalidArgument("series without labels");
  }
  if (labels.MetricName().empty()) {
    rejected_limit_.invalid_labels->Inc();
    return InvalidArgument("series " + labels.ToString() + " has no metric name");
  }
  if (options_.max_label_count && labels.size() > options_.max_label_count) {
    rejected_limit_.max_label_count->Inc();
    return ResourceExhausted("label count limit storage.max_label_count=" + std::to_string(options_.max_label_count) +
                             " exceeded: series " + labels.ToString() + " has " + std::to_string(labels.size()) +
                             " labels");
  }
  for (const Label& l : labels) {
    if (options_.max_label_name_bytes && l.name.size() > options_.max_label_name_bytes) {
      rejected_limit_.max_label_name_bytes->Inc();
      return ResourceExhausted("label name length limit storage.max_label_name_bytes=" +
                               std::to_string(options_.max_label_name_bytes) + " exceeded: label name '" +
                               l.name.substr(0, 64) + "...' is " + std::to_string(l.name.size()) + " bytes");
    }
    if (options_.max_label_value_bytes && l.value.size() > options_.max_label_value_bytes) {
      rejected_limit_.max_label_value_bytes->Inc();
      return ResourceExhausted("label value length limit storage.max_label_value_bytes=" +
                               std::to_string(options_.max_label_value_bytes) + " exceeded: the value of label '" +
                               l.name.substr(0, 64) + "' is " + std::to_string(l.value.size()) + " bytes");
    }
  }
  return Status::Ok();
}

Result<MemSeries*> Head::GetOrCreate(const Labels& labels) {
  const uint64_t hash = labels.Hash();
  {
    MutexLock lock(&series_mu_);
    if (auto it = by_hash_.find(hash); it != by_hash_.end()) {
      for (MemSeries* s : it->second) {
        if (s->labels() == labels) {
          ++s->pending_appends;
          return s;
        }
      }
    }
  }
  TYTO_RETURN_IF_ERROR(CheckLabels(labels));
  MutexLock lock(&series_mu_);
  // Looked up again: another appender may have created it meanwhile.
  if (auto it = by_hash_.find(hash); it != by_hash_.end()) {
    for (MemSeries* s : it->second) {
      if (s->labels() == labels) {
        ++s->pending_appends;
        return s;
      }
    }
  }
  if (options_.max_series && num_series_.load() >= options_.max_series) {
    rejected_limit_.max_series->Inc();
    return ResourceExhausted("series limit storage.max_series=" + std::to_string(options_.max_series) +
                             " reached; refusing new series " + labels.ToString());
  }
  if (options_.max_series_per_metric) {
    auto metric = per_metric_.find(std::string(labels.MetricName()));
    if (metric != per_metric_.end() && metric->second >= options_.max_series_per_metric) {
      rejected_limit_.max_series_per_metric->Inc();
      return ResourceExhausted("series limit storage.max_series_per_metric=" +
                               std::to_string(options_.max_series_per_metric) + " reached for metric " +
                               std::string(labels.MetricName()) + "; refusing new series " + labels.ToString());
    }
  }
  MemSeries* created = InsertLocked(by_ref_.size() + 1, hash, labels);
  ++created->pending_appends;
  series_created_->Inc();
  return created;
}

MemSeries* Head::InsertLocked(SeriesRef ref, uint64_t hash, const Labels& labels) {
  if (by_ref_.size() < ref) by_ref_.resize(ref);
  auto& slot = by_ref_[ref - 1];
  slot = std::make_shared<MemSeries>(ref, labels, options_.chunk_samples, options_.block_range.count());
  by_hash_[hash].push_back(slot.get());
  ++per_metric_[std::string(labels.MetricName())];
  index_.Add(ref, labels);
  ++num_series_;
  return slot.get();
}

void Head::NoteTime(int64_t t) {
  int64_t cur = min_time_.load();
  while (t < cur && !min_time_.compare_exchange_weak(cur, t)) {
  }
  cur = max_time_.load();
  while (t > cur && !max_time_.compare_exchange_weak(cur, t)) {
  }
}

bool Head::ApplyLocked(MemSeries* s, int64_t t, double v) {
  if (t < persisted_before_.load()) {
    // Checked at Append; a block cut happened between Append and Commit.
    rejected_out_of_order_->Inc();
    return false;
  }
  MutexLock lock(&s->mu());
  Verdict verdict = s->Check(t, v, options_.out_of_order_window.count());
  switch (verdict) {
    case Verdict::kAppend:
    case Verdict::kInsertOutOfOrder:
      s->Add(t, v, verdict);
      return true;
    case Verdict::kIgnore: ignored_equal_->Inc(); break;
    // A concurrent commit got there first; replay meets the same order and drops it too.
    case Verdict::kTooOld: rejected_out_of_order_->Inc(); break;
    case Verdict::kDuplicate: rejected_duplicate_->Inc(); break;
  }
  return false;
}

Status Head::CommitBatch(std::vector<PendingSample>& batch) {
  if (batch.empty()) return Status::Ok();
  MutexLock lock(&commit_mu_);
  if (!wal_error_.ok()) return wal_error_;
  if (!wal_) return FailedPrecondition("the head was opened read-only");
  std::vector<records::SeriesRecord>& new_series = commit_series_;
  std::vector<records::SampleRecord>& samples = commit_samples_;
  std::vector<MemSeries*>& to_mark = commit_marked_;
  new_series.clear();
  samples.clear();
  to_mark.clear();
  samples.reserve(batch.size());
  for (const PendingSample& p : batch) {
    if (!p.series->logged) {
      p.series->logged = true;  // set now so the batch logs it once; undone below on failure
      to_mark.push_back(p.series);
      new_series.push_back({p.series->ref(), p.series->labels()});
    }
    samples.push_back({p.series->ref(), p.t, p.v});
  }
  // However large the batch, records stay well under the WAL's limit. They all go out in one
  // write; a crash in its middle may keep part of this (unacknowledged) batch.
  records::EncodeInRecords(new_series, samples, &commit_records_);
  new_series.clear();  // their Labels are shared with the series: not kept past the commit
  std::vector<std::string_view> out(commit_records_.begin(), commit_records_.end());
  Status st = wal_->AddBatch(out);
  if (st.ok() && options_.fsync == FsyncPolicy::kAlways) {
    st = wal_->Sync();
  } else if (st.ok() && options_.fsync == FsyncPolicy::kInterval && !unsynced_) {
    // The first commit since the last sync sets when the sync thread must sync: this batch is
    // then at most fsync_interval unsynced, and so is every batch after it until that sync.
    unsynced_ = true;
    {
      MutexLock sync_lock(&sync_mu_);
      sync_due_ = std::chrono::steady_clock::now() + options_.fsync_interval;
    }
    sync_cv_.notify_one();
  }
  if (!st.ok()) {
    for (MemSeries* s : to_mark) s->logged = false;
    wal_error_ = st.WithContext("WAL write failed; the head accepts no more samples until restarted");
    commits_failed_->Inc();
    kLog.Error("WAL write failed; refusing further commits", {{"error", st}});
    return wal_error_;
  }
  int64_t lo = INT64_MAX, hi = INT64_MIN;  // of the samples applied
  for (const PendingSample& p : batch) {
    if (ApplyLocked(p.series, p.t, p.v)) {
      lo = std::min(lo, p.t);
      hi = std::max(hi, p.t);
    }
  }
  if (lo <= hi) {
    NoteTime(lo);
    NoteTime(hi);
  }
  samples_appended_->Inc(static_cast<double>(batch.size()));
  ReleaseCommitBuffersIfLarge();
  return Status::Ok();
}

void Head::ReleaseCommitBuffersIfLarge() {
  // An unusually large batch (a backfill) should not pin its buffers for the life of the head.
  constexpr size_t kKeepBytes = 8 << 20;
  if (commit_samples_.capacity() * sizeof(records::SampleRecord) > kKeepBytes) {
    std::vector<records::SampleRecord>().swap(commit_samples_);
    std::vector<std::string>().swap(commit_records_);
  }
  if (commit_marked_.capacity() * sizeof(MemSeries*) > kKeepBytes) std::vector<MemSeries*>().swap(commit_marked_);
  if (commit_series_.capacity() * sizeof(records::SeriesRecord) > kKeepBytes) {
    std::vector<records::SeriesRecord>().swap(commit_series_);
  }
}

Status Head::Sync() {
  MutexLock lock(&commit_mu_);
  if (!wal_ || !wal_error_.ok()) return wal_error_;
  unsynced_ = false;
  return wal_->Sync();
}

Status Head::SyncIfUnsynced() {
  MutexLock lock(&commit_mu_);
  if (!unsynced_ || !wal_ || !wal_error_.ok()) return wal_error_;
  unsynced_ = false;
  Status st = wal_->Sync();
  if (!st.ok()) {
    // The writer is unusable after a failed fdatasync (wal.h), so the head is too, as when a
    // commit's write fails.
    wal_error_ = st.WithContext("WAL fsync failed; the head accepts no more samples until restarted");
    kLog.Error("WAL fsync failed; refusing further commits", {{"error", st}});
    return wal_error_;
  }
  return st;
}

void Head::SyncLoop() {
  while (true) {
    {
      MutexLock lock(&sync_mu_);
      auto due = [this]() NO_THREAD_SAFETY_ANALYSIS {
        return sync_stop_ || std::chrono::steady_clock::now() >= sync_due_;
      };
      while (!due()) {
        if (sync_due_ == std::chrono::steady_clock::time_point::max()) {
          sync_cv_.wait(sync_mu_.native());
        } else {
          sync_cv_.wait_until(sync_mu_.native(), sync_due_);
        }
      }
      if (sync_stop_) return;
      sync_due_ = std::chrono::steady_clock::time_point::max();
    }
    (void)SyncIfUnsynced();  // a failure is logged there and fails the next commit
  }
}

void Head::StopSyncThread() {
  {
    MutexLock lock(&sync_mu_);
    sync_stop_ = true;
  }
  sync_cv_.notify_all();
  if (sync_thread_.joinable()) sync_thread_.join();
}

}  // namespace tyto::tsdb
