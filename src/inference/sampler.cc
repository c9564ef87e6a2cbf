#include "inference/sampler.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "inference/metrics.h"

namespace tyto::inference {

namespace {

// Traces whose decision is remembered for late spans.
constexpr size_t kRememberedDecisions = 100000;

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsError(const events::Span& s) {
  return s.status == events::StatusCode::kError || events::FindAttribute(s.attributes, "error.type") != nullptr;
}

}  // namespace

std::string_view DecisionName(Decision d) {
  switch (d) {
    case Decision::kDropped: return "dropped";
    case Decision::kKeptError: return "kept_error";
    case Decision::kKeptSlow: return "kept_slow";
    case Decision::kKeptSampled: return "kept_sampled";
  }
  return "dropped";
}

double SamplingPoint(std::string_view id) {
  uint64_t x = 0;
  bool hex = id.size() == 32;
  for (size_t i = 16; hex && i < 32; ++i) {
    int d = HexDigit(id[i]);
    if (d < 0) hex = false;
    x = (x << 4) | static_cast<uint64_t>(d < 0 ? 0 : d);
  }
  if (!hex) {
    // FNV-1a, then splitmix64's finalizer so that similar ids spread.
    x = 0xcbf29ce484222325ull;
    for (unsigned char c : id) {
      x ^= c;
      x *= 0x100000001b3ull;
    }
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
  }
  return std::ldexp(static_cast<double>(x >> 11), -53);
}

Decision DecideEvent(const SamplingConfig& c, const events::InferenceEvent& e) {
  if (c.keep_errors && e.error) return Decision::kKeptError;
  if (c.slow_threshold.count() > 0 && std::isfinite(e.latency_s) &&
      e.latency_s * 1000 >= static_cast<double>(c.slow_threshold.count())) {
    return Decision::kKeptSlow;
  }
  std::string_view id = !e.trace_id.empty() ? std::string_view(e.trace_id) : std::string_view(e.request_id);
  if (id.empty()) return c.rate >= 1 ? Decision::kKeptSampled : Decision::kDropped;
  return SamplingPoint(id) < c.rate ? Decision::kKeptSampled : Decision::kDropped;
}

TraceSampler::TraceSampler(const SamplingConfig& config, Metrics* metrics) : config_(config), metrics_(metrics) {}

Decision TraceSampler::Decide(const std::string& trace_id, const Pending& p) const {
  if (config_.keep_errors && p.error) return Decision::kKeptError;
  if (config_.slow_threshold.count() > 0 && p.longest_ns / 1'000'000 >= config_.slow_threshold.count()) {
    return Decision::kKeptSlow;
  }
  return SamplingPoint(trace_id) < config_.rate ? Decision::kKeptSampled : Decision::kDropped;
}

void TraceSampler::Finish(const std::string& trace_id, Pending p, std::vector<events::Span>* kept) {
  Decision d = Decide(trace_id, p);
  if (metrics_ != nullptr) metrics_->sampling_decisions.WithLabels({"trace", DecisionName(d)}).Inc();
  pending_spans_ -= p.spans.size();
  if (Kept(d)) {
    for (events::Span& s : p.spans) kept->push_back(std::move(s));
  }
  if (decided_.emplace(trace_id, Kept(d)).second) {
    decided_order_.push_back(trace_id);
    if (decided_order_.size() > kRememberedDecisions) {
      decided_.erase(decided_order_.front());
      decided_order_.pop_front();
    }
  }
}

void TraceSampler::Add(std::vector<events::Span> spans, int64_t now_ms, std::vector<events::Span>* kept) {
  MutexLock lock(&mu_);
  for (events::Span& s : spans) {
    if (auto d = decided_.find(s.trace_id); d != decided_.end()) {
      if (d->second) kept->push_back(std::move(s));
      continue;
    }
    if (config_.rate >= 1 && pending_.find(s.trace_id) == pending_.end()) {
      // Every trace is kept whatever its errors and durations: nothing to wait for. Its spans are
      // stored now, so an ingest path that acknowledges after storing (a NATS consumer) never
      // acknowledges spans that only a waiting trace holds in memory.
      Pending now;
      now.first_ms = now.last_ms = now_ms;
      now.error = IsError(s);
      now.longest_ns = s.end_unix_nano - s.start_unix_nano;
      const std::string trace_id = s.trace_id;
      now.spans.push_back(std::move(s));
      ++pending_spans_;
      Finish(trace_id, std::move(now), kept);
      continue;
    }
    Pending& p = pending_[s.trace_id];
    if (p.spans.empty()) p.first_ms = now_ms;
    p.last_ms = now_ms;
    p.error = p.error || IsError(s);
    p.longest_ns = std::max(p.longest_ns, s.end_unix_nano - s.start_unix_nano);
    p.spans.push_back(std::move(s));
    ++pending_spans_;
  }
  // Over the bound: decide the traces that started first until under it.
  if (pending_spans_ > static_cast<size_t>(config_.max_pending_spans)) {
    std::vector<std::pair<int64_t, std::string>> order;
    order.reserve(pending_.size());
    for (const auto& [id, p] : pending_) order.emplace_back(p.first_ms, id);
    std::sort(order.begin(), order.end());
    for (const auto& [first, id] : order) {
      if (pending_spans_ <= static_cast<size_t>(config_.max_pending_spans) / 2) break;
      auto it = pending_.find(id);
      Pending p = std::move(it->second);
      pending_.erase(it);
      Finish(id, std::move(p), kept);
      if (metrics_ != nullptr) metrics_->traces_decided_early.Inc();
    }
  }
  if (metrics_ != nullptr) metrics_->pending_spans.Set(static_cast<double>(pending_spans_));
}

void TraceSampler::Poll(int64_t now_ms, bool all, std::vector<events::Span>* kept) {
  MutexLock lock(&mu_);
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (!all && now_ms - it->second.last_ms < config_.decision_wait.count()) {
      ++it;
      continue;
    }
    std::string id = it->first;
    Pending p = std::move(it->second);
    it = pending_.erase(it);
    Finish(id, std::move(p), kept);
  }
  if (metrics_ != nullptr) metrics_->pending_spans.Set(static_cast<double>(pending_spans_));
}

size_t TraceSampler::pending_spans() const {
  MutexLock lock(&mu_);
  return pending_spans_;
}

}  // namespace tyto::inference
