// An evaluator's options read by their declared types (evaluator.h's OptionSpec), the one parser
// that both the registry's checks and the factories use, so that what the check accepts is what
// the factory reads.
//
//   Result<std::unique_ptr<Evaluator>> NewThing(const Options& options) {
//     OptionValues o(ThingDescriptor(), options);
//     const double threshold = o.Number("threshold");
//     if (o.ok() && threshold > 1) o.Fail("threshold", "must be at most 1");
//     TYTO_RETURN_IF_ERROR(o.status());
//     ...
//   }
//
// Text forms, as options arrive from YAML:
//   number     a finite decimal or exponent number: "0.5", "-3", "1e-3"
//   bool       true or false (also True, TRUE, False, FALSE, as YAML 1.2 reads them)
//   duration   Prometheus's syntax (common/units.h): "250ms", "10s", "1m", "1h30m"
//   string     any text
//   list       items joined by '\n'; empty items are dropped
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "evaluate/evaluator.h"
#include "tyto/status.h"

namespace tyto::evaluate {

// The type's name as errors and docs say it: "number", "bool", "string", "list of strings",
// "duration".
std::string_view OptionTypeName(OptionSpec::Type type);

// Checks `text` as a value of `type`. The message (without any prefix) says what was expected:
// `want a number, got "abc"`.
Status CheckOptionValue(OptionSpec::Type type, std::string_view text);

// InvalidArgument "evaluator <evaluator>: option <option>: <message>".
Status OptionError(std::string_view evaluator, std::string_view option, std::string_view message);

// Typed reads of options, falling back to the descriptor's defaults for options not set. A read
// that fails (an undeclared option, a value of the wrong type) returns a zero value and keeps
// the first error, in the OptionError form, for status(). Not thread-safe; meant for a
// factory's body. The descriptor and options must outlive it.
class OptionValues {
 public:
  OptionValues(const Descriptor& descriptor, const Options& options) : descriptor_(descriptor), options_(options) {}
  // It keeps references: temporaries would dangle.
  OptionValues(const Descriptor&, Options&&) = delete;
  OptionValues(Descriptor&&, const Options&) = delete;

  // Whether the option has a value: set, or with a non-empty default.
  bool Has(std::string_view name);
  std::string String(std::string_view name);
  double Number(std::string_view name);
  bool Bool(std::string_view name);
  std::chrono::milliseconds Duration(std::string_view name);
  std::vector<std::string> StringList(std::string_view name);

  // Records an error about `option` (the first one recorded wins).
  void Fail(std::string_view option, std::string_view message);
  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }

 private:
  // The option's text (set or default), or nullptr with an error recorded.
  const std::string* Text(std::string_view name, OptionSpec::Type type);

  const Descriptor& descriptor_;
  const Options& options_;
  Status status_;
};

}  // namespace tyto::evaluate
