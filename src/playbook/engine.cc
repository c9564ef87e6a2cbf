#include "playbook/engine.h"

#include <algorithm>

#include "common/log.h"
#include "common/units.h"
#include "http/client.h"
#include "playbook/engine_internal.h"

namespace tyto::playbook {
namespace {

const log::Logger kLog("playbook");

int64_t ToMillis(std::chrono::milliseconds d) { return d.count(); }

// Bound on the (playbook, incident) pairs whose last skip is remembered.
constexpr size_t kMaxRememberedSkips = 10000;

// `e` naming `tenant` when it is not the default one (the API shows each tenant its own records).
AuditEntry WithTenant(AuditEntry e, std::string_view tenant) {
  if (tenant != alertmanager::kDefaultTenant) e.strings.emplace_back("tenant", std::string(tenant));
  return e;
}

}  // namespace

std::string_view RunStateName(RunState s) {
  switch (s) {
    case RunState::kQueued: return "queued";
    case RunState::kAwaitingApproval: return "awaiting_approval";
    case RunState::kRunning: return "running";
    case RunState::kSucceeded: return "succeeded";
    case RunState::kFailed: return "failed";
    case RunState::kRejected: return "rejected";
    case RunState::kExpired: return "expired";
    case RunState::kCancelled: return "cancelled";
  }
  return "unknown";
}

bool Finished(RunState s) {
  return s != RunState::kQueued && s != RunState::kAwaitingApproval && s != RunState::kRunning;
}

Engine::Engine(PlaybookList playbooks, EngineOptions options, Clock* clock, Env* env,
               instrumentation::Registry* registry, Hooks hooks)
    : options_(std::move(options)),
      clock_(clock),
      env_(env),
      hooks_(std::move(hooks)),
      client_(std::make_unique<http::Client>(1)),
      playbooks_(std::move(playbooks)) {
  decisions_ = &registry->AddCounter("tyto_playbook_decisions_total",
                                     "Playbooks matched by alerts, by what was decided: started, "
                                     "awaiting_approval, or why the run was skipped.",
                                     {"playbook", "decision"});
  runs_total_ = &registry->AddCounter("tyto_playbook_runs_total", "Playbook runs finished, by final state.",
                                      {"playbook", "state"});
  steps_total_ = &registry->AddCounter("tyto_playbook_steps_total", "Playbook steps run, by kind and outcome.",
                                       {"kind", "outcome"});
  audit_errors_ = &registry->AddCounter("tyto_playbook_audit_errors_total",
                                        "Records that could not be written to the playbook audit log.")
                       .WithLabels({});
  runs_active_ = &registry->AddGauge("tyto_playbook_runs_active", "Playbook runs queued, awaiting approval or running.")
                      .WithLabels({});
}

Engine::~Engine() { Stop(); }

Status Engine::Start() {
  {
    MutexLock l(&mu_);
    if (started_ || stopping_ || audit_ != nullptr || !threads_.empty()) {
      return FailedPrecondition("the playbook engine was already started");
    }
  }
  const std::string path = options_.data_dir + "/audit.jsonl";
  audit_status_ = env_->CreateDirs(options_.data_dir);
  if (audit_status_.ok()) {
    auto log = AuditLog::Open(env_, path, clock_);
    if (log.ok()) {
      audit_ = std::move(*log);
    } else {
      audit_status_ = log.status();
    }
  }
  if (!audit_status_.ok()) {
    kLog.Error("playbook audit log unavailable: runs are refused", {{"path", path}, {"error", audit_status_.ToString()}});
  }
  // Cooldowns and rate limits survive a restart: the runs created in the last hour, from the log.
  std::vector<std::pair<std::string, int64_t>> recent;  // playbook, created at (Unix ms)
  if (audit_ != nullptr) {
    auto records = audit_->Read(AuditFilter{"", "", kMaxAuditReadLimit});
    const int64_t now_ms = clock_->NowMillis();
    if (records.ok()) {
      for (const AuditRecord& r : *records) {
        if (r.type == "run_created" && now_ms - r.time_ms < 3'600'000 && r.time_ms <= now_ms) {
          recent.emplace_back(r.playbook, r.time_ms);
        }
      }
    } else {
      kLog.Warn("cannot read past runs from the playbook audit log; cooldowns start afresh",
                {{"error", records.status().ToString()}});
    }
  }
  std::vector<std::string> names;
  {
    // Only now may Trigger run: audit_ is set for good (or stays null) before any reader.
    MutexLock l(&mu_);
    const int64_t now_ms = clock_->NowMillis();
    const auto now = clock_->MonotonicNow();
    for (const auto& [playbook, at_ms] : recent) {
      PlaybookState& st = state_[playbook];
      const auto at = now - std::chrono::milliseconds(now_ms - at_ms);
      st.starts.push_back(at);
      if (!st.last_start || *st.last_start < at) st.last_start = at;
    }
    started_ = true;
    for (const auto& p : playbooks_) names.push_back(p->name);
  }
  if (audit_ != nullptr) RecordPlaybooks(names);
  const int workers = std::max(1, options_.workers);
  for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { WorkerLoop(); });
  threads_.emplace_back([this] { TimerLoop(); });
  return audit_status_;
}

