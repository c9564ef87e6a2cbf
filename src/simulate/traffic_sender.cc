#include "simulate/traffic_sender.h"

#include <algorithm>

#include "common/build_info.h"
#include "common/log.h"
#include "http/url.h"
#include "simulate/traffic_json.h"

namespace tyto::simulate {
namespace {

const log::Logger kLog("simulate");

constexpr uint64_t kMaxResponseBody = 64 * 1024;  // read for error messages only
constexpr size_t kLoggedBodyBytes = 200;

std::string_view PathOf(int kind) {
  switch (kind) {
    case 0:
      return "/v1/traces";
    case 1:
      return "/v1/logs";
    case 2:
      return "/api/v1/events";
    default:
      return "/api/v1/feedback";
  }
}

// Wait before the feedback's next send, after `attempts` sends: 2 s, 4 s, 8 s, ..., at most 60 s.
int64_t FeedbackBackoffMillis(int attempts) {
  return std::min<int64_t>(60'000, int64_t{2'000} << std::min(attempts - 1, 10));
}

}  // namespace

Result<std::unique_ptr<TrafficSender>> TrafficSender::Create(std::unique_ptr<TrafficGenerator> generator,
                                                             int64_t start_ms, int64_t tick_ms, Clock* clock,
                                                             TrafficSenderOptions options) {
  if (generator == nullptr || clock == nullptr)
    return InvalidArgument("the traffic sender needs a generator and a clock");
  if (tick_ms < 1) return InvalidArgument("the traffic's tick must be at least 1ms");
  if (options.max_in_flight < 1) return InvalidArgument("the traffic sender's max_in_flight must be at least 1");
  if (options.timeout.count() < 1) return InvalidArgument("the traffic sender's timeout must be positive");
  if (options.max_catch_up_ticks < 1)
    return InvalidArgument("the traffic sender's max_catch_up_ticks must be at least 1");
  if (options.feedback_max_attempts < 1)
    return InvalidArgument("the traffic sender's feedback_max_attempts must be at least 1");
  auto url = http::ParseUrl(options.base_url);
  if (!url.ok()) return InvalidArgument("--send-to: " + url.status().message());
  if (!url->query.empty()) return InvalidArgument("--send-to: a base URL takes no query string: " + options.base_url);
  auto sender = std::unique_ptr<TrafficSender>(
      new TrafficSender(std::move(generator), start_ms, tick_ms, clock, std::move(options)));
  sender->https_ = url->https;
  sender->host_ = url->host;
  sender->port_ = url->port;
  std::string prefix = url->path;
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  sender->path_prefix_ = std::move(prefix);
  return sender;
}

TrafficSender::TrafficSender(std::unique_ptr<TrafficGenerator> generator, int64_t start_ms, int64_t tick_ms,
                             Clock* clock, TrafficSenderOptions options)
    : generator_(std::move(generator)),
      start_ms_(start_ms),
      tick_ms_(tick_ms),
      clock_(clock),
      options_(std::move(options)),
      client_(std::make_unique<http::Client>(1)) {
  headers_ = {{"User-Agent", "tyto-simulate/" + std::string(GetBuildInfo().version)}};
  if (!options_.bearer_token.empty()) headers_.emplace_back("Authorization", "Bearer " + options_.bearer_token);
}

TrafficSender::~TrafficSender() {
  Stop();
  client_.reset();  // abandons what is in flight; a callback running now finishes first
}

void TrafficSender::Start() {
  MutexLock lock(&mu_);
  if (started_ || stopping_) return;
  started_ = true;
  thread_ = std::thread([this] { Run(); });
}

