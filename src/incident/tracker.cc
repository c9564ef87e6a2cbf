#include "incident/tracker.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <utility>

#include "common/log.h"

namespace tyto::incident {
namespace {

const log::Logger kLog("incident");
constexpr const char* kJournalName = "incidents.journal";

using journal::Op;
using journal::OpType;

std::string AlertName(const alertmanager::LabelSet& labels) {
  auto it = labels.find("alertname");
  return it != labels.end() ? it->second : std::string();
}

std::string Label(const alertmanager::LabelSet& labels, const std::string& name) {
  auto it = labels.find(name);
  return it != labels.end() ? it->second : std::string();
}

std::string FingerprintHex(const alertmanager::LabelSet& labels) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016" PRIx64, alertmanager::Fingerprint(labels));
  return buf;
}

Op EntryOp(uint64_t id, int64_t time_ms, EntryKind kind, std::string by, std::string text, Fields fields = {}) {
  Op op;
  op.type = OpType::kEntry;
  op.id = id;
  op.entry.time_ms = time_ms;
  op.entry.kind = kind;
  op.entry.by = std::move(by);
  op.entry.text = std::move(text);
  op.entry.fields = std::move(fields);
  return op;
}

Op AlertOp(uint64_t id, int64_t time_ms, IncidentAlert alert) {
  Op op;
  op.type = OpType::kAlert;
  op.id = id;
  op.time_ms = time_ms;
  op.alert = std::move(alert);
  return op;
}

Fields AlertFields(const IncidentAlert& a) {
  Fields f = {{"alertname", AlertName(a.labels)}, {"fingerprint", FingerprintHex(a.labels)},
              {"labels", alertmanager::LabelSetToString(a.labels)}};
  if (std::string sev = Label(a.labels, "severity"); !sev.empty()) f.emplace_back("severity", sev);
  return f;
}

Op FiringEntry(uint64_t id, int64_t now, const IncidentAlert& a) {
  return EntryOp(id, now, EntryKind::kAlertFiring, "", AlertName(a.labels) + " firing", AlertFields(a));
}

}  // namespace

struct Tracker::Metrics {
  explicit Metrics(instrumentation::Registry* registry) {
    if (registry == nullptr) {
      own = std::make_unique<instrumentation::Registry>();
      registry = own.get();
    }
    auto& states = registry->AddGauge("tyto_incidents", "Incidents held, by state (open, acknowledged, resolved).",
                                      {"state"});
    open = &states.WithLabels({"open"});
    acknowledged = &states.WithLabels({"acknowledged"});
    resolved = &states.WithLabels({"resolved"});
    opened = &registry->AddCounter("tyto_incidents_opened_total", "Incidents opened.").WithLabels({});
    entries = &registry->AddCounter("tyto_incident_timeline_entries_total", "Timeline entries added to incidents.")
                   .WithLabels({});
    auto& dropped = registry->AddCounter(
        "tyto_incident_alerts_dropped_total",
        "Firing alerts left out of incidents, by reason (max_incidents, journal_write).", {"reason"});
    dropped_max_incidents = &dropped.WithLabels({"max_incidents"});
    dropped_journal = &dropped.WithLabels({"journal_write"});
    journal_errors = &registry->AddCounter("tyto_incident_journal_errors_total",
                                           "Failed writes and rewrites of the incident journal.")
                          .WithLabels({});
  }
  std::unique_ptr<instrumentation::Registry> own;
  instrumentation::Gauge* open;
  instrumentation::Gauge* acknowledged;
  instrumentation::Gauge* resolved;
  instrumentation::Counter* opened;
  instrumentation::Counter* entries;
  instrumentation::Counter* dropped_max_incidents;
  instrumentation::Counter* dropped_journal;
  instrumentation::Counter* journal_errors;
};

Tracker::Tracker(Env* env, Clock* clock, TrackerOptions options, instrumentation::Registry* registry)
    : env_(env),
      clock_(clock),
      options_(std::move(options)),
      metrics_(std::make_unique<Metrics>(registry)),
      path_(options_.data_dir.empty() ? std::string() : WithoutTrailingSlashes(options_.data_dir) + "/" + kJournalName) {}

