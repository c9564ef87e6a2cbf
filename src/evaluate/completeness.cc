// completeness: is there a whole answer? Empty or whitespace-only responses, responses cut by the
// token limit and responses stopped by a content filter score 0; a response whose Markdown code
// block is never closed scores 0.5 (it was most likely cut short); anything else 1.
#include <algorithm>

#include "evaluate/builtins.h"
#include "evaluate/options.h"
#include "evaluate/text.h"

namespace tyto::evaluate {
namespace {

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

bool IsSpace(char32_t c) {
  return c == ' ' || (c >= '\t' && c <= '\r') || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200B) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000 || c == 0xFEFF;
}

bool Blank(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const text_internal::Decoded d = text_internal::DecodeUtf8(text, i);
    if (!IsSpace(d.value)) return false;
    i += d.length;
  }
  return true;
}

// Lines that open or close a Markdown fence: up to three spaces, then ``` or ~~~.
size_t CountFences(std::string_view text) {
  size_t fences = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    size_t indent = 0;
    while (indent < line.size() && indent < 4 && line[indent] == ' ') ++indent;
    if (indent < 4) {
      line.remove_prefix(indent);
      if (line.substr(0, 3) == "```" || line.substr(0, 3) == "~~~") ++fences;
    }
    pos = end + 1;
  }
  return fences;
}

// The listed reason that `reasons` holds, or nullptr.
const std::string* FindReason(const std::vector<std::string>& reasons, const std::vector<std::string>& listed) {
  for (const std::string& r : reasons) {
    for (const std::string& l : listed) {
      if (EqualsIgnoringCase(r, l)) return &l;
    }
  }
  return nullptr;
}

class Completeness final : public Evaluator {
 public:
  Completeness(std::vector<std::string> truncation, std::vector<std::string> filter, bool fences)
      : truncation_(std::move(truncation)), filter_(std::move(filter)), fences_(fences) {}

  const Descriptor& descriptor() const override { return CompletenessDescriptor(); }

  Result<Score> Evaluate(const Sample& s) override {
    if (const std::string* r = FindReason(s.finish_reasons, filter_)) {
      return MakeScore(0, "filtered", "finish reason \"" + *r + "\": a content filter stopped the response");
    }
    if (const std::string* r = FindReason(s.finish_reasons, truncation_)) {
      std::string why = "finish reason \"" + *r + "\": the response was cut at the token limit";
      if (s.output_tokens >= 0) why += " (" + std::to_string(s.output_tokens) + " output tokens)";
      return MakeScore(0, "truncated", std::move(why));
    }
    if (Blank(s.response)) {
      return MakeScore(0, "empty", s.response.empty() ? "the response is empty" : "the response is only whitespace");
    }
    if (fences_ && CountFences(s.response) % 2 == 1) {
      return MakeScore(0.5, "unclosed_code_block", "a Markdown code block is opened and never closed");
    }
    return MakeScore(1, "complete", "the response is not empty and finished without hitting a limit or a filter");
  }

 private:
  std::vector<std::string> truncation_;
  std::vector<std::string> filter_;
  bool fences_;
};

}  // namespace

const Descriptor& CompletenessDescriptor() {
  static const Descriptor d = {
      "completeness",
      "Empty, truncated (token limit) or filtered responses score 0; an unclosed code block 0.5.",
      false,
      {
          {"truncation_reasons", OptionSpec::Type::kStringList, "length\nmax_tokens", false,
           "Finish reasons (any case) meaning the token limit cut the response."},
          {"filter_reasons", OptionSpec::Type::kStringList,
           "content_filter\nsafety\nrecitation\nblocklist\nprohibited_content\nspii", false,
           "Finish reasons (any case) meaning a content filter stopped the response."},
          {"unclosed_code_block", OptionSpec::Type::kBool, "true", false,
           "Score 0.5 when a Markdown code fence (of backticks or tildes) is opened and never closed."},
      }};
  return d;
}

Result<std::unique_ptr<Evaluator>> NewCompleteness(const Options& options) {
  OptionValues o(CompletenessDescriptor(), options);
  auto truncation = o.StringList("truncation_reasons");
  auto filter = o.StringList("filter_reasons");
  const bool fences = o.Bool("unclosed_code_block");
  TYTO_RETURN_IF_ERROR(o.status());
  return std::unique_ptr<Evaluator>(std::make_unique<Completeness>(std::move(truncation), std::move(filter), fences));
}

}  // namespace tyto::evaluate
