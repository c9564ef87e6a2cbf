// The analysis of a text that every word-based evaluator reads: its words (text.h) with their
// stemmed and plain hashes, stop-word lists, scripts and offsets, made in one pass.
//
// The evaluators of one sample read the same prompt and response, so Analyze keeps the last
// few texts it analysed on the calling thread (compared byte for byte, never by address) and
// hands the same analysis to the next evaluator: running a sample's heuristic evaluators one
// after another on one thread tokenizes its prompt and its response once. Nothing is shared
// between threads. Internal to tyto_evaluate.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "evaluate/text.h"

namespace tyto::evaluate {

struct Analysis {
  std::vector<Token> tokens;  // in text order
};

// The analysis of text's first kMaxTextBytes. Texts up to 64 KiB are remembered (four per
// thread); longer ones are analysed on every call.
std::shared_ptr<const Analysis> Analyze(std::string_view text);

// Without the memo, for tests and one-off use.
void AnalyzeInto(std::string_view text, Analysis* out);

}  // namespace tyto::evaluate
