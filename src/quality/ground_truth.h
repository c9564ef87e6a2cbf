// GroundTruth: joins late feedback (POST /api/v1/feedback: true labels, user ratings, corrections)
// to the predictions of earlier requests, and turns the joined pairs into per-model-version
// accuracy, precision, recall, F1 (binary and macro), calibration error, mean rating and fairness
// gaps, written as series each flush.
//
// Every inference event with a request id and a predicted class (GroundTruthConfig's
// prediction_field) is kept in a small SQLite file, <data>/quality/ground_truth.db, for max_age,
// so that a label arriving days later, after restarts, still finds its prediction. Joined
// feedback is kept there too, and read back at start, so the window's metrics survive a restart.
// docs/format/quality.md has the tables.
//
// Thread-safe: Record and Ingest come from the ingest threads, Commit and Flush from the quality
// monitor's thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/mutex.h"
#include "events/model.h"
#include "inference/series_writer.h"
#include "quality/config.h"
#include "stats/classification.h"
#include "tyto/status.h"

namespace tyto::eventstore::sqlite {
class Connection;
}

namespace tyto::crypto {
class FieldEncryption;
}

namespace tyto::quality {

class Metrics;

// What became of a batch of feedback.
struct FeedbackResult {
  size_t matched = 0;    // joined to a prediction (or a request, for ratings)
  size_t unmatched = 0;  // no prediction with that request id within max_age
  size_t duplicate = 0;  // a second label for a request already labelled (not counted again)
};

class GroundTruth {
 public:
  // Opens (creating) `dir`/ground_truth.db and reads back the feedback of the last window.
  // With `encryption` (security.encryption_key_file), feedback corrections are stored as
  // AES-256-GCM envelopes (docs/format/quality.md); null: as given.
  static Result<std::unique_ptr<GroundTruth>> Open(const GroundTruthConfig& config, const std::string& dir,
                                                   Metrics* metrics, int64_t now_ms,
                                                   std::shared_ptr<const crypto::FieldEncryption> encryption = nullptr);
  ~GroundTruth();

  // Notes the prediction of `e` (when it has a request id and a predicted class); written by the
  // next Commit or Ingest.
  void Record(const events::InferenceEvent& e);
  // Writes the noted predictions.
  Status Commit();
  // Joins `items` to their predictions (committing the noted ones first), counts them in the
  // metrics, and stores them. `correction` text is stored as given: redact it before.
  Result<FeedbackResult> Ingest(const std::vector<events::Feedback>& items, int64_t now_ms);
  // Writes the metrics of the last window; deletes predictions older than max_age.
  void Flush(int64_t now_ms, inference::SeriesWriter& w);

  // Erasure (the right to be forgotten): deletes the predictions and feedback of these request
  // ids, with their pages zeroed (secure_delete), the file VACUUMed and its WAL truncated, so no
  // byte of them is left in the files. What they added to the window's counts stays (numbers,
  // not the requests). Counts into *predictions and *feedback.
  Status Erase(const std::vector<std::string>& request_ids, uint64_t* predictions, uint64_t* feedback)
      EXCLUDES(db_mu_);

  // The metrics of one model version, for the API.
  struct Summary {
    std::string model, version;
    uint64_t labelled = 0;
    double accuracy = 0, macro_f1 = 0, calibration_error = 0, mean_rating = 0;
    uint64_t ratings = 0;
  };
  std::vector<Summary> Summaries(int64_t now_ms) const;

 private:
  struct Prediction {
    std::string request_id, model, version, predicted, segment;
    int64_t time_ms = 0;
    double score = 0;  // NaN when not sent
  };
  // The feedback of one slice of the window for one model version.
  struct Bucket {
    int64_t slot = 0;
    stats::ConfusionMatrix confusion;
    stats::CalibrationBins calibration;
    double rating_sum = 0;
    uint64_t ratings = 0;
    std::map<std::string, std::map<std::string, uint64_t>> segment_pairs;  // segment -> "actual\tpredicted" -> n
  };
  // The buckets from slot `oldest` on, merged into one.
  static Bucket Total(const std::vector<Bucket>& buckets, int64_t oldest);
  using Key = std::pair<std::string, std::string>;  // model, version

  GroundTruth(const GroundTruthConfig& config, Metrics* metrics);
  Status CommitLocked() REQUIRES(db_mu_);
  // Adds one joined feedback to the window's buckets.
  void Count(const Key& key, int64_t time_ms, const std::string* label, const std::string& predicted, double score,
             const std::string& segment, double rating) REQUIRES(mu_);
  std::string PositiveLabel(const stats::ConfusionMatrix& cm) const;

  const GroundTruthConfig config_;
  std::shared_ptr<const crypto::FieldEncryption> encryption_;  // set by Open
  Metrics* const metrics_;
  const int64_t slot_ms_;

  Mutex pending_mu_;
  std::vector<Prediction> pending_ GUARDED_BY(pending_mu_);

  Mutex db_mu_;
  std::unique_ptr<eventstore::sqlite::Connection> db_ GUARDED_BY(db_mu_);

  mutable Mutex mu_;
  std::map<Key, std::vector<Bucket>> window_ GUARDED_BY(mu_);
};

// A field's value as the join compares it: a category as it is, a number in its shortest form.
std::string FieldText(const events::Field& f);

}  // namespace tyto::quality