std::string Engine::NewRunId() { return "run-" + std::to_string(clock_->NowMillis()) + "-" + std::to_string(++next_id_); }

void Engine::Record(AuditEntry entry, std::string_view tenant) {
  entry = WithTenant(std::move(entry), tenant);
  if (audit_ == nullptr) {
    audit_errors_->Inc();
    return;
  }
  Status s = audit_->Append(entry);
  if (!s.ok()) {
    audit_errors_->Inc();
    kLog.Error("cannot write the playbook audit log", {{"error", s.ToString()}, {"type", entry.type}});
  }
}

void Engine::Timeline(const std::string& incident_id, TimelineEntry entry) {
  if (hooks_.timeline && !incident_id.empty()) hooks_.timeline(incident_id, entry);
}

std::vector<Decision> Engine::Trigger(const std::string& incident_id, const std::vector<alertmanager::Alert>& alerts) {
  std::vector<Decision> decisions;
  std::vector<AuditEntry> records;
  std::vector<std::pair<std::string, TimelineEntry>> timeline;
  std::vector<std::shared_ptr<RunSlot>> to_queue;
  const int64_t now_ms = clock_->NowMillis();
  const auto now = clock_->MonotonicNow();
  {
    MutexLock l(&mu_);
    if (!started_ || stopping_) return decisions;
    for (const auto& p : playbooks_) {
      const alertmanager::Alert* alert = nullptr;
      for (const auto& a : alerts) {
        // Escalations go to people, never to playbooks: a playbook matching its own escalation
        // would loop.
        auto name = a.labels.find("alertname");
        if (name != a.labels.end() && name->second == kEscalationAlertName) continue;
        if (!a.ResolvedAt(now_ms) && alertmanager::MatchesAll(p->match, a.labels)) {
          alert = &a;
          break;
        }
      }
      if (alert == nullptr) continue;
      Decision d;
      d.playbook = p->name;
      AuditEntry matched{"matched", "", incident_id, p->name, {{"alert", alertmanager::LabelSetToString(alert->labels)}}, {}};
      PlaybookState& st = state_[p->name];
      while (!st.starts.empty() && now - st.starts.front() >= std::chrono::hours(1)) st.starts.pop_front();
      bool active = false;
      for (const auto& [id, slot] : runs_) {
        if (slot->run.playbook == p->name && slot->run.incident_id == incident_id && !Finished(slot->run.state)) {
          active = true;
          d.run_id = id;
        }
      }
      const bool needs_approval = p->approval_required && !(options_.dry_run || p->dry_run);
      std::string detail;
      if (active) {
        d.skipped = "already_running";
        detail = "run " + d.run_id + " of this playbook for this incident is not finished";
        d.run_id.clear();
      } else if (st.last_start && now - *st.last_start < p->cooldown) {
        d.skipped = "cooldown";
        detail = "cooldown " + FormatDuration(p->cooldown) + " not over (last run " +
                 FormatDuration(std::chrono::duration_cast<std::chrono::milliseconds>(now - *st.last_start)) + " ago)";
      } else if (p->max_runs_per_hour > 0 && static_cast<int64_t>(st.starts.size()) >= p->max_runs_per_hour) {
        d.skipped = "rate_limit";
        detail = std::to_string(st.starts.size()) + " runs in the last hour (max_runs_per_hour " +
                 std::to_string(p->max_runs_per_hour) + ")";
      } else if (audit_ == nullptr) {
        d.skipped = "audit_unavailable";
        detail = "the audit log cannot be written: " + audit_status_.message();
      } else if (!needs_approval && queue_.size() >= options_.max_queued_runs) {
        d.skipped = "queue_full";
        detail = std::to_string(queue_.size()) + " runs queued";
      } else if (hooks_.claim_run && !hooks_.claim_run(p->name, incident_id, *alert, p->cooldown)) {
        d.skipped = "claimed_elsewhere";
        detail = "another server runs this playbook for this alert";
      }
      const auto key = std::make_pair(p->name, incident_id);
      if (!d.skipped.empty()) {
        // An incident is triggered again on every change; the same skip is recorded once.
        auto [it, fresh] = last_skip_.try_emplace(key, d.skipped);
        if (fresh || it->second != d.skipped) {
          it->second = d.skipped;
          records.push_back(std::move(matched));
          records.push_back({"skipped", "", incident_id, p->name, {{"reason", d.skipped}, {"detail", detail}}, {}});
        }
        if (last_skip_.size() > kMaxRememberedSkips) last_skip_.clear();
        decisions_->WithLabels({p->name, d.skipped}).Inc();
        decisions.push_back(std::move(d));
        continue;
      }
      last_skip_.erase(key);
      records.push_back(std::move(matched));
      auto slot = std::make_shared<RunSlot>();
      slot->playbook = p;
      slot->ctx.labels = alert->labels;
      slot->ctx.annotations = alert->annotations;
      Run& run = slot->run;
      run.id = NewRunId();
      run.playbook = p->name;
      run.incident_id = incident_id;
      run.dry_run = options_.dry_run || p->dry_run;
      run.tenant = std::string(alertmanager::AlertTenant(alert->labels));
      slot->tenant = run.tenant;
      run.alert_labels = alert->labels;
      run.alert_annotations = alert->annotations;
      run.created_ms = now_ms;
      slot->ctx.vars = {{"incident", incident_id}, {"run", run.id}, {"playbook", p->name}};
      st.last_start = now;
      st.starts.push_back(now);
      d.run_id = run.id;
      AuditEntry created{"run_created", run.id, incident_id, p->name,
                         {{"alert", alertmanager::LabelSetToString(alert->labels)},
                          {"dry_run", run.dry_run ? (options_.dry_run ? "global" : "playbook") : "no"}},
                         {}};
      records.push_back(created);
      if (needs_approval) {
        run.state = RunState::kAwaitingApproval;
        run.approval_deadline_ms = now_ms + ToMillis(p->approval_timeout);
        records.push_back({"approval_requested", run.id, incident_id, p->name,
                           {{"expires", FormatTimestamp(run.approval_deadline_ms)}}, {}});
        timeline.emplace_back(incident_id, TimelineEntry{run.id, p->name, "awaiting_approval", "", "",
                                                         "playbook " + p->name + " awaits approval (run " + run.id + ")"});
        decisions_->WithLabels({p->name, "awaiting_approval"}).Inc();
      } else {
        run.state = RunState::kQueued;
        to_queue.push_back(slot);  // after its decision is on record
        decisions_->WithLabels({p->name, "started"}).Inc();
      }
      runs_active_->Inc();
      runs_[run.id] = slot;
      decisions.push_back(std::move(d));
    }
  }
  // The alerts of one incident are of one tenant (the tracker groups within a tenant).
  const std::string_view tenant = alerts.empty() ? alertmanager::kDefaultTenant : alertmanager::AlertTenant(alerts[0].labels);
  for (auto& r : records) Record(std::move(r), tenant);
  if (!to_queue.empty()) {
    MutexLock l(&mu_);
    for (auto& slot : to_queue) {
      // Cancelled or stopped meanwhile: already finished, nothing to run.
      if (!stopping_ && !Finished(slot->run.state) && !slot->finishing) queue_.push_back(std::move(slot));
    }
  }
  cv_.notify_all();
  for (auto& [incident, e] : timeline) Timeline(incident, std::move(e));
  return decisions;
}

