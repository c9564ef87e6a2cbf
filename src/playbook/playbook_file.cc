#include "playbook/playbook_file.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <set>

#include "config/schema.h"
#include "http/url.h"
#include "playbook/expand.h"

namespace tyto::playbook {
namespace {

using config::Diagnostics;
using config::Node;

const std::vector<std::string> kRunVars = {"incident", "run", "playbook"};
const std::vector<std::string> kRollbackVars = {"incident", "run", "playbook", "model", "current", "previous"};

const std::vector<std::string> kStepKinds = {"http",    "command", "scale", "rollback", "reroute",
                                             "retrain", "wait",    "verify", "escalate"};

// The entries of a mapping by key, after checking every key against `allowed` (unknown ones get
// a did-you-mean, repeated ones an error). `what` names the mapping in messages.
std::map<std::string, Node> Fields(const Node& n, const std::vector<std::string>& allowed, std::string_view what,
                                   Diagnostics* d) {
  std::map<std::string, Node> out;
  if (!n.IsMap()) {
    d->Add(n.position(), std::string(what) + " must be a mapping, got " + std::string(n.KindName()));
    return out;
  }
  for (const auto& [k, v] : n.entries()) {
    if (!k.IsScalar()) {
      d->Add(k.position(), "keys in " + std::string(what) + " must be strings");
      continue;
    }
    const std::string& key = k.scalar();
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string msg = "unknown key '" + key + "' in " + std::string(what);
      std::string guess = config::DidYouMean(key, allowed);
      if (!guess.empty()) msg += ", did you mean '" + guess + "'?";
      d->Add(k.position(), msg);
      continue;
    }
    if (!out.emplace(key, v).second) d->Add(k.position(), "key '" + key + "' is repeated in " + std::string(what));
  }
  return out;
}

const Node* Get(const std::map<std::string, Node>& f, const std::string& key) {
  auto it = f.find(key);
  return it == f.end() ? nullptr : &it->second;
}

// A required, non-empty string; reports where the mapping is when it is missing.
void RequiredString(const std::map<std::string, Node>& f, const std::string& key, const Node& at, std::string_view what,
                    std::string* out, Diagnostics* d) {
  const Node* n = Get(f, key);
  if (n == nullptr || n->IsNull()) {
    d->Add(at.position(), "'" + key + "' is required in " + std::string(what));
    return;
  }
  if (config::DecodeString(*n, out, d) && out->empty()) d->Add(n->position(), "'" + key + "' must not be empty");
}

void OptionalString(const std::map<std::string, Node>& f, const std::string& key, std::string* out, Diagnostics* d) {
  if (const Node* n = Get(f, key)) (void)config::DecodeString(*n, out, d);
}

void CheckRefs(const Node& at, const std::string& text, const std::vector<std::string>& vars, Diagnostics* d) {
  std::string problem = CheckReferences(text, vars);
  if (!problem.empty()) d->Add(at.position(), problem);
}

// A URL: http(s), references allowed after the scheme; checked whole when it has none.
void CheckUrl(const Node& at, const std::string& url, const std::vector<std::string>& vars, Diagnostics* d) {
  if (!url.starts_with("http://") && !url.starts_with("https://")) {
    d->Add(at.position(), "URL '" + url + "' must start with http:// or https://");
    return;
  }
  size_t before = d->messages().size();
  CheckRefs(at, url, vars, d);
  if (d->messages().size() != before) return;
  if (url.find("${") == std::string::npos) {
    auto parsed = http::ParseUrl(url);
    if (!parsed.ok()) d->Add(at.position(), parsed.status().message());
  }
}

void ReadHeaders(const Node& n, std::vector<std::pair<std::string, std::string>>* out,
                 const std::vector<std::string>& vars, Diagnostics* d) {
  if (n.IsNull()) return;
  if (!n.IsMap()) {
    d->Add(n.position(), "headers must be a mapping of names to values, got " + std::string(n.KindName()));
    return;
  }
  for (const auto& [k, v] : n.entries()) {
    if (!k.IsScalar() || k.scalar().empty()) {
      d->Add(k.position(), "a header name must be a non-empty string");
      continue;
    }
    for (char c : k.scalar()) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) {
        d->Add(k.position(), "invalid header name '" + k.scalar() + "'");
        break;
      }
    }
    std::string value;
    if (!config::DecodeString(v, &value, d)) continue;
    if (value.find_first_of("\r\n") != std::string::npos) {
      d->Add(v.position(), "header '" + k.scalar() + "' has a line break");
      continue;
    }
    CheckRefs(v, value, vars, d);
    out->emplace_back(k.scalar(), value);
  }
}