void TrafficSender::Stop() {
  stopping_ = true;
  {
    MutexLock lock(&mu_);  // the thread checks stopping_ under mu_ before it waits
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

TrafficStats TrafficSender::stats() const {
  MutexLock lock(&mu_);
  TrafficStats st = stats_;
  st.feedback_queued = feedback_queue_lines_;
  return st;
}

bool TrafficSender::WaitIdle(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  MutexLock lock(&mu_);
  while (in_flight_ > 0) {
    if (cv_.wait_until(mu_.native(), deadline) == std::cv_status::timeout) return in_flight_ == 0;
  }
  return true;
}

void TrafficSender::Run() {
  kLog.Info("sending simulated inference traffic (spans, logs and events, all marked simulated)",
            {{"to", options_.base_url}, {"generated_per_served_request", generator_->scale()}});
  while (!stopping_) {
    SendDue();
    // Wake shortly after the next tick ends.
    const int64_t next_end = start_ms_ + (last_tick_ + 1) * tick_ms_;
    const int64_t wait_ms = std::clamp<int64_t>(next_end + 20 - clock_->NowMillis(), 10, 1000);
    MutexLock lock(&mu_);
    if (!stopping_) cv_.wait_for(mu_.native(), std::chrono::milliseconds(wait_ms));
  }
}

void TrafficSender::SendDue() {
  const int64_t now_ms = clock_->NowMillis();
  LogFailures(now_ms);  // those answered since the last call
  const int64_t now_tick = (now_ms - start_ms_) / tick_ms_;
  if (now_tick >= 1 && now_tick > last_tick_) {
    int64_t from = last_tick_ < 0 ? now_tick : last_tick_ + 1;
    uint64_t skipped = 0;
    if (now_tick - from >= options_.max_catch_up_ticks) {
      const int64_t keep_from = now_tick - options_.max_catch_up_ticks + 1;
      skipped = static_cast<uint64_t>(keep_from - from);
      from = keep_from;
    }
    batch_.Clear();
    for (int64_t t = from; t <= now_tick; ++t) generator_->Generate(t, &batch_);
    last_tick_ = now_tick;
    std::string feedback = FeedbackJsonLines(batch_.feedback);
    {
      MutexLock lock(&mu_);
      stats_.ticks_generated += static_cast<uint64_t>(now_tick - from + 1);
      stats_.ticks_skipped += skipped;
      stats_.feedback_not_scheduled = generator_->feedback_not_scheduled();
      if (!feedback.empty()) QueueFeedback({std::move(feedback), batch_.feedback.size(), 0, now_ms});
    }
    const std::vector<Resource>& resources = generator_->resources();
    if (!batch_.spans.empty()) Post(Kind::kTraces, TracesJson(resources, batch_.spans), batch_.spans.size());
    if (!batch_.logs.empty()) Post(Kind::kLogs, LogsJson(resources, batch_.logs), batch_.logs.size());
    if (batch_.event_count() > 0) Post(Kind::kEvents, EventsJsonLines(batch_), batch_.event_count());
  }
  SendQueuedFeedback(now_ms);
}

void TrafficSender::QueueFeedback(QueuedFeedback item) {
  feedback_queue_lines_ += item.lines;
  feedback_queue_.push_back(std::move(item));
  while (feedback_queue_lines_ > options_.max_queued_feedback && !feedback_queue_.empty()) {
    stats_.feedback_dropped += feedback_queue_.front().lines;
    feedback_queue_lines_ -= feedback_queue_.front().lines;
    feedback_queue_.pop_front();
  }
}

void TrafficSender::SendQueuedFeedback(int64_t now_ms) {
  std::vector<QueuedFeedback> due;
  {
    MutexLock lock(&mu_);
    for (auto it = feedback_queue_.begin(); it != feedback_queue_.end() && in_flight_ < options_.max_in_flight;) {
      if (it->next_try_ms > now_ms) {
        ++it;
        continue;
      }
      ++in_flight_;
      feedback_queue_lines_ -= it->lines;
      due.push_back(std::move(*it));
      it = feedback_queue_.erase(it);
    }
  }
  for (QueuedFeedback& f : due) Send(Kind::kFeedback, std::move(f.body), f.lines, f.attempts);
}

void TrafficSender::Post(Kind kind, std::string body, uint64_t records) {
  {
    MutexLock lock(&mu_);
    if (in_flight_ >= options_.max_in_flight) {
      ++stats_.requests_dropped;
      return;
    }
    ++in_flight_;
  }
  Send(kind, std::move(body), records, 0);
}

void TrafficSender::Send(Kind kind, std::string body, uint64_t records, int attempts) {
  // Feedback is sent again when this send fails: keep its body.
  std::string feedback_body = kind == Kind::kFeedback ? body : std::string();
  http::ClientRequest req;
  req.method = "POST";
  req.https = https_;
  req.host = host_;
  req.port = port_;
  const std::string_view path = PathOf(static_cast<int>(kind));
  req.target = path_prefix_ + std::string(path);
  req.headers = headers_;
  req.headers.emplace_back(
      "Content-Type", kind == Kind::kEvents || kind == Kind::kFeedback ? "application/x-ndjson" : "application/json");
  req.body = std::move(body);
  req.timeout = options_.timeout;
  req.max_body_bytes = kMaxResponseBody;
  req.tls = options_.tls;
  client_->Send(std::move(req), [this, kind, records, path, attempts,
                                 feedback_body = std::move(feedback_body)](Result<http::ClientResponse> r) mutable {
    MutexLock lock(&mu_);
    --in_flight_;
    if (r.ok() && r->status >= 200 && r->status < 300) {
      ++stats_.requests_sent;
      (kind == Kind::kTraces   ? stats_.spans_sent
       : kind == Kind::kLogs   ? stats_.logs_sent
       : kind == Kind::kEvents ? stats_.events_sent
                               : stats_.feedback_sent) += records;
    } else {
      if (kind == Kind::kFeedback) {
        const bool retryable = !r.ok() || r->status == 408 || r->status == 429 || r->status >= 500;
        if (retryable && attempts + 1 < options_.feedback_max_attempts) {
          ++stats_.feedback_retries;
          QueueFeedback({std::move(feedback_body), records, attempts + 1,
                         clock_->NowMillis() + FeedbackBackoffMillis(attempts + 1)});
        } else {
          stats_.feedback_dropped += records;
        }
      }
      ++stats_.requests_failed;
      ++failures_unlogged_;
      std::string error = "POST " + std::string(path) + ": ";
      if (!r.ok()) {
        error += r.status().ToString();
      } else {
        error += "HTTP " + std::to_string(r->status);
        if (!r->body.empty()) {
          std::string excerpt = r->body.substr(0, kLoggedBodyBytes);
          while (!excerpt.empty() && (excerpt.back() == '\n' || excerpt.back() == '\r')) excerpt.pop_back();
          error += ": " + excerpt + (r->body.size() > kLoggedBodyBytes ? "..." : "");
        }
      }
      stats_.last_error = std::move(error);
    }
    cv_.notify_all();
  });
}

void TrafficSender::LogFailures(int64_t now_ms) {
  if (last_failure_log_ms_ >= 0 && now_ms - last_failure_log_ms_ < options_.failure_log_interval.count()) return;
  uint64_t failures = 0, sent = 0, dropped = 0;
  std::string last_error;
  {
    MutexLock lock(&mu_);
    if (failures_unlogged_ == 0) return;
    failures = failures_unlogged_;
    failures_unlogged_ = 0;
    sent = stats_.requests_sent;
    dropped = stats_.requests_dropped;
    last_error = stats_.last_error;
  }
  last_failure_log_ms_ = now_ms;
  kLog.Warn("simulated inference traffic: requests to the receiver failed", {{"to", options_.base_url},
                                                                             {"failed", failures},
                                                                             {"sent_total", sent},
                                                                             {"dropped_total", dropped},
                                                                             {"last_error", last_error}});
}

}  // namespace tyto::simulate
