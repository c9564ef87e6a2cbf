#include "anomaly/detectors.h"

#include <algorithm>
#include <cmath>

namespace tyto::anomaly {

namespace {

constexpr int64_t kHourMs = 3'600'000;
// The Unix epoch was a Thursday: hour 0 of the epoch is hour 72 of a week starting on Monday.
constexpr int64_t kEpochHourOfWeek = 72;
// 1.4826 x MAD estimates the standard deviation of normally distributed values.
constexpr double kMadToSigma = 1.4826;
constexpr double kMaxScore = 1e6;
constexpr int kMaxVisits = 1 << 30;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

double MedianOf(std::vector<double>& v) {
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  double m = v[mid];
  if (v.size() % 2 == 0) {
    m = (m + *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid))) / 2;
  }
  return m;
}

}  // namespace

// --- SeasonalBaseline ---

SeasonalBaseline::SeasonalBaseline(const SeasonalOptions& options) : options_(options) {
  options_.values_per_slot = std::max(1, options_.values_per_slot);
  options_.seasons = std::clamp(options_.seasons, 1, options_.values_per_slot);
  options_.min_seasons = std::clamp(options_.min_seasons, 1, options_.seasons);
  per_visit_ = std::max(1, options_.values_per_slot / options_.seasons);
  week_.resize(kWeekSlots);
  day_.resize(kDaySlots);
  week_values_.resize(static_cast<size_t>(kWeekSlots) * options_.values_per_slot);
  day_values_.resize(static_cast<size_t>(kDaySlots) * options_.values_per_slot);
}

void SeasonalBaseline::Learn(Slot& slot, float* ring, int64_t t_ms, double value) {
  const int64_t hour = FloorDiv(t_ms, kHourMs);
  if (hour != slot.visit_hour) {
    slot.visit_hour = hour;
    slot.last_bucket = -1;
    // Counted without a cap at `seasons` (only against overflow): the current visit is not a
    // completed one, so a cap would leave min_seasons == seasons unreachable within an hour.
    slot.visits = std::min(slot.visits + 1, kMaxVisits);
  }
  // The part of the hour this value falls in: per_visit_ equal parts, the first value of each kept.
  const int64_t in_hour = t_ms - hour * kHourMs;
  const int bucket = static_cast<int>(in_hour * per_visit_ / kHourMs);
  if (bucket <= slot.last_bucket) return;
  slot.last_bucket = bucket;
  ring[slot.next] = static_cast<float>(value);
  slot.next = (slot.next + 1) % options_.values_per_slot;
  slot.size = std::min(slot.size + 1, options_.values_per_slot);
}

std::optional<SeasonalBaseline::Stats> SeasonalBaseline::StatsOf(const Slot& slot, const float* ring) const {
  if (slot.size == 0) return std::nullopt;
  std::vector<double> v(ring, ring + slot.size);
  Stats s;
  s.median = MedianOf(v);
  for (double& x : v) x = std::fabs(x - s.median);
  s.mad = MedianOf(v);
  s.visits = slot.visits;
  return s;
}