void ReadTimeout(const std::map<std::string, Node>& f, Step* s, Diagnostics* d) {
  if (const Node* n = Get(f, "timeout")) {
    if (config::DecodeDuration(*n, std::chrono::milliseconds(1), &s->timeout, d) &&
        s->timeout > std::chrono::hours(24)) {
      d->Add(n->position(), "timeout must be at most 24h");
    }
  }
}

// A webhook: a URL alone, or {url, headers, ca_file, insecure_skip_verify}.
void ReadWebhook(const Node& n, std::string_view what, const std::vector<std::string>& vars, Webhook* w,
                 Diagnostics* d) {
  if (n.IsScalar()) {
    w->url = n.scalar();
    CheckUrl(n, w->url, vars, d);
    return;
  }
  auto f = Fields(n, {"url", "headers", "ca_file", "insecure_skip_verify"}, what, d);
  if (!n.IsMap()) return;
  RequiredString(f, "url", n, what, &w->url, d);
  if (const Node* u = Get(f, "url"); u != nullptr && !w->url.empty()) CheckUrl(*u, w->url, vars, d);
  if (const Node* h = Get(f, "headers")) ReadHeaders(*h, &w->headers, vars, d);
  OptionalString(f, "ca_file", &w->ca_file, d);
  if (const Node* b = Get(f, "insecure_skip_verify")) (void)config::DecodeBool(*b, &w->insecure_skip_verify, d);
}

bool IsShell(const std::string& program) {
  std::string base = program.substr(program.rfind('/') == std::string::npos ? 0 : program.rfind('/') + 1);
  static const std::set<std::string> kShells = {"sh", "bash", "dash", "zsh", "ksh", "ash", "fish", "csh", "tcsh"};
  return kShells.count(base) > 0;
}

// An argument list. A string is refused: playbooks never build shell command lines.
void ReadArgv(const Node& n, const std::vector<std::string>& vars, std::vector<std::string>* argv, Diagnostics* d) {
  if (n.IsScalar()) {
    d->Add(n.position(),
           "a command must be an argument list such as [\"/usr/bin/kubectl\", \"rollout\", \"restart\", "
           "\"deployment/${labels.deployment}\"], not a shell string");
    return;
  }
  if (!n.IsSequence()) {
    d->Add(n.position(), "a command must be a list of arguments, got " + std::string(n.KindName()));
    return;
  }
  std::vector<Node> items = n.items();
  if (items.empty()) {
    d->Add(n.position(), "a command needs at least the program to run");
    return;
  }
  if (items.size() > 1000) {
    d->Add(n.position(), "a command may have at most 1000 arguments");
    return;
  }
  for (const Node& item : items) {
    std::string arg;
    if (!item.IsScalar()) {
      d->Add(item.position(), "each argument must be a string, got " + std::string(item.KindName()));
      continue;
    }
    arg = item.scalar();
    if (arg.find('\0') != std::string::npos) {
      d->Add(item.position(), "an argument holds a NUL byte");
      continue;
    }
    CheckRefs(item, arg, vars, d);
    argv->push_back(std::move(arg));
  }
  if (argv->empty()) return;
  const std::string& program = (*argv)[0];
  if (program.empty()) {
    d->Add(items[0].position(), "the program (first argument) must not be empty");
  } else if (program.find('$') != std::string::npos) {
    d->Add(items[0].position(), "the program (first argument) must be written out, not taken from a reference");
  } else if (program.find_first_of(" \t;|&") != std::string::npos) {
    d->Add(items[0].position(), "the program '" + program +
                                    "' looks like a shell command line; give the program and each argument as "
                                    "separate list items");
  }
  if (IsShell(program)) {
    for (size_t i = 1; i + 1 < argv->size() && i + 1 < items.size(); ++i) {
      if ((*argv)[i] == "-c" && (*argv)[i + 1].find("${") != std::string::npos) {
        d->Add(items[i + 1].position(),
               "references pasted into a shell script are refused; pass them as separate arguments after the "
               "script and read them as \"$1\", \"$2\"...");
      }
    }
  }
}

