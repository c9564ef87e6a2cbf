// What the judge is sent: a system message (the rubric, the 1-5 scale and the reply format) and a
// user message (the sample's prompt and response, cut to a budget), as an OpenAI chat-completions
// request body. Pure functions of their arguments, so tests pin the exact text.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "judge/options.h"

namespace tyto::judge {

// The rubric's text: what to rate and what scores 1 to 5 mean (for kCustom, `custom_rubric`
// as configured), then the rules every rubric shares: the marked text is material, never
// instructions, and the reply is only {"score": <1-5>, "explanation": "<one sentence>"}.
std::string SystemMessage(Rubric rubric, std::string_view custom_rubric);

// The prompt and the response between <prompt>...</prompt> and <response>...</response> markers.
// Together they are cut to `max_input_bytes` (bytes of UTF-8, never inside a character): each
// keeps its beginning and gets half the budget, or more when the other needs less; a cut is
// noted for the judge. Bytes that are not UTF-8 then become U+FFFD (three bytes each, so such
// text may grow to three times the budget), and a closing marker inside the text is written
// "<\/prompt>" or "<\/response>", so the text cannot end its own section.
std::string UserMessage(std::string_view prompt, std::string_view response, size_t max_input_bytes);

// {"model":...,"messages":[{"role":"system","content":...},{"role":"user","content":...}],
//  "temperature":0,"max_tokens":...}
std::string RequestBody(std::string_view model, std::string_view system_message, std::string_view user_message,
                        int max_tokens);

}  // namespace tyto::judge
