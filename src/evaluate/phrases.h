// PhraseSet: finds listed phrases in a text word by word, in one pass, for the safety, refusal
// and language evaluators. Matching is on words (text.h), so it is case-insensitive, ignores
// punctuation and spacing between words ("Ignore   ALL previous\ninstructions!" matches
// "ignore all previous instructions"), respects word boundaries ("skill" never matches "kill")
// and, with stemming, inflection ("bombs", "bombing" match "bomb"). Internal to tyto_evaluate.
//
// A phrase is written as items separated by spaces, where each item may be
//   a|b|c      one of several alternatives; an alternative of several words joins them with _
//              ("a_lot|much"), since spaces separate items
//   [a|b]      optional: one of the alternatives, or nothing
//   =Word      this exact spelling, case included (=DAN matches "DAN", not "Dan")
//   ~word      this word in any case but not inflected (~meth matches "Meth", not "method",
//              which the stemmer reads as "meth")
//   :          a run of punctuation: it must follow the previous word in the original text,
//              spaces allowed between ("system prompt :" matches "System prompt: ...")
// "i can't|cannot [help|assist] [you] with that" stands for 2 x 3 x 2 = 12 phrases. Phrases are
// not expanded: an index of possible first words finds where a phrase may start, and a small
// automaton over the items follows it from there, so lists with thousands of combinations cost
// no more than their text.
//
// Limits (errors at Create, naming the spec): at most 32 items, 32 words per alternative and 256
// word positions per spec; a spec must need at least one word; punctuation cannot come first.
//
// Thread safety: immutable once built; Find may run on any number of threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "evaluate/text.h"
#include "tyto/status.h"

namespace tyto::evaluate {

class PhraseSet {
 public:
  struct Entry {
    std::string spec;
    uint32_t group = 0;  // the caller's class for it (a category, a language)
  };

  struct Match {
    uint32_t group = 0;
    uint32_t entry = 0;       // index of the Entry it came from
    uint32_t first_word = 0;  // index into the tokens
    uint32_t words = 0;       // how many tokens it covers
  };

  PhraseSet();
  ~PhraseSet();
  PhraseSet(PhraseSet&&) noexcept;
  PhraseSet& operator=(PhraseSet&&) noexcept;

  // `stem`: match stemmed words (text and phrases stemmed alike). Errors name the spec.
  static Result<PhraseSet> Create(const std::vector<Entry>& entries, bool stem);

  bool stem() const { return stem_; }
  size_t size() const;  // entries

  // Calls f(const Match&) for each entry that matches starting at each word, in word order and
  // then entry order; the match is the shortest from that word. f returns false to stop.
  // `tokens` are text's (analysis.h). Linear in tokens.size(): each word is looked up once, and a
  // phrase followed from a word stops within its longest length.
  template <typename F>
  void Find(std::string_view text, const std::vector<Token>& tokens, F&& f) const {
    for (size_t i = 0; i < tokens.size(); ++i) {
      const std::vector<uint32_t>* starting = Starting(Key(tokens[i]));
      if (starting == nullptr) continue;
      for (uint32_t p : *starting) {
        size_t end = 0;
        if (!MatchAt(p, text, tokens, i, &end)) continue;
        Match m;
        m.group = group(p);
        m.entry = p;
        m.first_word = static_cast<uint32_t>(i);
        m.words = static_cast<uint32_t>(end - i);
        if (!f(static_cast<const Match&>(m))) return;
      }
    }
  }

  // The words a match covers, folded and joined by single spaces ("ignore all previous
  // instructions"): words of the list, as the text inflects them.
  static std::string MatchedText(std::string_view text, const std::vector<Token>& tokens, const Match& m);

 private:
  struct Impl;
  uint64_t Key(const Token& t) const { return stem_ ? t.hash : t.word; }
  const std::vector<uint32_t>* Starting(uint64_t word) const;
  uint32_t group(uint32_t entry) const;
  // Whether entry p matches from tokens[first]; *end: one past its last token.
  bool MatchAt(uint32_t p, std::string_view text, const std::vector<Token>& tokens, size_t first,
               size_t* end) const;

  bool stem_ = false;
  std::shared_ptr<const Impl> impl_;
};

}  // namespace tyto::evaluate