void ReadEnv(const Node& n, const std::vector<std::string>& vars, std::map<std::string, std::string>* env,
             Diagnostics* d) {
  if (!config::DecodeStringMap(n, env, d)) return;
  for (const auto& [k, v] : *env) {
    if (k.empty() || k.find('=') != std::string::npos || k.find('\0') != std::string::npos) {
      d->Add(n.position(), "invalid environment variable name '" + k + "'");
    }
    CheckRefs(n, v, vars, d);
  }
}

void ReadHttp(const Node& n, Step* s, Diagnostics* d) {
  auto f = Fields(n, {"method", "url", "headers", "body", "timeout", "ca_file", "insecure_skip_verify"}, "http step", d);
  if (!n.IsMap()) return;
  if (const Node* m = Get(f, "method")) {
    if (config::DecodeString(*m, &s->method, d)) {
      for (char& c : s->method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      static const std::set<std::string> kMethods = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"};
      if (kMethods.count(s->method) == 0) {
        d->Add(m->position(), "method must be one of GET, POST, PUT, PATCH, DELETE, HEAD, got '" + s->method + "'");
      }
    }
  }
  RequiredString(f, "url", n, "http step", &s->url, d);
  if (const Node* u = Get(f, "url"); u != nullptr && !s->url.empty()) CheckUrl(*u, s->url, kRunVars, d);
  if (const Node* h = Get(f, "headers")) ReadHeaders(*h, &s->headers, kRunVars, d);
  if (const Node* b = Get(f, "body"); b != nullptr && config::DecodeString(*b, &s->body, d)) {
    CheckRefs(*b, s->body, kRunVars, d);
  }
  ReadTimeout(f, s, d);
  OptionalString(f, "ca_file", &s->ca_file, d);
  if (const Node* b = Get(f, "insecure_skip_verify")) (void)config::DecodeBool(*b, &s->insecure_skip_verify, d);
}

void ReadCommand(const Node& n, Step* s, Diagnostics* d) {
  if (n.IsSequence() || n.IsScalar()) {
    ReadArgv(n, kRunVars, &s->argv, d);
    return;
  }
  auto f = Fields(n, {"argv", "env", "timeout"}, "command step", d);
  if (!n.IsMap()) return;
  if (const Node* a = Get(f, "argv")) {
    ReadArgv(*a, kRunVars, &s->argv, d);
  } else {
    d->Add(n.position(), "'argv' is required in command step");
  }
  if (const Node* e = Get(f, "env")) ReadEnv(*e, kRunVars, &s->env, d);
  ReadTimeout(f, s, d);
}

void ReadScale(const Node& n, Step* s, Diagnostics* d) {
  auto f = Fields(n,
                  {"api_server", "namespace", "deployment", "replicas", "min_replicas", "max_replicas", "token_file",
                   "ca_file", "insecure_skip_verify", "hook", "timeout"},
                  "scale step", d);
  if (!n.IsMap()) return;
  RequiredString(f, "deployment", n, "scale step", &s->deployment, d);
  if (const Node* x = Get(f, "deployment")) CheckRefs(*x, s->deployment, kRunVars, d);
  s->k8s_namespace = "default";
  OptionalString(f, "namespace", &s->k8s_namespace, d);
  if (const Node* x = Get(f, "namespace")) CheckRefs(*x, s->k8s_namespace, kRunVars, d);
  const Node* r = Get(f, "replicas");
  if (r == nullptr) {
    d->Add(n.position(), "'replicas' is required in scale step (a count such as 4, or +1 / -1)");
  } else if (r->IsScalar()) {
    s->replicas = r->scalar();
    std::string_view digits = s->replicas;
    if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) digits.remove_prefix(1);
    bool ok = !digits.empty() && digits.size() <= 6 &&
              std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!ok) d->Add(r->position(), "replicas must be a count (4) or a change (+1, -2), got '" + s->replicas + "'");
  } else {
    d->Add(r->position(), "replicas must be a count or a change, got " + std::string(r->KindName()));
  }
  if (const Node* x = Get(f, "min_replicas")) (void)config::DecodeInt(*x, 0, 100000, &s->min_replicas, d);
  if (const Node* x = Get(f, "max_replicas")) (void)config::DecodeInt(*x, 0, 100000, &s->max_replicas, d);
  if (s->min_replicas > s->max_replicas) d->Add(n.position(), "min_replicas is above max_replicas");
  ReadTimeout(f, s, d);
  if (const Node* h = Get(f, "hook")) {
    ReadWebhook(*h, "scale hook", kRunVars, &s->hook, d);
    if (Get(f, "api_server") != nullptr) d->Add(h->position(), "give either 'hook' or 'api_server', not both");
    return;
  }
  RequiredString(f, "api_server", n, "scale step (or give 'hook')", &s->api_server, d);
  if (const Node* a = Get(f, "api_server"); a != nullptr && !s->api_server.empty()) {
    CheckUrl(*a, s->api_server, {}, d);
    if (s->api_server.find("${") != std::string::npos) d->Add(a->position(), "api_server must not hold references");
  }
  OptionalString(f, "token_file", &s->token_file, d);
  OptionalString(f, "ca_file", &s->ca_file, d);
  if (const Node* b = Get(f, "insecure_skip_verify")) (void)config::DecodeBool(*b, &s->insecure_skip_verify, d);
}

