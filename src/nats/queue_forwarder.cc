#include "nats/queue_forwarder.h"

#include <algorithm>
#include <cstdio>
#include <random>
#include <span>

#include "common/crc32.h"
#include "common/log.h"
#include "ingest/snappy_codec.h"
#include "ingest/write_request.h"

namespace tyto::nats {
namespace {

const log::Logger kLog("nats");

using std::chrono::milliseconds;

// A record's WriteRequest decompressed (as the Sender bounds it).
constexpr size_t kMaxDecompressedRecord = size_t{512} << 20;

std::string Hex32(uint32_t v) {
  char buf[9];
  std::snprintf(buf, sizeof(buf), "%08x", v);
  return buf;
}

std::string ParentDir(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

// One message of a record: the record's own bytes, or a re-encoded piece of it.
struct QueueForwarder::Part {
  std::string body;  // compressed; empty when the record's payload is sent as it is
  uint64_t samples = 0;
};

Result<std::string> LoadOrCreatePublisherId(Env* env, const std::string& path) {
  if (env->FileExists(path)) {
    TYTO_ASSIGN_OR_RETURN(std::string id, env->ReadFile(path));
    while (!id.empty() && (id.back() == '\n' || id.back() == '\r')) id.pop_back();
    if (!IsValidName(id)) {
      return Corruption(path + ": not a NATS publisher id (want 1 to 64 of [A-Za-z0-9_-]); remove the file to get a "
                               "new one");
    }
    return id;
  }
  std::random_device rd;
  const uint64_t r = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(r));
  const std::string id = buf;
  const std::string tmp = path + ".tmp";
  {
    TYTO_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> f, env->NewWritableFile(tmp));
    TYTO_RETURN_IF_ERROR(f->Append(id + "\n"));
    TYTO_RETURN_IF_ERROR(f->Sync());
    TYTO_RETURN_IF_ERROR(f->Close());
  }
  TYTO_RETURN_IF_ERROR(env->RenameFile(tmp, path));
  TYTO_RETURN_IF_ERROR(env->SyncDir(ParentDir(path)));
  kLog.Info("made a NATS publisher id", {{"id", id}, {"path", path}});
  return id;
}

Result<std::unique_ptr<QueueForwarder>> QueueForwarder::Create(forward::DiskQueue* queue, Connection* conn,
                                                                QueueForwarderOptions options, Clock* clock,
                                                                forward::Metrics* metrics) {
  if (queue == nullptr || conn == nullptr) return InvalidArgument("nats forwarder: no queue or connection");
  if (!IsValidName(options.publisher_id)) {
    return InvalidArgument("nats forwarder: publisher id '" + options.publisher_id +
                           "': want 1 to 64 letters, digits, '-' or '_'");
  }
  if (options.min_backoff.count() < 1 || options.max_backoff < options.min_backoff) {
    return InvalidArgument("nats forwarder backoff: want 1ms <= min_backoff <= max_backoff");
  }
  if (options.records_per_ack < 1) return InvalidArgument("nats forwarder: records_per_ack must be at least 1");
  return std::unique_ptr<QueueForwarder>(new QueueForwarder(queue, conn, std::move(options), clock, metrics));
}

QueueForwarder::QueueForwarder(forward::DiskQueue* queue, Connection* conn, QueueForwarderOptions options,
                               Clock* clock, forward::Metrics* metrics)
    : queue_(queue),
      conn_(conn),
      options_(std::move(options)),
      clock_(clock != nullptr ? clock : Clock::Real()),
      own_registry_(metrics == nullptr ? std::make_unique<instrumentation::Registry>() : nullptr),
      own_metrics_(metrics == nullptr ? std::make_unique<forward::Metrics>(own_registry_.get()) : nullptr),
      metrics_(metrics != nullptr ? metrics : own_metrics_.get()),
      publisher_(conn) {
  metrics_->shards.Set(1);
}

QueueForwarder::~QueueForwarder() { Stop(); }

void QueueForwarder::Start() {
  MutexLock lock(&mu_);
  if (started_ || stopping_) return;
  started_ = true;
  thread_ = std::thread([this] { Run(); });
}

void QueueForwarder::Stop() {
  stopping_ = true;
  {
    MutexLock lock(&mu_);
    cv_.notify_all();
  }
  queue_->WakeReaders();
  if (thread_.joinable()) thread_.join();
}

QueueForwarderStats QueueForwarder::stats() const {
  MutexLock lock(&mu_);
  return stats_;
}

void QueueForwarder::Pause(milliseconds d) {
  MutexLock lock(&mu_);
  if (!stopping_) cv_.wait_for(mu_.native(), d);
}

void QueueForwarder::Run() {
  kLog.Info("forwarding over NATS JetStream", {{"urls", conn_->server()},
                                                {"stream", conn_->config().stream},
                                                {"subject", Subject(conn_->config().subject_prefix, options_.tenant,
                                                                    Kind::kMetrics)},
                                                {"publisher_id", options_.publisher_id}});
  uint64_t read_failures = 0;
  forward::QueueRecord record;
  while (!stopping_) {
    Result<bool> got = queue_->Read(&record);
    if (!got.ok()) {
      if (read_failures++ % 100 == 0) {
        kLog.Error("reading the agent queue failed; trying again", {{"error", got.status()}, {"failures", read_failures}});
      }
      AckPublished();
      Pause(options_.max_backoff);
      continue;
    }
    if (!*got) {
      AckPublished();
      (void)queue_->WaitForRecords(std::chrono::seconds(1), &stopping_);
      continue;
    }
    if (!PublishRecord(record)) break;  // stopped: this record stays unacknowledged, read again later
    have_pending_ = true;
    pending_end_ = record.end;
    if (++pending_records_ >= options_.records_per_ack) AckPublished();
  }
  AckPublished();
}

void QueueForwarder::AckPublished() {
  if (!have_pending_) return;
  const uint32_t records = pending_records_;
  if (Status s = queue_->Ack(pending_end_); !s.ok()) {
    kLog.Error("acknowledging published samples in the agent queue failed; they may be published again after a "
               "restart (and deduplicated by the stream)",
               {{"error", s}});
  }
  have_pending_ = false;
  pending_records_ = 0;
  MutexLock lock(&mu_);
  stats_.records += records;
  ++stats_.acks;
}

bool QueueForwarder::PublishRecord(const forward::QueueRecord& record) {
  std::string raw;
  ingest::WriteRequest req;
  Status s = ingest::SnappyUncompress(record.payload, kMaxDecompressedRecord, &raw);
  if (s.ok()) s = ingest::DecodeWriteRequest(raw, &req);
  if (!s.ok()) {
    kLog.Error("an agent queue record cannot be decoded; dropping it",
               {{"error", s}, {"samples", record.samples}, {"segment", record.end.segment}});
    metrics_->dropped_corrupt.Inc(record.samples);
    MutexLock lock(&mu_);
    ++stats_.corrupt_records;
    return true;
  }
  int64_t max_t = INT64_MIN;
  for (const Sample& sample : req.samples) max_t = std::max(max_t, sample.t);

  const std::string base_id = options_.publisher_id + ":" + std::to_string(record.end.segment) + ":" +
                              std::to_string(record.end.offset) + ":" + Hex32(Crc32(record.payload));
  std::vector<Part> parts;
  const size_t limit = publisher_.MaxPayload();
  if (record.payload.size() <= limit) {
    parts.push_back({std::string(), req.samples.size()});
  } else {
    // Snappy can grow incompressible input by about 1/6; keep each piece's raw bytes below that.
    const size_t budget = std::max<size_t>(limit * 5 / 6, 1024) - 512;
    std::string body;
    uint64_t body_samples = 0;
    auto flush = [&] {
      if (body.empty()) return;
      parts.push_back({ingest::SnappyCompress(body), body_samples});
      body.clear();
      body_samples = 0;
    };
    for (const ingest::WriteRequest::Series& rs : req.series) {
      std::span<const ingest::LabelView> labels(req.labels.data() + rs.labels_begin, rs.labels_end - rs.labels_begin);
      std::span<const Sample> samples(req.samples.data() + rs.samples_begin, rs.samples_end - rs.samples_begin);
      std::string one;
      ingest::AppendTimeSeries(labels, samples, &one);
      if (one.size() > budget) {
        // One series larger than a message: its samples in chunks (a sample is at most 20 bytes).
        flush();
        size_t label_bytes = 0;
        for (const auto& l : labels) label_bytes += l.name.size() + l.value.size() + 8;
        const size_t per_chunk = std::max<size_t>(1, (budget - std::min(budget - 1, label_bytes)) / 24);
        for (size_t i = 0; i < samples.size(); i += per_chunk) {
          std::string chunk;
          auto piece = samples.subspan(i, std::min(per_chunk, samples.size() - i));
          ingest::AppendTimeSeries(labels, piece, &chunk);
          parts.push_back({ingest::SnappyCompress(chunk), piece.size()});
        }
        continue;
      }
      if (body.size() + one.size() > budget) flush();
      body += one;
      body_samples += samples.size();
    }
    flush();
  }

  uint64_t bytes = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    Batch batch;
    batch.tenant = options_.tenant;
    batch.kind = Kind::kMetrics;
    batch.payload = parts[i].body.empty() ? std::string_view(record.payload) : std::string_view(parts[i].body);
    batch.content_type = "application/x-protobuf";
    batch.content_encoding = "snappy";
    batch.id = parts.size() == 1 ? base_id : base_id + ":" + std::to_string(i);
    batch.headers.emplace_back(std::string(kSamplesHeader), std::to_string(parts[i].samples));
    if (parts.size() > 1) batch.headers.emplace_back("Tyto-Part", std::to_string(i + 1) + "/" + std::to_string(parts.size()));
    if (!PublishUntilStored(batch)) return false;
    bytes += batch.payload.size();
  }
  metrics_->samples_sent.Inc(static_cast<double>(req.samples.size()));
  metrics_->sent_bytes.Inc(static_cast<double>(bytes));
  MutexLock lock(&mu_);
  stats_.samples += req.samples.size();
  if (max_t > highest_sent_) {
    highest_sent_ = max_t;
    metrics_->highest_sent_timestamp.Set(static_cast<double>(max_t) / 1000.0);
  }
  return true;
}

