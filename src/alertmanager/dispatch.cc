#include "alertmanager/dispatch.h"

#include <algorithm>
#include <cstdio>
#include <random>
#include <set>

#include "alertmanager/store.h"
#include "common/log.h"
#include "instrumentation/metrics.h"

namespace tyto::alertmanager {

std::string Notification::State() const {
  for (const Alert& a : alerts) {
    if (!a.ResolvedAt(now_ms)) return "firing";
  }
  return "resolved";
}

namespace {

const log::Logger& Log() {
  static const log::Logger logger("alertmanager");
  return logger;
}

// Reads and decodes one snapshot of `dir`; none when it is missing, and none (logged) when it is
// unreadable or damaged: the dispatcher then starts without it. Serves the silences and the
// notification log.
template <typename T>
std::optional<T> LoadSnapshot(Env* env, const std::string& dir, const char* file, std::string_view what,
                              Result<T> (*decode)(std::string_view)) {
  auto data = ReadSnapshot(env, dir, file);
  if (!data.ok()) {
    if (data.status().code() != StatusCode::kNotFound) {
      Log().Error(std::string(what) + " snapshot unreadable", {{"dir", dir}, {"err", data.status()}});
    }
    return std::nullopt;
  }
  auto decoded = decode(*data);
  if (!decoded.ok()) {
    Log().Error("damaged " + std::string(what) + " snapshot ignored", {{"dir", dir}, {"err", decoded.status()}});
    return std::nullopt;
  }
  return std::move(*decoded);
}

std::mt19937_64& Rng() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng;
}

// A random UUID (version 4), the form of Alertmanager's silence ids.
std::string NewSilenceId() {
  const uint64_t hi = Rng()();
  const uint64_t lo = Rng()();
  unsigned char b[16];
  for (int i = 0; i < 8; ++i) {
    b[i] = static_cast<unsigned char>(hi >> (8 * i));
    b[8 + i] = static_cast<unsigned char>(lo >> (8 * i));
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  char out[37];
  std::snprintf(out, sizeof(out), "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return out;
}

// Labels (or annotations) with the same value in every alert.
LabelSet Common(const std::vector<Alert>& alerts, LabelSet Alert::*field) {
  if (alerts.empty()) return {};
  LabelSet common = alerts.front().*field;
  for (size_t i = 1; i < alerts.size() && !common.empty(); ++i) {
    const LabelSet& other = alerts[i].*field;
    for (auto it = common.begin(); it != common.end();) {
      auto o = other.find(it->first);
      if (o == other.end() || o->second != it->second) {
        it = common.erase(it);
      } else {
        ++it;
      }
    }
  }
  return common;
}

// Failure reasons as Alertmanager 0.27 labels notifications_failed_total.
std::string FailureReason(const DeliveryResult& r) {
  if (r.status.code() == StatusCode::kDeadlineExceeded) return "contextDeadlineExceeded";
  return r.retry ? "serverError" : "clientError";
}

}  // namespace

struct Dispatcher::Receivers {
  std::map<std::string, std::vector<std::unique_ptr<Integration>>, std::less<>> by_name;
};

struct Dispatcher::Group {
  std::string key;  // Route::GroupKey
  std::string receiver;
  LabelSet labels;
  RouteOptions options;
  std::map<uint64_t, StoredAlert> alerts;
  int64_t next_flush_ms = 0;
  bool flushed = false;
  bool flushing = false;
};

struct Dispatcher::Job {
  struct Delivery {
    Integration* integration = nullptr;
    std::string integration_key;
    Notification notification;
    std::vector<uint64_t> firing, resolved;
    bool send = true;  // false: nothing to send to it (resolved only, no send_resolved), just log
    int attempts = 0;
    bool ok = false;
    // Several servers (shared_nflog): another server sent it already (`shared_sent` is what it
    // sent), or is sending it now (busy: neither delivered nor failed; the next flush decides).
    bool shared_skip = false;
    bool busy = false;
    NflogEntry shared_sent;
    std::string error;
  };
  std::shared_ptr<Group> group;
  std::shared_ptr<Receivers> receivers;  // keeps the integrations alive
  std::vector<Delivery> deliveries;
  std::map<uint64_t, int64_t> resolved;  // resolved alerts of the flush: fingerprint, updated_at
  int64_t now_ms = 0;
  int64_t deadline_ms = 0;
};

struct Dispatcher::Metrics {
  explicit Metrics(instrumentation::Registry* r)
      : notifications(r->AddCounter("tyto_alertmanager_notifications_total",
                                    "Notifications attempted, by integration.", {"integration"})),
        notifications_failed(r->AddCounter("tyto_alertmanager_notifications_failed_total",
                                           "Notifications that failed after all retries.", {"integration", "reason"})),
        requests(r->AddCounter("tyto_alertmanager_notification_requests_total",
                               "Delivery attempts (requests) to integrations.", {"integration"})),
        requests_failed(r->AddCounter("tyto_alertmanager_notification_requests_failed_total",
                                      "Delivery attempts that failed.", {"integration"})),
        latency(r->AddHistogram("tyto_alertmanager_notification_latency_seconds",
                                "Latency of delivery attempts.", {"integration"},
                                instrumentation::DefaultLatencyBuckets())),
        alerts(r->AddGauge("tyto_alertmanager_alerts", "Alerts known, by state.", {"state"})),
        silences(r->AddGauge("tyto_alertmanager_silences", "Silences, by state.", {"state"})),
        nflog(r->AddGauge("tyto_alertmanager_nflog_entries", "Entries in the notification log.")) {}

  instrumentation::Family<instrumentation::Counter>& notifications;
  instrumentation::Family<instrumentation::Counter>& notifications_failed;
  instrumentation::Family<instrumentation::Counter>& requests;
  instrumentation::Family<instrumentation::Counter>& requests_failed;
  instrumentation::Family<instrumentation::Histogram>& latency;
  instrumentation::Family<instrumentation::Gauge>& alerts;
  instrumentation::Family<instrumentation::Gauge>& silences;
  instrumentation::Family<instrumentation::Gauge>& nflog;
};

Dispatcher::Dispatcher(Config config, IntegrationFactory factory, DispatcherOptions options)
    : clock_(options.clock ? options.clock : Clock::Real()),
      env_(options.env ? options.env : Env::Default()),
      options_(std::move(options)),
      factory_(std::move(factory)),
      started_at_ms_(clock_->NowMillis()),
      records_(options_.max_records) {
  if (options_.metrics) metrics_ = std::make_unique<Metrics>(options_.metrics);
  auto receivers = MakeReceivers(config);
  MutexLock lock(&mu_);
  route_ = Route::Build(config.route);
  config_ = std::make_shared<const Config>(std::move(config));
  receivers_ = std::move(receivers);
  next_gc_ms_ = started_at_ms_ + options_.gc_interval_ms;
  next_snapshot_ms_ = started_at_ms_ + options_.snapshot_interval_ms;
}

Dispatcher::~Dispatcher() { Stop(); }

std::shared_ptr<Dispatcher::Receivers> Dispatcher::MakeReceivers(const Config& config) const {
  auto receivers = std::make_shared<Receivers>();
  for (const Receiver& r : config.receivers) {
    auto& integrations = receivers->by_name[r.name];
    if (factory_) integrations = factory_(r);
  }
  return receivers;
}

Status Dispatcher::Open() {
  if (options_.data_dir.empty()) return Status::Ok();
  opened_ = true;
  const int64_t now = clock_->NowMillis();
  std::vector<Silence> silences;
  if (auto decoded = LoadSnapshot(env_, options_.data_dir, kSilencesSnapshot, "silences", DecodeSilences)) {
    silences = std::move(*decoded);
  }
  std::optional<NotificationLog> nflog =
      LoadSnapshot(env_, options_.data_dir, kNflogSnapshot, "notification log", DecodeNflog);
  MutexLock lock(&mu_);
  for (Silence& s : silences) {
    if (s.StateAt(now) == SilenceState::kExpired) continue;  // SilenceStore keeps no expired silence on Add
    auto added = silences_.Add(std::move(s), now);
    if (!added.ok()) Log().Warn("silence from the snapshot refused", {{"err", added.status()}});
  }
  if (nflog) {
    nflog_ = std::move(*nflog);
    nflog_.GarbageCollect(now);
  }
  return Status::Ok();
}

void Dispatcher::Start() {
  MutexLock lock(&mu_);
  if (started_ || stopping_) return;
  started_ = true;
  scheduler_ = std::thread([this] { SchedulerLoop(); });
  const size_t n = std::max<size_t>(1, options_.delivery_workers);
  for (size_t i = 0; i < n; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

void Dispatcher::Stop() {
  {
    MutexLock lock(&mu_);
    if (stopping_ && !started_) return;  // stopped before
    stopping_ = true;
    started_ = false;
  }
  wake_.notify_all();
  work_.notify_all();
  stop_.notify_all();
  if (scheduler_.joinable()) scheduler_.join();
  for (std::thread& t : workers_) {
    if (t.joinable()) t.join();
  }
  workers_.clear();
  {
    MutexLock lock(&mu_);
    for (auto& job : queue_) job->group->flushing = false;
    queue_.clear();
  }
  if (opened_) {
    Status s = SaveNflog();
    if (!s.ok()) Log().Error("writing the notification log snapshot failed", {{"err", s}});
  }
}

void Dispatcher::Put(const std::vector<Alert>& alerts) {
  const int64_t now = clock_->NowMillis();
  {
    MutexLock lock(&mu_);
    const int64_t resolve_timeout = config_->global.resolve_timeout.count();
    for (const Alert& in : alerts) {
      if (in.labels.empty()) continue;
      StoredAlert a{in, now, false};
      if (a.alert.starts_at_ms == 0) a.alert.starts_at_ms = a.alert.ends_at_ms != 0 ? a.alert.ends_at_ms : now;
      if (a.alert.ends_at_ms == 0) {
        a.alert.ends_at_ms = now + resolve_timeout;
        a.timeout = true;
      }
      const uint64_t fp = Fingerprint(a.alert.labels);
      auto it = alerts_.find(fp);
      if (it != alerts_.end()) {
        const StoredAlert& old = it->second;
        // Alertmanager's provider merges when the activity ranges overlap.
        const bool overlap =
            (a.alert.ends_at_ms > old.alert.starts_at_ms && a.alert.ends_at_ms < old.alert.ends_at_ms) ||
            (a.alert.starts_at_ms > old.alert.starts_at_ms && a.alert.starts_at_ms < old.alert.ends_at_ms);
        if (overlap) {
          a.alert.starts_at_ms = std::min(a.alert.starts_at_ms, old.alert.starts_at_ms);
          if (a.alert.ResolvedAt(now)) {
            if (old.alert.ResolvedAt(now) && old.alert.ends_at_ms > a.alert.ends_at_ms) {
              a.alert.ends_at_ms = old.alert.ends_at_ms;
            }
          } else if (old.alert.ends_at_ms > a.alert.ends_at_ms && !old.timeout) {
            a.alert.ends_at_ms = old.alert.ends_at_ms;
            a.timeout = false;
          }
        }
      }
      alerts_[fp] = a;
      RouteAlertLocked(a, now);
    }
  }
  wake_.notify_all();
}

void Dispatcher::RouteAlertLocked(const StoredAlert& a, int64_t now) {
  const uint64_t fp = Fingerprint(a.alert.labels);
  for (const Route* r : route_->Match(a.alert.labels)) {
    const std::string key = r->GroupKey(a.alert.labels);
    const std::string map_key = key + '\x00' + r->options().receiver;
    std::shared_ptr<Group>& g = groups_[map_key];
    if (!g) {
      g = std::make_shared<Group>();
      g->key = key;
      g->receiver = r->options().receiver;
      g->labels = r->GroupLabels(a.alert.labels);
      g->options = r->options();
      g->next_flush_ms = now + g->options.group_wait.count();
    }
    g->alerts[fp] = a;
    // An alert that started more than group_wait ago flushes a new group at once.
    if (!g->flushed && a.alert.starts_at_ms + g->options.group_wait.count() < now) {
      g->next_flush_ms = std::min(g->next_flush_ms, now);
    }
  }
}

void Dispatcher::Update(Config config) {
  auto receivers = MakeReceivers(config);
  auto route = Route::Build(config.route);
  {
    MutexLock lock(&mu_);
    const int64_t now = clock_->NowMillis();
    config_ = std::make_shared<const Config>(std::move(config));
    route_ = std::move(route);
    receivers_ = std::move(receivers);
    RebuildLocked(now);
  }
  wake_.notify_all();
}

void Dispatcher::RebuildLocked(int64_t now) {
  groups_.clear();  // flushes in flight finish on their old group
  for (const auto& [fp, a] : alerts_) RouteAlertLocked(a, now);
}

std::shared_ptr<const Config> Dispatcher::config() const {
  MutexLock lock(&mu_);
  return config_;
}

std::vector<LabelSet> Dispatcher::FiringLocked(int64_t now) const {
  std::vector<LabelSet> firing;
  for (const auto& [fp, a] : alerts_) {
    if (!a.alert.ResolvedAt(now)) firing.push_back(a.alert.labels);
  }
  return firing;
}

std::shared_ptr<Dispatcher::Job> Dispatcher::FlushLocked(const std::shared_ptr<Group>& g, const Inhibitor& inhibitor,
                                                          int64_t now) {
  g->flushed = true;
  g->next_flush_ms = now + g->options.group_interval.count();
  auto drop_resolved = [&] {
    for (auto it = g->alerts.begin(); it != g->alerts.end();) {
      it = it->second.alert.ResolvedAt(now) ? g->alerts.erase(it) : std::next(it);
    }
  };
  if (g->alerts.empty()) return nullptr;
  if (MutedAt(g->options, *config_, now)) {
    drop_resolved();
    return nullptr;
  }
  std::vector<Alert> alerts;
  std::vector<uint64_t> firing, resolved;
  auto job = std::make_shared<Job>();
  for (const auto& [fp, a] : g->alerts) {
    if (a.alert.ResolvedAt(now)) job->resolved[fp] = a.updated_at_ms;
    if (!silences_.Silenced(a.alert.labels, now).empty() || inhibitor.Inhibited(a.alert.labels)) continue;
    alerts.push_back(a.alert);
    (a.alert.ResolvedAt(now) ? resolved : firing).push_back(fp);
  }
  std::sort(firing.begin(), firing.end());
  std::sort(resolved.begin(), resolved.end());
  if (alerts.empty()) {
    drop_resolved();
    return nullptr;
  }
  auto it = receivers_->by_name.find(g->receiver);
  if (it == receivers_->by_name.end() || it->second.empty()) {
    drop_resolved();
    return nullptr;
  }
  for (const auto& integration : it->second) {
    const std::string ikey = IntegrationKey(g->receiver, integration->Kind(), integration->Index());
    if (!NeedsUpdate(nflog_.Find(g->key, ikey), firing, resolved, integration->SendResolved(),
                     g->options.repeat_interval.count(), now)) {
      continue;
    }
    Job::Delivery d;
    d.integration = integration.get();
    d.integration_key = ikey;
    d.firing = firing;
    d.resolved = resolved;
    Notification& n = d.notification;
    n.receiver = g->receiver;
    n.group_key = g->key;
    n.group_labels = g->labels;
    n.external_url = options_.external_url;
    n.now_ms = now;
    for (const Alert& a : alerts) {
      if (integration->SendResolved() || !a.ResolvedAt(now)) n.alerts.push_back(a);
    }
    n.common_labels = Common(n.alerts, &Alert::labels);
    n.common_annotations = Common(n.alerts, &Alert::annotations);
    d.send = !n.alerts.empty();
    job->deliveries.push_back(std::move(d));
  }
  if (job->deliveries.empty()) {
    drop_resolved();
    return nullptr;
  }
  job->group = g;
  job->receivers = receivers_;
  job->now_ms = now;
  job->deadline_ms = now + g->options.group_interval.count();
  g->flushing = true;
  return job;
}

int64_t Dispatcher::CollectDueLocked(int64_t now, std::vector<std::shared_ptr<Job>>* jobs) {
  if (now >= next_gc_ms_) {
    MaintainLocked(now);
    next_gc_ms_ = now + options_.gc_interval_ms;
  }
  int64_t next = std::min(next_gc_ms_, next_snapshot_ms_);
  std::optional<Inhibitor> inhibitor;  // built once, for the first group due
  for (auto it = groups_.begin(); it != groups_.end();) {
    const std::shared_ptr<Group>& g = it->second;
    if (!g->flushing && g->next_flush_ms <= now) {
      if (!inhibitor) {
        inhibitor.emplace(config_->inhibit_rules);
        inhibitor->SetFiring(FiringLocked(now));
      }
      if (auto job = FlushLocked(g, *inhibitor, now)) jobs->push_back(std::move(job));
    }
    if (!g->flushing && g->alerts.empty()) {
      it = groups_.erase(it);
      continue;
    }
    if (!g->flushing) next = std::min(next, g->next_flush_ms);
    ++it;
  }
  if (now >= next_gauges_ms_) {
    UpdateGaugesLocked(now);
    next_gauges_ms_ = now + 15'000;
  }
  return next;
}

void Dispatcher::MaintainLocked(int64_t now) {
  for (auto it = alerts_.begin(); it != alerts_.end();) {
    it = it->second.alert.ResolvedAt(now) ? alerts_.erase(it) : std::next(it);
  }
  silences_.GarbageCollect(now, options_.silence_retention_ms);
  if (nflog_.GarbageCollect(now) > 0) nflog_dirty_ = true;
}

void Dispatcher::UpdateGaugesLocked(int64_t now) {
  if (!metrics_) return;
  Inhibitor inhibitor(config_->inhibit_rules);
  inhibitor.SetFiring(FiringLocked(now));
  double active = 0, suppressed = 0;
  for (const auto& [fp, a] : alerts_) {
    if (a.alert.ResolvedAt(now)) continue;
    if (!silences_.Silenced(a.alert.labels, now).empty() || inhibitor.Inhibited(a.alert.labels)) {
      ++suppressed;
    } else {
      ++active;
    }
  }
  metrics_->alerts.WithLabels({"active"}).Set(active);
  metrics_->alerts.WithLabels({"suppressed"}).Set(suppressed);
  double pending = 0, sactive = 0, expired = 0;
  for (const Silence& s : silences_.List(now)) {
    switch (s.StateAt(now)) {
      case SilenceState::kPending: ++pending; break;
      case SilenceState::kActive: ++sactive; break;
      case SilenceState::kExpired: ++expired; break;
    }
  }
  metrics_->silences.WithLabels({"pending"}).Set(pending);
  metrics_->silences.WithLabels({"active"}).Set(sactive);
  metrics_->silences.WithLabels({"expired"}).Set(expired);
  metrics_->nflog.WithLabels({}).Set(static_cast<double>(nflog_.size()));
}

bool Dispatcher::Sleep(int64_t ms) {
  if (options_.sleep) return options_.sleep(ms);
  MutexLock lock(&mu_);
  stop_.wait_for(mu_.native(), std::chrono::milliseconds(ms), [this]() NO_THREAD_SAFETY_ANALYSIS { return stopping_; });
  return !stopping_;
}

void Dispatcher::RunJob(Job& job) {
  SharedNotificationLog* shared = options_.shared_nflog;
  for (Job::Delivery& d : job.deliveries) {
    NotificationClaimRequest request;
    NotificationClaim claim;
    if (shared != nullptr) {
      request.group_key = job.group->key;
      request.integration_key = d.integration_key;
      request.firing = d.firing;
      request.resolved = d.resolved;
      request.send_resolved = d.integration->SendResolved();
      request.repeat_interval_ms = job.group->options.repeat_interval.count();
      request.flush_ms = job.now_ms;
      request.attempt_ms = std::max<int64_t>(1, std::min(options_.attempt_timeout_ms, job.deadline_ms - job.now_ms));
      claim = shared->Claim(request);
      if (claim.outcome == ClaimOutcome::kAlreadySent) {
        d.ok = true;
        d.shared_skip = true;
        d.shared_sent = claim.sent;
        continue;
      }
      if (claim.outcome == ClaimOutcome::kBusy) {
        d.busy = true;
        continue;
      }
    }
    if (!d.send) {
      d.ok = true;
      if (shared != nullptr) shared->Done(claim, request, true);
      continue;
    }
    const std::string kind(d.integration->Kind());
    if (metrics_) metrics_->notifications.WithLabels({kind}).Inc();
    double backoff = static_cast<double>(options_.retry_initial_ms);
    DeliveryResult last;
    while (true) {
      const int64_t left = job.deadline_ms - clock_->NowMillis();
      const int64_t timeout = std::max<int64_t>(1, std::min(options_.attempt_timeout_ms, left));
      if (d.attempts > 0 && shared != nullptr && !shared->Renew(&claim, timeout)) {
        // This server was too slow: another one took the notification over.
        d.busy = true;
        break;
      }
      ++d.attempts;
      const auto t0 = std::chrono::steady_clock::now();
      last = d.integration->Deliver(d.notification, timeout);
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (metrics_) {
        metrics_->requests.WithLabels({kind}).Inc();
        metrics_->latency.WithLabels({kind}).Observe(secs);
        if (!last.status.ok()) metrics_->requests_failed.WithLabels({kind}).Inc();
      }
      if (last.status.ok()) {
        d.ok = true;
        break;
      }
      d.error = last.status.ToString();
      if (!last.retry) break;
      std::uniform_real_distribution<double> spread(1 - options_.retry_jitter, 1 + options_.retry_jitter);
      const auto wait = static_cast<int64_t>(backoff * spread(Rng()));
      backoff = std::min(backoff * options_.retry_multiplier, static_cast<double>(options_.retry_max_ms));
      if (clock_->NowMillis() + wait >= job.deadline_ms) {
        d.error += " (gave up after " + std::to_string(d.attempts) + " attempts: flush deadline)";
        last.status = DeadlineExceeded(d.error);
        break;
      }
      if (!Sleep(wait)) {
        d.error += " (stopping)";
        break;
      }
    }
    if (shared != nullptr && !d.busy) shared->Done(claim, request, d.ok);
    if (!d.ok && !d.busy) {
      if (metrics_) metrics_->notifications_failed.WithLabels({kind, FailureReason(last)}).Inc();
      Log().Warn("notification failed", {{"receiver", job.group->receiver},
                                         {"integration", d.integration_key},
                                         {"attempts", d.attempts},
                                         {"err", d.error}});
    }
  }
}

void Dispatcher::FinishJob(Job& job) {
  std::vector<DeliveryRecord> done;
  {
    MutexLock lock(&mu_);
    const int64_t now = clock_->NowMillis();
    bool all_ok = true;
    for (const Job::Delivery& d : job.deliveries) {
      all_ok = all_ok && d.ok;
      if (d.ok) {
        NflogEntry e = d.shared_skip ? d.shared_sent : NflogEntry{d.firing, d.resolved, job.now_ms, 0};
        e.expires_at_ms = e.timestamp_ms + options_.nflog_retention_ms;
        nflog_.Log(job.group->key, d.integration_key, std::move(e));
        nflog_dirty_ = true;
      }
      // Sent by another server, or being sent by one: nothing delivered here to record.
      if (!d.send || d.shared_skip || d.busy) continue;
      DeliveryRecord r;
      r.time_ms = now;
      r.receiver = job.group->receiver;
      r.integration = std::string(d.integration->Kind());
      r.integration_index = d.integration->Index();
      r.group_key = job.group->key;
      r.tenant = std::string(AlertTenant(job.group->labels));
      r.alerts = d.notification.alerts.size();
      for (const Alert& a : d.notification.alerts) ++(a.ResolvedAt(job.now_ms) ? r.resolved : r.firing);
      r.state = d.notification.State();
      r.attempts = d.attempts;
      r.outcome = d.ok ? "success" : "failed";
      r.error = d.ok ? "" : d.error;
      records_.Add(r);
      // The observer also learns which alerts it was about (the log keeps counts only).
      for (const Alert& a : d.notification.alerts) r.alert_labels.push_back(a.labels);
      done.push_back(std::move(r));
    }
    Group& g = *job.group;
    if (all_ok) {
      // Resolved alerts leave the group unless they changed during the flush.
      for (const auto& [fp, updated_at] : job.resolved) {
        auto it = g.alerts.find(fp);
        if (it != g.alerts.end() && it->second.updated_at_ms == updated_at) g.alerts.erase(it);
      }
    }
    g.flushing = false;
  }
  wake_.notify_all();
  if (options_.on_delivery) {
    for (const DeliveryRecord& r : done) options_.on_delivery(r);
  }
}

void Dispatcher::RunDueForTest() {
  std::vector<std::shared_ptr<Job>> jobs;
  bool snapshot = false;
  {
    MutexLock lock(&mu_);
    const int64_t now = clock_->NowMillis();
    CollectDueLocked(now, &jobs);
    if (now >= next_snapshot_ms_) {
      next_snapshot_ms_ = now + options_.snapshot_interval_ms;
      snapshot = nflog_dirty_;
    }
  }
  for (auto& job : jobs) {
    RunJob(*job);
    FinishJob(*job);
  }
  if (snapshot) (void)SaveNflog();
}

void Dispatcher::SchedulerLoop() {
  while (true) {
    bool save = false;
    {
      MutexLock lock(&mu_);
      if (stopping_) return;
      const int64_t now = clock_->NowMillis();
      std::vector<std::shared_ptr<Job>> jobs;
      const int64_t next = CollectDueLocked(now, &jobs);
      for (auto& j : jobs) queue_.push_back(std::move(j));
      if (!queue_.empty()) work_.notify_all();
      if (now >= next_snapshot_ms_) {
        next_snapshot_ms_ = now + options_.snapshot_interval_ms;
        save = nflog_dirty_ && opened_;
      }
      if (!save) {
        // Wake at the next due time, or within a second to follow a clock that jumps.
        const int64_t wait = std::clamp<int64_t>(next - now, 1, 1000);
        wake_.wait_for(mu_.native(), std::chrono::milliseconds(wait));
      }
    }
    if (save) {
      Status s = SaveNflog();
      if (!s.ok()) Log().Error("writing the notification log snapshot failed", {{"err", s}});
    }
  }
}

void Dispatcher::WorkerLoop() {
  while (true) {
    std::shared_ptr<Job> job;
    {
      MutexLock lock(&mu_);
      while (!stopping_ && queue_.empty()) work_.wait(mu_.native());
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    RunJob(*job);
    FinishJob(*job);
  }
}

Result<std::string> Dispatcher::SetSilence(Silence silence) {
  std::string id;
  std::vector<Silence> changed;  // for on_silence: the old silence expired, the new one
  {
    MutexLock lock(&mu_);
    const int64_t now = clock_->NowMillis();
    const std::string old_id = silence.id;
    silence.id = NewSilenceId();
    TYTO_RETURN_IF_ERROR(ValidateSilence(silence));
    if (silence.ends_at < now) return InvalidArgument("end time must not be in the past");
    if (!old_id.empty()) {
      const Silence* old = silences_.Get(old_id);
      // Another tenant's silence is not there for this one.
      if (old == nullptr || old->tenant != silence.tenant) return NotFound("silence " + old_id + " not found");
      if (old->StateAt(now) != SilenceState::kExpired) TYTO_RETURN_IF_ERROR(silences_.Expire(old_id, now));
    }
    TYTO_ASSIGN_OR_RETURN(id, silences_.Add(std::move(silence), now));
    if (options_.on_silence) {
      if (!old_id.empty()) changed.push_back(*silences_.Get(old_id));
      changed.push_back(*silences_.Get(id));
    }
  }
  Status s = SaveSilences();
  if (!s.ok()) Log().Error("writing the silences snapshot failed", {{"err", s}});
  for (const Silence& c : changed) options_.on_silence(c);
  return id;
}

Status Dispatcher::ExpireSilence(const std::string& id, std::string_view tenant) {
  std::optional<Silence> changed;
  {
    MutexLock lock(&mu_);
    const Silence* held = silences_.Get(id);
    if (held == nullptr || held->tenant != tenant) return NotFound("silence " + id + " not found");
    TYTO_RETURN_IF_ERROR(silences_.Expire(id, clock_->NowMillis()));
    if (options_.on_silence) changed = *silences_.Get(id);
  }
  Status s = SaveSilences();
  if (!s.ok()) Log().Error("writing the silences snapshot failed", {{"err", s}});
  if (changed) options_.on_silence(*changed);
  return Status::Ok();
}

Status Dispatcher::ApplySilence(const Silence& silence) {
  TYTO_RETURN_IF_ERROR(ValidateSilence(silence));
  {
    MutexLock lock(&mu_);
    const Silence* held = silences_.Get(silence.id);
    if (held != nullptr && held->updated_at >= silence.updated_at) return Status::Ok();
    TYTO_RETURN_IF_ERROR(silences_.Put(silence));
  }
  Status s = SaveSilences();
  if (!s.ok()) Log().Error("writing the silences snapshot failed", {{"err", s}});
  return Status::Ok();
}

std::optional<Silence> Dispatcher::GetSilence(const std::string& id, std::string_view tenant) const {
  MutexLock lock(&mu_);
  const Silence* s = silences_.Get(id);
  if (s == nullptr || s->tenant != tenant) return std::nullopt;
  return *s;
}

std::vector<Silence> Dispatcher::Silences() const {
  MutexLock lock(&mu_);
  return silences_.List(clock_->NowMillis());
}

std::vector<Silence> Dispatcher::Silences(std::string_view tenant) const {
  std::vector<Silence> out = Silences();
  std::erase_if(out, [tenant](const Silence& s) { return s.tenant != tenant; });
  return out;
}

AlertStatus Dispatcher::StatusLocked(uint64_t fp, const StoredAlert& a, const Inhibitor& inhibitor,
                                     int64_t now) const {
  AlertStatus st;
  st.alert = a.alert;
  st.fingerprint = fp;
  st.updated_at_ms = a.updated_at_ms;
  st.silenced_by = silences_.Silenced(a.alert.labels, now);
  st.inhibited = inhibitor.Inhibited(a.alert.labels);
  st.state = (st.inhibited || !st.silenced_by.empty()) ? "suppressed" : "active";
  return st;
}

std::vector<AlertStatus> Dispatcher::Alerts() const {
  MutexLock lock(&mu_);
  const int64_t now = clock_->NowMillis();
  Inhibitor inhibitor(config_->inhibit_rules);
  inhibitor.SetFiring(FiringLocked(now));
  std::vector<AlertStatus> out;
  for (const auto& [fp, a] : alerts_) {
    AlertStatus st = StatusLocked(fp, a, inhibitor, now);
    for (const Route* r : route_->Match(a.alert.labels)) {
      if (std::find(st.receivers.begin(), st.receivers.end(), r->options().receiver) == st.receivers.end()) {
        st.receivers.push_back(r->options().receiver);
      }
    }
    out.push_back(std::move(st));
  }
  return out;
}

std::vector<AlertGroupStatus> Dispatcher::Groups() const {
  MutexLock lock(&mu_);
  const int64_t now = clock_->NowMillis();
  Inhibitor inhibitor(config_->inhibit_rules);
  inhibitor.SetFiring(FiringLocked(now));
  std::vector<AlertGroupStatus> out;
  for (const auto& [key, g] : groups_) {
    if (g->alerts.empty()) continue;
    AlertGroupStatus gs;
    gs.labels = g->labels;
    gs.receiver = g->receiver;
    gs.group_key = g->key;
    for (const auto& [fp, a] : g->alerts) {
      AlertStatus st = StatusLocked(fp, a, inhibitor, now);
      st.receivers = {g->receiver};
      gs.alerts.push_back(std::move(st));
    }
    out.push_back(std::move(gs));
  }
  return out;
}

std::vector<DeliveryRecord> Dispatcher::Deliveries(size_t limit) const {
  MutexLock lock(&mu_);
  return records_.Newest(limit);
}

size_t Dispatcher::NflogSize() const {
  MutexLock lock(&mu_);
  return nflog_.size();
}

Status Dispatcher::SaveSilences() {
  if (!opened_) return Status::Ok();
  MutexLock save(&save_mu_);
  std::string data;
  {
    MutexLock lock(&mu_);
    data = EncodeSilences(silences_.List(clock_->NowMillis()));
  }
  return WriteSnapshot(env_, options_.data_dir, kSilencesSnapshot, data);
}

Status Dispatcher::SaveNflog() {
  if (!opened_) return Status::Ok();
  MutexLock save(&save_mu_);
  std::string data;
  {
    MutexLock lock(&mu_);
    data = EncodeNflog(nflog_);
    nflog_dirty_ = false;
  }
  return WriteSnapshot(env_, options_.data_dir, kNflogSnapshot, data);
}

Status Dispatcher::Snapshot() {
  Status a = SaveSilences();
  Status b = SaveNflog();
  return a.ok() ? b : a;
}

}  // namespace tyto::alertmanager