void ReadRollback(const Node& n, Step* s, Diagnostics* d) {
  auto f = Fields(n, {"model", "webhook", "command", "env", "timeout"}, "rollback step", d);
  if (!n.IsMap()) return;
  RequiredString(f, "model", n, "rollback step", &s->model, d);
  if (const Node* m = Get(f, "model")) CheckRefs(*m, s->model, kRunVars, d);
  const Node* w = Get(f, "webhook");
  const Node* c = Get(f, "command");
  if ((w == nullptr) == (c == nullptr)) {
    d->Add(n.position(), "a rollback step needs exactly one of 'webhook' and 'command'");
  }
  if (w != nullptr) ReadWebhook(*w, "rollback webhook", kRollbackVars, &s->webhook, d);
  if (c != nullptr) ReadArgv(*c, kRollbackVars, &s->argv, d);
  if (const Node* e = Get(f, "env")) ReadEnv(*e, kRollbackVars, &s->env, d);
  ReadTimeout(f, s, d);
}

void ReadReroute(const Node& n, Step* s, Diagnostics* d) {
  auto f = Fields(n, {"webhook", "from", "to", "weight", "timeout"}, "reroute step", d);
  if (!n.IsMap()) return;
  if (const Node* w = Get(f, "webhook")) {
    ReadWebhook(*w, "reroute webhook", kRunVars, &s->webhook, d);
  } else {
    d->Add(n.position(), "'webhook' is required in reroute step");
  }
  RequiredString(f, "from", n, "reroute step", &s->from, d);
  RequiredString(f, "to", n, "reroute step", &s->to, d);
  if (const Node* x = Get(f, "from")) CheckRefs(*x, s->from, kRunVars, d);
  if (const Node* x = Get(f, "to")) CheckRefs(*x, s->to, kRunVars, d);
  if (const Node* x = Get(f, "weight")) (void)config::DecodeInt(*x, 0, 100, &s->weight, d);
  ReadTimeout(f, s, d);
}

void ReadRetrain(const Node& n, Step* s, Diagnostics* d) {
  auto f = Fields(n, {"webhook", "model", "reason", "timeout"}, "retrain step", d);
  if (!n.IsMap()) return;
  if (const Node* w = Get(f, "webhook")) {
    ReadWebhook(*w, "retrain webhook", kRunVars, &s->webhook, d);
  } else {
    d->Add(n.position(), "'webhook' is required in retrain step");
  }
  RequiredString(f, "model", n, "retrain step", &s->model, d);
  if (const Node* x = Get(f, "model")) CheckRefs(*x, s->model, kRunVars, d);
  if (const Node* x = Get(f, "reason"); x != nullptr && config::DecodeString(*x, &s->reason, d)) {
    CheckRefs(*x, s->reason, kRunVars, d);
  }
  ReadTimeout(f, s, d);
}