Result<std::unique_ptr<Tracker>> Tracker::Open(Env* env, Clock* clock, TrackerOptions options,
                                               instrumentation::Registry* registry) {
  if (options.max_incidents == 0) return InvalidArgument("incidents: max_incidents must be at least 1");
  if (options.max_alerts_per_incident == 0) return InvalidArgument("incidents: max_alerts_per_incident must be at least 1");
  if (options.max_timeline_entries == 0) return InvalidArgument("incidents: max_timeline_entries must be at least 1");
  if (options.group_window.count() < 0) return InvalidArgument("incidents: group_window must not be negative");
  if (!(options.compact_ratio > 1)) return InvalidArgument("incidents: compact_ratio must be above 1");
  std::unique_ptr<Tracker> t(new Tracker(env, clock, std::move(options), registry));
  TYTO_RETURN_IF_ERROR(t->Replay());
  t->worker_ = std::thread([p = t.get()] { p->WorkerLoop(); });
  return t;
}

Tracker::~Tracker() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
  MutexLock lock(&mu_);
  if (file_ != nullptr) {
    if (Status st = file_->Close(); !st.ok()) kLog.Warn("closing the incident journal failed", {{"error", st}});
  }
}

Status Tracker::Replay() {
  MutexLock lock(&mu_);
  if (path_.empty()) return Status::Ok();
  TYTO_RETURN_IF_ERROR(env_->CreateDirs(options_.data_dir));
  uint64_t size = 0;
  if (env_->FileExists(path_)) {
    TYTO_ASSIGN_OR_RETURN(std::string bytes, env_->ReadFile(path_));
    Result<journal::ParsedFile> parsed = journal::ParseFile(bytes);
    if (!parsed.ok()) return parsed.status().WithContext(path_);
    for (const std::vector<Op>& frame : parsed->frames) {
      for (const Op& op : frame) Apply(op);
    }
    size = parsed->good_bytes;
    if (!parsed->problem.empty()) {
      kLog.Warn("incident journal damaged; truncated at the last intact frame",
                {{"path", path_}, {"offset", size}, {"problem", parsed->problem},
                 {"dropped_bytes", bytes.size() - size}});
      TYTO_RETURN_IF_ERROR(env_->TruncateFile(path_, size));
      TYTO_RETURN_IF_ERROR(SyncFile(env_, path_));
    }
  }
  // Firing alerts get resolve_timeout for their rules to re-send them.
  const int64_t now = clock_->NowMillis();
  const int64_t grace = now + options_.resolve_timeout.count();
  for (auto& [id, inc] : incidents_) {
    for (IncidentAlert& a : inc.alerts) {
      if (a.firing) a.ends_at_ms = std::max(a.ends_at_ms, grace);
    }
  }
  TYTO_ASSIGN_OR_RETURN(file_, env_->NewAppendableFile(path_));
  if (size == 0) {
    TYTO_RETURN_IF_ERROR(file_->Append(journal::FileHeader()));
    TYTO_RETURN_IF_ERROR(file_->Flush());
    size = journal::kHeaderSize;
  }
  journal_bytes_ = size;
  compacted_bytes_ = size;
  if (size > options_.compact_min_bytes) {
    compacted_bytes_ = 0;  // rewrite now: the file may be mostly history
    TYTO_RETURN_IF_ERROR(MaybeCompact());
  }
  UpdateGauges();
  kLog.Info("incidents loaded", {{"path", path_}, {"incidents", incidents_.size()}, {"journal_bytes", size}});
  return Status::Ok();
}

Status Tracker::Commit(std::vector<Op> ops) {
  if (file_ != nullptr || repair_) {
    const std::string frame = journal::EncodeFrame(ops);
    Status st = Repair();
    if (st.ok()) st = file_->Append(frame);
    if (st.ok()) st = file_->Flush();
    if (st.ok() && options_.sync) st = file_->Sync();
    if (!st.ok()) {
      repair_ = true;  // the frame may be half written: cut it off before the next one
      metrics_->journal_errors->Inc();
      if (!write_failed_logged_) {
        kLog.Error("writing the incident journal failed; the change is not applied", {{"path", path_}, {"error", st}});
        write_failed_logged_ = true;
      }
      return st;
    }
    write_failed_logged_ = false;
    journal_bytes_ += frame.size();
  }
  for (const Op& op : ops) {
    Apply(op);
    if (op.type == OpType::kEntry) metrics_->entries->Inc();
    if (op.type == OpType::kOpened) metrics_->opened->Inc();
  }
  UpdateGauges();
  if (Status st = MaybeCompact(); !st.ok()) {
    metrics_->journal_errors->Inc();
    kLog.Warn("rewriting the incident journal failed; appending to the old one", {{"path", path_}, {"error", st}});
  }
  return Status::Ok();
}

