#include "remote/fanout.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <unordered_map>
#include <utility>

#include "common/log.h"
#include "forward/queue_storage.h"
#include "instrumentation/metrics.h"
#include "relabel/relabel.h"

namespace tyto::remote {
namespace {

const log::Logger kLog("remote_write");

// Relabel results an appender remembers (then it starts over): a bound on its memory.
constexpr size_t kMaxCachedSeries = 100'000;
// At most one log line per destination this often about failed queue writes.
constexpr std::chrono::seconds kErrorLogInterval{10};

Result<forward::SenderOptions> SenderOptionsFrom(Env* env, const RemoteWriteConfig& c, const std::string& name) {
  forward::SenderOptions o;
  o.url = c.url;
  const std::string where = "remote_write " + name;
  if (!c.authorization.credentials.empty() || !c.authorization.credentials_file.empty()) {
    o.authorization_type = c.authorization.type;
    TYTO_ASSIGN_OR_RETURN(o.bearer_token,
                          scrape::ReadSecret(env, c.authorization.credentials, c.authorization.credentials_file,
                                             where + " authorization credentials_file"));
  }
  if (!c.basic_auth.username.empty()) {
    o.basic_auth_username = c.basic_auth.username;
    TYTO_ASSIGN_OR_RETURN(o.basic_auth_password, scrape::ReadSecret(env, c.basic_auth.password, c.basic_auth.password_file,
                                                                    where + " basic_auth password_file"));
  }
  o.tls.ca_file = c.tls_config.ca_file;
  o.tls.cert_file = c.tls_config.cert_file;
  o.tls.key_file = c.tls_config.key_file;
  o.tls.server_name = c.tls_config.server_name;
  o.tls.insecure_skip_verify = c.tls_config.insecure_skip_verify;
  o.headers.assign(c.headers.begin(), c.headers.end());
  o.shards = static_cast<int>(c.queue_config.max_shards);
  o.max_samples_per_send = static_cast<uint32_t>(c.queue_config.max_samples_per_send);
  o.batch_send_deadline = c.queue_config.batch_send_deadline;
  o.min_backoff = c.queue_config.min_backoff;
  o.max_backoff = c.queue_config.max_backoff;
  o.remote_timeout = c.remote_timeout;
  return o;
}

int64_t SteadyMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

struct Fanout::Destination {
  std::string name;
  std::string url;
  relabel::Relabeler relabel;
  std::unique_ptr<forward::Metrics> metrics;
  instrumentation::Counter* write_failed = nullptr;
  std::unique_ptr<forward::DiskQueue> queue;
  std::unique_ptr<forward::QueueStorage> storage;
  std::unique_ptr<forward::Sender> sender;  // last: stopped and destroyed before the queue
  std::atomic<int64_t> last_error_log_ms{INT64_MIN / 2};
};

class Fanout::FanoutAppender final : public Appender {
 public:
  explicit FanoutAppender(Fanout* fanout) : fanout_(fanout) {
    const size_t n = fanout_->destinations_.size();
    appenders_.reserve(n);
    for (const auto& d : fanout_->destinations_) appenders_.push_back(d->storage->NewAppender());
    samples_.assign(n, 0);
    cache_.resize(n);
  }

  Result<SeriesRef> Append(SeriesRef /*ref*/, const Labels& labels, int64_t t, double v) override {
    if (labels.empty()) return InvalidArgument("a series needs labels");
    if (labels.MetricName().empty()) {
      return InvalidArgument("series " + labels.ToString() + " has no metric name (a non-empty __name__ label)");
    }
    for (size_t i = 0; i < appenders_.size(); ++i) {
      const Destination& d = *fanout_->destinations_[i];
      const Labels* out = &labels;
      if (!d.relabel.empty()) {
        out = Relabel(i, labels);
        if (out == nullptr) continue;
      }
      if (appenders_[i]->Append(0, *out, t, v).ok()) ++samples_[i];
    }
    const uint64_t h = labels.Hash();
    return h != 0 ? h : 1;
  }

  Status Commit() override {
    Status first;
    for (size_t i = 0; i < appenders_.size(); ++i) {
      const uint64_t n = samples_[i];
      samples_[i] = 0;
      if (n == 0) continue;
      Destination& d = *fanout_->destinations_[i];
      Status s = appenders_[i]->Commit();
      if (s.ok()) continue;
      d.write_failed->Inc(static_cast<double>(n));
      const int64_t now = SteadyMillis();
      int64_t last = d.last_error_log_ms.load();
      if (now - last >= std::chrono::milliseconds(kErrorLogInterval).count() &&
          d.last_error_log_ms.compare_exchange_strong(last, now)) {
        kLog.Error("writing samples into a remote_write queue failed; they are not sent to this destination",
                   {{"remote_name", d.name}, {"url", d.url}, {"samples", n}, {"error", s}});
      }
      if (first.ok()) first = s.WithContext("remote_write " + d.name + " queue");
    }
    return first;
  }

  void Rollback() override {
    for (size_t i = 0; i < appenders_.size(); ++i) {
      appenders_[i]->Rollback();
      samples_[i] = 0;
    }
  }

 private:
  struct Cached {
    Labels in;
    Labels out;  // empty: dropped
  };