void ReadWait(const Node& n, Step* s, Diagnostics* d) {
  const Node* v = &n;
  std::map<std::string, Node> f;
  if (n.IsMap()) {
    f = Fields(n, {"duration"}, "wait step", d);
    v = Get(f, "duration");
    if (v == nullptr) {
      d->Add(n.position(), "'duration' is required in wait step");
      return;
    }
  }
  if (v->IsNull()) {
    d->Add(v->position(), "a wait step needs a duration such as 2m");
    return;
  }
  if (config::DecodeDuration(*v, std::chrono::milliseconds(0), &s->duration, d) &&
      s->duration > std::chrono::hours(24)) {
    d->Add(v->position(), "a wait may be at most 24h");
  }
}

void ReadVerify(const Node& n, Step* s, Diagnostics* d) {
  const Node* q = &n;
  std::map<std::string, Node> f;
  if (n.IsMap()) {
    f = Fields(n, {"query", "within", "interval"}, "verify step", d);
    q = Get(f, "query");
    if (q == nullptr) {
      d->Add(n.position(), "'query' is required in verify step");
      return;
    }
    if (const Node* x = Get(f, "within")) {
      if (config::DecodeDuration(*x, std::chrono::milliseconds(0), &s->within, d) && s->within > std::chrono::hours(24)) {
        d->Add(x->position(), "within may be at most 24h");
      }
    }
    if (const Node* x = Get(f, "interval")) {
      (void)config::DecodeDuration(*x, std::chrono::milliseconds(100), &s->interval, d);
    }
  }
  if (!q->IsScalar() || q->scalar().empty()) {
    d->Add(q->position(), "a verify step needs a PromQL query");
    return;
  }
  s->query = q->scalar();
  CheckRefs(*q, s->query, kRunVars, d);
}

void ReadEscalate(const Node& n, Step* s, Diagnostics* d) {
  if (n.IsNull()) return;
  if (n.IsScalar()) {
    s->reason = n.scalar();
    CheckRefs(n, s->reason, kRunVars, d);
    return;
  }
  auto f = Fields(n, {"reason", "severity"}, "escalate step", d);
  if (const Node* x = Get(f, "reason"); x != nullptr && config::DecodeString(*x, &s->reason, d)) {
    CheckRefs(*x, s->reason, kRunVars, d);
  }
  OptionalString(f, "severity", &s->severity, d);
}

std::optional<Step> ReadStep(const Node& n, size_t index, Diagnostics* d) {
  if (!n.IsMap()) {
    d->Add(n.position(), "a step must be a mapping with one of " + std::string("http, command, scale, rollback, "
                                                                                 "reroute, retrain, wait, verify, "
                                                                                 "escalate") +
                             ", got " + std::string(n.KindName()));
    return std::nullopt;
  }
  std::vector<std::string> allowed = kStepKinds;
  allowed.push_back("name");
  size_t before = d->messages().size();
  auto f = Fields(n, allowed, "step", d);
  Step s;
  s.position = n.position();
  std::vector<std::pair<std::string, Node>> kinds;
  for (const auto& [k, v] : f) {
    if (k != "name") kinds.emplace_back(k, v);
  }
  if (kinds.empty()) {
    if (d->messages().size() == before) {
      d->Add(n.position(), "a step needs one of http, command, scale, rollback, reroute, retrain, wait, verify, escalate");
    }
    return std::nullopt;
  }
  if (kinds.size() > 1) {
    d->Add(n.position(), "a step has exactly one kind; this one has " + kinds[0].first + " and " + kinds[1].first);
    return std::nullopt;
  }
  const std::string& kind = kinds[0].first;
  const Node& body = kinds[0].second;
  if (kind == "http") s.kind = StepKind::kHttp, ReadHttp(body, &s, d);
  else if (kind == "command") s.kind = StepKind::kCommand, ReadCommand(body, &s, d);
  else if (kind == "scale") s.kind = StepKind::kScale, ReadScale(body, &s, d);
  else if (kind == "rollback") s.kind = StepKind::kRollback, ReadRollback(body, &s, d);
  else if (kind == "reroute") s.kind = StepKind::kReroute, ReadReroute(body, &s, d);
  else if (kind == "retrain") s.kind = StepKind::kRetrain, ReadRetrain(body, &s, d);
  else if (kind == "wait") s.kind = StepKind::kWait, ReadWait(body, &s, d);
  else if (kind == "verify") s.kind = StepKind::kVerify, ReadVerify(body, &s, d);
  else s.kind = StepKind::kEscalate, ReadEscalate(body, &s, d);
  if (const Node* name = Get(f, "name")) (void)config::DecodeString(*name, &s.name, d);
  if (s.name.empty()) s.name = kind + " #" + std::to_string(index + 1);
  if (d->messages().size() != before) return std::nullopt;
  return s;
}