Verdict SeasonalBaseline::Observe(int64_t t_ms, double value) {
  Verdict out;
  if (t_ms < last_t_ || !std::isfinite(value)) return out;
  last_t_ = t_ms;
  const int64_t hour = FloorDiv(t_ms, kHourMs);
  const int week_slot = static_cast<int>(((hour + kEpochHourOfWeek) % kWeekSlots + kWeekSlots) % kWeekSlots);
  const int day_slot = static_cast<int>((hour % kDaySlots + kDaySlots) % kDaySlots);
  const size_t n = static_cast<size_t>(options_.values_per_slot);
  float* week_ring = &week_values_[static_cast<size_t>(week_slot) * n];
  float* day_ring = &day_values_[static_cast<size_t>(day_slot) * n];

  // Visits of the current hour count only once the hour is over: a slot is judged by completed
  // seasons, so the current visit must not count towards min_seasons.
  auto completed = [&](const Slot& s) { return s.visit_hour == hour ? s.visits - 1 : s.visits; };
  std::optional<Stats> stats;
  if (completed(week_[week_slot]) >= options_.min_seasons) {
    stats = StatsOf(week_[week_slot], week_ring);
  } else if (completed(day_[day_slot]) >= options_.min_seasons) {
    stats = StatsOf(day_[day_slot], day_ring);
  }
  if (stats) {
    const double spread =
        std::max({kMadToSigma * stats->mad, options_.min_spread, options_.relative_spread * std::fabs(stats->median)});
    out.ready = true;
    out.score = std::min(kMaxScore, std::fabs(value - stats->median) / spread);
    out.anomalous = out.score >= options_.threshold;
  }
  Learn(week_[week_slot], week_ring, t_ms, value);
  Learn(day_[day_slot], day_ring, t_ms, value);
  return out;
}

std::optional<SeasonalBaseline::Stats> SeasonalBaseline::WeekSlot(int slot) const {
  if (slot < 0 || slot >= kWeekSlots) return std::nullopt;
  return StatsOf(week_[slot], &week_values_[static_cast<size_t>(slot) * options_.values_per_slot]);
}

std::optional<SeasonalBaseline::Stats> SeasonalBaseline::DaySlot(int slot) const {
  if (slot < 0 || slot >= kDaySlots) return std::nullopt;
  return StatsOf(day_[slot], &day_values_[static_cast<size_t>(slot) * options_.values_per_slot]);
}

size_t SeasonalBaseline::MemoryBytes() const {
  return sizeof(*this) + (week_.capacity() + day_.capacity()) * sizeof(Slot) +
         (week_values_.capacity() + day_values_.capacity()) * sizeof(float);
}

// --- TrendForecaster ---

TrendForecaster::TrendForecaster(const TrendOptions& options) : options_(options) {
  options_.alpha = std::clamp(options_.alpha, 1e-6, 1.0);
  options_.beta = std::clamp(options_.beta, 1e-6, 1.0);
  options_.min_samples = std::max(2, options_.min_samples);
}

Verdict TrendForecaster::Observe(int64_t t_ms, double value) {
  Verdict out;
  if (!std::isfinite(value)) return out;
  if (samples_ == 0) {
    level_ = value;
    slope_ = 0;
    last_t_ = t_ms;
    samples_ = 1;
  } else {
    if (t_ms <= last_t_) return out;
    // In double: a restored last_t_ may be any 64-bit value, and the difference must not overflow.
    const double dt = (static_cast<double>(t_ms) - static_cast<double>(last_t_)) / 1000.0;
    last_t_ = t_ms;
    const double previous = level_;
    level_ = options_.alpha * value + (1 - options_.alpha) * (level_ + slope_ * dt);
    slope_ = options_.beta * (level_ - previous) / dt + (1 - options_.beta) * slope_;
    if (samples_ < options_.min_samples) ++samples_;
  }
  if (samples_ < options_.min_samples) return out;
  out.ready = true;
  const double gap = options_.above ? options_.threshold - level_ : level_ - options_.threshold;
  const double speed = options_.above ? slope_ : -slope_;  // towards the threshold, per second
  if (gap <= 0) {
    out.forecast_seconds = 0;
  } else if (speed > 0) {
    out.forecast_seconds = gap / speed;
  }
  if (out.forecast_seconds == 0) {
    out.score = kMaxScore;
  } else if (std::isfinite(out.forecast_seconds)) {
    out.score = std::min(kMaxScore, options_.horizon_seconds / out.forecast_seconds);
  }
  out.anomalous = out.forecast_seconds <= options_.horizon_seconds;
  return out;
}

// --- KMeansDetector ---