Status Tracker::Repair() {
  if (!repair_) return Status::Ok();
  if (file_ != nullptr) {
    (void)file_->Close();  // it failed already; what matters is the truncation below
    file_.reset();
  }
  TYTO_RETURN_IF_ERROR(env_->TruncateFile(path_, journal_bytes_));
  TYTO_ASSIGN_OR_RETURN(file_, env_->NewAppendableFile(path_));
  repair_ = false;
  return Status::Ok();
}

void Tracker::Apply(const Op& op) {
  if (op.type == OpType::kNextId) {
    next_id_ = std::max(next_id_, op.id);
    return;
  }
  if (op.type == OpType::kOpened) {
    Incident& inc = incidents_[op.id];
    inc = Incident{};
    inc.id = op.id;
    inc.tenant = op.tenant;
    inc.title = op.title;
    inc.opened_ms = inc.updated_ms = inc.last_firing_ms = op.time_ms;
    next_id_ = std::max(next_id_, op.id + 1);
    return;
  }
  auto it = incidents_.find(op.id);
  if (it == incidents_.end()) return;  // forgotten: nothing to change
  Incident& inc = it->second;
  switch (op.type) {
    case OpType::kAlert: {
      auto a = std::find_if(inc.alerts.begin(), inc.alerts.end(),
                            [&](const IncidentAlert& x) { return x.labels == op.alert.labels; });
      if (a == inc.alerts.end()) {
        inc.alerts.push_back(op.alert);
      } else {
        *a = op.alert;
      }
      if (op.alert.firing) inc.last_firing_ms = std::max(inc.last_firing_ms, op.time_ms);
      inc.updated_ms = std::max(inc.updated_ms, op.time_ms);
      int best = -1;
      for (const IncidentAlert& x : inc.alerts) {
        const std::string sev = Label(x.labels, "severity");
        if (sev.empty()) continue;
        if (const int rank = SeverityRank(sev); rank > best) {
          best = rank;
          inc.severity = sev;
        }
      }
      by_alert_[alertmanager::Fingerprint(op.alert.labels)] = inc.id;
      if (inc.state != State::kResolved) {
        for (std::string& key : GroupKeys(op.alert.labels)) by_key_[std::move(key)] = inc.id;
      }
      break;
    }
    case OpType::kEntry:
      inc.timeline.push_back(op.entry);
      if (inc.timeline.size() > options_.max_timeline_entries) {
        inc.timeline.erase(inc.timeline.begin(),
                           inc.timeline.begin() + static_cast<std::ptrdiff_t>(inc.timeline.size() - options_.max_timeline_entries));
      }
      inc.updated_ms = std::max(inc.updated_ms, op.entry.time_ms);
      break;
    case OpType::kCorrelations:
      inc.correlations = op.correlations;
      inc.updated_ms = std::max(inc.updated_ms, op.time_ms);
      break;
    case OpType::kState: {
      const bool was_resolved = inc.state == State::kResolved;
      inc.state = op.state;
      inc.acknowledged_ms = op.acknowledged_ms;
      inc.acknowledged_by = op.acknowledged_by;
      inc.resolved_ms = op.resolved_ms;
      inc.resolved_by = op.resolved_by;
      inc.updated_ms = std::max({inc.updated_ms, op.acknowledged_ms, op.resolved_ms});
      if (op.state == State::kResolved && !was_resolved) {
        for (auto k = by_key_.begin(); k != by_key_.end();) k = k->second == inc.id ? by_key_.erase(k) : std::next(k);
      } else if (op.state != State::kResolved && was_resolved) {
        IndexIncident(inc);
      }
      break;
    }
    case OpType::kForget:
      for (auto k = by_key_.begin(); k != by_key_.end();) k = k->second == inc.id ? by_key_.erase(k) : std::next(k);
      for (auto k = by_alert_.begin(); k != by_alert_.end();) k = k->second == inc.id ? by_alert_.erase(k) : std::next(k);
      incidents_.erase(it);
      break;
    case OpType::kOpened:
    case OpType::kNextId:
      break;
  }
}

void Tracker::IndexIncident(const Incident& inc) {
  for (const IncidentAlert& a : inc.alerts) {
    for (std::string& key : GroupKeys(a.labels)) by_key_[std::move(key)] = inc.id;
  }
}