bool ValidPlaybookName(const std::string& name) {
  if (name.empty() || name.size() > 200) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

std::shared_ptr<const Playbook> ReadPlaybook(const Node& n, const std::string& file, Diagnostics* d) {
  size_t before = d->messages().size();
  auto f = Fields(n,
                  {"name", "description", "match", "dry_run", "approval", "approval_timeout", "cooldown",
                   "max_runs_per_hour", "steps", "on_failure"},
                  "playbook", d);
  if (!n.IsMap()) return nullptr;
  auto p = std::make_shared<Playbook>();
  p->file = file;
  p->position = n.position();
  RequiredString(f, "name", n, "playbook", &p->name, d);
  if (const Node* x = Get(f, "name"); x != nullptr && !p->name.empty() && !ValidPlaybookName(p->name)) {
    d->Add(x->position(), "playbook name '" + p->name + "' may hold only letters, digits, '_', '-' and '.'");
  }
  OptionalString(f, "description", &p->description, d);
  if (const Node* m = Get(f, "match")) {
    const size_t match_errors = d->messages().size();
    std::vector<Node> items;
    if (m->IsScalar()) {
      items.push_back(*m);
    } else if (m->IsSequence()) {
      items = m->items();
    } else {
      d->Add(m->position(), "match must be a list of matchers such as 'alertname=\"GPUOverheat\"', got " +
                                std::string(m->KindName()));
    }
    for (const Node& item : items) {
      if (!item.IsScalar()) {
        d->Add(item.position(), "a matcher must be a string, got " + std::string(item.KindName()));
        continue;
      }
      auto ms = alertmanager::ParseMatchers(item.scalar());
      if (!ms.ok()) {
        d->Add(item.position(), "bad matcher '" + item.scalar() + "': " + ms.status().message());
        continue;
      }
      p->match.insert(p->match.end(), ms->begin(), ms->end());
    }
    if (p->match.empty() && (m->IsScalar() || m->IsSequence()) && d->messages().size() == match_errors) {
      d->Add(m->position(), "match needs at least one matcher (a playbook bound to every alert is refused)");
    }
  } else {
    d->Add(n.position(), "'match' is required in playbook (e.g. match: ['alertname=\"GPUOverheat\"'])");
  }
  if (const Node* x = Get(f, "dry_run")) (void)config::DecodeBool(*x, &p->dry_run, d);
  if (const Node* x = Get(f, "approval")) {
    std::string v;
    if (config::DecodeEnum(*x, {"required", "none"}, &v, d)) p->approval_required = v == "required";
  }
  if (const Node* x = Get(f, "approval_timeout")) {
    (void)config::DecodeDuration(*x, std::chrono::seconds(1), &p->approval_timeout, d);
  }
  if (const Node* x = Get(f, "cooldown")) (void)config::DecodeDuration(*x, std::chrono::milliseconds(0), &p->cooldown, d);
  if (const Node* x = Get(f, "max_runs_per_hour")) (void)config::DecodeInt(*x, 0, 3600, &p->max_runs_per_hour, d);
  if (const Node* x = Get(f, "on_failure")) {
    std::string v;
    if (config::DecodeEnum(*x, {"escalate", "stop"}, &v, d)) {
      p->on_failure = v == "escalate" ? OnFailure::kEscalate : OnFailure::kStop;
    }
  }
  if (const Node* s = Get(f, "steps"); s != nullptr && s->IsSequence() && !s->items().empty()) {
    std::vector<Node> items = s->items();
    if (items.size() > kMaxStepsPerPlaybook) {
      d->Add(s->position(), "a playbook may have at most " + std::to_string(kMaxStepsPerPlaybook) + " steps");
    } else {
      for (size_t i = 0; i < items.size(); ++i) {
        if (auto step = ReadStep(items[i], i, d)) p->steps.push_back(std::move(*step));
      }
    }
  } else if (s != nullptr && !s->IsSequence() && !s->IsNull()) {
    d->Add(s->position(), "steps must be a list, got " + std::string(s->KindName()));
  } else {
    d->Add(s != nullptr ? s->position() : n.position(), "a playbook needs at least one step");
  }
  if (d->messages().size() != before) return nullptr;
  return p;
}

void ParseInto(std::string_view text, const std::string& file, PlaybookList* out, Diagnostics* d) {
  if (text.size() > kMaxPlaybookFileBytes) {
    d->Add(config::Position{file, 0, 0}, "file is larger than " + std::to_string(kMaxPlaybookFileBytes) + " bytes");
    return;
  }
  auto root = config::ParseYaml(text, file);
  if (!root.ok()) {
    d->Add(config::Position{file, 0, 0}, root.status().message());
    return;
  }
  if (root->IsNull()) return;  // an empty file holds no playbooks
  auto f = Fields(*root, {"playbooks"}, "playbook file", d);
  const Node* list = Get(f, "playbooks");
  if (list == nullptr || list->IsNull()) return;
  if (!list->IsSequence()) {
    d->Add(list->position(), "playbooks must be a list, got " + std::string(list->KindName()));
    return;
  }
  std::vector<Node> items = list->items();
  if (items.size() > kMaxPlaybooksPerFile) {
    d->Add(list->position(), "a file may hold at most " + std::to_string(kMaxPlaybooksPerFile) + " playbooks");
    return;
  }
  for (const Node& item : items) {
    if (auto p = ReadPlaybook(item, file, d)) out->push_back(std::move(p));
  }
}

void CheckUniqueNames(const PlaybookList& list, Diagnostics* d) {
  std::map<std::string, const Playbook*> seen;
  for (const auto& p : list) {
    auto [it, inserted] = seen.emplace(p->name, p.get());
    if (!inserted) {
      d->Add(p->position, "playbook '" + p->name + "' is already defined at " + it->second->position.ToString());
    }
  }
}

}  // namespace

