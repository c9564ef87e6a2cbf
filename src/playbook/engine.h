// Engine: runs remediation playbooks when alerts fire (docs/playbooks.md).
//
// Trigger(incident, alerts) finds the playbooks whose matchers all match one of the alerts and,
// for each, decides whether a run may start (in this order): no run of the same playbook for the
// same incident still queued, awaiting approval or running; the playbook's cooldown has passed
// since its last run started; fewer than max_runs_per_hour runs started in the last hour; the
// audit log is writable (no audit, no action). A run that needs approval waits in
// "awaiting_approval" until Approve or Reject, or until its approval_timeout passes ("expired");
// the others are queued to a bounded pool of worker threads. Steps run in order; the first
// that fails (a verify that stays false included) ends the run as failed and, with on_failure:
// escalate, raises an escalation alert through Hooks::escalate.
//
// Dry run (the engine's option or the playbook's dry_run): every step is rendered and recorded
// as "would run ..." and nothing is executed, requested or escalated; no approval is asked.
//
// Every decision and step goes to the audit log (audit_log.h) and, per incident, to
// Hooks::timeline. Secrets (Authorization and other credential headers, bearer tokens) are
// redacted before anything is recorded.
//
// Time: cooldowns, rate limits, waits, verify retries, approval and command timeouts use the
// Clock given (tests use a FakeClock); the grace between SIGTERM and SIGKILL is real time.
//
// Tenants: a run is the tenant's of the alert that started it (Run::tenant); escalations keep the
// alert's labels, __tenant__ included, so they reach that tenant; the audit records of a run or
// trigger of another tenant than "default" carry a "tenant" member. Playbooks themselves, their
// cooldowns and rate limits are the server's (one set for all tenants); a playbook meant for one
// tenant matches `__tenant__="acme"`.
//
// Thread-safe. Hooks are called from worker threads and must be thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "alertmanager/alert.h"
#include "common/mutex.h"
#include "instrumentation/metrics.h"
#include "playbook/audit_log.h"
#include "playbook/playbook_file.h"
#include "tyto/clock.h"
#include "tyto/env.h"

namespace tyto::http {
class Client;
}

namespace tyto::playbook {

// The alertname of the alerts that call a person (Hooks::escalate). Alerts with this name never
// trigger playbooks.
inline constexpr std::string_view kEscalationAlertName = "PlaybookEscalation";

// An entry for an incident's timeline.
struct TimelineEntry {
  std::string run_id;
  std::string playbook;
  std::string kind;     // "run_started", "step", "awaiting_approval", "run_finished", ...
  std::string step;     // the step's name, for kind "step"
  std::string outcome;  // "ok", "failed", "dry_run", "succeeded", ...
  std::string text;     // one line for people: "scale: PATCH .../scale replicas 3 -> 4: ok"
};

struct Hooks {
  // A PromQL instant query over `tenant`'s metrics (the run's tenant): true when it returns a
  // non-empty result.
  std::function<Result<bool>(const std::string& promql, const std::string& tenant)> verify;
  // A model's {current, previous} versions from the deployment events; nullopt when unknown.
  std::function<std::optional<std::pair<std::string, std::string>>(const std::string& model)> deployment_lookup;
  // Raises an alert to a person (the notification pipeline).
  std::function<void(const alertmanager::Alert&)> escalate;
  std::function<void(const std::string& incident_id, const TimelineEntry& entry)> timeline;
  // Several servers (src/cluster/playbook_claims.h): asked by Trigger, under the engine's lock,
  // once every local check let a run of `playbook` for `alert` start; false skips it as
  // "claimed_elsewhere" (another server runs it). Must not call the engine. Null: always true.
  std::function<bool(const std::string& playbook, const std::string& incident_id, const alertmanager::Alert& alert,
                     std::chrono::milliseconds cooldown)>
      claim_run;
  // Called when a run that claim_run let start has finished (any final state).
  std::function<void(const std::string& playbook, const alertmanager::LabelSet& alert_labels,
                     std::chrono::milliseconds cooldown)>
      run_finished;
};

struct EngineOptions {
  std::string data_dir;  // holds audit.jsonl; created when missing
  bool dry_run = false;  // every playbook in dry run
  int workers = 4;       // runs executing at once
  size_t max_queued_runs = 256;
  size_t max_kept_runs = 1000;  // finished runs kept for Runs(); older ones are dropped
  size_t max_output_bytes = 64 * 1024;   // captured per command or response
  size_t max_audit_output_bytes = 4096;  // of that, recorded in the audit log
  std::chrono::milliseconds kill_grace{std::chrono::seconds(5)};
};

enum class RunState { kQueued, kAwaitingApproval, kRunning, kSucceeded, kFailed, kRejected, kExpired, kCancelled };
std::string_view RunStateName(RunState s);  // "queued", "awaiting_approval", ...
bool Finished(RunState s);

struct StepResult {
  size_t index = 0;
  std::string name;
  std::string kind;
  std::string outcome;   // "ok", "failed", "dry_run", "skipped"
  std::string rendered;  // what ran, secrets redacted: "POST http://...", "/bin/echo a b"
  std::string output;    // bounded
  std::string error;
  int64_t exit_code = -1;    // commands
  int64_t http_status = 0;   // HTTP requests (the last one)
  int64_t started_ms = 0;
  int64_t finished_ms = 0;
};

struct Run {
  std::string id;
  std::string playbook;
  std::string incident_id;
  // The tenant of the alert that started it (alertmanager::AlertTenant); only that tenant's
  // requests see or decide it.
  std::string tenant = std::string(alertmanager::kDefaultTenant);
  RunState state = RunState::kQueued;
  bool dry_run = false;
  bool escalated = false;
  std::string reason;  // why it failed, was rejected or cancelled
  alertmanager::LabelSet alert_labels;
  alertmanager::LabelSet alert_annotations;
  int64_t created_ms = 0;
  int64_t started_ms = 0;
  int64_t finished_ms = 0;
  int64_t approval_deadline_ms = 0;
  std::string decided_by;  // who approved or rejected
  std::string comment;
  std::vector<StepResult> steps;
};

// What Trigger decided for one matching playbook.
struct Decision {
  std::string playbook;
  std::string run_id;  // empty when skipped
  // "already_running", "cooldown", "rate_limit", "queue_full", "audit_unavailable",
  // "claimed_elsewhere"
  std::string skipped;
};

class Engine {
 public:
  // `clock`, `env` and `registry` must outlive the engine. Call Start before Trigger.
  Engine(PlaybookList playbooks, EngineOptions options, Clock* clock, Env* env, instrumentation::Registry* registry,
         Hooks hooks);
  ~Engine();  // Stop()
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Opens the audit log and starts the workers. Without an audit log the engine starts but
  // refuses runs (the reason is in the error and in every skipped decision).
  Status Start();

