// GenAI spans → inference events: every attribute of the mapping, the deprecated and vLLM names,
// errors, which spans qualify, and the innermost-span rule against double counting.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "events/genai.h"

namespace tyto::events {
namespace {

Span ChatSpan(std::vector<Attribute> attrs) {
  Span s;
  s.trace_id = "5b8efff798038103d269b633813fc60c";
  s.span_id = "eee19b7ec3c1b174";
  s.service = "chatbot";
  s.name = "chat gpt-4o";
  s.kind = SpanKind::kClient;
  s.start_unix_nano = 1'700'000'000'000'000'000;
  s.end_unix_nano = 1'700'000'001'250'000'000;
  s.attributes = std::move(attrs);
  return s;
}

TEST(GenAiTest, EveryAttribute) {
  Span s = ChatSpan({{"gen_ai.operation.name", "chat"},
                     {"gen_ai.provider.name", "openai"},
                     {"gen_ai.system", "ignored-when-provider-is-set"},
                     {"gen_ai.request.model", "gpt-4o"},
                     {"gen_ai.response.model", "gpt-4o-2024-08-06"},
                     {"gen_ai.response.id", "chatcmpl-123"},
                     {"gen_ai.conversation.id", "conv-9"},
                     {"gen_ai.usage.input_tokens", "120"},
                     {"gen_ai.usage.output_tokens", "48"},
                     {"gen_ai.response.finish_reasons", "[\"stop\",\"length\"]"},
                     {"gen_ai.response.time_to_first_chunk", "0.35"},
                     {"gen_ai.input.messages", "[{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"hi\"}]}]"},
                     {"gen_ai.output.messages", "[{\"role\":\"assistant\"}]"},
                     {"tyto.model.version", "2024-08-06"},
                     {"tyto.endpoint", "chat"},
                     {"http.route", "/v1/chat/completions"},
                     {"tyto.tenant", "acme"},
                     {"tyto.queue_time", "0.02"}});
  s.resource = {{"service.name", "chatbot"}, {"host.name", "gpu-node-3"}, {"k8s.pod.name", "chatbot-7f9"}};
  std::optional<InferenceEvent> e = InferenceFromSpan(s);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->timestamp_ms, 1'700'000'001'250);
  EXPECT_EQ(e->model, "gpt-4o-2024-08-06");  // the response model before the request model
  EXPECT_EQ(e->operation, "chat");
  EXPECT_EQ(e->provider, "openai");
  EXPECT_EQ(e->request_id, "chatcmpl-123");
  EXPECT_EQ(e->conversation_id, "conv-9");
  EXPECT_EQ(e->input_tokens, 120);
  EXPECT_EQ(e->output_tokens, 48);
  EXPECT_EQ(e->finish_reasons, (std::vector<std::string>{"stop", "length"}));
  EXPECT_DOUBLE_EQ(e->ttft_s, 0.35);
  EXPECT_DOUBLE_EQ(e->latency_s, 1.25);
  EXPECT_DOUBLE_EQ(e->queue_s, 0.02);
  EXPECT_EQ(e->prompt, "[{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"hi\"}]}]");
  EXPECT_EQ(e->response, "[{\"role\":\"assistant\"}]");
  EXPECT_EQ(e->model_version, "2024-08-06");
  EXPECT_EQ(e->endpoint, "chat");
  EXPECT_EQ(e->tenant, "acme");
  EXPECT_EQ(e->node, "gpu-node-3");
  EXPECT_EQ(e->service, "chatbot");
  EXPECT_FALSE(e->error);
  EXPECT_EQ(e->error_type, "");
  EXPECT_EQ(e->trace_id, s.trace_id);
  EXPECT_EQ(e->span_id, s.span_id);
}

TEST(GenAiTest, DeprecatedNamesAndFallbacks) {
  Span s = ChatSpan({{"gen_ai.system", "anthropic"},
                     {"gen_ai.request.model", "claude-3"},
                     {"gen_ai.usage.prompt_tokens", "7"},
                     {"gen_ai.usage.completion_tokens", "9"},
                     {"gen_ai.response.finish_reasons", "end_turn"},
                     {"http.route", "/v1/messages"},
                     {"url.path", "/v1/messages/abc123"}});
  s.events = {{1, "gen_ai.content.prompt", {{"gen_ai.prompt", "old prompt"}}},
              {2, "gen_ai.content.completion", {{"gen_ai.completion", "old completion"}}}};
  s.resource = {{"k8s.pod.name", "claude-proxy-0"}, {"tyto.tenant", "from-resource"}, {"tyto.model.version", "v3"}};
  std::optional<InferenceEvent> e = InferenceFromSpan(s);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->provider, "anthropic");
  EXPECT_EQ(e->model, "claude-3");
  EXPECT_EQ(e->operation, "");
  EXPECT_EQ(e->input_tokens, 7);
  EXPECT_EQ(e->output_tokens, 9);
  EXPECT_EQ(e->finish_reasons, (std::vector<std::string>{"end_turn"}));
  EXPECT_EQ(e->endpoint, "/v1/messages");  // http.route; url.path is never used (it carries ids)
  EXPECT_EQ(e->node, "claude-proxy-0");    // no host.name
  EXPECT_EQ(e->tenant, "from-resource");
  EXPECT_EQ(e->model_version, "v3");
  EXPECT_EQ(e->prompt, "old prompt");
  EXPECT_EQ(e->response, "old completion");
  EXPECT_TRUE(std::isnan(e->ttft_s));
  EXPECT_TRUE(std::isnan(e->queue_s));
  EXPECT_EQ(e->tenant, "from-resource");