KMeansDetector::KMeansDetector(const KMeansOptions& options) : options_(options) {
  options_.diff_n = std::clamp(options_.diff_n, 0, 10);
  options_.smooth_n = std::clamp(options_.smooth_n, 1, 100);
  options_.lag_n = std::clamp(options_.lag_n, 0, 100);
  const int need = options_.diff_n + options_.smooth_n + options_.lag_n + 2;
  options_.train_window = std::max(options_.train_window, need);
  options_.min_train = std::clamp(options_.min_train, need, options_.train_window);
  options_.train_every = std::max(1, options_.train_every);
  options_.models = std::clamp(options_.models, 1, 100);
  options_.percentile = std::clamp(options_.percentile, 1.0, 100.0);
  options_.iterations = std::clamp(options_.iterations, 1, 1000);
  ring_.resize(static_cast<size_t>(options_.train_window));
}

std::vector<double> KMeansDetector::Features() const {
  std::vector<double> v(size_);
  const size_t cap = ring_.size();
  const size_t first = (next_ + cap - size_) % cap;
  for (size_t i = 0; i < size_; ++i) v[i] = ring_[(first + i) % cap];
  for (int d = 0; d < options_.diff_n && v.size() > 1; ++d) {
    for (size_t i = 0; i + 1 < v.size(); ++i) v[i] = v[i + 1] - v[i];
    v.pop_back();
  }
  const size_t s = static_cast<size_t>(options_.smooth_n);
  std::vector<double> smooth;
  if (v.size() >= s) {
    smooth.reserve(v.size() - s + 1);
    double sum = 0;
    for (size_t i = 0; i < v.size(); ++i) {
      sum += v[i];
      if (i >= s) sum -= v[i - s];
      if (i + 1 >= s) smooth.push_back(sum / static_cast<double>(s));
    }
  }
  const size_t dims = static_cast<size_t>(Dims());
  std::vector<double> out;
  if (smooth.size() < dims) return out;
  out.reserve((smooth.size() - dims + 1) * dims);
  for (size_t i = 0; i + dims <= smooth.size(); ++i) out.insert(out.end(), smooth.begin() + i, smooth.begin() + i + dims);
  return out;
}

double KMeansDetector::Score(const Model& m, const double* x) const {
  const size_t dims = static_cast<size_t>(Dims());
  double best = std::numeric_limits<double>::infinity();
  for (size_t c = 0; c * dims < m.centroids.size(); ++c) {
    double d2 = 0;
    for (size_t j = 0; j < dims; ++j) {
      const double e = x[j] - m.centroids[c * dims + j];
      d2 += e * e;
    }
    best = std::min(best, d2);
  }
  return std::sqrt(best) / m.scale;
}

