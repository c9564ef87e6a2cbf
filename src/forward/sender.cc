#include "forward/sender.h"

#include <algorithm>
#include <deque>
#include <functional>
#include <limits>
#include <span>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "common/build_info.h"
#include "common/log.h"
#include "ingest/otlp_names.h"
#include "ingest/snappy_codec.h"
#include "ingest/write_request.h"

namespace tyto::forward {
namespace {

const log::Logger kLog("forward");

using std::chrono::milliseconds;
using SteadyTime = std::chrono::steady_clock::time_point;

// A record's WriteRequest decompressed; its writer (QueueStorage) made it from one commit.
constexpr size_t kMaxDecompressedRecord = size_t{512} << 20;
// Response bodies are read for error messages only.
constexpr uint64_t kMaxResponseBody = 64 * 1024;
constexpr size_t kLoggedBodyBytes = 512;

milliseconds CeilMillis(std::chrono::steady_clock::duration d) {
  return std::max(milliseconds(0), std::chrono::ceil<milliseconds>(d));
}

std::string Excerpt(std::string_view body) {
  std::string out(body.substr(0, kLoggedBodyBytes));
  if (body.size() > kLoggedBodyBytes) out += "...";
  return out;
}

}  // namespace

Status CheckHeaders(std::string_view what, const std::vector<std::pair<std::string, std::string>>& headers) {
  static constexpr std::string_view kReserved[] = {"authorization", "content-encoding", "content-type",
                                                    "user-agent", "x-prometheus-remote-write-version",
                                                    "content-length", "host", "connection", "transfer-encoding"};
  for (const auto& [name, value] : headers) {
    if (name.empty()) return InvalidArgument(std::string(what) + " headers: a header name is empty");
    for (char c : name) {
      const auto u = static_cast<unsigned char>(c);
      if (u <= 0x20 || u >= 0x7f || c == ':') {
        return InvalidArgument(std::string(what) + " header name \"" + name + "\" has a character not allowed in a name");
      }
    }
    for (char c : value) {
      if (c == '\r' || c == '\n' || c == '\0') {
        return InvalidArgument(std::string(what) + " header " + name + ": its value has a line break or NUL");
      }
    }
    std::string lower;
    for (char c : name) lower += static_cast<char>((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
    for (std::string_view r : kReserved) {
      if (lower == r) {
        return InvalidArgument(std::string(what) + " header " + name +
                               " is set by Tyto (use basic_auth or authorization for credentials)");
      }
    }
  }
  return Status::Ok();
}

// The series of the records read, each series' samples in queue order. Strings point into `raw`.
struct Sender::Batch {
  struct Series {
    std::string_view key;  // the encoded labels: equal keys, same series
    std::vector<ingest::LabelView> labels;
    std::vector<Sample> samples;
  };
  std::deque<std::string> raw;   // decompressed records (a deque: elements never move)
  std::deque<std::string> keys;  // keys built for series whose labels were not contiguous
  ingest::WriteRequest decoded;  // scratch
  std::vector<Series> series;
  std::unordered_map<std::string_view, size_t> index;  // key -> series
  uint64_t samples = 0;
  uint64_t records = 0;
  QueuePosition end;
};

Result<std::unique_ptr<Sender>> Sender::Create(DiskQueue* queue, SenderOptions options, Clock* clock,
                                               Metrics* metrics) {
  TYTO_ASSIGN_OR_RETURN(http::Url url, http::ParseUrl(options.url));
  if (options.shards < 1 || options.shards > 64) {
    return InvalidArgument("remote write shards " + std::to_string(options.shards) + ": want 1 to 64");
  }
  if (options.max_samples_per_send < 1) return InvalidArgument("remote write max_samples_per_send must be at least 1");
  if (options.min_backoff.count() < 1 || options.max_backoff < options.min_backoff) {
    return InvalidArgument("remote write backoff: want 1ms <= min_backoff <= max_backoff");
  }
  if (options.remote_timeout.count() < 1) return InvalidArgument("remote write timeout must be positive");
  if (options.batch_send_deadline.count() < 0 || options.stop_grace.count() < 0) {
    return InvalidArgument("remote write batch_send_deadline and stop_grace must not be negative");
  }
  if (!options.bearer_token.empty() && !options.basic_auth_username.empty()) {
    return InvalidArgument("remote write: give a bearer token or basic auth, not both");
  }
  TYTO_RETURN_IF_ERROR(CheckHeaders("remote write", options.headers));
  return std::unique_ptr<Sender>(new Sender(queue, std::move(options), clock, metrics, std::move(url)));
}

Sender::Sender(DiskQueue* queue, SenderOptions options, Clock* clock, Metrics* metrics, http::Url url)
    : queue_(queue),
      options_(std::move(options)),
      clock_(clock != nullptr ? clock : Clock::Real()),
      own_registry_(metrics == nullptr ? std::make_unique<instrumentation::Registry>() : nullptr),
      own_metrics_(metrics == nullptr ? std::make_unique<Metrics>(own_registry_.get()) : nullptr),
      metrics_(metrics != nullptr ? metrics : own_metrics_.get()),
      url_(std::move(url)),
      client_(std::make_unique<http::Client>(std::clamp(options_.shards, 1, 4))) {
  headers_ = {{"Content-Type", "application/x-protobuf"},
              {"Content-Encoding", "snappy"},
              {"X-Prometheus-Remote-Write-Version", "0.1.0"},
              {"User-Agent", "Tyto/" + std::string(GetBuildInfo().version)}};
  if (!options_.bearer_token.empty()) {
    headers_.emplace_back("Authorization", options_.authorization_type + " " + options_.bearer_token);
  }
  if (!options_.basic_auth_username.empty()) {
    headers_.emplace_back("Authorization", "Basic " + ingest::otlp::Base64(options_.basic_auth_username + ":" +
                                                                           options_.basic_auth_password));
  }
  headers_.insert(headers_.end(), options_.headers.begin(), options_.headers.end());
  metrics_->shards.Set(options_.shards);
}

Sender::~Sender() {
  Stop();
  client_.reset();  // abandons what is in flight; a callback running now finishes first
}

void Sender::Start() {
  MutexLock lock(&mu_);
  if (started_ || stopping_) return;
  started_ = true;
  thread_ = std::thread([this] { Run(); });
}

void Sender::Stop() {
  stopping_ = true;
  {
    MutexLock lock(&mu_);  // the sending thread checks stopping_ under mu_ before it waits
    cv_.notify_all();
  }
  queue_->WakeReaders();
  if (thread_.joinable()) thread_.join();
}

SenderStats Sender::stats() const {
  MutexLock lock(&mu_);
  return stats_;
}

void Sender::Pause(milliseconds d) {
  MutexLock lock(&mu_);
  if (!stopping_) cv_.wait_for(mu_.native(), d);
}

void Sender::Run() {
  kLog.Info(
      "forwarding by remote write",
      {{"url", options_.url}, {"shards", options_.shards}, {"max_samples_per_send", options_.max_samples_per_send}});
  while (!stopping_) {
    Batch batch;
    if (!FillBatch(&batch)) break;  // stopped: what was read stays unacknowledged, read again later
    if (!batch.series.empty() && !SendShards(BuildRequests(batch))) break;
    if (Status s = queue_->Ack(batch.end); !s.ok()) {
      kLog.Error("acknowledging sent samples in the agent queue failed; they may be sent again after a restart",
                 {{"error", s}});
      continue;
    }
    MutexLock lock(&mu_);
    ++stats_.batches_acked;
  }
}

bool Sender::FillBatch(Batch* batch) {
  const uint64_t target = static_cast<uint64_t>(options_.shards) * options_.max_samples_per_send;
  SteadyTime first_read;
  uint64_t read_failures = 0;
  QueueRecord record;
  while (!stopping_) {
    if (batch->samples >= target) return true;
    Result<bool> got = queue_->Read(&record);
    if (!got.ok()) {
      if (read_failures++ % 100 == 0) {
        kLog.Error("reading the agent queue failed; trying again",
                   {{"error", got.status()}, {"failures", read_failures}});
      }
      if (batch->records > 0) return true;
      Pause(options_.max_backoff);
      continue;
    }
    if (!*got) {
      if (batch->records == 0) {
        (void)queue_->WaitForRecords(std::chrono::seconds(1), &stopping_);
        continue;
      }
      const auto waited = clock_->MonotonicNow() - first_read;
      if (waited >= options_.batch_send_deadline) return true;
      (void)queue_->WaitForRecords(CeilMillis(options_.batch_send_deadline - waited), &stopping_);
      continue;
    }
    if (batch->records == 0) first_read = clock_->MonotonicNow();
    ++batch->records;
    batch->end = record.end;

    std::string& raw = batch->raw.emplace_back();
    Status s = ingest::SnappyUncompress(record.payload, kMaxDecompressedRecord, &raw);
    if (s.ok()) s = ingest::DecodeWriteRequest(raw, &batch->decoded);
    if (!s.ok()) {
      kLog.Error("an agent queue record cannot be decoded; dropping it",
                 {{"error", s}, {"samples", record.samples}, {"segment", record.end.segment}});
      batch->raw.pop_back();
      metrics_->dropped_corrupt.Inc(record.samples);
      MutexLock lock(&mu_);
      stats_.corrupt_samples += record.samples;
      continue;
    }
    const ingest::WriteRequest& req = batch->decoded;
    for (const ingest::WriteRequest::Series& rs : req.series) {
      std::string_view key = rs.label_bytes;
      if (key.empty()) {  // labels not contiguous in the encoding (not written by QueueStorage)
        std::string& k = batch->keys.emplace_back();
        for (uint32_t i = rs.labels_begin; i < rs.labels_end; ++i) {
          k.append(req.labels[i].name).push_back('\xff');
          k.append(req.labels[i].value).push_back('\xff');
        }
        key = k;
      }
      auto [it, inserted] = batch->index.emplace(key, batch->series.size());
      if (inserted) {
        batch->series.push_back(
            {key,
             std::vector<ingest::LabelView>(req.labels.begin() + rs.labels_begin, req.labels.begin() + rs.labels_end),
             {}});
      }
      std::vector<Sample>& samples = batch->series[it->second].samples;
      samples.insert(samples.end(), req.samples.begin() + rs.samples_begin, req.samples.begin() + rs.samples_end);
      batch->samples += rs.samples_end - rs.samples_begin;
    }
  }
  return false;
}

std::vector<Sender::Shard> Sender::BuildRequests(const Batch& batch) const {
  const size_t n = static_cast<size_t>(options_.shards);
  const uint64_t max = options_.max_samples_per_send;
  std::vector<std::vector<const Batch::Series*>> members(n);
  for (const Batch::Series& s : batch.series) {
    if (!s.samples.empty()) members[std::hash<std::string_view>()(s.key) % n].push_back(&s);
  }
  std::vector<Shard> shards(n);
  std::string body;
  for (size_t k = 0; k < n; ++k) {
    uint64_t count = 0;
    int64_t max_t = std::numeric_limits<int64_t>::min();
    const auto flush = [&] {
      if (count == 0) return;
      shards[k].requests.push_back({ingest::SnappyCompress(body), count, max_t});
      body.clear();
      count = 0;
      max_t = std::numeric_limits<int64_t>::min();
    };
    for (const Batch::Series* s : members[k]) {
      // A series with more samples than fit in one request continues in the next: the shard
      // sends its requests one after another, so the series' samples stay in order.
      for (size_t i = 0; i < s->samples.size();) {
        const size_t take = static_cast<size_t>(std::min<uint64_t>(max - count, s->samples.size() - i));
        const std::span<const Sample> part(s->samples.data() + i, take);
        ingest::AppendTimeSeries(s->labels, part, &body);
        for (const Sample& x : part) max_t = std::max(max_t, x.t);
        count += take;
        i += take;
        if (count >= max) flush();
      }
    }
    flush();
  }
  return shards;
}

bool Sender::SendShards(std::vector<Shard> shards) {
  MutexLock lock(&mu_);
  ++generation_;
  shards_ = std::move(shards);
  bool giving_up = false;
  SteadyTime give_up_at;
  for (;;) {
    const SteadyTime now = clock_->MonotonicNow();
    SteadyTime wake = now + std::chrono::seconds(1);
    bool all_done = true;
    bool in_flight = false;
    for (size_t k = 0; k < shards_.size(); ++k) {
      Shard& s = shards_[k];
      if (s.result.has_value()) HandleResult(k, now);
      if (s.next >= s.requests.size()) continue;
      all_done = false;
      if (s.in_flight) {
        in_flight = true;
      } else if (!stopping_) {
        if (s.retry_at <= now) {
          Issue(k);
          in_flight = true;
        } else {
          wake = std::min(wake, s.retry_at);
        }
      }
    }
    if (all_done) return true;
    if (stopping_) {
      if (!giving_up) {
        giving_up = true;
        give_up_at = now + options_.stop_grace;
      }
      if (!in_flight || now >= give_up_at) {
        kLog.Info("stopped with a batch not fully sent; it stays in the queue and is sent after a restart");
        return false;
      }
      wake = std::min(wake, give_up_at);
    }
    cv_.wait_for(mu_.native(), CeilMillis(wake - now));
  }
}

void Sender::Issue(size_t k) {
  Shard& s = shards_[k];
  const Request& r = s.requests[s.next];
  http::ClientRequest req;
  req.method = "POST";
  req.https = url_.https;
  req.host = url_.host;
  req.port = url_.port;
  req.target = url_.query.empty() ? url_.path : url_.path + "?" + url_.query;
  req.headers = headers_;
  req.body = r.body;  // a copy: the request may have to be sent again
  req.timeout = options_.remote_timeout;
  req.max_body_bytes = kMaxResponseBody;
  req.tls = options_.tls;
  s.in_flight = true;
  s.result.reset();
  s.sent_at = clock_->MonotonicNow();
  metrics_->sent_bytes.Inc(static_cast<double>(r.body.size()));
  // Client::Send never calls back before it returns, so calling it under mu_ is safe.
  client_->Send(std::move(req), [this, gen = generation_, k](Result<http::ClientResponse> response) {
    MutexLock lock(&mu_);
    if (gen != generation_) return;  // from a batch abandoned at Stop
    shards_[k].result = std::move(response);
    cv_.notify_all();
  });
}

void Sender::HandleResult(size_t k, SteadyTime now) {
  Shard& s = shards_[k];
  Result<http::ClientResponse> response = std::move(*s.result);
  s.result.reset();
  s.in_flight = false;
  const Request& r = s.requests[s.next];
  metrics_->send_duration.Observe(std::chrono::duration<double>(now - s.sent_at).count());

  std::string failure;
  if (!response.ok()) {
    failure = response.status().ToString();
  } else if (response->status >= 200 && response->status < 300) {
    if (s.failures > 0) kLog.Info("remote write recovered", {{"shard", k}, {"retries", s.failures}});
    stats_.sent_samples += r.samples;
    ++stats_.requests;
    metrics_->samples_sent.Inc(static_cast<double>(r.samples));
    if (r.max_timestamp > highest_sent_) {
      highest_sent_ = r.max_timestamp;
      metrics_->highest_sent_timestamp.Set(static_cast<double>(highest_sent_) / 1000.0);
    }
    ++s.next;
    s.failures = 0;
    s.backoff = milliseconds(0);
    return;
  } else if (response->status >= 500 || response->status == 429) {
    failure = "HTTP " + std::to_string(response->status) + ": " + Excerpt(response->body);
  } else {
    // The receiver will never take this request (bad labels, out of order, too old, ...):
    // sending it again would block the shard for good.
    kLog.Error("remote write rejected a request; its samples are dropped", {{"url", options_.url},
                                                                            {"status", response->status},
                                                                            {"samples", r.samples},
                                                                            {"response", Excerpt(response->body)}});
    stats_.failed_samples += r.samples;
    metrics_->dropped_rejected.Inc(static_cast<double>(r.samples));
    ++s.next;
    s.failures = 0;
    s.backoff = milliseconds(0);
    return;
  }
  ++s.failures;
  ++stats_.retries;
  metrics_->send_retries.Inc();
  metrics_->samples_retried.Inc(static_cast<double>(r.samples));
  s.backoff = s.backoff.count() == 0 ? options_.min_backoff : std::min(2 * s.backoff, options_.max_backoff);
  s.retry_at = now + s.backoff;
  if (s.failures == 1 || s.failures % 10 == 0) {
    kLog.Warn("remote write failed; retrying", {{"url", options_.url},
                                                {"shard", k},
                                                {"attempt", s.failures},
                                                {"backoff_ms", s.backoff.count()},
                                                {"error", failure}});
  }
}

}  // namespace tyto::forward