std::vector<Op> Tracker::Snapshot() const {
  std::vector<Op> ops;
  for (const auto& [id, inc] : incidents_) {
    Op open;
    open.type = OpType::kOpened;
    open.id = id;
    open.time_ms = inc.opened_ms;
    open.title = inc.title;
    open.tenant = inc.tenant;
    ops.push_back(std::move(open));
    for (const IncidentAlert& a : inc.alerts) ops.push_back(AlertOp(id, inc.last_firing_ms, a));
    for (const TimelineEntry& e : inc.timeline) {
      ops.push_back(EntryOp(id, e.time_ms, e.kind, e.by, e.text, e.fields));
    }
    if (!inc.correlations.empty()) {
      Op c;
      c.type = OpType::kCorrelations;
      c.id = id;
      c.time_ms = inc.opened_ms;
      c.correlations = inc.correlations;
      ops.push_back(std::move(c));
    }
    ops.push_back(StateOp(inc));
  }
  Op next;
  next.type = OpType::kNextId;
  next.id = next_id_;
  ops.push_back(std::move(next));
  return ops;
}

Status Tracker::MaybeCompact() {
  if (file_ == nullptr || repair_ || journal_bytes_ <= options_.compact_min_bytes ||
      static_cast<double>(journal_bytes_) <= options_.compact_ratio * static_cast<double>(compacted_bytes_)) {
    return Status::Ok();
  }
  // One frame per incident keeps each frame small and a damaged one loses one incident only.
  std::string data = journal::FileHeader();
  std::vector<Op> all = Snapshot();
  std::vector<Op> frame;
  for (Op& op : all) {
    if (op.type == OpType::kOpened && !frame.empty()) {
      data += journal::EncodeFrame(frame);
      frame.clear();
    }
    frame.push_back(std::move(op));
  }
  if (!frame.empty()) data += journal::EncodeFrame(frame);
  // Whatever happens, later frames must go to the file at path_.
  Status st = file_->Close();
  file_.reset();
  if (st.ok()) st = WriteFileAtomically(env_, path_, data);
  Result<std::unique_ptr<WritableFile>> reopened = env_->NewAppendableFile(path_);
  if (!reopened.ok()) {
    repair_ = true;  // retried before the next frame
    return reopened.status();
  }
  file_ = std::move(*reopened);
  if (!st.ok()) {
    compacted_bytes_ = journal_bytes_;  // do not retry on every change
    return st;
  }
  kLog.Info("incident journal rewritten", {{"path", path_}, {"before_bytes", journal_bytes_}, {"after_bytes", data.size()}});
  journal_bytes_ = compacted_bytes_ = data.size();
  return Status::Ok();
}

std::vector<std::string> Tracker::GroupKeys(const alertmanager::LabelSet& labels) const {
  std::vector<std::string> keys;
  for (const std::string& name : options_.group_by) {
    auto it = labels.find(name);
    if (it != labels.end() && !it->second.empty()) keys.push_back(name + "=" + it->second);
  }
  if (keys.empty()) keys.push_back("alertname=" + AlertName(labels));
  // Alerts group only with their own tenant's: "acme/Hostname=h" (tenant names have no '/').
  if (const std::string_view tenant = alertmanager::AlertTenant(labels); tenant != alertmanager::kDefaultTenant) {
    for (std::string& key : keys) key = std::string(tenant) + "/" + key;
  }
  return keys;
}

std::optional<uint64_t> Tracker::FindGroup(const alertmanager::LabelSet& labels, int64_t now) const {
  for (const std::string& key : GroupKeys(labels)) {
    auto k = by_key_.find(key);
    if (k == by_key_.end()) continue;
    auto it = incidents_.find(k->second);
    if (it == incidents_.end() || it->second.state == State::kResolved) continue;
    if (now - it->second.last_firing_ms > options_.group_window.count()) continue;
    if (it->second.alerts.size() >= options_.max_alerts_per_incident) continue;
    return it->first;
  }
  return std::nullopt;
}

Op Tracker::StateOp(const Incident& inc) const {
  Op op;
  op.type = OpType::kState;
  op.id = inc.id;
  op.state = inc.state;
  op.acknowledged_ms = inc.acknowledged_ms;
  op.acknowledged_by = inc.acknowledged_by;
  op.resolved_ms = inc.resolved_ms;
  op.resolved_by = inc.resolved_by;
  return op;
}

void Tracker::SetListener(Listener listener) {
  MutexLock lock(&mu_);
  listener_ = std::move(listener);
}

void Tracker::SetActionListener(ActionListener listener) {
  MutexLock lock(&mu_);
  action_listener_ = std::move(listener);
}

