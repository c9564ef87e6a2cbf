// The step kinds of Engine: what each does, and what it records when dry-running.
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <future>

#include "common/units.h"
#include "http/client.h"
#include "http/url.h"
#include "playbook/command.h"
#include "playbook/engine.h"
#include "playbook/engine_internal.h"

namespace tyto::playbook {
namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

void Str(JsonWriter& w, std::string_view key, std::string_view value) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

// The run's identity in every webhook body.
void RunMembers(JsonWriter& w, const ExpandContext& ctx) {
  for (const char* k : {"playbook", "incident", "run"}) {
    auto it = ctx.vars.find(k);
    Str(w, k, it == ctx.vars.end() ? "" : it->second);
  }
}

// "roll back model m from v2 to v1: POST ..." ("would roll back ..." in a dry run).
std::string DescribeRollback(const std::string& what, std::string rendered, bool dry_run) {
  if (rendered.starts_with("would run ")) rendered.erase(0, 10);
  return (dry_run ? "would " : "") + what + ": " + rendered;
}

}  // namespace

bool IsSecretName(std::string_view name) {
  const std::string n = Lower(name);
  for (const char* s : {"authorization", "token", "secret", "password", "passwd", "key", "cookie", "credential",
                        "signature", "auth"}) {
    if (n.find(s) != std::string::npos) return true;
  }
  return false;
}

std::string RedactUrl(const std::string& url) {
  size_t q = url.find('?');
  if (q == std::string::npos) return url;
  std::string out = url.substr(0, q + 1);
  std::string_view rest = std::string_view(url).substr(q + 1);
  bool first = true;
  while (!rest.empty() || first) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (!first) out += '&';
    first = false;
    size_t eq = pair.find('=');
    if (eq != std::string_view::npos && IsSecretName(pair.substr(0, eq))) {
      out.append(pair.substr(0, eq + 1));
      out += "<redacted>";
    } else {
      out.append(pair);
    }
    if (amp == std::string_view::npos) break;
  }
  return out;
}

std::string Bounded(std::string_view s, size_t max) {
  if (s.size() <= max) return std::string(s);
  return std::string(s.substr(0, max)) + "...[" + std::to_string(s.size() - max) + " bytes cut]";
}

std::string RenderRequest(const std::string& method, const std::string& url,
                          const std::vector<std::pair<std::string, std::string>>& headers, std::string_view body) {
  std::string out = method + " " + RedactUrl(url);
  for (const auto& [k, v] : headers) out += "\n" + k + ": " + (IsSecretName(k) ? std::string("<redacted>") : v);
  if (!body.empty()) out += "\n\n" + Bounded(body, 2048);
  return out;
}

std::string RenderArgv(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartArray();
  for (const std::string& a : argv) w.String(a.data(), static_cast<rapidjson::SizeType>(a.size()));
  w.EndArray();
  std::string out(buf.GetString(), buf.GetSize());
  if (!env.empty()) {
    rapidjson::StringBuffer eb;
    JsonWriter ew(eb);
    ew.StartObject();
    for (const auto& [k, v] : env) Str(ew, k, IsSecretName(k) ? "<redacted>" : v);
    ew.EndObject();
    out += " env " + std::string(eb.GetString(), eb.GetSize());
  }
  return out;
}