std::string_view StepKindName(StepKind kind) {
  return kStepKinds[static_cast<size_t>(kind)];
}

Result<PlaybookList> ParsePlaybookFile(std::string_view text, const std::string& file) {
  Diagnostics d;
  PlaybookList out;
  ParseInto(text, file, &out, &d);
  CheckUniqueNames(out, &d);
  if (!d.empty()) return d.ToStatus();
  return out;
}

Result<PlaybookList> LoadPlaybookFiles(const std::vector<std::string>& files, Env* env) {
  Diagnostics d;
  PlaybookList out;
  for (const std::string& file : files) {
    auto size = env->FileSize(file);
    if (size.ok() && *size > kMaxPlaybookFileBytes) {
      d.Add(config::Position{file, 0, 0}, "file is larger than " + std::to_string(kMaxPlaybookFileBytes) + " bytes");
      continue;
    }
    auto text = env->ReadFile(file);
    if (!text.ok()) {
      d.Add(config::Position{file, 0, 0}, text.status().message());
      continue;
    }
    ParseInto(*text, file, &out, &d);
  }
  CheckUniqueNames(out, &d);
  if (!d.empty()) return d.ToStatus();
  return out;
}

int CheckPlaybookFiles(const std::vector<std::string>& files, Env* env, std::ostream& out, std::ostream& err) {
  int rc = 0;
  for (const std::string& file : files) {
    out << "Checking " << file << "\n";
    auto r = LoadPlaybookFiles({file}, env);
    if (r.ok()) {
      out << "  SUCCESS: " << r->size() << (r->size() == 1 ? " playbook" : " playbooks") << " found\n";
    } else {
      err << "  FAILED:\n" << r.status().message() << "\n";
      rc = 1;
    }
  }
  return rc;
}

}  // namespace tyto::playbook