void KMeansDetector::Train() {
  const std::vector<double> f = Features();
  const size_t dims = static_cast<size_t>(Dims());
  const size_t n = f.size() / dims;
  if (n < 2) return;
  // Start: the mean, and the point farthest from it (deterministic, in the manner of k-means++).
  Model m;
  m.centroids.assign(2 * dims, 0);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < dims; ++j) m.centroids[j] += f[i * dims + j] / static_cast<double>(n);
  }
  double far = -1;
  for (size_t i = 0; i < n; ++i) {
    double d2 = 0;
    for (size_t j = 0; j < dims; ++j) d2 += (f[i * dims + j] - m.centroids[j]) * (f[i * dims + j] - m.centroids[j]);
    if (d2 > far) {
      far = d2;
      std::copy(f.begin() + static_cast<std::ptrdiff_t>(i * dims),
                f.begin() + static_cast<std::ptrdiff_t>((i + 1) * dims), m.centroids.begin() + static_cast<std::ptrdiff_t>(dims));
    }
  }
  std::vector<int> assign(n, -1);
  std::vector<double> sums(2 * dims);
  for (int it = 0; it < options_.iterations; ++it) {
    bool changed = false;
    std::fill(sums.begin(), sums.end(), 0);
    size_t counts[2] = {0, 0};
    for (size_t i = 0; i < n; ++i) {
      double d[2] = {0, 0};
      for (int c = 0; c < 2; ++c) {
        for (size_t j = 0; j < dims; ++j) {
          const double e = f[i * dims + j] - m.centroids[c * dims + j];
          d[c] += e * e;
        }
      }
      const int c = d[1] < d[0] ? 1 : 0;
      if (assign[i] != c) changed = true;
      assign[i] = c;
      ++counts[c];
      for (size_t j = 0; j < dims; ++j) sums[c * dims + j] += f[i * dims + j];
    }
    for (size_t c = 0; c < 2; ++c) {
      if (counts[c] == 0) continue;  // an empty cluster keeps its centroid
      for (size_t j = 0; j < dims; ++j) m.centroids[c * dims + j] = sums[c * dims + j] / static_cast<double>(counts[c]);
    }
    if (!changed) break;
  }
  // The scale: the chosen percentile of the training points' distances to their centroid,
  // floored so that a flat window does not make every later wiggle infinitely anomalous.
  m.scale = 1;
  std::vector<double> dist(n);
  for (size_t i = 0; i < n; ++i) dist[i] = Score(m, &f[i * dims]);
  const size_t k = std::min(n - 1, static_cast<size_t>(std::ceil(options_.percentile / 100.0 * static_cast<double>(n))) - 1);
  std::nth_element(dist.begin(), dist.begin() + static_cast<std::ptrdiff_t>(k), dist.end());
  double mean_abs = 0;
  for (size_t i = 0; i < size_; ++i) mean_abs += std::fabs(ring_[i]) / static_cast<double>(size_);
  m.scale = std::max({dist[k], 1e-3 * mean_abs, 1e-9});
  models_.push_back(std::move(m));
  if (models_.size() > static_cast<size_t>(options_.models)) models_.erase(models_.begin());
}

Verdict KMeansDetector::Observe(int64_t t_ms, double value) {
  Verdict out;
  if (t_ms < last_t_ || !std::isfinite(value)) return out;
  last_t_ = t_ms;
  ring_[next_] = static_cast<float>(value);
  next_ = (next_ + 1) % ring_.size();
  size_ = std::min(size_ + 1, ring_.size());
  ++since_training_;
  if (size_ >= static_cast<size_t>(options_.min_train) &&
      (models_.empty() || since_training_ >= options_.train_every)) {
    Train();
    since_training_ = 0;
  }
  if (models_.empty()) return out;
  // Only the newest feature vector is needed: compute it from the last few values.
  const size_t dims = static_cast<size_t>(Dims());
  const size_t need = static_cast<size_t>(options_.diff_n + options_.smooth_n) + dims - 1;
  if (size_ < need) return out;
  std::vector<double> v(need);
  const size_t cap = ring_.size();
  for (size_t i = 0; i < need; ++i) v[i] = ring_[(next_ + cap - need + i) % cap];
  for (int d = 0; d < options_.diff_n; ++d) {
    for (size_t i = 0; i + 1 < v.size(); ++i) v[i] = v[i + 1] - v[i];
    v.pop_back();
  }
  const size_t s = static_cast<size_t>(options_.smooth_n);
  std::vector<double> x(dims);
  for (size_t j = 0; j < dims; ++j) {
    double sum = 0;
    for (size_t i = 0; i < s; ++i) sum += v[j + i];
    x[j] = sum / static_cast<double>(s);
  }
  double score = std::numeric_limits<double>::infinity();
  for (const Model& m : models_) score = std::min(score, Score(m, x.data()));
  out.ready = true;
  out.score = std::min(kMaxScore, score);
  out.anomalous = out.score >= options_.threshold;
  return out;
}

size_t KMeansDetector::MemoryBytes() const {
  size_t bytes = sizeof(*this) + ring_.capacity() * sizeof(float) + models_.capacity() * sizeof(Model);
  for (const Model& m : models_) bytes += m.centroids.capacity() * sizeof(double);
  return bytes;
}

}  // namespace tyto::anomaly