bool Engine::ExecuteStep(const std::shared_ptr<RunSlot>& slot, size_t index, StepResult* r) {
  const Step& step = slot->playbook->steps[index];
  switch (step.kind) {
    case StepKind::kHttp:
      return StepHttp(slot, step, r);
    case StepKind::kCommand: {
      std::vector<std::string> argv;
      for (const std::string& a : step.argv) argv.push_back(Expand(a, slot->ctx));
      std::map<std::string, std::string> env;
      for (const auto& [k, v] : step.env) env[k] = Expand(v, slot->ctx);
      return StepCommand(slot, step, argv, env, slot->run.dry_run, r);
    }
    case StepKind::kScale:
      return StepScale(slot, step, r);
    case StepKind::kRollback:
      return StepRollback(slot, step, r);
    case StepKind::kReroute: {
      rapidjson::StringBuffer buf;
      JsonWriter w(buf);
      w.StartObject();
      Str(w, "action", "reroute");
      Str(w, "from", Expand(step.from, slot->ctx));
      Str(w, "to", Expand(step.to, slot->ctx));
      w.Key("weight");
      w.Int64(step.weight);
      RunMembers(w, slot->ctx);
      w.EndObject();
      return StepWebhook(slot, step, std::string(buf.GetString(), buf.GetSize()), r);
    }
    case StepKind::kRetrain: {
      rapidjson::StringBuffer buf;
      JsonWriter w(buf);
      w.StartObject();
      Str(w, "action", "retrain");
      Str(w, "model", Expand(step.model, slot->ctx));
      Str(w, "reason", Expand(step.reason, slot->ctx));
      RunMembers(w, slot->ctx);
      w.EndObject();
      return StepWebhook(slot, step, std::string(buf.GetString(), buf.GetSize()), r);
    }
    case StepKind::kWait:
      return StepWait(slot, step, r);
    case StepKind::kVerify:
      return StepVerify(slot, step, r);
    case StepKind::kEscalate:
      return StepEscalate(slot, step, r);
  }
  r->error = "unknown step kind";
  return false;
}

Result<std::pair<int, std::string>> Engine::SendHttp(const std::shared_ptr<RunSlot>& slot, const HttpCall& call) {
  TYTO_ASSIGN_OR_RETURN(http::Url url, http::ParseUrl(call.url));
  http::ClientRequest req;
  req.method = call.method;
  req.https = url.https;
  req.host = url.host;
  req.port = url.port;
  req.target = url.path + (url.query.empty() ? "" : "?" + url.query);
  req.headers = call.headers;
  req.body = call.body;
  req.timeout = call.timeout;
  // Read up to 4 MiB (a larger answer fails the step); keep max_output_bytes of it.
  req.max_body_bytes = std::max<uint64_t>(options_.max_output_bytes, 4 << 20);
  req.tls.ca_file = call.ca_file;
  req.tls.insecure_skip_verify = call.insecure_skip_verify;
  auto done = std::make_shared<std::promise<Result<http::ClientResponse>>>();
  std::future<Result<http::ClientResponse>> future = done->get_future();
  client_->Send(std::move(req), [done](Result<http::ClientResponse> r) { done->set_value(std::move(r)); });
  while (future.wait_for(std::chrono::milliseconds(20)) != std::future_status::ready) {
    if (CancelledOrStopped(slot)) return Cancelled("the run was cancelled while " + call.method + " " + RedactUrl(call.url) + " was in flight");
  }
  Result<http::ClientResponse> resp = future.get();
  if (!resp.ok()) return resp.status();
  return std::make_pair(resp->status, Bounded(resp->body, options_.max_output_bytes));
}

bool Engine::SendAndRecord(const std::shared_ptr<RunSlot>& slot, const HttpCall& call, StepResult* r) {
  auto resp = SendHttp(slot, call);
  if (!resp.ok()) {
    r->error = resp.status().message();
    return false;
  }
  r->http_status = resp->first;
  r->output = std::move(resp->second);
  if (resp->first < 200 || resp->first > 299) {
    r->error = "HTTP status " + std::to_string(resp->first);
    return false;
  }
  return true;
}

bool Engine::RunHttpCall(const std::shared_ptr<RunSlot>& slot, const HttpCall& call, StepResult* r) {
  r->rendered = RenderRequest(call.method, call.url, call.headers, call.body);
  if (slot->run.dry_run) {
    r->rendered = "would run " + r->rendered;
    r->outcome = "dry_run";
    return true;
  }
  return SendAndRecord(slot, call, r);
}