void Engine::WorkerLoop() {
  while (true) {
    std::shared_ptr<RunSlot> slot;
    {
      MutexLock l(&mu_);
      while (!stopping_ && queue_.empty()) cv_.wait(mu_.native());
      if (stopping_) return;
      slot = std::move(queue_.front());
      queue_.pop_front();
      ++busy_;
    }
    Execute(slot);
    {
      MutexLock l(&mu_);
      --busy_;
    }
    cv_.notify_all();
  }
}

void Engine::TimerLoop() {
  while (true) {
    std::vector<std::shared_ptr<RunSlot>> expired;
    {
      MutexLock l(&mu_);
      if (stopping_) return;
      cv_.wait_for(mu_.native(), std::chrono::milliseconds(50));
      if (stopping_) return;
      const int64_t now_ms = clock_->NowMillis();
      for (const auto& [id, slot] : runs_) {
        if (slot->run.state == RunState::kAwaitingApproval && now_ms >= slot->run.approval_deadline_ms) {
          expired.push_back(slot);
        }
      }
    }
    for (const auto& slot : expired) Finish(slot, RunState::kExpired, "no approval within the approval timeout");
  }
}

bool Engine::CancelledOrStopped(const std::shared_ptr<RunSlot>& slot) {
  if (slot->cancel.load()) return true;
  MutexLock l(&mu_);
  return stopping_;
}

