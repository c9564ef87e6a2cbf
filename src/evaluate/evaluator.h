// Evaluator: scores one sampled inference request's response in [0, 1] (1 is good), with a label
// and an explanation. The quality monitor (src/quality/) picks which requests are evaluated and
// by which evaluators, runs them off the ingest path, and turns the scores into
// tyto_quality_score histograms and OpenTelemetry gen_ai.evaluation.result log records.
//
// Evaluators are plugins: each has a Descriptor (its name, what it measures, whether it calls
// out over the network, and its option table) and a factory that builds it from options. The
// heuristic evaluators are in the builtin registry (registry.h); the LLM-as-judge evaluator
// registers itself from src/judge/.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tyto/status.h"

namespace tyto::evaluate {

// What an evaluator sees of one request. Text is unredacted (evaluation happens in memory,
// before redaction; nothing here is written to disk by an evaluator).
struct Sample {
  std::string request_id;
  std::string model;
  std::string model_version;
  std::string prompt;    // may be empty
  std::string response;  // may be empty
  std::vector<std::string> finish_reasons;  // as sent ("stop", "length", "content_filter", ...)
  int64_t output_tokens = -1;               // -1: not known
};

struct Score {
  double value = std::nan("");  // in [0, 1], 1 = good; NaN: not applicable to this sample
  std::string label;            // a short class ("pass", "fail", "refusal", "jailbreak", ...)
  std::string explanation;      // one or two sentences a person can read
  // What the evaluator itself spent (the judge's tokens and their cost); 0 for heuristics.
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  double cost = 0;
};

// One entry of an evaluator's option table.
struct OptionSpec {
  enum class Type { kString, kNumber, kBool, kStringList, kDuration };
  std::string name;
  Type type = Type::kString;
  std::string default_value;  // as text; empty with required=false means "unset"
  bool required = false;
  std::string help;
};

struct Descriptor {
  std::string name;         // the key used in config (`relevance`, `safety`, `llm_judge`, ...)
  std::string description;  // one line
  bool remote = false;      // calls out over the network: run on the remote pool, with a budget
  std::vector<OptionSpec> options;
};

// Options as configured: each value as YAML text (a number "0.5", a bool "true", a duration
// "10s"); a kStringList option's items joined with '\n'.
using Options = std::map<std::string, std::string>;

class Evaluator {
 public:
  virtual ~Evaluator() = default;
  virtual const Descriptor& descriptor() const = 0;
  // Scores `s`. Heuristic evaluators return at once and are thread-safe; a remote evaluator may
  // block up to its own timeout and must also be safe to call from several threads. An error
  // (the judge's endpoint unreachable, say) is counted by the caller, never a crash.
  virtual Result<Score> Evaluate(const Sample& s) = 0;
};

}  // namespace tyto::evaluate
