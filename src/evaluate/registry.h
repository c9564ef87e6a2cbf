// The evaluators Tyto can run, by name: each registered as its Descriptor and a factory. The
// registry checks configured options against the descriptor's table before the factory sees
// them, so every evaluator rejects a misspelt or mistyped option the same way, and the same
// tables generate docs/evaluators.md (EvaluatorsReference; a test keeps the file in step).
//
//   evaluate::Registry registry;
//   evaluate::RegisterBuiltins(&registry);          // relevance, safety, pii, refusal, ...
//   TYTO_RETURN_IF_ERROR(judge::Register(&registry));  // the LLM-as-judge, from src/judge/
//   TYTO_ASSIGN_OR_RETURN(auto safety, registry.Create("safety", {{"jailbreak", "false"}}));
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "evaluate/evaluator.h"
#include "tyto/status.h"

namespace tyto::evaluate {

// Builds an evaluator from options that Registry::Create has checked against the descriptor and
// completed with its defaults (every option with a default is present). A factory still checks
// what a type cannot say (ranges, one option excluding another) and reports it with
// OptionError (options.h).
using Factory = std::function<Result<std::unique_ptr<Evaluator>>(const Options&)>;

// Not synchronised: register everything first (at start-up, on one thread); afterwards List,
// Find and Create are const and safe from any number of threads.
class Registry {
 public:
  // AlreadyExists when an evaluator of that name is registered; InvalidArgument when the
  // descriptor is inconsistent (no name, an option twice, an option without help, a default
  // that is not of its option's type, a required option with a default).
  Status Register(Descriptor descriptor, Factory factory);

  // Every registered descriptor, sorted by name.
  std::vector<Descriptor> List() const;

  // The descriptor registered as `name`, or nullptr. Valid while the registry lives.
  const Descriptor* Find(std::string_view name) const;

  // Checks `options` against the descriptor's table, fills in defaults, then calls the factory.
  // Errors are InvalidArgument:
  //   "evaluator <name>: unknown evaluator (known: a, b, c)"
  //   "evaluator <name>: option <opt>: unknown option (did you mean <x>?); known options: a, b"
  //   "evaluator <name>: option <opt>: want a number, got \"abc\""   (also bool and duration)
  //   "evaluator <name>: option <opt>: required"
  // and whatever the factory reports.
  Result<std::unique_ptr<Evaluator>> Create(std::string_view name, const Options& options) const;

 private:
  struct Entry {
    Descriptor descriptor;
    Factory factory;
  };
  std::map<std::string, Entry, std::less<>> entries_;
};

// Registers the heuristic evaluators: completeness, format, language, pii, refusal, relevance,
// repetition, safety. Each is local, cheap (well over 20,000 responses a second per core) and
// thread-safe. Registering them twice in one registry is a bug: it aborts.
void RegisterBuiltins(Registry* registry);

// Markdown: for each descriptor, a heading, its description and its option table (option, type,
// default, help), as docs/evaluators.md shows them between its "generated" markers.
std::string EvaluatorsReference(const std::vector<Descriptor>& descriptors);

}  // namespace tyto::evaluate
