// Playbook files: declarative remediation bound to alerts by Alertmanager label matchers
// (docs/playbooks.md). A file holds `playbooks:`, a list of playbooks; each has matchers, safety
// settings (dry_run, approval, cooldown, max_runs_per_hour) and steps of nine kinds (http,
// command, scale, rollback, reroute, retrain, wait, verify, escalate).
//
// Parsing checks everything that can be checked without running a step: keys (unknown ones get a
// did-you-mean), types, durations, matchers, URLs, `${...}` references, and that a command is an
// argument list (a shell string is refused). Every problem is reported, each as
// "file:line:column: reason", one per line, in a kInvalidArgument Status.
//
// Values inside steps may reference the alert that started the run with `${labels.NAME}` and
// `${annotations.NAME}`, and the run with `${incident}`, `${run}` and `${playbook}` (rollback
// also `${model}`, `${current}`, `${previous}`); `$$` is a literal '$'. See expand.h.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "alertmanager/matchers.h"
#include "config/yaml.h"
#include "tyto/env.h"
#include "tyto/status.h"

namespace tyto::playbook {

enum class StepKind { kHttp, kCommand, kScale, kRollback, kReroute, kRetrain, kWait, kVerify, kEscalate };

// "http", "command", ...
std::string_view StepKindName(StepKind kind);

// A webhook that a step POSTs JSON to (rollback, reroute, retrain, a scale hook).
struct Webhook {
  std::string url;  // may hold ${...} references; values are percent-escaped when expanded
  std::vector<std::pair<std::string, std::string>> headers;
  std::string ca_file;
  bool insecure_skip_verify = false;
};

// One step. Only the fields of its kind are set; the rest keep their defaults.
struct Step {
  StepKind kind = StepKind::kWait;
  std::string name;  // as written, or "<kind> #<n>" (1-based)
  config::Position position;
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};  // http, command, webhooks, scale

  // http
  std::string method = "POST";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string ca_file;
  bool insecure_skip_verify = false;

  // command (also rollback with `command:`): argv[0] is an absolute path or a name looked up in
  // PATH=/usr/local/bin:/usr/bin:/bin; each argument expanded on its own, never through a shell.
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;  // added to the minimal environment

  // scale: Kubernetes (api_server, namespace, deployment, token_file, ca_file) or `hook`.
  std::string api_server;
  std::string k8s_namespace;
  std::string deployment;
  std::string replicas;  // "3" (absolute), "+2" or "-1" (relative to the current count)
  int64_t min_replicas = 0;
  int64_t max_replicas = 1000;
  std::string token_file;
  Webhook hook;  // url empty: Kubernetes

  // rollback: model (templated), then `webhook` or `argv` (command).
  std::string model;
  // reroute: from, to, weight (0 to 100); retrain: model, reason.
  std::string from;
  std::string to;
  int64_t weight = 100;
  std::string reason;  // retrain, escalate
  Webhook webhook;

  // wait
  std::chrono::milliseconds duration{0};
  // verify: `query` is true when it returns a non-empty result; tried every `interval` until
  // `within` has passed.
  std::string query;
  std::chrono::milliseconds within{std::chrono::minutes(5)};
  std::chrono::milliseconds interval{std::chrono::seconds(30)};
  // escalate
  std::string severity = "critical";
};

enum class OnFailure { kEscalate, kStop };

struct Playbook {
  std::string name;
  std::string description;
  std::string file;
  config::Position position;
  alertmanager::Matchers match;  // all must match one of the triggering alerts; never empty
  bool dry_run = false;
  bool approval_required = false;
  std::chrono::milliseconds approval_timeout{std::chrono::hours(1)};
  std::chrono::milliseconds cooldown{std::chrono::minutes(10)};
  int64_t max_runs_per_hour = 6;  // 0: no limit
  std::vector<Step> steps;
  OnFailure on_failure = OnFailure::kEscalate;
};

using PlaybookList = std::vector<std::shared_ptr<const Playbook>>;

// Bounds on what a file may hold, so that a hostile file cannot exhaust memory.
inline constexpr size_t kMaxPlaybookFileBytes = 4 << 20;
inline constexpr size_t kMaxPlaybooksPerFile = 1000;
inline constexpr size_t kMaxStepsPerPlaybook = 100;

// Parses one file's text. `file` names it in errors.
Result<PlaybookList> ParsePlaybookFile(std::string_view text, const std::string& file);

// Reads and parses each file; names must be unique across all of them. Every problem of every
// file is reported.
Result<PlaybookList> LoadPlaybookFiles(const std::vector<std::string>& files, Env* env);

// `tyto check playbooks FILE...`: for each file "Checking FILE" then "  SUCCESS: N playbooks
// found" on `out`, or "  FAILED:" and the errors on `err`. Returns 0 when every file is valid,
// 1 otherwise.
int CheckPlaybookFiles(const std::vector<std::string>& files, Env* env, std::ostream& out, std::ostream& err);

}  // namespace tyto::playbook