void Tracker::NotifyAction(uint64_t id, EntryKind kind) {
  ActionListener listener;
  Incident inc;
  {
    MutexLock lock(&mu_);
    auto it = incidents_.find(id);
    if (!action_listener_ || it == incidents_.end()) return;
    listener = action_listener_;
    inc = it->second;
  }
  for (auto e = inc.timeline.rbegin(); e != inc.timeline.rend(); ++e) {
    if (e->kind != kind) continue;
    const TimelineEntry entry = *e;
    listener(inc, entry);
    return;
  }
}

void Tracker::SetCorrelateHook(CorrelateHook hook) {
  {
    MutexLock lock(&mu_);
    correlate_ = std::move(hook);
    if (!correlate_) return;
    // Incidents opened before a restart (or before the hook) and never correlated get their turn.
    for (const auto& [id, inc] : incidents_) {
      if (inc.state == State::kResolved) continue;
      const bool done = std::any_of(inc.timeline.begin(), inc.timeline.end(),
                                    [](const TimelineEntry& e) { return e.kind == EntryKind::kCorrelation; });
      if (!done && std::find(correlate_queue_.begin(), correlate_queue_.end(), id) == correlate_queue_.end()) {
        correlate_queue_.push_back(id);
      }
    }
  }
  cv_.notify_all();
}

void Tracker::Put(const std::vector<alertmanager::Alert>& alerts) {
  Pending pending;
  Listener listener;
  bool wake = false;
  {
    MutexLock lock(&mu_);
    const int64_t now = clock_->NowMillis();
    const size_t queued = correlate_queue_.size();
    for (const alertmanager::Alert& a : alerts) PutOne(a, now, &pending);
    wake = correlate_queue_.size() != queued;
    if (!pending.notify.empty()) listener = listener_;
  }
  if (wake) cv_.notify_all();
  if (listener) {
    for (const Incident& inc : pending.notify) listener(inc);
  }
}

void Tracker::PutOne(const alertmanager::Alert& in, int64_t now, Pending* pending) {
  if (in.labels.empty()) return;
  IncidentAlert alert;
  alert.labels = in.labels;
  alert.annotations = in.annotations;
  alert.starts_at_ms = in.starts_at_ms != 0 ? in.starts_at_ms : now;
  alert.generator_url = in.generator_url;
  const bool resolved = in.ResolvedAt(now);
  alert.firing = !resolved;
  alert.ends_at_ms = in.ends_at_ms != 0 ? in.ends_at_ms : now + options_.resolve_timeout.count();

  Incident* inc = nullptr;
  IncidentAlert* known = nullptr;
  if (auto f = by_alert_.find(alertmanager::Fingerprint(in.labels)); f != by_alert_.end()) {
    if (auto it = incidents_.find(f->second); it != incidents_.end()) {
      inc = &it->second;
      for (IncidentAlert& a : inc->alerts) {
        if (a.labels == in.labels) known = &a;
      }
    }
  }
  if (resolved) {
    if (known != nullptr && known->firing) {
      ResolveAlert(*inc, static_cast<size_t>(known - inc->alerts.data()), in.ends_at_ms, now);
    }
    return;
  }
  if (known != nullptr) {
    const bool same_episode = known->firing && known->starts_at_ms == alert.starts_at_ms;
    if (same_episode) {  // a re-send: remember it in memory only
      known->ends_at_ms = alert.ends_at_ms;
      known->annotations = alert.annotations;
      if (inc->state != State::kResolved) inc->last_firing_ms = now;
      return;
    }
    if (inc->state != State::kResolved) {
      if (Commit({AlertOp(inc->id, now, alert), FiringEntry(inc->id, now, alert)}).ok()) {
        pending->notify.push_back(*inc);
      } else {
        metrics_->dropped_journal->Inc();
      }
      return;
    }
    if (now - inc->resolved_ms <= options_.group_window.count()) {
      Incident reopened = *inc;
      reopened.state = State::kOpen;
      reopened.acknowledged_ms = reopened.resolved_ms = 0;
      reopened.acknowledged_by.clear();
      reopened.resolved_by.clear();
      const uint64_t id = inc->id;
      if (Commit({StateOp(reopened), EntryOp(id, now, EntryKind::kReopened, "", AlertName(alert.labels) + " fired again"),
                  AlertOp(id, now, alert), FiringEntry(id, now, alert)})
              .ok()) {
        pending->notify.push_back(incidents_.at(id));
      } else {
        metrics_->dropped_journal->Inc();
      }
      return;
    }
  }
  if (std::optional<uint64_t> group = FindGroup(in.labels, now)) {
    if (Commit({AlertOp(*group, now, alert), FiringEntry(*group, now, alert)}).ok()) {
      pending->notify.push_back(incidents_.at(*group));
    } else {
      metrics_->dropped_journal->Inc();
    }
    return;
  }
  const size_t unresolved = static_cast<size_t>(std::count_if(
      incidents_.begin(), incidents_.end(), [](const auto& e) { return e.second.state != State::kResolved; }));
  if (unresolved >= options_.max_incidents) {
    metrics_->dropped_max_incidents->Inc();
    kLog.Warn("too many unresolved incidents; alert left out", {{"max_incidents", options_.max_incidents},
                                                                 {"alert", alertmanager::LabelSetToString(in.labels)}});
    return;
  }
  Prune(now, 1);  // make room among the resolved ones first
  const uint64_t id = next_id_;
  Op open;
  open.type = OpType::kOpened;
  open.id = id;
  open.time_ms = now;
  open.title = AlertName(in.labels);
  open.tenant = std::string(alertmanager::AlertTenant(in.labels));
  if (!Commit({std::move(open), AlertOp(id, now, alert), FiringEntry(id, now, alert)}).ok()) {
    metrics_->dropped_journal->Inc();
    return;
  }
  kLog.Info("incident opened", {{"id", id}, {"alert", alertmanager::LabelSetToString(in.labels)}});
  pending->notify.push_back(incidents_.at(id));
  if (correlate_) correlate_queue_.push_back(id);
}