bool Engine::SleepUntil(const std::shared_ptr<RunSlot>& slot, std::chrono::steady_clock::time_point until) {
  MutexLock l(&mu_);
  while (!stopping_ && !slot->cancel.load() && clock_->MonotonicNow() < until) {
    cv_.wait_for(mu_.native(), std::chrono::milliseconds(20));
  }
  return !stopping_ && !slot->cancel.load();
}

void Engine::Execute(const std::shared_ptr<RunSlot>& slot) {
  const Playbook& p = *slot->playbook;
  std::string incident;
  std::string id;
  bool dry_run = false;
  {
    MutexLock l(&mu_);
    if (slot->cancel.load() || stopping_ || Finished(slot->run.state) || slot->finishing) {
      // Cancelled while queued: Cancel or Stop has finished it already.
      return;
    }
    slot->run.state = RunState::kRunning;
    slot->run.started_ms = clock_->NowMillis();
    incident = slot->run.incident_id;
    id = slot->run.id;
    dry_run = slot->run.dry_run;
  }
  // No audit, no action: the start must be on record before anything runs.
  if (audit_ == nullptr || !audit_->Append(WithTenant({"run_started", id, incident, p.name,
                                                      {{"dry_run", dry_run ? "yes" : "no"}},
                                                      {{"steps", static_cast<int64_t>(p.steps.size())}}},
                                                     slot->tenant))
                               .ok()) {
    audit_errors_->Inc();
    Finish(slot, RunState::kFailed, "the audit log cannot be written; nothing was run");
    return;
  }
  Timeline(incident, {id, p.name, "run_started", "", "", "playbook " + p.name + (dry_run ? " started (dry run)" : " started")});
  for (size_t i = 0; i < p.steps.size(); ++i) {
    if (CancelledOrStopped(slot)) {
      Finish(slot, RunState::kCancelled, slot->cancel.load() ? "cancelled" : "shutting down");
      return;
    }
    const Step& step = p.steps[i];
    StepResult r;
    r.index = i;
    r.name = step.name;
    r.kind = std::string(StepKindName(step.kind));
    r.started_ms = clock_->NowMillis();
    bool ok = ExecuteStep(slot, i, &r);
    r.finished_ms = clock_->NowMillis();
    if (r.outcome.empty()) r.outcome = ok ? "ok" : "failed";
    AuditEntry e{"step", id, incident, p.name,
                 {{"step", r.name}, {"kind", r.kind}, {"outcome", r.outcome}, {"rendered", r.rendered},
                  {"output", Bounded(r.output, options_.max_audit_output_bytes)}, {"error", r.error}},
                 {{"index", static_cast<int64_t>(i)}, {"started_ms", r.started_ms}, {"finished_ms", r.finished_ms}}};
    if (step.kind == StepKind::kCommand || (step.kind == StepKind::kRollback && !step.argv.empty())) {
      e.numbers.emplace_back("exit_code", r.exit_code);
    }
    if (r.http_status != 0) e.numbers.emplace_back("http_status", r.http_status);
    Record(std::move(e), slot->tenant);
    steps_total_->WithLabels({r.kind, r.outcome}).Inc();
    std::string text = r.kind + " '" + r.name + "': " + r.outcome;
    if (!r.error.empty()) text += " (" + r.error + ")";
    Timeline(incident, {id, p.name, "step", r.name, r.outcome, text});
    std::string error = r.error;
    {
      MutexLock l(&mu_);
      slot->run.steps.push_back(std::move(r));
    }
    if (!ok) {
      if (CancelledOrStopped(slot)) {
        Finish(slot, RunState::kCancelled, slot->cancel.load() ? "cancelled" : "shutting down");
        return;
      }
      std::string reason = "step '" + step.name + "' failed: " + error;
      if (p.on_failure == OnFailure::kEscalate && !dry_run) Escalate(slot, reason, "critical");
      Finish(slot, RunState::kFailed, reason);
      return;
    }
  }
  Finish(slot, RunState::kSucceeded, "");
}

