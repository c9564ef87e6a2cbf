// libFuzzer target: any bytes as a prompt, a response and finish reasons, through every builtin
// evaluator (default options, and a second configuration of each that switches its other paths
// on: a JSON Schema, custom patterns, an expected language, ...). Evaluation must never crash,
// hang or read out of bounds (the sanitizers watch that), and every score must be well formed:
// a value in [0, 1] or NaN, a label, an explanation that is valid UTF-8.
//
// Input layout: prompt \0 response \0 finish reasons separated by \n. Missing parts are empty.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "evaluate/registry.h"
#include "evaluate/text.h"

namespace {

using tyto::evaluate::Evaluator;
using tyto::evaluate::Options;
using tyto::evaluate::Registry;
using tyto::evaluate::Sample;

bool ValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto d = tyto::evaluate::text_internal::DecodeUtf8(s, i);
    if (d.value == 0xFFFD && d.length == 1) return false;
    i += d.length;
  }
  return true;
}

std::vector<std::unique_ptr<Evaluator>> MakeAll() {
  static Registry registry;
  tyto::evaluate::RegisterBuiltins(&registry);
  const std::vector<std::pair<std::string, Options>> configs = {
      {"completeness", {}},
      {"completeness", {{"truncation_reasons", "length\ncut"}, {"unclosed_code_block", "false"}}},
      {"format", {}},
      {"format", {{"format", "text"}}},
      {"format",
       {{"format", "json_schema"},
        {"max_depth", "16"},
        {"schema", R"({"type": "object", "required": ["a"],
                       "properties": {"a": {"type": "array", "items": {"$ref": "#/definitions/n"}},
                                      "b": {"pattern": "^\\d{2,4}-[a-z]+$"}, "c": {"enum": [1, "x", null]},
                                      "d": {"anyOf": [{"type": "string"}, {"minimum": 3}]},
                                      "e": {"$ref": "#"}},
                       "patternProperties": {"^x_\\w+$": {"type": "boolean"}},
                       "definitions": {"n": {"type": "integer", "multipleOf": 2}}})"}}},
      {"language", {}},
      {"language", {{"expected", "ja"}, {"skip_code", "false"}, {"follow_requests", "false"}}},
      {"pii", {}},
      {"pii", {{"rules", "email\ncard"}, {"patterns", "ticket=(?i)ticket-[0-9]+"}, {"ignore_echoed", "false"}}},
      {"refusal", {}},
      {"refusal", {{"window_words", "3"}, {"phrases", "nope [nope] nope\n=NO way"}}},
      {"relevance", {}},
      {"relevance", {{"min_overlap", "1"}, {"min_terms", "1"}}},
      {"repetition", {}},
      {"repetition", {{"ngram", "2"}, {"max_run", "1"}, {"min_words", "1"}}},
      {"safety", {}},
      {"safety", {{"scan_prompt", "true"}, {"patterns", "x=(?i)a+b"}, {"prompt_patterns", "y=\\x00"}}},
  };
  std::vector<std::unique_ptr<Evaluator>> all;
  for (const auto& [name, options] : configs) {
    auto e = registry.Create(name, options);
    if (!e.ok()) std::abort();  // a broken configuration above: fix the fuzzer
    all.push_back(std::move(e).value());
  }
  return all;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::vector<std::unique_ptr<Evaluator>>* all = new std::vector<std::unique_ptr<Evaluator>>(MakeAll());
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  Sample s;
  const size_t a = in.find('\0');
  s.prompt = std::string(in.substr(0, a));
  if (a != std::string_view::npos) {
    const size_t b = in.find('\0', a + 1);
    s.response = std::string(in.substr(a + 1, b == std::string_view::npos ? std::string_view::npos : b - a - 1));
    if (b != std::string_view::npos) {
      std::string_view rest = in.substr(b + 1);
      while (!rest.empty()) {
        const size_t nl = rest.find('\n');
        s.finish_reasons.emplace_back(rest.substr(0, nl));
        if (nl == std::string_view::npos) break;
        rest.remove_prefix(nl + 1);
      }
    }
  }
  s.output_tokens = static_cast<int64_t>(size);
  for (auto& e : *all) {
    auto r = e->Evaluate(s);
    if (!r.ok()) __builtin_trap();
    const double v = r->value;
    if (!std::isnan(v) && (v < 0 || v > 1)) __builtin_trap();
    if (r->label.empty() || r->explanation.empty()) __builtin_trap();
    if (!ValidUtf8(r->explanation) || !ValidUtf8(r->label)) __builtin_trap();
  }
  return 0;
}
