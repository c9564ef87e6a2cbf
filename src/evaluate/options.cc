#include "evaluate/options.h"

#include <charconv>
#include <cmath>

#include "common/units.h"

namespace tyto::evaluate {
namespace {

Result<double> ParseNumber(std::string_view text) {
  double v = 0;
  std::string_view t = text;
  if (!t.empty() && t.front() == '+') t.remove_prefix(1);
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc() || end != t.data() + t.size() || !std::isfinite(v)) {
    return InvalidArgument("want a number, got \"" + std::string(text) + "\"");
  }
  return v;
}

Result<bool> ParseBool(std::string_view text) {
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  return InvalidArgument("want true or false, got \"" + std::string(text) + "\"");
}

Result<std::chrono::milliseconds> ParseDurationOption(std::string_view text) {
  auto d = ParseDuration(text);
  if (!d.ok()) {
    return InvalidArgument("want a duration like 250ms, 10s or 1m, got \"" + std::string(text) + "\"");
  }
  return *d;
}

}  // namespace

std::string_view OptionTypeName(OptionSpec::Type type) {
  switch (type) {
    case OptionSpec::Type::kString:
      return "string";
    case OptionSpec::Type::kNumber:
      return "number";
    case OptionSpec::Type::kBool:
      return "bool";
    case OptionSpec::Type::kStringList:
      return "list of strings";
    case OptionSpec::Type::kDuration:
      return "duration";
  }
  return "unknown";
}

Status CheckOptionValue(OptionSpec::Type type, std::string_view text) {
  switch (type) {
    case OptionSpec::Type::kNumber:
      return ParseNumber(text).status();
    case OptionSpec::Type::kBool:
      return ParseBool(text).status();
    case OptionSpec::Type::kDuration:
      return ParseDurationOption(text).status();
    case OptionSpec::Type::kString:
    case OptionSpec::Type::kStringList:
      return Status::Ok();
  }
  return Status::Ok();
}

Status OptionError(std::string_view evaluator, std::string_view option, std::string_view message) {
  std::string m = "evaluator ";
  m.append(evaluator).append(": option ").append(option).append(": ").append(message);
  return InvalidArgument(std::move(m));
}

void OptionValues::Fail(std::string_view option, std::string_view message) {
  if (status_.ok()) status_ = OptionError(descriptor_.name, option, message);
}

const std::string* OptionValues::Text(std::string_view name, OptionSpec::Type type) {
  const OptionSpec* spec = nullptr;
  for (const OptionSpec& s : descriptor_.options) {
    if (s.name == name) spec = &s;
  }
  if (spec == nullptr) {
    Fail(name, "not declared in the evaluator's option table");
    return nullptr;
  }
  if (spec->type != type) {
    Fail(name, "declared as " + std::string(OptionTypeName(spec->type)) + ", read as " +
                   std::string(OptionTypeName(type)));
    return nullptr;
  }
  const auto it = options_.find(spec->name);
  return it != options_.end() ? &it->second : &spec->default_value;
}

bool OptionValues::Has(std::string_view name) {
  for (const OptionSpec& s : descriptor_.options) {
    if (s.name == name) {
      const auto it = options_.find(s.name);
      return it != options_.end() || !s.default_value.empty();
    }
  }
  return false;
}

std::string OptionValues::String(std::string_view name) {
  const std::string* t = Text(name, OptionSpec::Type::kString);
  return t == nullptr ? std::string() : *t;
}

double OptionValues::Number(std::string_view name) {
  const std::string* t = Text(name, OptionSpec::Type::kNumber);
  if (t == nullptr) return 0;
  auto v = ParseNumber(*t);
  if (!v.ok()) {
    Fail(name, v.status().message());
    return 0;
  }
  return *v;
}

bool OptionValues::Bool(std::string_view name) {
  const std::string* t = Text(name, OptionSpec::Type::kBool);
  if (t == nullptr) return false;
  auto v = ParseBool(*t);
  if (!v.ok()) {
    Fail(name, v.status().message());
    return false;
  }
  return *v;
}

std::chrono::milliseconds OptionValues::Duration(std::string_view name) {
  const std::string* t = Text(name, OptionSpec::Type::kDuration);
  if (t == nullptr) return std::chrono::milliseconds(0);
  auto v = ParseDurationOption(*t);
  if (!v.ok()) {
    Fail(name, v.status().message());
    return std::chrono::milliseconds(0);
  }
  return *v;
}

std::vector<std::string> OptionValues::StringList(std::string_view name) {
  const std::string* t = Text(name, OptionSpec::Type::kStringList);
  std::vector<std::string> items;
  if (t == nullptr) return items;
  size_t start = 0;
  while (start <= t->size()) {
    size_t end = t->find('\n', start);
    if (end == std::string::npos) end = t->size();
    if (end > start) items.push_back(t->substr(start, end - start));
    start = end + 1;
  }
  return items;
}

}  // namespace tyto::evaluate