bool Engine::StepHttp(const std::shared_ptr<RunSlot>& slot, const Step& step, StepResult* r) {
  HttpCall call;
  call.method = step.method;
  call.url = Expand(step.url, slot->ctx, Escape::kUrl);
  for (const auto& [k, v] : step.headers) call.headers.emplace_back(k, Expand(v, slot->ctx));
  call.body = Expand(step.body, slot->ctx);
  if (!call.body.empty()) {
    bool has_type = std::any_of(call.headers.begin(), call.headers.end(),
                                [](const auto& h) { return Lower(h.first) == "content-type"; });
    if (!has_type) call.headers.emplace_back("Content-Type", "application/json");
  }
  call.timeout = step.timeout;
  call.ca_file = step.ca_file;
  call.insecure_skip_verify = step.insecure_skip_verify;
  return RunHttpCall(slot, call, r);
}

bool Engine::StepCommand(const std::shared_ptr<RunSlot>& slot, const Step& step, const std::vector<std::string>& argv,
                         const std::map<std::string, std::string>& env, bool dry_run, StepResult* r) {
  r->rendered = RenderArgv(argv, env);
  if (dry_run) {
    r->rendered = "would run " + r->rendered;
    r->outcome = "dry_run";
    return true;
  }
  CommandOptions o;
  o.argv = argv;
  o.env = env;
  o.timeout = step.timeout;
  o.max_output_bytes = options_.max_output_bytes;
  o.kill_grace = options_.kill_grace;
  auto result = RunCommand(o, clock_, [this, &slot] { return CancelledOrStopped(slot); });
  if (!result.ok()) {
    r->error = result.status().message();
    return false;
  }
  r->exit_code = result->exit_code;
  r->output = std::move(result->output);
  if (result->output_bytes > r->output.size()) {
    r->output += "...[" + std::to_string(result->output_bytes - r->output.size()) + " bytes cut]";
  }
  if (result->timed_out) {
    r->error = "timed out after " + FormatDuration(step.timeout);
    return false;
  }
  if (result->cancelled) {
    r->error = "cancelled";
    return false;
  }
  if (result->signal != 0) {
    r->error = "ended by signal " + std::to_string(result->signal);
    return false;
  }
  if (result->exit_code != 0) {
    r->error = "exit code " + std::to_string(result->exit_code);
    return false;
  }
  return true;
}

