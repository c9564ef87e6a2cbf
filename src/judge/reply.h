// Reading the judge's reply: the chat-completions JSON body (the first choice's message content
// and the token usage), then the verdict inside that content (a score from 1 to 5 and an
// explanation). Both take any bytes from the network: they never crash, and an error names
// what was wrong with a printable snippet of the text (judge_reply_fuzz checks this).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tyto/status.h"

namespace tyto::judge {

struct Completion {
  std::string content;        // choices[0].message.content
  std::string finish_reason;  // choices[0].finish_reason; empty when absent
  // usage.prompt_tokens and usage.completion_tokens; 0 when the endpoint does not report them.
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
};

// kInvalidArgument when the body is not JSON, is an {"error": ...} object, or has no string
// choices[0].message.content. Usage counts that are missing, negative or not whole numbers are
// read as 0.
Result<Completion> ParseCompletion(std::string_view body);

struct Verdict {
  double score = 0;         // in [1, 5] as the judge gave it (4, or 3.5)
  std::string explanation;  // valid UTF-8, at most kMaxExplanationBytes
};

inline constexpr size_t kMaxExplanationBytes = 1000;

// Finds the verdict in the judge's text. Reasoning before a closing </think> is skipped. Then:
//   1. the first JSON object (in a ```json fence, in prose, or alone) with a numeric "score" at
//      its top level; its "explanation" string, if any, is the explanation;
//   2. failing that, text such as "Score: 4", "score = 4/5" or "**Score:** 4" (case ignored;
//      the explanation is then the whole text, spaces collapsed).
// kInvalidArgument when neither is found or the score is outside [1, 5]. Only the first 64 KiB
// of `content` are searched, and at most 32 candidate objects, so the cost stays linear.
Result<Verdict> ParseVerdict(std::string_view content);

// The judge's 1-5 score mapped onto Score.value's [0, 1]: (score - 1) / 4.
double NormalizedScore(double score);

// "score_4"; "score_3.5" for a score that is not whole.
std::string ScoreLabel(double score);

}  // namespace tyto::judge
