// The llm_judge evaluator's option table and its reading: the config's text values (as
// evaluate::Options carries them) checked and turned into typed JudgeOptions. The table is the
// one source of names, types, defaults and help; docs/judge.md lists the same options.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "evaluate/evaluator.h"
#include "http/client.h"
#include "http/url.h"
#include "tyto/env.h"
#include "tyto/status.h"

namespace tyto::judge {

// What the judge is asked to rate. Each built-in rubric is a fixed text in prompt.cc; kCustom
// uses the `prompt` option's text.
enum class Rubric { kHelpfulness, kCorrectness, kCoherence, kCitation, kCustom };

// "helpfulness", "correctness", "coherence", "citation", "custom".
std::string_view RubricName(Rubric rubric);

struct JudgeOptions {
  http::Url endpoint;  // the `url` option
  std::string model;
  std::string api_key;  // the trimmed contents of api_key_file; empty: no Authorization header
  http::TlsClientOptions tls;
  Rubric rubric = Rubric::kHelpfulness;
  std::string custom_rubric;                                    // the `prompt` option, with rubric: custom
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};  // one attempt, connect to reply
  int retries = 2;
  std::chrono::milliseconds retry_backoff{std::chrono::milliseconds(500)};  // before the first retry
  std::chrono::milliseconds max_retry_wait{std::chrono::seconds(30)};       // cap of any one wait
  int concurrency = 4;
  std::chrono::milliseconds queue_timeout{std::chrono::seconds(60)};
  int max_tokens = 256;
  size_t max_input_chars = 8000;
  double input_price_per_1k = 0;
  double output_price_per_1k = 0;
};

// The option table of the llm_judge evaluator, in the order docs/judge.md lists it.
const std::vector<evaluate::OptionSpec>& OptionTable();

// Reads `options` through evaluate::OptionValues, so an option not set takes the table's
// default and a value of the wrong type is refused as the registry refuses it; then checks what
// types cannot say (ranges, url's form, rubric: custom with prompt). Unknown option names are
// the registry's to refuse (Registry::Create). kInvalidArgument in evaluate::OptionError's form,
// "evaluator llm_judge: option retries: want a whole number from 0 to 10, got 11". Reads
// api_key_file through `env` (an error when it cannot be read, is empty or holds several lines).
Result<JudgeOptions> ParseOptions(const evaluate::Options& options, Env* env);

}  // namespace tyto::judge