void Tracker::ResolveAlert(Incident& inc, size_t alert_index, int64_t at, int64_t now) {
  IncidentAlert a = inc.alerts[alert_index];
  a.firing = false;
  a.ends_at_ms = at != 0 ? at : now;
  std::vector<Op> ops = {AlertOp(inc.id, now, a),
                         EntryOp(inc.id, now, EntryKind::kAlertResolved, "", AlertName(a.labels) + " resolved", AlertFields(a))};
  size_t still_firing = 0;
  for (size_t i = 0; i < inc.alerts.size(); ++i) {
    if (i != alert_index && inc.alerts[i].firing) ++still_firing;
  }
  if (still_firing == 0 && inc.state != State::kResolved) {
    Op st = StateOp(inc);
    st.state = State::kResolved;
    st.resolved_ms = now;
    st.resolved_by.clear();
    ops.push_back(std::move(st));
    ops.push_back(EntryOp(inc.id, now, EntryKind::kResolved, "", "all alerts resolved"));
  }
  (void)Commit(std::move(ops));  // a failure is logged and counted by Commit; retried at the next send
}

Status Tracker::AddEntry(uint64_t id, EntryKind kind, std::string by, std::string text, Fields fields) {
  if (kind == EntryKind::kAcknowledged || kind == EntryKind::kResolved || kind == EntryKind::kReopened) {
    return InvalidArgument("timeline entry kind " + std::string(EntryKindName(kind)) +
                           " changes the state: use Acknowledge or Resolve");
  }
  if (text.size() > options_.max_text_bytes) {
    return InvalidArgument("text: " + std::to_string(text.size()) + " bytes, over the limit of " +
                           std::to_string(options_.max_text_bytes));
  }
  MutexLock lock(&mu_);
  if (incidents_.count(id) == 0) return NotFound("incident " + std::to_string(id) + " not found");
  return Commit({EntryOp(id, clock_->NowMillis(), kind, std::move(by), std::move(text), std::move(fields))});
}

Status Tracker::AddNote(uint64_t id, std::string by, std::string text) {
  if (text.empty()) return InvalidArgument("text: empty");
  TYTO_RETURN_IF_ERROR(AddEntry(id, EntryKind::kNote, std::move(by), std::move(text)));
  NotifyAction(id, EntryKind::kNote);
  return Status::Ok();
}

Status Tracker::Acknowledge(uint64_t id, std::string by) {
  TYTO_RETURN_IF_ERROR(Transition(id, EntryKind::kAcknowledged, std::move(by), ""));
  NotifyAction(id, EntryKind::kAcknowledged);
  return Status::Ok();
}

Status Tracker::Resolve(uint64_t id, std::string by) {
  TYTO_RETURN_IF_ERROR(Transition(id, EntryKind::kResolved, std::move(by), ""));
  NotifyAction(id, EntryKind::kResolved);
  return Status::Ok();
}