  // The current names win over the deprecated ones when both are sent.
  Span both = ChatSpan({{"gen_ai.request.model", "m"},
                        {"gen_ai.usage.prompt_tokens", "1"},
                        {"gen_ai.usage.input_tokens", "2"},
                        {"gen_ai.prompt", "old"},
                        {"gen_ai.input.messages", "new"}});
  e = InferenceFromSpan(both);
  EXPECT_EQ(e->input_tokens, 2);
  EXPECT_EQ(e->prompt, "new");
}

TEST(GenAiTest, VllmRequestSpan) {
  // vLLM's llm_request span: SERVER, no gen_ai.operation.name, its own gen_ai.latency.* names.
  Span s = ChatSpan({{"gen_ai.response.model", "meta-llama/Llama-3.1-8B-Instruct"},
                     {"gen_ai.request.id", "cmpl-abc"},
                     {"gen_ai.usage.prompt_tokens", "31"},
                     {"gen_ai.usage.completion_tokens", "200"},
                     {"gen_ai.latency.time_in_queue", "0.004"},
                     {"gen_ai.latency.time_to_first_token", "0.081"}});
  s.kind = SpanKind::kServer;
  std::optional<InferenceEvent> e = InferenceFromSpan(s);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->request_id, "cmpl-abc");
  EXPECT_DOUBLE_EQ(e->queue_s, 0.004);
  EXPECT_DOUBLE_EQ(e->ttft_s, 0.081);
  EXPECT_EQ(e->output_tokens, 200);
}

TEST(GenAiTest, Errors) {
  Span s = ChatSpan({{"gen_ai.request.model", "m"}});
  s.status = StatusCode::kError;
  EXPECT_TRUE(InferenceFromSpan(s)->error);
  EXPECT_EQ(InferenceFromSpan(s)->error_type, "_OTHER");
  s.attributes.push_back({"error.type", "timeout"});
  EXPECT_EQ(InferenceFromSpan(s)->error_type, "timeout");
  s.status = StatusCode::kUnset;  // error.type alone says the operation failed
  EXPECT_TRUE(InferenceFromSpan(s)->error);
  EXPECT_EQ(InferenceFromSpan(s)->error_type, "timeout");
  s.status = StatusCode::kOk;
  s.attributes.pop_back();
  EXPECT_FALSE(InferenceFromSpan(s)->error);
}

TEST(GenAiTest, WhichSpansQualify) {
  EXPECT_FALSE(InferenceFromSpan(ChatSpan({})).has_value());
  EXPECT_FALSE(InferenceFromSpan(ChatSpan({{"gen_ai.operation.name", "chat"}})).has_value());  // no model
  EXPECT_FALSE(InferenceFromSpan(ChatSpan({{"gen_ai.request.model", ""}})).has_value());
  EXPECT_TRUE(InferenceFromSpan(ChatSpan({{"gen_ai.operation.name", "embeddings"}, {"gen_ai.request.model", "e5"}})));
  EXPECT_TRUE(InferenceFromSpan(ChatSpan({{"gen_ai.operation.name", "a_provider_specific_op"}, {"gen_ai.request.model", "m"}})));
  for (const char* op : {"invoke_agent", "create_agent", "execute_tool", "invoke_workflow", "plan", "retrieval",
                         "search_memory", "delete_memory_store"}) {
    EXPECT_FALSE(InferenceFromSpan(ChatSpan({{"gen_ai.operation.name", op}, {"gen_ai.request.model", "m"}}))) << op;
  }
  EXPECT_FALSE(InferenceFromSpan(ChatSpan({{"gen_ai.request.model", "m"}, {"tyto.inference", "false"}})));
  EXPECT_TRUE(InferenceFromSpan(ChatSpan({{"gen_ai.request.model", "m"}, {"tyto.inference", "true"}})));
}