  // Starts the runs of the playbooks matching any of `alerts` (resolved alerts are ignored).
  std::vector<Decision> Trigger(const std::string& incident_id, const std::vector<alertmanager::Alert>& alerts)
      EXCLUDES(mu_);

  PlaybookList Playbooks() const EXCLUDES(mu_);
  // Newest first; an empty incident gives all.
  std::vector<Run> Runs(const std::string& incident_id = "") const EXCLUDES(mu_);
  std::optional<Run> GetRun(const std::string& run_id) const EXCLUDES(mu_);

  // kNotFound for an unknown run, kFailedPrecondition when it is not awaiting approval.
  Status Approve(const std::string& run_id, const std::string& who, const std::string& comment = "") EXCLUDES(mu_);
  Status Reject(const std::string& run_id, const std::string& who, const std::string& comment = "") EXCLUDES(mu_);
  // Cancels a queued, waiting or running run; a running command is stopped (SIGTERM, SIGKILL).
  Status Cancel(const std::string& run_id, const std::string& who) EXCLUDES(mu_);

  // Replaces the playbooks. Runs in progress finish with the playbook they started with;
  // cooldowns and rate limits carry over by playbook name.
  void Update(PlaybookList playbooks) EXCLUDES(mu_);

  // Cancels what is queued or waiting, stops running commands (SIGTERM, then SIGKILL after the
  // grace period) and joins the workers. Idempotent.
  void Stop() EXCLUDES(mu_);

  Result<std::vector<AuditRecord>> Audit(const AuditFilter& filter) const;
  std::string AuditPath() const;

  // Waits (real time, at most `timeout`) until no run is queued or running; for tests and
  // shutdown. True when idle.
  bool WaitIdle(std::chrono::milliseconds timeout) EXCLUDES(mu_);

 private:
  struct RunSlot;
  struct PlaybookState {
    std::optional<std::chrono::steady_clock::time_point> last_start;
    std::deque<std::chrono::steady_clock::time_point> starts;  // within the last hour
  };