bool Engine::StepScale(const std::shared_ptr<RunSlot>& slot, const Step& step, StepResult* r) {
  const std::string ns = Expand(step.k8s_namespace, slot->ctx);
  const std::string name = Expand(step.deployment, slot->ctx);
  const bool relative = step.replicas[0] == '+' || step.replicas[0] == '-';
  int64_t amount = 0;
  {
    std::string_view digits = step.replicas;
    if (digits[0] == '+') digits.remove_prefix(1);
    std::from_chars(digits.data(), digits.data() + digits.size(), amount);
  }
  if (!step.hook.url.empty()) {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.StartObject();
    Str(w, "action", "scale");
    Str(w, "namespace", ns);
    Str(w, "deployment", name);
    Str(w, "replicas", step.replicas);
    w.Key("min_replicas");
    w.Int64(step.min_replicas);
    w.Key("max_replicas");
    w.Int64(step.max_replicas);
    RunMembers(w, slot->ctx);
    w.EndObject();
    Step hook_step = step;
    hook_step.webhook = step.hook;
    return StepWebhook(slot, hook_step, std::string(buf.GetString(), buf.GetSize()), r);
  }
  std::string base = step.api_server;
  while (!base.empty() && base.back() == '/') base.pop_back();
  HttpCall call;
  call.url = base + "/apis/apps/v1/namespaces/" + Expand("${n}", {{}, {}, {{"n", ns}}}, Escape::kUrl) +
             "/deployments/" + Expand("${n}", {{}, {}, {{"n", name}}}, Escape::kUrl) + "/scale";
  call.timeout = step.timeout;
  call.ca_file = step.ca_file;
  call.insecure_skip_verify = step.insecure_skip_verify;
  call.headers.emplace_back("Accept", "application/json");
  if (slot->run.dry_run) {
    r->rendered = "would run " + std::string(relative ? "GET then " : "") + "PATCH " + call.url + " replicas " +
                  step.replicas;
    r->outcome = "dry_run";
    return true;
  }
  if (!step.token_file.empty()) {
    auto token = env_->ReadFile(step.token_file);
    if (!token.ok()) {
      r->error = "cannot read token_file: " + token.status().message();
      return false;
    }
    call.headers.emplace_back("Authorization", "Bearer " + Trim(*token));
  }
  int64_t target = amount;
  std::string log;
  if (relative) {
    call.method = "GET";
    auto resp = SendHttp(slot, call);
    if (!resp.ok()) {
      r->rendered = RenderRequest(call.method, call.url, call.headers, "");
      r->error = resp.status().message();
      return false;
    }
    r->http_status = resp->first;
    if (resp->first != 200) {
      r->rendered = RenderRequest(call.method, call.url, call.headers, "");
      r->error = "reading the scale: HTTP status " + std::to_string(resp->first);
      r->output = resp->second;
      return false;
    }
    rapidjson::Document parsed;
    parsed.Parse<rapidjson::kParseIterativeFlag>(resp->second.data(), resp->second.size());
    const rapidjson::Document& doc = parsed;
    int64_t current = -1;
    if (!doc.HasParseError() && doc.IsObject()) {
      auto spec = doc.FindMember("spec");
      if (spec != doc.MemberEnd() && spec->value.IsObject()) {
        auto rep = spec->value.FindMember("replicas");
        if (rep != spec->value.MemberEnd() && rep->value.IsInt64()) current = rep->value.GetInt64();
      }
      if (current < 0) current = 0;  // Kubernetes omits replicas: 0
    } else {
      r->error = "the scale subresource is not JSON";
      return false;
    }
    target = current + amount;
    log = "replicas " + std::to_string(current) + " -> ";
  }
  target = std::clamp(target, step.min_replicas, step.max_replicas);
  log += std::to_string(target);
  call.method = "PATCH";
  call.headers.emplace_back("Content-Type", "application/merge-patch+json");
  call.body = "{\"spec\":{\"replicas\":" + std::to_string(target) + "}}";
  r->rendered = RenderRequest(call.method, call.url, call.headers, call.body) + "\n(" + log + ")";
  return SendAndRecord(slot, call, r);
}

bool Engine::StepWebhook(const std::shared_ptr<RunSlot>& slot, const Step& step, const std::string& body, StepResult* r) {
  HttpCall call;
  call.method = "POST";
  call.url = Expand(step.webhook.url, slot->ctx, Escape::kUrl);
  for (const auto& [k, v] : step.webhook.headers) call.headers.emplace_back(k, Expand(v, slot->ctx));
  call.headers.emplace_back("Content-Type", "application/json");
  call.body = body;
  call.timeout = step.timeout;
  call.ca_file = step.webhook.ca_file;
  call.insecure_skip_verify = step.webhook.insecure_skip_verify;
  return RunHttpCall(slot, call, r);
}