TEST(GenAiTest, UnparsableValuesAreUnknown) {
  Span s = ChatSpan({{"gen_ai.request.model", "m"},
                     {"gen_ai.usage.input_tokens", "many"},
                     {"gen_ai.usage.output_tokens", "-3"},
                     {"gen_ai.response.time_to_first_chunk", "-1"},
                     {"tyto.queue_time", "NaN"},
                     {"gen_ai.response.finish_reasons", "[\"stop\", 3, \"length\"]"}});
  s.end_unix_nano = s.start_unix_nano - 1;  // a clock that went backwards
  std::optional<InferenceEvent> e = InferenceFromSpan(s);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->input_tokens, -1);
  EXPECT_EQ(e->output_tokens, -1);
  EXPECT_TRUE(std::isnan(e->ttft_s));
  EXPECT_TRUE(std::isnan(e->queue_s));
  EXPECT_TRUE(std::isnan(e->latency_s));
  EXPECT_EQ(e->finish_reasons, (std::vector<std::string>{"stop", "length"}));
  s.attributes.back().value = "[not json";
  EXPECT_EQ(InferenceFromSpan(s)->finish_reasons, (std::vector<std::string>{"[not json"}));
}

TEST(GenAiTest, InnermostSpanOfABatchWins) {
  // agent (invoke_agent) → framework chat span → SDK chat span → model server span, one trace;
  // plus an unrelated chat span in another trace and a plain HTTP span.
  Span agent = ChatSpan({{"gen_ai.operation.name", "invoke_agent"}, {"gen_ai.request.model", "gpt-4o"}});
  agent.span_id = "0000000000000001";
  Span framework = ChatSpan({{"gen_ai.operation.name", "chat"}, {"gen_ai.request.model", "gpt-4o"}});
  framework.span_id = "0000000000000002";
  framework.parent_span_id = agent.span_id;
  Span http = ChatSpan({{"http.request.method", "POST"}});
  http.span_id = "0000000000000003";
  http.parent_span_id = framework.span_id;
  Span sdk = ChatSpan({{"gen_ai.operation.name", "chat"}, {"gen_ai.request.model", "gpt-4o"}, {"gen_ai.usage.input_tokens", "5"}});
  sdk.span_id = "0000000000000004";
  sdk.parent_span_id = http.span_id;  // not a direct child: a plain span in between
  Span other = ChatSpan({{"gen_ai.request.model", "other"}});
  other.trace_id = "11111111111111111111111111111111";
  other.span_id = "0000000000000002";  // the same span id in another trace is another span
  other.parent_span_id = "0000000000000001";
  std::vector<InferenceEvent> events = InferencesFromSpans({sdk, agent, framework, other, http});
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].span_id, sdk.span_id);
  EXPECT_EQ(events[0].input_tokens, 5);
  EXPECT_EQ(events[1].model, "other");

  // Without the inner span in the batch, the outer one is the event.
  events = InferencesFromSpans({framework, agent});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].span_id, framework.span_id);

  // A cycle of parent links ends.
  Span a = ChatSpan({{"gen_ai.request.model", "m"}});
  a.span_id = "00000000000000aa";
  a.parent_span_id = "00000000000000bb";
  Span b = a;
  b.span_id = "00000000000000bb";
  b.parent_span_id = "00000000000000aa";
  events = InferencesFromSpans({a, b});
  EXPECT_TRUE(events.empty());  // each is the other's ancestor: both have an inner span
  EXPECT_TRUE(InferencesFromSpans({}).empty());
}

TEST(GenAiTest, ContentAttributes) {
  EXPECT_TRUE(IsContentAttribute("gen_ai.input.messages"));
  EXPECT_TRUE(IsContentAttribute("gen_ai.output.messages"));
  EXPECT_TRUE(IsContentAttribute("gen_ai.system_instructions"));
  EXPECT_TRUE(IsContentAttribute("gen_ai.prompt"));
  EXPECT_TRUE(IsContentAttribute("gen_ai.completion"));
  EXPECT_FALSE(IsContentAttribute("gen_ai.request.model"));
}

}  // namespace
}  // namespace tyto::events