  void WorkerLoop() EXCLUDES(mu_);
  void TimerLoop() EXCLUDES(mu_);
  void Execute(const std::shared_ptr<RunSlot>& slot) EXCLUDES(mu_);
  // Runs one step; false when it failed.
  bool ExecuteStep(const std::shared_ptr<RunSlot>& slot, size_t index, StepResult* result) EXCLUDES(mu_);
  void Finish(const std::shared_ptr<RunSlot>& slot, RunState state, const std::string& reason) EXCLUDES(mu_);
  void Escalate(const std::shared_ptr<RunSlot>& slot, const std::string& reason, const std::string& severity)
      EXCLUDES(mu_);
  // Appends to the audit log; a record of another tenant than the default one names it
  // ("tenant" member), so that the API shows each tenant its own.
  void Record(AuditEntry entry, std::string_view tenant);
  void RecordPlaybooks(const std::vector<std::string>& names);
  void Timeline(const std::string& incident_id, TimelineEntry entry);
  void Prune() REQUIRES(mu_);
  // Waits on the engine's clock until `until`; false when stopped or the run was cancelled.
  bool SleepUntil(const std::shared_ptr<RunSlot>& slot, std::chrono::steady_clock::time_point until) EXCLUDES(mu_);
  bool CancelledOrStopped(const std::shared_ptr<RunSlot>& slot) EXCLUDES(mu_);
  std::string NewRunId() REQUIRES(mu_);
  // The run waiting for an approval decision; NotFound or FailedPrecondition (the run is in
  // another state) otherwise. Shared by Approve and Reject.
  Result<std::shared_ptr<RunSlot>> FindAwaitingApproval(const std::string& run_id) REQUIRES(mu_);

  // Step kinds (engine_steps.cc).
  struct HttpCall;
  Result<std::pair<int, std::string>> SendHttp(const std::shared_ptr<RunSlot>& slot, const HttpCall& call);
  // Sends the call and records its status and output; a transport error or a status outside
  // 2xx fails the step.
  bool SendAndRecord(const std::shared_ptr<RunSlot>& slot, const HttpCall& call, StepResult* r);
  // Renders the call into the step's record; in a dry run stops there, else SendAndRecord.
  bool RunHttpCall(const std::shared_ptr<RunSlot>& slot, const HttpCall& call, StepResult* r);
  bool StepHttp(const std::shared_ptr<RunSlot>& slot, const Step& step, StepResult* r);
  bool StepCommand(const std::shared_ptr<RunSlot>& slot, const Step& step, const std::vector<std::string>& argv,
                   const std::map<std::string, std::string>& env, bool dry_run, StepResult* r);
  bool StepScale(const std::shared_ptr<RunSlot>& slot, const Step& step, StepResult* r);
  bool StepRollback(const std::shared_ptr<RunSlot>& slot, const Step& step, StepResult* r);
  bool StepWebhook(const std::shared_ptr<RunSlot>& slot, const Step& step, const std::string& body, StepResult* r);
  bool StepWait(const std::shared_ptr<RunSlot>& slot, const Step& step, StepResult* r);
  bool StepVerify(const std::shared_ptr<RunSlot>& slot, const Step& step, StepResult* r);
  bool StepEscalate(const std::shared_ptr<RunSlot>& slot, const Step& step, StepResult* r);

  const EngineOptions options_;
  Clock* const clock_;
  Env* const env_;
  const Hooks hooks_;
  std::unique_ptr<http::Client> client_;
  std::unique_ptr<AuditLog> audit_;  // set by Start, before any thread uses it
  Status audit_status_;

  instrumentation::Family<instrumentation::Counter>* decisions_;
  instrumentation::Family<instrumentation::Counter>* runs_total_;
  instrumentation::Family<instrumentation::Counter>* steps_total_;
  instrumentation::Counter* audit_errors_;
  instrumentation::Gauge* runs_active_;

  mutable Mutex mu_;
  std::condition_variable_any cv_;  // work queued, a run decided, stopping
  PlaybookList playbooks_ GUARDED_BY(mu_);
  std::map<std::string, PlaybookState> state_ GUARDED_BY(mu_);
  // The last skip reason recorded per (playbook, incident), so repeats are not recorded again.
  std::map<std::pair<std::string, std::string>, std::string> last_skip_ GUARDED_BY(mu_);
  std::map<std::string, std::shared_ptr<RunSlot>> runs_ GUARDED_BY(mu_);
  std::deque<std::string> finished_order_ GUARDED_BY(mu_);
  std::deque<std::shared_ptr<RunSlot>> queue_ GUARDED_BY(mu_);
  int busy_ GUARDED_BY(mu_) = 0;
  uint64_t next_id_ GUARDED_BY(mu_) = 0;
  bool started_ GUARDED_BY(mu_) = false;
  bool stopping_ GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace tyto::playbook
