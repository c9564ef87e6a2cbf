// Stop words: the most frequent function words of a dozen languages, folded as text.h folds
// words. The relevance evaluator drops them (any language's) before comparing prompt and
// response; the language evaluator counts them per language to tell Latin-script (and
// Cyrillic-script) languages apart. Internal to tyto_evaluate.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "evaluate/text.h"

namespace tyto::evaluate {

struct StopWordList {
  std::string_view code;   // ISO 639-1: "en", "fr", ...
  std::string_view name;   // "English", as a person says it
  Script script;           // the script its words are written in
  bool identifies = true;  // the language evaluator may name the language from this list
  std::string_view words;  // space-separated
};

// Every list; a list's index is its bit in StopWordMask. At most 32.
const std::vector<StopWordList>& StopWordLists();

// Bit i set: StopWordLists()[i] holds the folded word whose HashWord is `hash`.
uint32_t StopWordMask(uint64_t hash);

// Set bits in a mask (a word is in few lists: no hardware instruction needed).
inline int BitCount(uint32_t mask) {
  int n = 0;
  for (; mask != 0; mask &= mask - 1) ++n;
  return n;
}

}  // namespace tyto::evaluate