bool QueueForwarder::PublishUntilStored(const Batch& batch) {
  milliseconds backoff = options_.min_backoff;
  uint64_t failures = 0;
  while (!stopping_) {
    if (!stream_ensured_) {
      Status s = conn_->EnsureStream(/*update_limits=*/false);
      // Without the permission to manage streams, the servers' stream is used as it is.
      stream_ensured_ = s.ok() || s.code() == StatusCode::kPermissionDenied ||
                        s.code() == StatusCode::kFailedPrecondition;
      if (!s.ok() && stream_ensured_) kLog.Warn("cannot check the JetStream stream; publishing anyway", {{"error", s}});
    }
    const auto start = std::chrono::steady_clock::now();
    Result<PublishAck> r = publisher_.Publish(batch);
    metrics_->send_duration.Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (r.ok()) {
      if (failures > 0) kLog.Info("publishing to NATS works again", {{"failures", failures}});
      MutexLock lock(&mu_);
      ++stats_.messages;
      if (r->duplicate) ++stats_.duplicates;
      return true;
    }
    if (r.status().code() == StatusCode::kInvalidArgument) {
      // The server's max_payload shrank under us, or a bug: retrying cannot help.
      uint64_t samples = 0;
      for (const auto& [k, v] : batch.headers) {
        if (k == kSamplesHeader) samples = std::strtoull(v.c_str(), nullptr, 10);
      }
      kLog.Error("NATS refused a message for good; dropping its samples",
                 {{"error", r.status()}, {"id", batch.id}, {"samples", samples}});
      metrics_->dropped_rejected.Inc(static_cast<double>(samples));
      return true;
    }
    stream_ensured_ = false;  // a missing stream answers like an absent server: check it again
    ++failures;
    metrics_->send_retries.Inc();
    {
      MutexLock lock(&mu_);
      ++stats_.retries;
    }
    if (failures == 1 || failures % 20 == 0) {
      kLog.Warn("publishing to NATS failed; retrying",
                {{"error", r.status()}, {"failures", failures}, {"retry_in_ms", backoff.count()}});
    }
    Pause(backoff);
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
  return false;
}

}  // namespace tyto::nats