  // The labels destination i sends for `labels`, or null when its relabeling drops the series
  // or leaves it without a metric name.
  const Labels* Relabel(size_t i, const Labels& labels) {
    auto& cache = cache_[i];
    const uint64_t h = labels.Hash();
    auto it = cache.find(h);
    if (it == cache.end() || !(it->second.in == labels)) {
      if (cache.size() >= kMaxCachedSeries) cache.clear();
      LabelsBuilder b(labels);
      Labels out;
      if (fanout_->destinations_[i]->relabel.Process(&b)) {
        out = b.Build();
        if (out.MetricName().empty()) out = Labels();
      }
      it = cache.insert_or_assign(h, Cached{labels, std::move(out)}).first;
    }
    return it->second.out.empty() ? nullptr : &it->second.out;
  }

  Fanout* fanout_;
  std::vector<std::unique_ptr<Appender>> appenders_;  // one per destination, in order
  std::vector<uint64_t> samples_;                     // appended per destination since the last commit
  std::vector<std::unordered_map<uint64_t, Cached>> cache_;  // relabel results per destination
};

Fanout::Fanout() = default;

Result<std::unique_ptr<Fanout>> Fanout::Open(Env* env, Clock* clock, const std::string& data_dir,
                                             const std::vector<RemoteWriteConfig>& configs,
                                             instrumentation::Registry* registry) {
  TYTO_RETURN_IF_ERROR(CheckRemoteWriteList(configs));
  std::unique_ptr<Fanout> f(new Fanout());
  if (registry == nullptr) {
    f->own_registry_ = std::make_unique<instrumentation::Registry>();
    registry = f->own_registry_.get();
  }
  f->families_ = forward::MetricFamilies::ForDestinations(registry);
  std::string root = data_dir;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  root += "/remote_write";

  std::set<std::string> names;
  for (size_t i = 0; i < configs.size(); ++i) {
    const RemoteWriteConfig& c = configs[i];
    auto d = std::make_unique<Destination>();
    d->name = QueueName(c);
    d->url = c.url;
    names.insert(d->name);
    const std::string where = "remote_write " + d->name;
    Result<relabel::Relabeler> rl = relabel::Relabeler::Compile(c.write_relabel_configs);
    if (!rl.ok()) return rl.status().WithContext(where + " write_relabel_configs");
    d->relabel = std::move(rl).value();
    d->metrics = std::make_unique<forward::Metrics>(*f->families_, d->name, d->url);
    d->write_failed = &f->families_->dropped.WithLabels({"write_failed", d->name, d->url});

    forward::DiskQueueOptions qo;
    qo.max_bytes = c.queue_config.max_size;
    qo.segment_bytes = std::min<uint64_t>(qo.segment_bytes, std::max<uint64_t>(qo.max_bytes / 8, 64 << 10));
    Result<forward::FsyncMode> fsync = forward::ParseFsyncMode(c.queue_config.fsync);
    if (!fsync.ok()) return fsync.status().WithContext(where);
    qo.fsync = *fsync;
    Result<std::unique_ptr<forward::DiskQueue>> q =
        forward::DiskQueue::Open(env, clock, root + "/" + d->name, qo, d->metrics.get());
    if (!q.ok()) return q.status().WithContext(where + " queue");
    d->queue = std::move(q).value();
    d->storage = std::make_unique<forward::QueueStorage>(d->queue.get(), d->metrics.get());

    Result<forward::SenderOptions> so = SenderOptionsFrom(env, c, d->name);
    if (!so.ok()) return so.status();
    Result<std::unique_ptr<forward::Sender>> sender =
        forward::Sender::Create(d->queue.get(), std::move(so).value(), clock, d->metrics.get());
    if (!sender.ok()) return sender.status().WithContext(where);
    d->sender = std::move(sender).value();
    const forward::DiskQueueStats st = d->queue->Stats();
    kLog.Info("remote_write destination ready",
              {{"remote_name", d->name}, {"url", d->url}, {"queue", d->queue->dir()}, {"queued_samples", st.unread_samples}});
    f->destinations_.push_back(std::move(d));
  }

  if (Result<std::vector<std::string>> children = env->ListDir(root); children.ok()) {
    for (const std::string& child : *children) {
      if (names.count(child) == 0) {
        kLog.Warn("a remote_write queue folder belongs to no configured destination; delete it if its data is not "
                  "needed",
                  {{"folder", root + "/" + child}});
      }
    }
  }
  return f;
}

Fanout::~Fanout() {
  Stop();
  for (const auto& d : destinations_) {
    if (Status s = d->queue->Close(); !s.ok()) {
      kLog.Error("closing a remote_write queue failed", {{"remote_name", d->name}, {"error", s}});
    }
  }
}

void Fanout::Start() {
  for (const auto& d : destinations_) d->sender->Start();
}

void Fanout::Stop() {
  for (const auto& d : destinations_) d->sender->Stop();
}

std::unique_ptr<Appender> Fanout::NewAppender() { return std::make_unique<FanoutAppender>(this); }

Result<std::unique_ptr<Querier>> Fanout::NewQuerier(int64_t /*mint*/, int64_t /*maxt*/) {
  return Status(StatusCode::kUnimplemented, "remote_write destinations are written to, not read from");
}

std::vector<DestinationStatus> Fanout::Destinations() const {
  std::vector<DestinationStatus> out;
  for (const auto& d : destinations_) out.push_back({d->name, d->url, d->queue->Stats(), d->sender->stats()});
  return out;
}

Status Fanout::Sync() {
  Status first;
  for (const auto& d : destinations_) {
    if (Status s = d->queue->Sync(); !s.ok() && first.ok()) first = s.WithContext("remote_write " + d->name);
  }
  return first;
}

}  // namespace tyto::remote