Status Tracker::ApplyShared(uint64_t id, EntryKind kind, std::string by, std::string text, int64_t at_ms,
                            const std::string& key) {
  if (kind == EntryKind::kNote) {
    if (text.empty() || text.size() > options_.max_text_bytes) return InvalidArgument("shared note: bad text size");
    MutexLock lock(&mu_);
    auto it = incidents_.find(id);
    if (it == incidents_.end()) return NotFound("incident " + std::to_string(id) + " not found");
    for (const TimelineEntry& e : it->second.timeline) {
      for (const auto& [name, value] : e.fields) {
        if (name == "shared" && value == key) return Status::Ok();  // applied before
      }
    }
    return Commit({EntryOp(id, clock_->NowMillis(), EntryKind::kNote, std::move(by), std::move(text), {{"shared", key}})});
  }
  if (kind != EntryKind::kAcknowledged && kind != EntryKind::kResolved) {
    return InvalidArgument("shared action: only acknowledged, resolved and note");
  }
  {
    MutexLock lock(&mu_);
    auto it = incidents_.find(id);
    if (it == incidents_.end()) return NotFound("incident " + std::to_string(id) + " not found");
    const Incident& inc = it->second;
    // The action belongs to an earlier episode of the incident: it does not apply now.
    int64_t episode_ms = inc.opened_ms;
    for (const TimelineEntry& e : inc.timeline) {
      if (e.kind == EntryKind::kReopened) episode_ms = std::max(episode_ms, e.time_ms);
    }
    if (at_ms < episode_ms || inc.state == State::kResolved) return Status::Ok();
    if (kind == EntryKind::kAcknowledged && inc.state == State::kAcknowledged) return Status::Ok();
  }
  return Transition(id, kind, std::move(by), "", key);
}

Status Tracker::Transition(uint64_t id, EntryKind kind, std::string by, std::string text,
                           const std::string& shared_key) {
  MutexLock lock(&mu_);
  auto it = incidents_.find(id);
  if (it == incidents_.end()) return NotFound("incident " + std::to_string(id) + " not found");
  const Incident& inc = it->second;
  const int64_t now = clock_->NowMillis();
  if (inc.state == State::kResolved) {
    return FailedPrecondition("incident " + std::to_string(id) + " is already resolved");
  }
  Op st = StateOp(inc);
  if (kind == EntryKind::kAcknowledged) {
    if (inc.state == State::kAcknowledged) {
      return FailedPrecondition("incident " + std::to_string(id) + " is already acknowledged by " +
                                (inc.acknowledged_by.empty() ? std::string("someone") : inc.acknowledged_by));
    }
    st.state = State::kAcknowledged;
    st.acknowledged_ms = now;
    st.acknowledged_by = by;
    text = "acknowledged";
  } else {
    st.state = State::kResolved;
    st.resolved_ms = now;
    st.resolved_by = by;
    text = "resolved by hand";
  }
  if (!by.empty()) text += " by " + by;
  Fields fields;
  if (!shared_key.empty()) fields.emplace_back("shared", shared_key);
  return Commit({std::move(st), EntryOp(id, now, kind, std::move(by), std::move(text), std::move(fields))});
}

Result<Incident> Tracker::Get(uint64_t id) const {
  MutexLock lock(&mu_);
  auto it = incidents_.find(id);
  if (it == incidents_.end()) return NotFound("incident " + std::to_string(id) + " not found");
  return it->second;
}

std::vector<Incident> Tracker::List(std::optional<State> state, size_t limit,
                                    std::optional<std::string_view> tenant) const {
  MutexLock lock(&mu_);
  std::vector<Incident> out;
  for (auto it = incidents_.rbegin(); it != incidents_.rend(); ++it) {  // ids grow with time
    if (state && it->second.state != *state) continue;
    if (tenant && it->second.tenant != *tenant) continue;
    if (limit != 0 && out.size() >= limit) break;
    out.push_back(it->second);
  }
  return out;
}

std::optional<uint64_t> Tracker::IncidentOf(const alertmanager::LabelSet& alert_labels) const {
  MutexLock lock(&mu_);
  auto it = by_alert_.find(alertmanager::Fingerprint(alert_labels));
  if (it == by_alert_.end()) return std::nullopt;
  return it->second;
}

uint64_t Tracker::JournalBytes() const {
  MutexLock lock(&mu_);
  return path_.empty() ? 0 : journal_bytes_;
}

