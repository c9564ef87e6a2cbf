// libFuzzer target: any bytes as the judge endpoint's reply body (ParseCompletion) and as the
// judge's answer text (ParseVerdict). Neither may crash, hang or read out of bounds (the
// sanitizers watch that), and:
//   - a verdict's score is in [1, 5], so its normalized value is in [0, 1];
//   - its explanation is valid UTF-8 of at most kMaxExplanationBytes;
//   - every error message is valid UTF-8 and bounded (a snippet, never the whole input);
//   - a completion's token counts are not negative.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "judge/reply.h"
#include "scrape/text_lexing.h"

namespace {

using tyto::judge::kMaxExplanationBytes;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

bool ValidUtf8(std::string_view s) { return tyto::scrape::FindInvalidUtf8(s) == s.size(); }

void CheckError(const tyto::Status& st) {
  Check(!st.ok());
  Check(ValidUtf8(st.message()));
  Check(st.message().size() < 2048);
}

void CheckVerdict(std::string_view content) {
  auto v = tyto::judge::ParseVerdict(content);
  if (!v.ok()) return CheckError(v.status());
  Check(v->score >= 1 && v->score <= 5);
  const double value = tyto::judge::NormalizedScore(v->score);
  Check(value >= 0 && value <= 1);
  Check(v->explanation.size() <= kMaxExplanationBytes);
  Check(ValidUtf8(v->explanation));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto completion = tyto::judge::ParseCompletion(input);
  if (completion.ok()) {
    Check(completion->prompt_tokens >= 0 && completion->completion_tokens >= 0);
    CheckVerdict(completion->content);
  } else {
    CheckError(completion.status());
  }
  CheckVerdict(input);
  return 0;
}
