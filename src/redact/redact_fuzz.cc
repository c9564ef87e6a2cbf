// libFuzzer target: any bytes as a prompt, a response or a log body, through the default
// redactor (every built-in rule) and through one with custom rules as well. Redaction must never
// crash, hang or read out of bounds (the sanitizers watch that), and:
//   - findings are in order, inside the text and not overlapping;
//   - valid UTF-8 stays valid UTF-8, and no finding starts or ends inside a UTF-8 sequence;
//   - redacting the output again changes nothing (Redact(Redact(x)) == Redact(x));
//   - RedactInPlace agrees with Redact, and Stats counts every finding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "redact/redactor.h"
#include "scrape/text_lexing.h"

namespace {

using tyto::redact::Finding;
using tyto::redact::RedactionConfig;
using tyto::redact::Redactor;
using tyto::redact::Stats;

Redactor Make(RedactionConfig c) {
  auto r = Redactor::Create(c);
  if (!r.ok()) std::abort();
  return std::move(r).value();
}

bool IsContinuationByte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

void Check(const Redactor& r, std::string_view text) {
  const std::vector<Finding> found = r.Find(text);
  const bool valid = tyto::scrape::FindInvalidUtf8(text) == text.size();
  size_t last_end = 0;
  for (const Finding& f : found) {
    if (f.begin < last_end || f.begin >= f.end || f.end > text.size() || f.rule >= r.rule_names().size()) {
      __builtin_trap();
    }
    if (valid && (IsContinuationByte(text[f.begin]) || (f.end < text.size() && IsContinuationByte(text[f.end])))) {
      __builtin_trap();
    }
    last_end = f.end;
  }
  Stats stats;
  const std::string once = r.Redact(text, &stats);
  if (stats.Total() != found.size()) __builtin_trap();
  if (found.empty() != (once == text)) __builtin_trap();
  if (valid && tyto::scrape::FindInvalidUtf8(once) != once.size()) __builtin_trap();
  const std::string twice = r.Redact(once);
  if (twice != once) __builtin_trap();
  std::string in_place(text);
  if (r.RedactInPlace(&in_place) != !found.empty() || in_place != once) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Redactor* builtin = new Redactor(Make(RedactionConfig{}));
  static const Redactor* custom = [] {
    RedactionConfig c;
    c.rules = {{"employee", R"(EMP-\d{4,8})", ""},
               {"ticket", R"((?i)ticket[ #:]*[0-9]+)", "<ticket>"},
               {"quoted", R"('[^'\n]{3,20}')", ""}};
    return new Redactor(Make(c));
  }();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  Check(*builtin, text);
  Check(*custom, text);
  return 0;
}
