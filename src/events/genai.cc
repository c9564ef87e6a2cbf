// GenAI spans → inference events (genai.h; the mapping table is in docs/events-api.md).
#include "events/genai.h"

#include <rapidjson/document.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <unordered_map>

namespace tyto::events {
namespace {

// Operations of the GenAI registry that are not a call to a model: agents, tools, workflows,
// retrieval, memory. Their spans may name a model (an agent's), but the model call inside them,
// when instrumented, has its own span.
bool IsNonModelOperation(std::string_view op) {
  static constexpr std::string_view kOps[] = {
      "invoke_agent",  "create_agent",        "execute_tool",       "invoke_workflow", "plan",
      "retrieval",     "search_memory",       "create_memory",      "update_memory",   "upsert_memory",
      "delete_memory", "create_memory_store", "delete_memory_store"};
  for (std::string_view o : kOps) {
    if (op == o) return true;
  }
  return false;
}

// The value of the first of `keys` the attributes have, or nullptr.
const std::string* First(const std::vector<Attribute>& attrs, std::initializer_list<std::string_view> keys) {
  for (std::string_view k : keys) {
    if (const std::string* v = FindAttribute(attrs, k)) return v;
  }
  return nullptr;
}

// The first non-empty value of `keys`, from the span's attributes, then (`resource_too`) its
// resource's; "" when none.
std::string Text(const Span& s, std::initializer_list<std::string_view> keys, bool resource_too = false) {
  for (std::string_view k : keys) {
    const std::string* v = FindAttribute(s.attributes, k);
    if (v != nullptr && !v->empty()) return *v;
  }
  if (resource_too) {
    for (std::string_view k : keys) {
      const std::string* v = FindAttribute(s.resource, k);
      if (v != nullptr && !v->empty()) return *v;
    }
  }
  return "";
}

// A duration in seconds (a double attribute's string form); NaN when absent, negative, not finite
// or not a number.
double Seconds(const Span& s, std::initializer_list<std::string_view> keys) {
  const std::string* v = First(s.attributes, keys);
  if (v == nullptr) return kUnknown;
  double x = 0;
  const auto r = std::from_chars(v->data(), v->data() + v->size(), x);
  if (r.ec != std::errc() || r.ptr != v->data() + v->size() || !std::isfinite(x) || x < 0) return kUnknown;
  return x;
}

// A token count; -1 when absent, negative or not an integer.
int64_t Count(const Span& s, std::initializer_list<std::string_view> keys) {
  const std::string* v = First(s.attributes, keys);
  if (v == nullptr) return -1;
  int64_t x = 0;
  const auto r = std::from_chars(v->data(), v->data() + v->size(), x);
  if (r.ec != std::errc() || r.ptr != v->data() + v->size() || x < 0) return -1;
  return x;
}

// gen_ai.response.finish_reasons is a string array, written as JSON (["stop","length"]); a sender
// that set a plain string ("stop") is read as one reason.
std::vector<std::string> FinishReasons(const std::string& v) {
  std::vector<std::string> out;
  if (v.empty()) return out;
  if (v.front() == '[') {
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseIterativeFlag>(v.data(), v.size());
    if (!doc.HasParseError() && doc.IsArray()) {
      for (const auto& e : doc.GetArray()) {
        if (e.IsString()) out.emplace_back(e.GetString(), e.GetStringLength());
      }
      return out;
    }
  }
  out.push_back(v);
  return out;
}

// Prompt or response content: the span's attribute, else the first span event carrying one
// (older instrumentations record gen_ai.content.prompt / gen_ai.content.completion events; newer
// ones may put gen_ai.input.messages on an event).
std::string Content(const Span& s, std::initializer_list<std::string_view> keys) {
  if (const std::string* v = First(s.attributes, keys)) return *v;
  for (const SpanEvent& e : s.events) {
    if (const std::string* v = First(e.attributes, keys)) return *v;
  }
  return "";
}

}  // namespace

bool IsContentAttribute(std::string_view key) {
  return key == "gen_ai.input.messages" || key == "gen_ai.output.messages" || key == "gen_ai.system_instructions" ||
         key == "gen_ai.prompt" || key == "gen_ai.completion";
}

std::optional<InferenceEvent> InferenceFromSpan(const Span& span) {
  InferenceEvent e;
  e.model = Text(span, {"gen_ai.response.model", "gen_ai.request.model"});
  if (e.model.empty()) return std::nullopt;
  e.operation = Text(span, {"gen_ai.operation.name"});
  if (IsNonModelOperation(e.operation)) return std::nullopt;
  if (const std::string* opt_out = FindAttribute(span.attributes, "tyto.inference"); opt_out && *opt_out == "false") {
    return std::nullopt;
  }

  e.provider = Text(span, {"gen_ai.provider.name", "gen_ai.system"});
  e.request_id = Text(span, {"gen_ai.response.id", "gen_ai.request.id"});
  e.conversation_id = Text(span, {"gen_ai.conversation.id"});
  e.model_version = Text(span, {"tyto.model.version"}, true);
  e.endpoint = Text(span, {"tyto.endpoint", "http.route"}, true);
  e.tenant = Text(span, {"tyto.tenant"}, true);
  e.user = Text(span, {"enduser.id", "user.id"}, true);
  e.org = span.org;
  e.service = span.service;
  if (const std::string* host = FindAttribute(span.resource, "host.name"); host && !host->empty()) {
    e.node = *host;
  } else if (const std::string* pod = FindAttribute(span.resource, "k8s.pod.name")) {
    e.node = *pod;
  }

  const int64_t end = span.end_unix_nano != 0 ? span.end_unix_nano : span.start_unix_nano;
  e.timestamp_ms = end / 1'000'000;
  if (span.start_unix_nano > 0 && span.end_unix_nano >= span.start_unix_nano) {
    e.latency_s = static_cast<double>(span.end_unix_nano - span.start_unix_nano) / 1e9;
  }
  e.queue_s = Seconds(span, {"tyto.queue_time", "gen_ai.latency.time_in_queue"});
  e.ttft_s = Seconds(span, {"gen_ai.response.time_to_first_chunk", "gen_ai.latency.time_to_first_token"});
  e.input_tokens = Count(span, {"gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"});
  e.output_tokens = Count(span, {"gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens"});
  if (const std::string* reasons = FindAttribute(span.attributes, "gen_ai.response.finish_reasons")) {
    e.finish_reasons = FinishReasons(*reasons);
  }

  // The GenAI conventions: error.type is set when the operation ended in an error, with "_OTHER"
  // when there is no better value; a span status of ERROR says the same.
  const std::string error_type = Text(span, {"error.type"});
  e.error = span.status == StatusCode::kError || !error_type.empty();
  if (e.error) e.error_type = error_type.empty() ? "_OTHER" : error_type;

  e.prompt = Content(span, {"gen_ai.input.messages", "gen_ai.prompt"});
  e.response = Content(span, {"gen_ai.output.messages", "gen_ai.completion"});
  e.trace_id = span.trace_id;
  e.span_id = span.span_id;
  return e;
}

std::vector<InferenceEvent> InferencesFromSpans(const std::vector<Span>& spans) {
  const size_t n = spans.size();
  std::vector<std::optional<InferenceEvent>> events(n);
  bool any = false;
  for (size_t i = 0; i < n; ++i) {
    events[i] = InferenceFromSpan(spans[i]);
    any |= events[i].has_value();
  }
  std::vector<InferenceEvent> out;
  if (!any) return out;

  // Each qualifying span marks its ancestors in the batch as having a qualifying descendant; an
  // ancestor marked once needs no second walk (its own ancestors were marked then), so the pass
  // is linear, and a cycle of parent links (bad input) ends at a node already marked.
  std::unordered_map<std::string, size_t> by_id;
  by_id.reserve(n);
  for (size_t i = 0; i < n; ++i) by_id.emplace(spans[i].trace_id + spans[i].span_id, i);
  const auto parent = [&](size_t i) -> size_t {
    if (spans[i].parent_span_id.empty()) return n;
    auto it = by_id.find(spans[i].trace_id + spans[i].parent_span_id);
    return it == by_id.end() ? n : it->second;
  };
  std::vector<bool> has_inner(n, false);
  for (size_t i = 0; i < n; ++i) {
    if (!events[i]) continue;
    for (size_t p = parent(i); p != n && !has_inner[p]; p = parent(p)) has_inner[p] = true;
  }
  for (size_t i = 0; i < n; ++i) {
    if (events[i] && !has_inner[i]) out.push_back(std::move(*events[i]));
  }
  return out;
}

}  // namespace tyto::events