void Tracker::Sweep() {
  MutexLock lock(&mu_);
  const int64_t now = clock_->NowMillis();
  std::vector<std::pair<uint64_t, size_t>> expired;
  for (const auto& [id, inc] : incidents_) {
    for (size_t i = 0; i < inc.alerts.size(); ++i) {
      const IncidentAlert& a = inc.alerts[i];
      if (a.firing && a.ends_at_ms != 0 && a.ends_at_ms <= now) expired.emplace_back(id, i);
    }
  }
  for (const auto& [id, i] : expired) {
    auto it = incidents_.find(id);
    if (it != incidents_.end()) ResolveAlert(it->second, i, it->second.alerts[i].ends_at_ms, now);
  }
  Prune(now, 0);
}

void Tracker::Prune(int64_t now, size_t room) {
  std::vector<std::pair<int64_t, uint64_t>> resolved;  // (resolved at, id)
  for (const auto& [id, inc] : incidents_) {
    if (inc.state == State::kResolved) resolved.emplace_back(inc.resolved_ms, id);
  }
  std::sort(resolved.begin(), resolved.end());
  size_t live = incidents_.size();
  std::vector<Op> ops;
  for (const auto& [at, id] : resolved) {
    const bool too_old = options_.max_resolved_age.count() > 0 && now - at > options_.max_resolved_age.count();
    if (!too_old && live + room <= options_.max_incidents) break;  // sorted oldest first: the rest are newer
    Op forget;
    forget.type = OpType::kForget;
    forget.id = id;
    ops.push_back(std::move(forget));
    --live;
  }
  if (!ops.empty()) (void)Commit(std::move(ops));  // a failure is logged by Commit; retried next sweep
}

void Tracker::UpdateGauges() {
  size_t counts[3] = {0, 0, 0};
  for (const auto& [id, inc] : incidents_) ++counts[static_cast<size_t>(inc.state)];
  metrics_->open->Set(static_cast<double>(counts[0]));
  metrics_->acknowledged->Set(static_cast<double>(counts[1]));
  metrics_->resolved->Set(static_cast<double>(counts[2]));
}

void Tracker::WorkerLoop() {
  auto next_sweep = std::chrono::steady_clock::now() + options_.sweep_interval;
  for (;;) {
    uint64_t id = 0;
    CorrelateHook hook;
    alertmanager::LabelSet labels;
    int64_t start_ms = 0;
    bool sweep = false;
    {
      MutexLock lock(&mu_);
      while (!stopping_ && correlate_queue_.empty() && std::chrono::steady_clock::now() < next_sweep) {
        cv_.wait_until(mu_.native(), next_sweep);
      }
      if (stopping_) return;
      if (!correlate_queue_.empty()) {
        id = correlate_queue_.front();
        correlate_queue_.pop_front();
        auto it = incidents_.find(id);
        if (it != incidents_.end() && !it->second.alerts.empty() && correlate_) {
          hook = correlate_;
          labels = it->second.alerts.front().labels;
          start_ms = it->second.alerts.front().starts_at_ms;
        }
      } else {
        sweep = true;
      }
    }
    if (sweep) {
      Sweep();
      next_sweep = std::chrono::steady_clock::now() + options_.sweep_interval;
      continue;
    }
    if (!hook) continue;
    std::vector<Correlation> found = hook(labels, start_ms);
    MutexLock lock(&mu_);
    if (incidents_.count(id) == 0) continue;
    const int64_t now = clock_->NowMillis();
    Op c;
    c.type = OpType::kCorrelations;
    c.id = id;
    c.time_ms = now;
    c.correlations = found;
    Fields fields = {{"series", std::to_string(found.size())}};
    for (size_t i = 0; i < found.size() && i < 3; ++i) {
      const std::string n = std::to_string(i + 1);
      fields.emplace_back("top_" + n, alertmanager::LabelSetToString(found[i].labels));
      fields.emplace_back("kind_" + n, found[i].kind);
      char score[32];
      std::snprintf(score, sizeof(score), "%.3g", found[i].score);
      fields.emplace_back("score_" + n, score);
    }
    std::string text = found.empty() ? "no related series changed around the start"
                                     : std::to_string(found.size()) + " related series changed around the start";
    (void)Commit({std::move(c), EntryOp(id, now, EntryKind::kCorrelation, "", std::move(text), std::move(fields))});
  }
}

}  // namespace tyto::incident
