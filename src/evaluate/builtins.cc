#include "evaluate/builtins.h"

#include <re2/re2.h>

#include <cstdio>

#include "evaluate/options.h"
#include "evaluate/text.h"

namespace tyto::evaluate {

const std::vector<Builtin>& Builtins() {
  static const std::vector<Builtin> kBuiltins = {
      {&CompletenessDescriptor, &NewCompleteness}, {&FormatDescriptor, &NewFormat},
      {&LanguageDescriptor, &NewLanguage},         {&PiiDescriptor, &NewPii},
      {&RefusalDescriptor, &NewRefusal},           {&RelevanceDescriptor, &NewRelevance},
      {&RepetitionDescriptor, &NewRepetition},     {&SafetyDescriptor, &NewSafety},
  };
  return kBuiltins;
}

Score MakeScore(double value, std::string label, std::string explanation) {
  Score s;
  s.value = value;
  s.label = std::move(label);
  s.explanation = std::move(explanation);
  return s;
}

std::string FormatRatio(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

Result<std::shared_ptr<const NamedPatterns>> CompileNamedPatterns(const std::vector<std::string>& items,
                                                                   std::string_view evaluator,
                                                                   std::string_view option) {
  auto patterns = std::make_shared<NamedPatterns>();
  for (const std::string& item : items) {
    const size_t eq = item.find('=');
    const std::string name = item.substr(0, eq == std::string::npos ? 0 : eq);
    bool name_ok = !name.empty() && name.size() <= 64 && name[0] >= 'a' && name[0] <= 'z';
    for (char c : name) {
      name_ok = name_ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
    }
    if (eq == std::string::npos || !name_ok) {
      return OptionError(evaluator, option,
                         "want name=regex with a name of a-z, 0-9 and _ (starting with a letter), got \"" +
                             item.substr(0, 80) + "\"");
    }
    const std::string_view regex = std::string_view(item).substr(eq + 1);
    RE2::Options o;
    o.set_log_errors(false);
    auto re = std::make_shared<const RE2>(re2::StringPiece(regex.data(), regex.size()), o);
    if (!re->ok()) return OptionError(evaluator, option, "pattern " + name + ": " + re->error());
    if (RE2::FullMatch("", *re)) return OptionError(evaluator, option, "pattern " + name + ": matches the empty string");
    patterns->push_back({name, std::move(re)});
  }
  return std::shared_ptr<const NamedPatterns>(std::move(patterns));
}

const std::string* FirstMatchingPattern(const NamedPatterns& patterns, std::string_view text) {
  if (text.size() > kMaxTextBytes) text = text.substr(0, kMaxTextBytes);
  for (const NamedPattern& p : patterns) {
    if (RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), *p.regex)) return &p.name;
  }
  return nullptr;
}

}  // namespace tyto::evaluate
