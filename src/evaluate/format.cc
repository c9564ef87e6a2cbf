// format: is the response in the format the application needs?
//   json         one JSON document (RFC 8259; numbers beyond double range are refused)
//   json_schema  JSON that a draft-4 JSON Schema accepts (json_check.h says what a schema may hold)
//   text         valid UTF-8 without control characters other than tab, line feed, carriage return
// With `allow_fence`, a response that is wholly one Markdown code block (```json ... ```) is
// judged by what is inside it. Errors name the byte, line and column, or the JSON pointer of the
// failing value and of the schema that failed; never the response's values.
#include <cstdio>
#include <optional>

#include "evaluate/builtins.h"
#include "evaluate/json_check.h"
#include "evaluate/options.h"
#include "evaluate/text.h"
#include "tyto/env.h"

namespace tyto::evaluate {
namespace {

enum class Kind { kJson, kJsonSchema, kText };

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The inside of a response that is one fenced code block (``` or ~~~, any info string), or
// nullopt when the response is not one.
std::optional<std::string_view> FencedBody(std::string_view text) {
  size_t b = 0;
  while (b < text.size() && IsSpace(text[b])) ++b;
  size_t e = text.size();
  while (e > b && IsSpace(text[e - 1])) --e;
  text = text.substr(b, e - b);
  if (text.size() < 6) return std::nullopt;
  const std::string_view fence = text.substr(0, 3);
  if (fence != "```" && fence != "~~~") return std::nullopt;
  const size_t first_line_end = text.find('\n');
  if (first_line_end == std::string_view::npos) return std::nullopt;
  // The closing fence ends the trimmed text, on a line of its own.
  if (text.substr(text.size() - 3) != fence) return std::nullopt;
  size_t close = text.size() - 3;
  while (close > 0 && text[close - 1] == fence[0]) --close;  // ```` closes too
  if (close <= first_line_end || text[close - 1] != '\n') return std::nullopt;
  return text.substr(first_line_end + 1, close - first_line_end - 1);
}

// The first byte that is invalid UTF-8 or a control character, and what it is.
std::optional<std::pair<size_t, std::string>> FindBadText(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const text_internal::Decoded d = text_internal::DecodeUtf8(text, i);
    if (d.value == 0xFFFD && d.length == 1) return std::make_pair(i, std::string("invalid UTF-8"));
    const char32_t c = d.value;
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F || (c >= 0x80 && c < 0xA0)) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "control character U+%04X", static_cast<unsigned>(c));
      return std::make_pair(i, std::string(buf));
    }
    i += d.length;
  }
  return std::nullopt;
}

struct Settings {
  Kind kind = Kind::kJson;
  bool allow_fence = true;
  size_t max_depth = 64;
  std::shared_ptr<const JsonSchema> schema;
};

class Format final : public Evaluator {
 public:
  explicit Format(Settings s) : s_(std::move(s)) {}

  const Descriptor& descriptor() const override { return FormatDescriptor(); }

  Result<Score> Evaluate(const Sample& sample) override {
    if (s_.kind == Kind::kText) {
      const auto bad = FindBadText(sample.response);
      if (bad) return MakeScore(0, "invalid_text", bad->second + " at byte " + std::to_string(bad->first));
      return MakeScore(1, "valid", "valid UTF-8 text without control characters");
    }
    std::string_view body = sample.response;
    std::string where;
    if (s_.allow_fence) {
      if (const auto inside = FencedBody(body)) {
        body = *inside;
        where = " (inside the code fence)";
      }
    }
    const JsonCheck check = CheckJson(body, s_.schema.get(), s_.max_depth);
    switch (check.outcome) {
      case JsonCheck::Outcome::kValid:
        return MakeScore(1, "valid", std::string(s_.schema ? "JSON that the schema accepts" : "valid JSON") + where);
      case JsonCheck::Outcome::kSyntax:
        return MakeScore(0, "invalid_json", "not JSON" + where + ": " + check.detail);
      case JsonCheck::Outcome::kTooDeep:
        return MakeScore(0, "too_deep", "JSON" + where + " " + check.detail);
      case JsonCheck::Outcome::kSchema:
        return MakeScore(0, "schema_violation", "the schema rejects the JSON" + where + " " + check.detail);
    }
    return MakeScore(0, "invalid_json", "not JSON");
  }

 private:
  Settings s_;
};

}  // namespace

const Descriptor& FormatDescriptor() {
  static const Descriptor d = {
      "format",
      "The response is valid JSON, JSON that a JSON Schema (draft 4) accepts, or clean UTF-8 text.",
      false,
      {
          {"format", OptionSpec::Type::kString, "json", false, "json, json_schema or text."},
          {"schema", OptionSpec::Type::kString, "", false,
           "The JSON Schema (draft 4) as JSON text, for format json_schema."},
          {"schema_file", OptionSpec::Type::kString, "", false,
           "A file holding the JSON Schema, for format json_schema (instead of schema)."},
          {"allow_fence", OptionSpec::Type::kBool, "true", false,
           "Judge the inside of a response that is wholly one Markdown fenced code block (as models often wrap JSON)."},
          {"max_depth", OptionSpec::Type::kNumber, "64", false,
           "The deepest nesting of objects and arrays accepted, 1 to 10000."},
      }};
  return d;
}

Result<std::unique_ptr<Evaluator>> NewFormat(const Options& options) {
  OptionValues o(FormatDescriptor(), options);
  Settings s;
  const std::string format = o.String("format");
  const std::string schema = o.String("schema");
  const std::string schema_file = o.String("schema_file");
  s.allow_fence = o.Bool("allow_fence");
  const double max_depth = o.Number("max_depth");
  TYTO_RETURN_IF_ERROR(o.status());
  if (format == "json") {
    s.kind = Kind::kJson;
  } else if (format == "json_schema") {
    s.kind = Kind::kJsonSchema;
  } else if (format == "text") {
    s.kind = Kind::kText;
  } else {
    return OptionError("format", "format", "want json, json_schema or text, got \"" + format.substr(0, 64) + "\"");
  }
  if (!(max_depth >= 1 && max_depth <= 10000)) return OptionError("format", "max_depth", "must be between 1 and 10000");
  s.max_depth = static_cast<size_t>(max_depth);
  if (s.kind != Kind::kJsonSchema) {
    if (!schema.empty()) return OptionError("format", "schema", "only used with format json_schema");
    if (!schema_file.empty()) return OptionError("format", "schema_file", "only used with format json_schema");
  } else {
    if (schema.empty() == schema_file.empty()) {
      return OptionError("format", schema.empty() ? "schema" : "schema_file",
                         "format json_schema needs exactly one of schema and schema_file");
    }
    std::string text = schema;
    const char* option = "schema";
    if (!schema_file.empty()) {
      option = "schema_file";
      auto read = Env::Default()->ReadFile(schema_file);
      if (!read.ok()) return OptionError("format", option, read.status().message());
      text = std::move(read).value();
    }
    auto compiled = JsonSchema::Compile(text);
    if (!compiled.ok()) return OptionError("format", option, compiled.status().message());
    s.schema = std::move(compiled).value();
  }
  return std::unique_ptr<Evaluator>(std::make_unique<Format>(std::move(s)));
}

}  // namespace tyto::evaluate
