#include "quality/ground_truth.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <utility>

#include "common/log.h"
#include "crypto/field_encryption.h"
#include "eventstore/sqlite.h"
#include "quality/metrics.h"

namespace tyto::quality {
namespace {

// The associated data of an encrypted correction (docs/format/keys.md, "Envelope").
constexpr std::string_view kCorrectionContext = "feedback.correction";

const log::Logger kLog("quality");

constexpr int kSlotsPerWindow = 24;
constexpr size_t kMaxPending = 1'000'000;  // predictions waiting for a commit; more are dropped (counted)

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS predictions(
  request_id TEXT NOT NULL,
  model TEXT NOT NULL,
  version TEXT NOT NULL,
  time_ms INTEGER NOT NULL,
  predicted TEXT NOT NULL,
  score REAL,
  segment TEXT NOT NULL,
  labelled INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(request_id, model)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS predictions_by_time ON predictions(time_ms);
CREATE TABLE IF NOT EXISTS feedback(
  id INTEGER PRIMARY KEY,
  time_ms INTEGER NOT NULL,
  request_id TEXT NOT NULL,
  model TEXT NOT NULL,
  version TEXT NOT NULL,
  predicted TEXT,
  score REAL,
  segment TEXT NOT NULL,
  label TEXT,
  rating REAL,
  correction TEXT NOT NULL,
  counted INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS feedback_by_time ON feedback(time_ms);
INSERT OR IGNORE INTO meta(key, value) VALUES('format', 1);
)sql";

const events::Field* FindField(const std::vector<events::Field>& fields, const std::string& name) {
  for (const events::Field& f : fields) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

bool IsPositiveWord(const std::string& s) { return s == "true" || s == "1" || s == "yes" || s == "positive"; }

}  // namespace

std::string FieldText(const events::Field& f) { return f.is_number ? inference::FormatLe(f.number) : f.text; }

GroundTruth::GroundTruth(const GroundTruthConfig& config, Metrics* metrics)
    : config_(config), metrics_(metrics), slot_ms_(std::max<int64_t>(config.window.count() / kSlotsPerWindow, 1000)) {}

GroundTruth::~GroundTruth() = default;

Result<std::unique_ptr<GroundTruth>> GroundTruth::Open(const GroundTruthConfig& config, const std::string& dir,
                                                       Metrics* metrics, int64_t now_ms,
                                                       std::shared_ptr<const crypto::FieldEncryption> encryption) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return IOError("cannot create " + dir + ": " + ec.message());
  std::unique_ptr<GroundTruth> gt(new GroundTruth(config, metrics));
  gt->encryption_ = std::move(encryption);
  const std::string path = dir + "/ground_truth.db";
  TYTO_ASSIGN_OR_RETURN(std::unique_ptr<eventstore::sqlite::Connection> db,
                        eventstore::sqlite::Connection::Open(path, eventstore::sqlite::Connection::Mode::kCreate));
  TYTO_RETURN_IF_ERROR(db->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;").WithContext(path));
  TYTO_RETURN_IF_ERROR(db->Exec(kSchema).WithContext(path));
  TYTO_ASSIGN_OR_RETURN(int64_t format, db->QueryInt("SELECT value FROM meta WHERE key = 'format'"));
  if (format != 1) return InvalidArgument(path + ": format " + std::to_string(format) + ", this Tyto reads 1");

  // The window's feedback, counted again.
  TYTO_ASSIGN_OR_RETURN(eventstore::sqlite::Statement read,
                        db->Prepare("SELECT time_ms, model, version, predicted, score, segment, label, rating, counted "
                                    "FROM feedback WHERE time_ms >= ?1 AND predicted IS NOT NULL ORDER BY id"));
  read.BindInt(1, now_ms - config.window.count());
  size_t n = 0;
  {
    MutexLock lock(&gt->mu_);
    while (true) {
      TYTO_ASSIGN_OR_RETURN(bool row, read.Step());
      if (!row) break;
      const std::string label(read.Text(6));
      const bool counted = read.Int(8) != 0;
      gt->Count({std::string(read.Text(1)), std::string(read.Text(2))}, read.Int(0),
                counted && !read.IsNull(6) ? &label : nullptr, std::string(read.Text(3)), read.Double(4),
                std::string(read.Text(5)), read.Double(7));
      ++n;
    }
  }
  read.Reset();
  if (n > 0) kLog.Info("ground truth read back", {{"feedback", std::to_string(n)}, {"path", path}});
  MutexLock lock(&gt->db_mu_);
  gt->db_ = std::move(db);
  return gt;
}

void GroundTruth::Record(const events::InferenceEvent& e) {
  if (e.request_id.empty() || e.model.empty()) return;
  const events::Field* predicted = FindField(e.prediction, config_.prediction_field);
  if (predicted == nullptr) return;
  Prediction p;
  p.request_id = e.request_id;
  p.model = e.model;
  p.version = e.model_version;
  p.time_ms = e.timestamp_ms;
  p.predicted = FieldText(*predicted);
  const events::Field* score = FindField(e.prediction, config_.score_field);
  p.score = score != nullptr && score->is_number ? score->number : std::nan("");
  if (!config_.segment_feature.empty()) {
    if (const events::Field* seg = FindField(e.features, config_.segment_feature)) p.segment = FieldText(*seg);
  }
  MutexLock lock(&pending_mu_);
  if (pending_.size() >= kMaxPending) {
    if (metrics_ != nullptr) metrics_->predictions_dropped.Inc();
    return;
  }
  pending_.push_back(std::move(p));
}

Status GroundTruth::Commit() {
  MutexLock lock(&db_mu_);
  return CommitLocked();
}

Status GroundTruth::CommitLocked() {
  std::vector<Prediction> batch;
  {
    MutexLock lock(&pending_mu_);
    batch.swap(pending_);
  }
  if (batch.empty()) return Status::Ok();
  TYTO_RETURN_IF_ERROR(db_->Exec("BEGIN"));
  Status st;
  auto insert = db_->Cached(
      "INSERT INTO predictions(request_id, model, version, time_ms, predicted, score, segment) "
      "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(request_id, model) DO UPDATE SET version = excluded.version, "
      "time_ms = excluded.time_ms, predicted = excluded.predicted, score = excluded.score, "
      "segment = excluded.segment");
  if (!insert.ok()) st = insert.status();
  for (size_t i = 0; st.ok() && i < batch.size(); ++i) {
    const Prediction& p = batch[i];
    eventstore::sqlite::Statement* s = *insert;
    s->BindText(1, p.request_id);
    s->BindText(2, p.model);
    s->BindText(3, p.version);
    s->BindInt(4, p.time_ms);
    s->BindText(5, p.predicted);
    s->BindDouble(6, p.score);
    s->BindText(7, p.segment);
    st = s->Run();
  }
  if (!st.ok()) {
    (void)db_->Exec("ROLLBACK");
    if (metrics_ != nullptr) metrics_->predictions_dropped.Inc(static_cast<double>(batch.size()));
    return st;
  }
  TYTO_RETURN_IF_ERROR(db_->Exec("COMMIT"));
  if (metrics_ != nullptr) metrics_->predictions_recorded.Inc(static_cast<double>(batch.size()));
  return Status::Ok();
}

Status GroundTruth::Erase(const std::vector<std::string>& request_ids, uint64_t* predictions, uint64_t* feedback) {
  *predictions = 0;
  *feedback = 0;
  if (request_ids.empty()) return Status::Ok();
  MutexLock lock(&db_mu_);
  TYTO_RETURN_IF_ERROR(CommitLocked());  // a noted prediction of one of them goes too
  TYTO_RETURN_IF_ERROR(db_->Exec("PRAGMA secure_delete=ON; BEGIN"));
  Status st;
  for (const auto& [table, count] : {std::pair<const char*, uint64_t*>{"predictions", predictions}, {"feedback", feedback}}) {
    Result<eventstore::sqlite::Statement*> del =
        db_->Cached(std::string("DELETE FROM ") + table + " WHERE request_id = ?1");
    if (!del.ok()) {
      st = del.status();
      break;
    }
    for (const std::string& id : request_ids) {
      (*del)->BindText(1, id);
      st = (*del)->Run();
      if (!st.ok()) break;
      *count += static_cast<uint64_t>(db_->Changes());
    }
    if (!st.ok()) break;
  }
  if (!st.ok()) {
    (void)db_->Exec("ROLLBACK");
    return st.WithContext("erasing from the quality monitor's ground truth");
  }
  TYTO_RETURN_IF_ERROR(db_->Exec("COMMIT"));
  if (*predictions + *feedback == 0) return Status::Ok();
  // The old pages are in the WAL: copy it in, empty it, and rewrite the file without free pages.
  TYTO_RETURN_IF_ERROR(db_->Exec("VACUUM"));
  TYTO_ASSIGN_OR_RETURN(int64_t busy, db_->QueryInt("PRAGMA wal_checkpoint(TRUNCATE)"));
  if (busy != 0) return Unavailable("erasing from the quality monitor's ground truth: the WAL is in use");
  return Status::Ok();
}

Result<FeedbackResult> GroundTruth::Ingest(const std::vector<events::Feedback>& items, int64_t now_ms) {
  FeedbackResult out;
  MutexLock lock(&db_mu_);
  Status committed = CommitLocked();
  if (!committed.ok()) kLog.Warn("predictions not written", {{"error", committed.message()}});
  TYTO_ASSIGN_OR_RETURN(eventstore::sqlite::Statement * by_model,
                        db_->Cached("SELECT model, version, predicted, score, segment, labelled FROM predictions "
                                    "WHERE request_id = ?1 AND model = ?2 AND time_ms >= ?3"));
  TYTO_ASSIGN_OR_RETURN(eventstore::sqlite::Statement * by_id,
                        db_->Cached("SELECT model, version, predicted, score, segment, labelled FROM predictions "
                                    "WHERE request_id = ?1 AND time_ms >= ?3 ORDER BY time_ms DESC LIMIT 1"));
  TYTO_ASSIGN_OR_RETURN(eventstore::sqlite::Statement * mark,
                        db_->Cached("UPDATE predictions SET labelled = 1 WHERE request_id = ?1 AND model = ?2"));
  TYTO_ASSIGN_OR_RETURN(
      eventstore::sqlite::Statement * store,
      db_->Cached("INSERT INTO feedback(time_ms, request_id, model, version, predicted, score, segment, label, rating, "
                  "correction, counted) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"));
  TYTO_RETURN_IF_ERROR(db_->Exec("BEGIN"));
  Status st;
  for (const events::Feedback& f : items) {
    eventstore::sqlite::Statement* q = f.model.empty() ? by_id : by_model;
    q->BindText(1, f.request_id);
    if (!f.model.empty()) q->BindText(2, f.model);
    q->BindInt(3, now_ms - config_.max_age.count());
    Result<bool> row = q->Step();
    if (!row.ok()) {
      st = row.status();
      q->Reset();
      break;
    }
    const bool found = *row;
    std::string model = f.model, version, predicted, segment;
    double score = std::nan("");
    bool labelled = false;
    if (found) {
      model = std::string(q->Text(0));
      version = std::string(q->Text(1));
      predicted = std::string(q->Text(2));
      score = q->Double(3);
      segment = std::string(q->Text(4));
      labelled = q->Int(5) != 0;
    }
    q->Reset();
    const std::string label = f.has_label ? FieldText(f.label) : std::string();
    bool counted = false;
    if (!found) {
      ++out.unmatched;
    } else if (f.has_label && labelled) {
      ++out.duplicate;
    } else {
      ++out.matched;
      counted = f.has_label;
    }
    if (found) {
      MutexLock window_lock(&mu_);
      // A duplicate label is not counted again; its rating still is.
      Count({model, version}, f.timestamp_ms, counted ? &label : nullptr, predicted, score, segment, f.rating);
    }
    if (counted) {
      mark->BindText(1, f.request_id);
      mark->BindText(2, model);
      st = mark->Run();
      if (!st.ok()) break;
    }
    store->BindInt(1, f.timestamp_ms);
    store->BindText(2, f.request_id);
    store->BindText(3, model);
    store->BindText(4, version);
    if (found) {
      store->BindText(5, predicted);
    } else {
      store->BindNull(5);
    }
    store->BindDouble(6, score);
    store->BindText(7, segment);
    if (f.has_label) {
      store->BindText(8, label);
    } else {
      store->BindNull(8);
    }
    store->BindDouble(9, f.rating);
    if (encryption_ != nullptr && !f.correction.empty()) {
      Result<std::string> sealed = encryption_->Seal(f.correction, kCorrectionContext);
      if (!sealed.ok()) {
        st = sealed.status();
        break;
      }
      store->BindBlob(10, *sealed, /*copy=*/true);
    } else {
      store->BindText(10, f.correction);
    }
    store->BindInt(11, counted ? 1 : 0);
    st = store->Run();
    if (!st.ok()) break;
  }
  if (!st.ok()) {
    (void)db_->Exec("ROLLBACK");
    return st;
  }
  TYTO_RETURN_IF_ERROR(db_->Exec("COMMIT"));
  if (metrics_ != nullptr) {
    metrics_->feedback.WithLabels({"matched"}).Inc(static_cast<double>(out.matched));
    metrics_->feedback.WithLabels({"unmatched"}).Inc(static_cast<double>(out.unmatched));
    metrics_->feedback.WithLabels({"duplicate"}).Inc(static_cast<double>(out.duplicate));
  }
  return out;
}

void GroundTruth::Count(const Key& key, int64_t time_ms, const std::string* label, const std::string& predicted,
                        double score, const std::string& segment, double rating) {
  std::vector<Bucket>& buckets = window_[key];
  const int64_t slot = time_ms / slot_ms_;
  auto it = std::find_if(buckets.begin(), buckets.end(), [slot](const Bucket& b) { return b.slot == slot; });
  if (it == buckets.end()) {
    buckets.emplace_back();
    buckets.back().slot = slot;
    it = buckets.end() - 1;
  }
  if (label != nullptr) {
    it->confusion.Add(*label, predicted);
    if (std::isfinite(score)) it->calibration.Add(std::clamp(score, 0.0, 1.0), *label == predicted);
    ++it->segment_pairs[segment][*label + '\t' + predicted];
  }
  if (std::isfinite(rating)) {
    it->rating_sum += rating;
    ++it->ratings;
  }
}

std::string GroundTruth::PositiveLabel(const stats::ConfusionMatrix& cm) const {
  if (!config_.positive_label.empty()) return config_.positive_label;
  const std::vector<std::string> classes = cm.classes();
  if (classes.size() != 2) return "";
  for (const std::string& c : classes) {
    if (IsPositiveWord(c)) return c;
  }
  return "";
}

GroundTruth::Bucket GroundTruth::Total(const std::vector<Bucket>& buckets, int64_t oldest) {
  Bucket t;
  for (const Bucket& b : buckets) {
    if (b.slot < oldest) continue;
    t.confusion.Merge(b.confusion);
    (void)t.calibration.Merge(b.calibration);  // always the same 10 bins
    t.rating_sum += b.rating_sum;
    t.ratings += b.ratings;
    for (const auto& [seg, m] : b.segment_pairs) {
      for (const auto& [pair, n] : m) t.segment_pairs[seg][pair] += n;
    }
  }
  return t;
}

std::vector<GroundTruth::Summary> GroundTruth::Summaries(int64_t now_ms) const {
  std::vector<Summary> out;
  const int64_t oldest = (now_ms - config_.window.count()) / slot_ms_;
  MutexLock lock(&mu_);
  for (const auto& [key, buckets] : window_) {
    const Bucket t = Total(buckets, oldest);
    const stats::ConfusionMatrix& cm = t.confusion;
    const stats::CalibrationBins& cal = t.calibration;
    Summary s;
    s.model = key.first;
    s.version = key.second;
    const double rating_sum = t.rating_sum;
    s.ratings = t.ratings;
    s.labelled = cm.total();
    s.accuracy = cm.Accuracy();
    s.macro_f1 = cm.MacroF1();
    s.calibration_error = cal.total() > 0 ? cal.ExpectedCalibrationError() : std::nan("");
    s.mean_rating = s.ratings > 0 ? rating_sum / static_cast<double>(s.ratings) : std::nan("");
    if (s.labelled > 0 || s.ratings > 0) out.push_back(std::move(s));
  }
  return out;
}

void GroundTruth::Flush(int64_t now_ms, inference::SeriesWriter& w) {
  const int64_t oldest = (now_ms - config_.window.count()) / slot_ms_;
  {
    MutexLock lock(&mu_);
    for (auto it = window_.begin(); it != window_.end();) {
      std::vector<Bucket>& buckets = it->second;
      buckets.erase(
          std::remove_if(buckets.begin(), buckets.end(), [oldest](const Bucket& b) { return b.slot < oldest; }),
          buckets.end());
      if (buckets.empty()) {
        it = window_.erase(it);
        continue;
      }
      const Bucket t = Total(buckets, oldest);
      const stats::ConfusionMatrix& cm = t.confusion;
      const stats::CalibrationBins& cal = t.calibration;
      const double rating_sum = t.rating_sum;
      const uint64_t ratings = t.ratings;
      const auto& pairs = t.segment_pairs;
      LabelsBuilder base;
      base.Set("model", it->first.first);
      base.Set("version", it->first.second);
      auto write = [&](const char* name, double v, std::initializer_list<std::pair<const char*, std::string>> extra) {
        if (!std::isfinite(v)) return;
        LabelsBuilder b = base;
        b.Set("__name__", name);
        for (const auto& [k, val] : extra) b.Set(k, val);
        w.Write(b.Build(), v);
      };
      if (cm.total() > 0) {
        write("tyto_quality_labelled_requests", static_cast<double>(cm.total()), {});
        write("tyto_quality_accuracy", cm.Accuracy(), {});
        write("tyto_quality_precision", cm.MacroPrecision(), {{"average", "macro"}});
        write("tyto_quality_recall", cm.MacroRecall(), {{"average", "macro"}});
        write("tyto_quality_f1", cm.MacroF1(), {{"average", "macro"}});
        const std::string positive = PositiveLabel(cm);
        if (!positive.empty()) {
          write("tyto_quality_precision", cm.Precision(positive), {{"average", "binary"}});
          write("tyto_quality_recall", cm.Recall(positive), {{"average", "binary"}});
          write("tyto_quality_f1", cm.F1(positive), {{"average", "binary"}});
          if (!config_.segment_feature.empty()) {
            std::map<std::string, stats::SegmentRates> rates;
            for (const auto& [seg, m] : pairs) {
              stats::SegmentRates& r = rates[seg];
              for (const auto& [pair, n] : m) {
                const size_t tab = pair.find('\t');
                const bool actual = pair.compare(0, tab, positive) == 0 && tab == positive.size();
                const bool predicted = pair.compare(tab + 1, std::string::npos, positive) == 0;
                r.n += n;
                if (predicted) r.predicted_positive += n;
                if (actual) r.actual_positive += n;
                if (actual && predicted) r.true_positive += n;
              }
            }
            write("tyto_quality_demographic_parity_difference", stats::DemographicParityDifference(rates),
                  {{"segment_feature", config_.segment_feature}});
            write("tyto_quality_equal_opportunity_difference", stats::EqualOpportunityDifference(rates),
                  {{"segment_feature", config_.segment_feature}});
          }
        }
        if (cal.total() > 0) write("tyto_quality_calibration_error", cal.ExpectedCalibrationError(), {});
      }
      if (ratings > 0) write("tyto_quality_user_rating", rating_sum / static_cast<double>(ratings), {});
      ++it;
    }
  }
  MutexLock lock(&db_mu_);
  Status st = CommitLocked();
  if (st.ok()) {
    Result<eventstore::sqlite::Statement*> prune = db_->Cached("DELETE FROM predictions WHERE time_ms < ?1");
    st = prune.status();
    if (prune.ok()) {
      (*prune)->BindInt(1, now_ms - config_.max_age.count());
      st = (*prune)->Run();
    }
  }
  if (st.ok()) {
    Result<eventstore::sqlite::Statement*> prune = db_->Cached("DELETE FROM feedback WHERE time_ms < ?1");
    st = prune.status();
    if (prune.ok()) {
      (*prune)->BindInt(1, now_ms - std::max(config_.max_age.count(), config_.window.count()));
      st = (*prune)->Run();
    }
  }
  if (!st.ok()) kLog.Warn("ground truth store", {{"error", st.message()}});
}

}  // namespace tyto::quality
