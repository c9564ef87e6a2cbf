// Online anomaly detectors for one series each, learned as values arrive, in bounded memory.
//
//   SeasonalBaseline  robust baseline per hour of the week (and, until enough weeks are seen,
//                     per hour of the day): median and MAD of recent values in the slot;
//                     score = |x - median| / (1.4826 MAD + floor).
//   TrendForecaster   Holt's linear trend (an EWMA of the level and of the slope); forecasts the
//                     seconds until the series crosses a threshold.
//   KMeansDetector    Netdata's way: feature vectors of the last few differenced, smoothed
//                     values; k-means (k = 2) trained on a recent window; a point's score is its
//                     distance to the nearest centroid over a high percentile of the training
//                     distances; several models trained at different times must all agree.
//
// Time is int64 milliseconds since the Unix epoch (the sample's time); values must be finite
// (callers skip NaN and infinities). Calls must come in non-decreasing time; an older time is
// ignored. None is thread-safe: the runner (runner.h) owns each detector under its lock.
// MemoryBytes() is what one detector holds (its object and its buffers), the figure
// docs/anomaly.md gives per series.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tyto::anomaly {

// What a detector says about one point. `ready` is false while it is still learning (no score).
struct Verdict {
  bool ready = false;
  double score = 0;        // >= 0; larger is more anomalous
  bool anomalous = false;  // score >= the detector's threshold (for trends: a breach within the horizon)
  // TrendForecaster only: seconds until the forecast crosses the threshold (0: already beyond
  // it; +Inf: not heading there).
  double forecast_seconds = std::numeric_limits<double>::infinity();
};

struct SeasonalOptions {
  // Values kept per slot (a ring); each visit of a slot (one hour) keeps at most
  // values_per_slot / seasons of them, evenly spread over the hour, so a slot holds `seasons`
  // visits.
  int values_per_slot = 24;
  int seasons = 3;
  // A slot scores once it has values from this many visits (weeks for hour-of-week slots, days
  // for the hour-of-day fallback).
  int min_seasons = 2;
  double threshold = 5;  // score at or above which a point is anomalous
  // The MAD is floored at max(min_spread, relative_spread x |median|), so a flat series does not
  // turn every small step into a huge score.
  double min_spread = 1e-9;
  double relative_spread = 0.02;
};

class SeasonalBaseline {
 public:
  static constexpr int kWeekSlots = 168;
  static constexpr int kDaySlots = 24;

  explicit SeasonalBaseline(const SeasonalOptions& options = {});

  // Scores `value` against its slot (hour of week when that slot has min_seasons visits, else
  // hour of day when that has, else not ready), then learns it.
  Verdict Observe(int64_t t_ms, double value);
  size_t MemoryBytes() const;

  // The learned state, appended to *out (docs/format/anomaly_models.md). Load replaces the state
  // with one saved by a detector with the same options; false, state unchanged, on anything else.
  void Save(std::string* out) const;
  [[nodiscard]] bool Load(std::string_view in);

  // Slot statistics, for tests: hour-of-week slot `slot` (0 = Monday 00:00-01:00 UTC) and
  // hour-of-day slot (0 = 00:00-01:00 UTC); nullopt when the slot is empty.
  struct Stats {
    double median = 0;
    double mad = 0;
    int visits = 0;
  };
  std::optional<Stats> WeekSlot(int slot) const;
  std::optional<Stats> DaySlot(int slot) const;

 private:
  struct Slot {
    int64_t visit_hour = -1;  // the hour (since the epoch) of the current visit
    int last_bucket = -1;     // the part of the hour whose value was kept last in this visit
    int visits = 0;           // visits seen (the current one included)
    int next = 0;             // ring position
    int size = 0;             // values in the ring
  };
  void Learn(Slot& slot, float* ring, int64_t t_ms, double value);
  std::optional<Stats> StatsOf(const Slot& slot, const float* ring) const;

  SeasonalOptions options_;
  int per_visit_;
  std::vector<Slot> week_, day_;
  std::vector<float> week_values_, day_values_;  // slot-major rings of values_per_slot
  int64_t last_t_ = std::numeric_limits<int64_t>::min();
};

struct TrendOptions {
  double alpha = 0.3;   // level smoothing, (0, 1]
  double beta = 0.1;   // slope smoothing, (0, 1]
  double threshold = 0;  // the value whose crossing is forecast
  bool above = true;     // the breach is going above the threshold (false: below)
  // A forecast breach within this many seconds is anomalous; the score is horizon / seconds.
  double horizon_seconds = 3600;
  int min_samples = 10;  // no forecast before this many values
};

class TrendForecaster {
 public:
  explicit TrendForecaster(const TrendOptions& options);

  // Updates level and slope with `value`, then forecasts.
  Verdict Observe(int64_t t_ms, double value);
  size_t MemoryBytes() const { return sizeof(*this); }
  void Save(std::string* out) const;  // as SeasonalBaseline's
  [[nodiscard]] bool Load(std::string_view in);

  double level() const { return level_; }
  double slope_per_second() const { return slope_; }

 private:
  TrendOptions options_;
  int64_t last_t_ = 0;
  int samples_ = 0;
  double level_ = 0;
  double slope_ = 0;  // per second
};

struct KMeansOptions {
  int diff_n = 1;     // values are differenced this many times (0: raw values)
  int smooth_n = 3;   // then averaged over this many
  int lag_n = 5;      // a feature vector is the current smoothed value and this many before it
  int train_window = 360;  // values kept for training (6 hours at 1 minute)
  int min_train = 120;     // a first model is trained once this many values are kept
  int train_every = 60;    // then another every this many values
  int models = 3;          // models kept; all of them must agree
  double percentile = 99;  // of the training points' distances: a score of 1
  // Score at or above which a model calls a point anomalous. Netdata flags above the 99th
  // percentile itself; 1.5 times it cut false alarms on the simulated fleet from about 1% of
  // points to under one a day per series (docs/anomaly.md).
  double threshold = 1.5;
  int iterations = 20;     // of k-means per training
};

class KMeansDetector {
 public:
  explicit KMeansDetector(const KMeansOptions& options = {});

  // Learns `value`, trains when due, then scores the latest feature vector with every model:
  // ready once the first model is trained; the score is the smallest model score (every model
  // kept must agree), anomalous when that reaches the threshold.
  Verdict Observe(int64_t t_ms, double value);
  size_t MemoryBytes() const;
  void Save(std::string* out) const;  // as SeasonalBaseline's
  [[nodiscard]] bool Load(std::string_view in);
  int model_count() const { return static_cast<int>(models_.size()); }

 private:
  struct Model {
    std::vector<double> centroids;  // k x dims
    double scale = 1;               // the training distances' percentile (> 0)
  };
  int Dims() const { return options_.lag_n + 1; }
  // Feature vectors of the kept values, oldest first, each Dims() values.
  std::vector<double> Features() const;
  void Train();
  double Score(const Model& m, const double* x) const;

  KMeansOptions options_;
  std::vector<float> ring_;  // the last train_window values
  size_t next_ = 0;
  size_t size_ = 0;
  int since_training_ = 0;
  std::vector<Model> models_;  // oldest first, at most options_.models
  int64_t last_t_ = std::numeric_limits<int64_t>::min();
};

}  // namespace tyto::anomaly
