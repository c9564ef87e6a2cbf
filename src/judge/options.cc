#include "judge/options.h"

#include <cmath>
#include <cstdio>

#include "common/units.h"
#include "evaluate/options.h"
#include "judge/judge.h"

namespace tyto::judge {

using evaluate::OptionSpec;
using Type = evaluate::OptionSpec::Type;

std::string_view RubricName(Rubric rubric) {
  switch (rubric) {
    case Rubric::kHelpfulness:
      return "helpfulness";
    case Rubric::kCorrectness:
      return "correctness";
    case Rubric::kCoherence:
      return "coherence";
    case Rubric::kCitation:
      return "citation";
    case Rubric::kCustom:
      return "custom";
  }
  return "unknown";
}

const std::vector<OptionSpec>& OptionTable() {
  static const std::vector<OptionSpec> table = {
      {"url", Type::kString, "", true,
       "The judge's OpenAI-compatible chat-completions endpoint, http or https "
       "(e.g. http://127.0.0.1:8000/v1/chat/completions for vLLM)."},
      {"model", Type::kString, "", true, "The model name sent in each request, as the endpoint knows it."},
      {"api_key_file", Type::kString, "", false,
       "A file whose contents (surrounding whitespace removed) are sent as `Authorization: Bearer`. "
       "Read once, when the evaluator is built."},
      {"ca_file", Type::kString, "", false, "PEM CA certificates for an https endpoint; unset: the system's."},
      {"insecure_skip_verify", Type::kBool, "false", false, "Skip verifying the https endpoint's certificate."},
      {"rubric", Type::kString, "helpfulness", false,
       "What the judge rates: helpfulness, correctness, coherence, citation (citation quality), or custom "
       "(with prompt)."},
      {"prompt", Type::kString, "", false,
       "With rubric: custom, the rubric text: what to rate and what each score from 1 to 5 means. The "
       "reply format is added to it."},
      {"timeout", Type::kDuration, "30s", false, "How long one attempt may take, connect to reply."},
      {"retries", Type::kNumber, "2", false,
       "Attempts after the first, on connection errors, 429 and 5xx (never on other 4xx or a timeout); "
       "0 to 10."},
      {"retry_backoff", Type::kDuration, "500ms", false,
       "The wait before the first retry, doubled for each further one, with random jitter (half to all "
       "of it)."},
      {"max_retry_wait", Type::kDuration, "30s", false,
       "The longest wait before a retry, a server's Retry-After included."},
      {"concurrency", Type::kNumber, "4", false,
       "Evaluations in progress at once for this evaluator, each with at most one request in flight; "
       "1 to 1024. Others wait for a turn."},
      {"queue_timeout", Type::kDuration, "60s", false,
       "How long an evaluation waits for a turn before failing with resource_exhausted; 0s: fail at once."},
      {"max_tokens", Type::kNumber, "256", false, "The judge's reply length limit (max_tokens), 1 to 1000000."},
      {"max_input_chars", Type::kNumber, "8000", false,
       "The prompt and response are cut to this many bytes of UTF-8 together before they are sent "
       "(the judge is told); 100 to 16777216."},
      {"input_price_per_1k", Type::kNumber, "0", false,
       "The judge's price per 1000 prompt tokens, for Score.cost and the cost counter."},
      {"output_price_per_1k", Type::kNumber, "0", false, "The judge's price per 1000 completion tokens."},
  };
  return table;
}

const evaluate::Descriptor& JudgeDescriptor() {
  static const evaluate::Descriptor d{
      "llm_judge",
      "Asks a language model on an OpenAI-compatible chat-completions endpoint to rate the response "
      "from 1 to 5 against a rubric (helpfulness, correctness, coherence, citation, or your own).",
      true, OptionTable()};
  return d;
}

namespace {

std::string FormatNumber(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

std::string_view TrimSpace(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

// The trimmed contents of `path`, or why they cannot be a key (recorded in *o).
std::string ReadApiKey(Env* env, const std::string& path, evaluate::OptionValues* o) {
  auto contents = env->ReadFile(path);
  if (!contents.ok()) {
    o->Fail("api_key_file", contents.status().message());
    return "";
  }
  const std::string_view key = TrimSpace(*contents);
  if (key.empty()) o->Fail("api_key_file", path + " is empty");
  for (char c : key) {
    const auto u = static_cast<unsigned char>(c);
    // A header value cannot hold control characters: a key of several lines is a wrong file.
    if (u < 0x20 || u == 0x7f) {
      o->Fail("api_key_file", path + " holds control characters (one key expected)");
      break;
    }
  }
  return std::string(key);
}

Rubric ReadRubric(evaluate::OptionValues* o) {
  const std::string text = o->String("rubric");
  for (Rubric r :
       {Rubric::kHelpfulness, Rubric::kCorrectness, Rubric::kCoherence, Rubric::kCitation, Rubric::kCustom}) {
    if (text == RubricName(r)) return r;
  }
  o->Fail("rubric", "want helpfulness, correctness, coherence, citation or custom, got \"" + text + "\"");
  return Rubric::kHelpfulness;
}

// A whole number in [min, max] (the registry has checked that it is a number).
int64_t ReadInteger(evaluate::OptionValues* o, std::string_view name, int64_t min, int64_t max) {
  const double v = o->Number(name);
  if (!o->ok()) return min;
  if (v != std::floor(v) || v < static_cast<double>(min) || v > static_cast<double>(max)) {
    o->Fail(name, "want a whole number from " + std::to_string(min) + " to " + std::to_string(max) + ", got " +
                      FormatNumber(v));
    return min;
  }
  return static_cast<int64_t>(v);
}

double ReadPrice(evaluate::OptionValues* o, std::string_view name) {
  const double v = o->Number(name);
  if (v < 0) o->Fail(name, "must not be negative, got " + FormatNumber(v));
  return v;
}

}  // namespace

Result<JudgeOptions> ParseOptions(const evaluate::Options& options, Env* env) {
  evaluate::OptionValues o(JudgeDescriptor(), options);
  JudgeOptions j;
  const std::string url = o.String("url");
  if (url.empty()) {
    o.Fail("url", "required");
  } else if (auto endpoint = http::ParseUrl(url); endpoint.ok()) {
    j.endpoint = *endpoint;
  } else {
    o.Fail("url", endpoint.status().message());
  }
  j.model = o.String("model");
  if (j.model.empty()) o.Fail("model", "required");
  if (const std::string path = o.String("api_key_file"); !path.empty()) j.api_key = ReadApiKey(env, path, &o);
  j.tls.ca_file = o.String("ca_file");
  j.tls.insecure_skip_verify = o.Bool("insecure_skip_verify");

  j.rubric = ReadRubric(&o);
  j.custom_rubric = std::string(TrimSpace(o.String("prompt")));
  if (j.rubric == Rubric::kCustom && j.custom_rubric.empty()) {
    o.Fail("prompt", "rubric: custom needs the rubric text in prompt");
  }
  if (j.rubric != Rubric::kCustom && !j.custom_rubric.empty()) {
    o.Fail("prompt", "is read only with rubric: custom (the rubric is " + std::string(RubricName(j.rubric)) + ")");
  }

  j.timeout = o.Duration("timeout");
  if (o.ok() && j.timeout.count() <= 0) o.Fail("timeout", "must be more than 0");
  j.retries = static_cast<int>(ReadInteger(&o, "retries", 0, 10));
  j.retry_backoff = o.Duration("retry_backoff");
  j.max_retry_wait = o.Duration("max_retry_wait");
  if (o.ok() && j.max_retry_wait < j.retry_backoff) {
    o.Fail("max_retry_wait", "must be at least retry_backoff (" + FormatDuration(j.retry_backoff) + ")");
  }
  j.concurrency = static_cast<int>(ReadInteger(&o, "concurrency", 1, 1024));
  j.queue_timeout = o.Duration("queue_timeout");
  j.max_tokens = static_cast<int>(ReadInteger(&o, "max_tokens", 1, 1000000));
  j.max_input_chars = static_cast<size_t>(ReadInteger(&o, "max_input_chars", 100, 16 << 20));
  j.input_price_per_1k = ReadPrice(&o, "input_price_per_1k");
  j.output_price_per_1k = ReadPrice(&o, "output_price_per_1k");
  TYTO_RETURN_IF_ERROR(o.status());
  return j;
}

}  // namespace tyto::judge