void Engine::Finish(const std::shared_ptr<RunSlot>& slot, RunState state, const std::string& reason) {
  std::string incident, id, playbook;
  alertmanager::LabelSet labels;
  {
    MutexLock l(&mu_);
    if (Finished(slot->run.state) || slot->finishing) return;
    slot->finishing = true;
    incident = slot->run.incident_id;
    id = slot->run.id;
    playbook = slot->run.playbook;
    labels = slot->run.alert_labels;
  }
  const std::chrono::milliseconds cooldown = slot->playbook->cooldown;
  // On record before the run shows as finished, so whoever sees it finished finds the record.
  const std::string name(RunStateName(state));
  Record({"run_finished", id, incident, playbook, {{"state", name}, {"reason", reason}}, {}}, slot->tenant);
  Timeline(incident, {id, playbook, "run_finished", "", name,
                      "playbook " + playbook + " " + name + (reason.empty() ? "" : ": " + reason)});
  runs_total_->WithLabels({playbook, name}).Inc();
  {
    MutexLock l(&mu_);
    slot->run.state = state;
    slot->run.reason = reason;
    slot->run.finished_ms = clock_->NowMillis();
    finished_order_.push_back(id);
    runs_active_->Dec();
    Prune();
  }
  cv_.notify_all();
  if (hooks_.run_finished) hooks_.run_finished(playbook, labels, cooldown);
}

void Engine::Prune() {
  while (finished_order_.size() > options_.max_kept_runs) {
    runs_.erase(finished_order_.front());
    finished_order_.pop_front();
  }
}

void Engine::Escalate(const std::shared_ptr<RunSlot>& slot, const std::string& reason, const std::string& severity) {
  alertmanager::Alert a;
  std::string incident, id;
  {
    MutexLock l(&mu_);
    a.labels = slot->run.alert_labels;
    incident = slot->run.incident_id;
    id = slot->run.id;
    slot->run.escalated = true;
  }
  const std::string& playbook = slot->playbook->name;
  if (a.labels.count("alertname") != 0) a.labels["source_alertname"] = a.labels["alertname"];
  a.labels["alertname"] = std::string(kEscalationAlertName);
  a.labels["playbook"] = playbook;
  a.labels["severity"] = severity;
  if (!incident.empty()) a.labels["incident"] = incident;
  a.annotations["summary"] = "Playbook " + playbook + " needs a person";
  a.annotations["description"] = reason;
  a.annotations["run"] = id;
  a.starts_at_ms = clock_->NowMillis();
  Record({"escalated", id, incident, playbook, {{"reason", reason}, {"severity", severity}}, {}}, slot->tenant);
  Timeline(incident, {id, playbook, "escalated", "", "escalated", "escalated to a person: " + reason});
  if (hooks_.escalate) {
    hooks_.escalate(a);
  } else {
    kLog.Warn("playbook escalation has no receiver", {{"playbook", playbook}, {"reason", reason}});
  }
}

PlaybookList Engine::Playbooks() const {
  MutexLock l(&mu_);
  return playbooks_;
}

std::vector<Run> Engine::Runs(const std::string& incident_id) const {
  std::vector<Run> out;
  MutexLock l(&mu_);
  for (const auto& [id, slot] : runs_) {
    if (incident_id.empty() || slot->run.incident_id == incident_id) out.push_back(slot->run);
  }
  std::sort(out.begin(), out.end(), [](const Run& a, const Run& b) {
    return a.created_ms != b.created_ms ? a.created_ms > b.created_ms : a.id > b.id;
  });
  return out;
}

std::optional<Run> Engine::GetRun(const std::string& run_id) const {
  MutexLock l(&mu_);
  auto it = runs_.find(run_id);
  if (it == runs_.end()) return std::nullopt;
  return it->second->run;
}

Result<std::shared_ptr<Engine::RunSlot>> Engine::FindAwaitingApproval(const std::string& run_id) {
  auto it = runs_.find(run_id);
  if (it == runs_.end()) return NotFound("no playbook run " + run_id);
  const Run& run = it->second->run;
  if (run.state != RunState::kAwaitingApproval || it->second->finishing) {
    return FailedPrecondition("run " + run_id + " is " + std::string(RunStateName(run.state)) +
                              ", not awaiting approval");
  }
  return it->second;
}

