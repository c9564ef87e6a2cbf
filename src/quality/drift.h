// DriftMonitor: has what a model sees or predicts shifted? For each model it keeps, per column
// (each feature, each prediction field, token counts, latency, and the embedding), the current
// window as `slots` mergeable slices (quantile sketches for numbers, counts for categories, a
// reservoir of embeddings), and a reference: the first window after the model appeared (the
// baseline), a window frozen through the API, or a data set uploaded through the API. Memory per
// column is bounded whatever the traffic.
//
// Once per slice it compares each column's window with its reference using Evidently's default
// test for the column's type and reference size (stats::DefaultTest) or a configured one, corrects
// the p-values across the model's columns (Bonferroni by default), and flags the data set when a
// share of its columns drift; embeddings are compared with MMD and a permutation test. Results
// are written every flush as tyto_drift_* series (docs/quality.md).
//
// References are files under <data>/quality/drift/ (docs/format/quality.md), so a restart keeps
// them; the current window starts empty after a restart.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "common/mutex.h"
#include "events/model.h"
#include "inference/series_writer.h"
#include "quality/config.h"
#include "stats/category_counts.h"
#include "stats/drift.h"
#include "stats/quantile_sketch.h"
#include "stats/vector_reservoir.h"
#include "tyto/env.h"
#include "tyto/status.h"

namespace tyto::quality {

class Metrics;

// The column names of an event's values besides its features: "prediction" (a bare prediction)
// or "prediction.<name>", and these.
inline constexpr const char* kInputTokensColumn = "_input_tokens";
inline constexpr const char* kOutputTokensColumn = "_output_tokens";
inline constexpr const char* kLatencyColumn = "_latency_seconds";
inline constexpr const char* kEmbeddingColumn = "_embedding";

// One column's comparison.
struct ColumnResult {
  std::string column;
  std::string kind;  // "numeric", "categorical", "embedding"
  std::string test;  // "ks", ..., or "mmd"
  double statistic = 0;
  double p_value = 0;            // NaN for distance tests
  double corrected_p_value = 0;  // after the correction across columns; NaN for distance tests
  double threshold = 0;
  bool drift = false;
  uint64_t current_rows = 0;
  uint64_t reference_rows = 0;
  std::string note;
};

struct ModelDrift {
  std::string model;
  std::string state;             // "baseline" (collecting the reference), "tracking", "no_reference"
  std::string reference_source;  // "baseline", "current", "upload"; empty without one
  int64_t reference_created_ms = 0;
  uint64_t reference_rows = 0;
  uint64_t current_rows = 0;
  int64_t computed_ms = 0;  // when the results were computed; 0: not yet
  bool dataset_drift = false;
  double drift_share = 0;  // drifted / tested columns
  std::vector<ColumnResult> columns;
};

// A column's reference and current distributions side by side, for the UI.
struct ColumnHistogram {
  std::string column;
  stats::ComparedHistogram histogram;
};

class DriftMonitor {
 public:
  // References are kept under `dir` (created when needed).
  DriftMonitor(const DriftConfig& config, std::string dir, Env* env, Metrics* metrics);
  ~DriftMonitor();

  // Reads the references under dir; a damaged file is skipped with a warning (and left there).
  Status Load();

  void Observe(const std::vector<events::InferenceEvent>& events, int64_t now_ms);
  // Promotes finished baselines to references, recomputes results once per slice, writes series.
  void Flush(int64_t now_ms, inference::SeriesWriter& w);

  // The model's current window becomes its reference.
  Result<ModelDrift> SetReferenceFromCurrent(const std::string& model, int64_t now_ms);
  // A reference built from uploaded rows (their features, predictions, tokens, latency, embeddings).
  Result<ModelDrift> SetReferenceFromRows(const std::string& model, const std::vector<events::InferenceEvent>& rows,
                                          int64_t now_ms);
  // Drops the reference; a new baseline starts now.
  Status ResetReference(const std::string& model, int64_t now_ms);

  // As of `now_ms` (the current window's rows).
  std::vector<ModelDrift> Models(int64_t now_ms) const;
  Result<ModelDrift> Model(const std::string& model, int64_t now_ms) const;
  Result<std::vector<ColumnHistogram>> Histograms(const std::string& model, int64_t now_ms) const;
  size_t MemoryBytes() const;

  // One column's distribution: exactly one of the three, by kind.
  using Values = std::variant<stats::QuantileSketch, stats::CategoryCounts, stats::VectorReservoir>;

 private:
  struct Column {
    std::vector<Values> slots;  // by ring index
  };
  struct Reference {
    std::string source;
    int64_t created_ms = 0;
    uint64_t rows = 0;
    std::map<std::string, Values> columns;
  };
  struct State {
    std::map<std::string, Column> columns;
    std::vector<int64_t> slot_ids;  // by ring index: which slice it holds
    std::vector<uint64_t> slot_rows;
    std::unique_ptr<Reference> reference;
    int64_t baseline_start_ms = -1;  // collecting a baseline since then; -1: not
    ModelDrift last;                 // the results of the last computation
    int64_t last_slot_computed = -1;
  };

  Values NewValues(size_t kind) const;
  // Moves the ring to `slot`, clearing slices that fall out of the window; first, a baseline
  // whose window is complete becomes the reference (queued for Persist).
  void Advance(const std::string& model, State& s, int64_t slot) REQUIRES(mu_);
  void Add(State& s, size_t ring, const std::string& column, size_t kind, const events::InferenceEvent& e,
           const events::Field* f);
  // Bytes held by a model's window slices and reference.
  static size_t StateMemory(const State& s);
  // The current window of every column.
  std::map<std::string, Values> Window(const State& s, int64_t slot) const;
  uint64_t WindowRows(const State& s, int64_t slot) const;
  void Compute(const std::string& model, State& s, int64_t now_ms) const;
  Status Persist(const std::string& model, const Reference& r) const;
  std::string PathOf(const std::string& model) const;
  ModelDrift Describe(const std::string& model, const State& s, int64_t now_ms) const;

  const DriftConfig config_;
  const std::string dir_;
  Env* const env_;
  Metrics* const metrics_;
  const int64_t slot_ms_;

  mutable Mutex mu_;
  std::map<std::string, State> models_ GUARDED_BY(mu_);
  std::vector<std::pair<std::string, Reference>> to_persist_ GUARDED_BY(mu_);
};

// Calls fn(column, kind, field-or-null) for each value of `e` the drift monitor tracks; kind is
// 0 numeric, 1 categorical, 2 embedding. For token counts, latency and the embedding, field is
// null and the value is read from `e`.
void ForEachColumn(const events::InferenceEvent& e,
                   const std::function<void(const std::string&, size_t, const events::Field*)>& fn);

// A reference file's bytes, and back (docs/format/quality.md).
std::string EncodeReference(const std::string& model, const std::string& source, int64_t created_ms, uint64_t rows,
                            const std::map<std::string, DriftMonitor::Values>& columns);
struct DecodedReference {
  std::string model, source;
  int64_t created_ms = 0;
  uint64_t rows = 0;
  std::map<std::string, DriftMonitor::Values> columns;
};
Result<DecodedReference> DecodeReference(std::string_view bytes);

}  // namespace tyto::quality
