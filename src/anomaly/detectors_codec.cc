// Saving and loading the detectors' learned state (docs/format/anomaly_models.md gives the bytes).
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "anomaly/detectors.h"
#include "common/coding.h"

namespace tyto::anomaly {

namespace {

using coding::PutVarint64;
using coding::PutVarintSigned64;

void PutFloat(std::string* out, float v) { coding::PutFixed32(out, std::bit_cast<uint32_t>(v)); }
void PutDouble(std::string* out, double v) { coding::PutFixed64(out, std::bit_cast<uint64_t>(v)); }

// Reads what the Put functions wrote; every read checks the end and fails for good once one fails.
class Reader {
 public:
  explicit Reader(std::string_view in) : p_(in.data()), end_(in.data() + in.size()) {}
  bool ok() const { return p_ != nullptr; }
  bool done() const { return p_ != nullptr && p_ == end_; }
  uint64_t U() {
    uint64_t v = 0;
    if (p_ != nullptr) p_ = coding::GetVarint64(p_, end_, &v);
    return v;
  }
  int64_t S() {
    int64_t v = 0;
    if (p_ != nullptr) p_ = coding::GetVarintSigned64(p_, end_, &v);
    return v;
  }
  float F() {
    if (p_ == nullptr || end_ - p_ < 4) {
      p_ = nullptr;
      return 0;
    }
    const uint32_t bits = coding::DecodeFixed32(p_);
    p_ += 4;
    return std::bit_cast<float>(bits);
  }
  double D() {
    if (p_ == nullptr || end_ - p_ < 8) {
      p_ = nullptr;
      return 0;
    }
    const uint64_t bits = coding::DecodeFixed64(p_);
    p_ += 8;
    return std::bit_cast<double>(bits);
  }
  // A count that must equal `expected` (the current options' shape).
  bool Expect(uint64_t expected) { return U() == expected && ok(); }
  // A non-negative integer below `limit`, as int.
  int Small(uint64_t limit) {
    const uint64_t v = U();
    if (v >= limit) p_ = nullptr;
    return static_cast<int>(v);
  }

 private:
  const char* p_;
  const char* end_;
};

}  // namespace

void SeasonalBaseline::Save(std::string* out) const {
  PutVarintSigned64(out, last_t_);
  PutVarint64(out, static_cast<uint64_t>(options_.values_per_slot));
  PutVarint64(out, static_cast<uint64_t>(options_.seasons));
  for (const std::vector<Slot>* slots : {&week_, &day_}) {
    for (const Slot& s : *slots) {
      PutVarintSigned64(out, s.visit_hour);
      PutVarintSigned64(out, s.last_bucket);
      PutVarint64(out, static_cast<uint64_t>(s.visits));
      PutVarint64(out, static_cast<uint64_t>(s.next));
      PutVarint64(out, static_cast<uint64_t>(s.size));
    }
  }
  for (float v : week_values_) PutFloat(out, v);
  for (float v : day_values_) PutFloat(out, v);
}

bool SeasonalBaseline::Load(std::string_view in) {
  Reader r(in);
  SeasonalBaseline s(options_);
  s.last_t_ = r.S();
  if (!r.Expect(static_cast<uint64_t>(options_.values_per_slot)) || !r.Expect(static_cast<uint64_t>(options_.seasons))) {
    return false;
  }
  const uint64_t n = static_cast<uint64_t>(options_.values_per_slot);
  for (std::vector<Slot>* slots : {&s.week_, &s.day_}) {
    for (Slot& slot : *slots) {
      slot.visit_hour = r.S();
      slot.last_bucket = static_cast<int>(std::clamp<int64_t>(r.S(), -1, per_visit_));
      slot.visits = r.Small(uint64_t{1} << 31);
      slot.next = r.Small(n);
      slot.size = r.Small(n + 1);
    }
  }
  for (float& v : s.week_values_) v = r.F();
  for (float& v : s.day_values_) v = r.F();
  if (!r.done()) return false;
  *this = std::move(s);
  return true;
}

void TrendForecaster::Save(std::string* out) const {
  PutVarintSigned64(out, last_t_);
  PutVarint64(out, static_cast<uint64_t>(samples_));
  PutDouble(out, level_);
  PutDouble(out, slope_);
}

bool TrendForecaster::Load(std::string_view in) {
  Reader r(in);
  const int64_t last_t = r.S();
  const int samples = r.Small(1u << 20);
  const double level = r.D(), slope = r.D();
  if (!r.done() || !std::isfinite(level) || !std::isfinite(slope)) return false;
  last_t_ = last_t;
  samples_ = std::min(samples, options_.min_samples);
  level_ = level;
  slope_ = slope;
  return true;
}

void KMeansDetector::Save(std::string* out) const {
  PutVarintSigned64(out, last_t_);
  PutVarint64(out, ring_.size());
  PutVarint64(out, static_cast<uint64_t>(Dims()));
  PutVarint64(out, next_);
  PutVarint64(out, size_);
  PutVarint64(out, static_cast<uint64_t>(since_training_));
  for (float v : ring_) PutFloat(out, v);
  PutVarint64(out, models_.size());
  for (const Model& m : models_) {
    PutDouble(out, m.scale);
    for (double c : m.centroids) PutDouble(out, c);
  }
}

bool KMeansDetector::Load(std::string_view in) {
  Reader r(in);
  KMeansDetector k(options_);
  k.last_t_ = r.S();
  if (!r.Expect(ring_.size()) || !r.Expect(static_cast<uint64_t>(Dims()))) return false;
  k.next_ = static_cast<size_t>(r.Small(ring_.size()));
  k.size_ = static_cast<size_t>(r.Small(ring_.size() + 1));
  k.since_training_ = r.Small(uint64_t{1} << 31);
  for (float& v : k.ring_) v = r.F();
  const int models = r.Small(static_cast<uint64_t>(options_.models) + 1);
  if (!r.ok()) return false;
  for (int i = 0; i < models; ++i) {
    Model m;
    m.scale = r.D();
    m.centroids.resize(2 * static_cast<size_t>(Dims()));
    for (double& c : m.centroids) c = r.D();
    if (!r.ok() || !(m.scale > 0) || !std::isfinite(m.scale)) return false;
    k.models_.push_back(std::move(m));
  }
  if (!r.done()) return false;
  *this = std::move(k);
  return true;
}

}  // namespace tyto::anomaly
