// Inference events from spans that follow OpenTelemetry's GenAI semantic conventions
// (gen_ai.* attributes; the registry in open-telemetry/semantic-conventions-genai), with the
// deprecated names older instrumentations still send, vLLM's own gen_ai.latency.* names, and
// Tyto's tyto.* attributes for what GenAI does not describe. docs/events-api.md has the table.
//
// Which spans become events. A span qualifies when it names a model (gen_ai.response.model or
// gen_ai.request.model) and its gen_ai.operation.name, when present, is not one of the operations
// that are not a model call (invoke_agent, create_agent, execute_tool, invoke_workflow, plan,
// retrieval, and the *_memory / *_memory_store operations). A span without
// gen_ai.operation.name qualifies too: vLLM's request spans carry none.
//
// Double counting. One request can produce two qualifying spans: a framework's span around an SDK
// call (both CLIENT or INTERNAL), or a gateway's CLIENT span around the model server's SERVER
// span. InferencesFromSpans keeps the innermost: a qualifying span is dropped when another
// qualifying span of the same trace, in the same batch, descends from it (the inner span is nearest
// the model: it has the node, the queue time, the server's own token counts). Spans exported in
// different requests (a gateway and a model server are separate processes) cannot be matched at
// decode time; when both sides send GenAI spans, have only one side send gen_ai.* model attributes
// or set tyto.inference = false on the other side's spans (docs/events-api.md).
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "events/model.h"

namespace tyto::events {

// The event a qualifying span describes, or nullopt. Per span, without the double-counting rule.
// Attribute values that do not parse (a token count "many") read as unknown, never as an error:
// the span itself is kept either way.
std::optional<InferenceEvent> InferenceFromSpan(const Span& span);

// The events of a batch of spans, in span order, after the double-counting rule above.
std::vector<InferenceEvent> InferencesFromSpans(const std::vector<Span>& spans);

// Whether `key` is an attribute that carries prompt or response content (gen_ai.input.messages,
// gen_ai.output.messages, gen_ai.system_instructions and the deprecated gen_ai.prompt,
// gen_ai.completion): the decoders cut these at DecodeLimits::max_content_bytes rather than
// max_attribute_value_bytes.
bool IsContentAttribute(std::string_view key);

}  // namespace tyto::events
