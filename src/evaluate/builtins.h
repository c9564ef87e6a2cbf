// The heuristic evaluators, one file each (relevance.cc, safety.cc, ...): each defines its
// descriptor and its factory, and RegisterBuiltins (registry.h) registers them all. Internal to
// tyto_evaluate; users go through the Registry.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "evaluate/evaluator.h"
#include "evaluate/registry.h"

namespace re2 {
class RE2;
}

namespace tyto::evaluate {

struct Builtin {
  const Descriptor& (*descriptor)();
  Factory factory;
};

// Every heuristic evaluator, sorted by name.
const std::vector<Builtin>& Builtins();

const Descriptor& CompletenessDescriptor();
Result<std::unique_ptr<Evaluator>> NewCompleteness(const Options& options);
const Descriptor& FormatDescriptor();
Result<std::unique_ptr<Evaluator>> NewFormat(const Options& options);
const Descriptor& LanguageDescriptor();
Result<std::unique_ptr<Evaluator>> NewLanguage(const Options& options);
const Descriptor& PiiDescriptor();
Result<std::unique_ptr<Evaluator>> NewPii(const Options& options);
const Descriptor& RefusalDescriptor();
Result<std::unique_ptr<Evaluator>> NewRefusal(const Options& options);
const Descriptor& RelevanceDescriptor();
Result<std::unique_ptr<Evaluator>> NewRelevance(const Options& options);
const Descriptor& RepetitionDescriptor();
Result<std::unique_ptr<Evaluator>> NewRepetition(const Options& options);
const Descriptor& SafetyDescriptor();
Result<std::unique_ptr<Evaluator>> NewSafety(const Options& options);

// Helpers the evaluators share.

// A score with its three parts.
Score MakeScore(double value, std::string label, std::string explanation);

// "0.42" (two decimals, for explanations).
std::string FormatRatio(double v);

// Custom RE2 patterns given as "name=regex" list items: the name is [a-z][a-z0-9_]*, at most 64
// bytes; the regex compiles and cannot match the empty string. Errors are OptionError(evaluator,
// option, ...) naming the item.
struct NamedPattern {
  std::string name;
  std::shared_ptr<const re2::RE2> regex;
};
using NamedPatterns = std::vector<NamedPattern>;
Result<std::shared_ptr<const NamedPatterns>> CompileNamedPatterns(const std::vector<std::string>& items,
                                                                   std::string_view evaluator,
                                                                   std::string_view option);
// The name of the first pattern that matches `text`, or nullptr.
const std::string* FirstMatchingPattern(const NamedPatterns& patterns, std::string_view text);

}  // namespace tyto::evaluate