Status Engine::Approve(const std::string& run_id, const std::string& who, const std::string& comment) {
  std::string incident, playbook, tenant;
  {
    MutexLock l(&mu_);
    auto found = FindAwaitingApproval(run_id);
    if (!found.ok()) return found.status();
    Run& run = (*found)->run;
    tenant = (*found)->tenant;
    if (stopping_) return Unavailable("the playbook engine is stopping");
    run.state = RunState::kQueued;
    run.decided_by = who;
    run.comment = comment;
    incident = run.incident_id;
    playbook = run.playbook;
    queue_.push_back(*found);
    decisions_->WithLabels({playbook, "approved"}).Inc();
  }
  cv_.notify_all();
  Record({"approved", run_id, incident, playbook, {{"by", who}, {"comment", comment}}, {}}, tenant);
  Timeline(incident, {run_id, playbook, "approved", "", "approved", "approved by " + who});
  return Status::Ok();
}

Status Engine::Reject(const std::string& run_id, const std::string& who, const std::string& comment) {
  std::shared_ptr<RunSlot> slot;
  {
    MutexLock l(&mu_);
    auto found = FindAwaitingApproval(run_id);
    if (!found.ok()) return found.status();
    slot = *found;
    slot->run.decided_by = who;
    slot->run.comment = comment;
  }
  Record({"rejected", run_id, slot->run.incident_id, slot->run.playbook, {{"by", who}, {"comment", comment}}, {}},
         slot->tenant);
  Finish(slot, RunState::kRejected, "rejected by " + who + (comment.empty() ? "" : ": " + comment));
  return Status::Ok();
}

Status Engine::Cancel(const std::string& run_id, const std::string& who) {
  std::shared_ptr<RunSlot> slot;
  bool running = false;
  {
    MutexLock l(&mu_);
    auto it = runs_.find(run_id);
    if (it == runs_.end()) return NotFound("no playbook run " + run_id);
    slot = it->second;
    if (Finished(slot->run.state) || slot->finishing) {
      return FailedPrecondition("run " + run_id + " is already " + std::string(RunStateName(slot->run.state)));
    }
    slot->cancel = true;
    running = slot->run.state == RunState::kRunning;
    if (!running) queue_.erase(std::remove(queue_.begin(), queue_.end(), slot), queue_.end());
  }
  cv_.notify_all();
  Record({"cancel_requested", run_id, slot->run.incident_id, slot->run.playbook, {{"by", who}}, {}}, slot->tenant);
  if (!running) Finish(slot, RunState::kCancelled, "cancelled by " + who);
  return Status::Ok();
}

void Engine::Update(PlaybookList playbooks) {
  std::vector<std::string> names;
  for (const auto& p : playbooks) names.push_back(p->name);
  {
    MutexLock l(&mu_);
    playbooks_ = std::move(playbooks);
  }
  bool started = false;
  {
    MutexLock l(&mu_);
    started = started_;
  }
  // Before Start the log is not open; Start records the playbooks it starts with.
  if (started) RecordPlaybooks(names);
}

void Engine::RecordPlaybooks(const std::vector<std::string>& names) {
  std::string joined;
  for (const auto& n : names) joined += (joined.empty() ? "" : ",") + n;
  // The server's playbooks: shown with the default tenant's records.
  Record({"playbooks_loaded", "", "", "", {{"playbooks", joined}}, {{"count", static_cast<int64_t>(names.size())}}},
         alertmanager::kDefaultTenant);
}

void Engine::Stop() {
  std::vector<std::shared_ptr<RunSlot>> waiting;
  {
    MutexLock l(&mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
    for (const auto& [id, slot] : runs_) {
      if (slot->run.state == RunState::kQueued || slot->run.state == RunState::kAwaitingApproval) waiting.push_back(slot);
    }
    queue_.clear();
  }
  cv_.notify_all();
  for (const auto& slot : waiting) Finish(slot, RunState::kCancelled, "shutting down");
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

bool Engine::WaitIdle(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  MutexLock l(&mu_);
  while (!(queue_.empty() && busy_ == 0)) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    cv_.wait_for(mu_.native(), std::chrono::milliseconds(20));
  }
  return true;
}

Result<std::vector<AuditRecord>> Engine::Audit(const AuditFilter& filter) const {
  if (audit_ == nullptr) return audit_status_.ok() ? FailedPrecondition("the playbook engine is not started") : audit_status_;
  return audit_->Read(filter);
}

std::string Engine::AuditPath() const { return options_.data_dir + "/audit.jsonl"; }

}  // namespace tyto::playbook