bool Engine::StepRollback(const std::shared_ptr<RunSlot>& slot, const Step& step, StepResult* r) {
  const std::string model = Expand(step.model, slot->ctx);
  if (model.empty()) {
    r->error = "the model expanded to nothing (is the label set on the alert?)";
    return false;
  }
  std::optional<std::pair<std::string, std::string>> versions;
  if (hooks_.deployment_lookup) versions = hooks_.deployment_lookup(model);
  if (!versions || versions->second.empty()) {
    r->error = "no previous version of model '" + model + "' is known from the deployment events";
    return false;
  }
  // The run's context with the versions, for this step only.
  ExpandContext ctx = slot->ctx;
  ctx.vars["model"] = model;
  ctx.vars["current"] = versions->first;
  ctx.vars["previous"] = versions->second;
  const std::string what = "roll back model " + model + " from " + versions->first + " to " + versions->second;
  if (!step.argv.empty()) {
    std::vector<std::string> argv;
    for (const std::string& a : step.argv) argv.push_back(Expand(a, ctx));
    std::map<std::string, std::string> env;
    for (const auto& [k, v] : step.env) env[k] = Expand(v, ctx);
    bool ok = StepCommand(slot, step, argv, env, slot->run.dry_run, r);
    r->rendered = DescribeRollback(what, r->rendered, slot->run.dry_run);
    return ok;
  }
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  Str(w, "action", "rollback");
  Str(w, "model", model);
  Str(w, "current", versions->first);
  Str(w, "previous", versions->second);
  RunMembers(w, ctx);
  w.EndObject();
  Step hook = step;
  hook.webhook.url = Expand(step.webhook.url, ctx, Escape::kUrl);
  for (auto& [k, v] : hook.webhook.headers) v = Expand(v, ctx);
  // Already expanded: protect '$' from a second expansion.
  auto protect = [](std::string s) {
    std::string out;
    for (char c : s) {
      if (c == '$') out += "$$";
      else out += c;
    }
    return out;
  };
  hook.webhook.url = protect(hook.webhook.url);
  for (auto& [k, v] : hook.webhook.headers) v = protect(v);
  bool ok = StepWebhook(slot, hook, std::string(buf.GetString(), buf.GetSize()), r);
  r->rendered = DescribeRollback(what, r->rendered, slot->run.dry_run);
  return ok;
}

bool Engine::StepWait(const std::shared_ptr<RunSlot>& slot, const Step& step, StepResult* r) {
  r->rendered = "wait " + FormatDuration(step.duration);
  if (slot->run.dry_run) {
    r->rendered = "would " + r->rendered;
    r->outcome = "dry_run";
    return true;
  }
  if (!SleepUntil(slot, clock_->MonotonicNow() + step.duration)) {
    r->error = "cancelled";
    return false;
  }
  return true;
}

bool Engine::StepVerify(const std::shared_ptr<RunSlot>& slot, const Step& step, StepResult* r) {
  const std::string query = Expand(step.query, slot->ctx, Escape::kPromQL);
  r->rendered = "verify " + query + " within " + FormatDuration(step.within);
  if (slot->run.dry_run) {
    r->rendered = "would " + r->rendered;
    r->outcome = "dry_run";
    return true;
  }
  if (!hooks_.verify) {
    r->error = "no PromQL engine to verify with";
    return false;
  }
  const auto deadline = clock_->MonotonicNow() + step.within;
  for (int attempt = 1;; ++attempt) {
    Result<bool> v = hooks_.verify(query, slot->tenant);
    if (v.ok() && *v) {
      r->output = "true on attempt " + std::to_string(attempt);
      return true;
    }
    r->output = v.ok() ? "false on attempt " + std::to_string(attempt)
                       : "error on attempt " + std::to_string(attempt) + ": " + v.status().message();
    const auto now = clock_->MonotonicNow();
    if (now >= deadline) {
      r->error = "the condition stayed false for " + FormatDuration(step.within) + " (" + r->output + ")";
      return false;
    }
    if (!SleepUntil(slot, std::min(now + step.interval, deadline))) {
      r->error = "cancelled";
      return false;
    }
  }
}

bool Engine::StepEscalate(const std::shared_ptr<RunSlot>& slot, const Step& step, StepResult* r) {
  std::string reason = Expand(step.reason, slot->ctx);
  if (reason.empty()) reason = "the playbook asks for a person";
  r->rendered = "escalate (" + step.severity + "): " + reason;
  if (slot->run.dry_run) {
    r->rendered = "would " + r->rendered;
    r->outcome = "dry_run";
    return true;
  }
  Escalate(slot, reason, step.severity);
  return true;
}

}  // namespace tyto::playbook
