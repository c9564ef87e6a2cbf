#include "inference/series_writer.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>

namespace tyto::inference {

std::string FormatLe(double bound) {
  if (std::isinf(bound)) return bound > 0 ? "+Inf" : "-Inf";
  char buf[32];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, bound);
  return std::string(buf, ec == std::errc() ? ptr : buf);
}

void SeriesWriter::Begin(Appender* app, int64_t t_ms) {
  app_ = app;
  t_ms_ = t_ms;
  ++generation_;
  first_error_ = Status();
}

void SeriesWriter::Write(const Labels& labels, double value) {
  auto [it, inserted] = refs_.try_emplace(labels);
  Entry& e = it->second;
  e.generation = generation_;
  Result<SeriesRef> r = app_->Append(e.ref, labels, t_ms_, value);
  if (r.ok()) {
    e.ref = *r;
  } else if (first_error_.ok()) {
    first_error_ = Status(r.status().code(), labels.ToString() + ": " + r.status().message());
  }
}

Status SeriesWriter::End() {
  const double stale = std::bit_cast<double>(kStaleNaNBits);
  for (auto it = refs_.begin(); it != refs_.end();) {
    if (it->second.generation == generation_) {
      ++it;
      continue;
    }
    // A generation older than the last one was marked already (and dropped then).
    Result<SeriesRef> r = app_->Append(it->second.ref, it->first, t_ms_, stale);
    if (!r.ok() && first_error_.ok()) first_error_ = r.status();
    it = refs_.erase(it);
  }
  app_ = nullptr;
  return first_error_;
}

size_t HistogramState::Bucket(const std::vector<double>& bounds, double v) {
  return static_cast<size_t>(std::lower_bound(bounds.begin(), bounds.end(), v) - bounds.begin());
}

void HistogramState::Observe(const std::vector<double>& bounds, double v) {
  if (std::isnan(v)) return;
  if (counts.empty()) counts.assign(bounds.size() + 1, 0);
  ++counts[Bucket(bounds, v)];
  sum += v;
  ++count;
}

void HistogramState::Write(SeriesWriter& w, std::string_view name, const std::vector<double>& bounds,
                           const Labels& base) const {
  LabelsBuilder b(base);
  std::string metric(name);
  b.Set(kMetricNameLabel, metric + "_bucket");
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds.size(); ++i) {
    if (!counts.empty()) cumulative += counts[i];
    b.Set("le", i < bounds.size() ? FormatLe(bounds[i]) : "+Inf");
    w.Write(b.Build(), static_cast<double>(cumulative));
  }
  b.Del("le");
  b.Set(kMetricNameLabel, metric + "_sum");
  w.Write(b.Build(), sum);
  b.Set(kMetricNameLabel, metric + "_count");
  w.Write(b.Build(), static_cast<double>(count));
}

}  // namespace tyto::inference
