// repetition: a response that repeats itself or degenerates into a loop. Over the response's
// words (text.h; case-folded, not stemmed):
//
//   looping      the same word (with a letter in it) more than `max_run` times in a row -> 0
//   degenerate   at least 50 words and fewer than `min_distinct` of them distinct           -> 0
//   otherwise    R = max(repeated n-grams, repeated sentences)
//                  repeated n-grams   = 1 - distinct n-grams / all n-grams   (n = `ngram`)
//                  repeated sentences = words in lines or sentences of 5 or more words that
//                                       repeat an earlier one exactly / all words
//                score = 1 - clamp((R - tolerance) / (1 - tolerance), 0, 1)
//                label repetitive when the score is below 1, ok otherwise
//
// NaN when the response has fewer than `min_words` words.
#include <algorithm>
#include <cmath>

#include "evaluate/analysis.h"
#include "evaluate/builtins.h"
#include "evaluate/options.h"
#include "evaluate/text.h"

namespace tyto::evaluate {
namespace {

constexpr size_t kMinSentenceWords = 5;

uint64_t Mix(uint64_t h, uint64_t v) {
  h = (h ^ v) * 0x9E3779B97F4A7C15ULL;
  return h ^ (h >> 32);
}

// Where sentences end: a newline, or . ! ? (and their CJK forms) followed by a space, a newline
// or the end of the text.
bool EndsSentence(std::string_view text, size_t from, size_t to) {
  for (size_t i = from; i < to; ++i) {
    const char c = text[i];
    if (c == '\n') return true;
    if (c == '.' || c == '!' || c == '?') {
      if (i + 1 >= text.size() || text[i + 1] == ' ' || text[i + 1] == '\n' || text[i + 1] == '\t' ||
          text[i + 1] == '\r') {
        return true;
      }
    }
    if (static_cast<unsigned char>(c) == 0xE3 && i + 2 < to && static_cast<unsigned char>(text[i + 1]) == 0x80 &&
        static_cast<unsigned char>(text[i + 2]) == 0x82) {
      return true;  // 。
    }
    if (static_cast<unsigned char>(c) == 0xEF && i + 2 < to && static_cast<unsigned char>(text[i + 1]) == 0xBC &&
        (static_cast<unsigned char>(text[i + 2]) == 0x81 || static_cast<unsigned char>(text[i + 2]) == 0x9F)) {
      return true;  // ！ ？
    }
  }
  return false;
}

struct Settings {
  size_t ngram = 4;
  double tolerance = 0.2;
  size_t max_run = 8;
  double min_distinct = 0.15;
  size_t min_words = 10;
};

class Repetition final : public Evaluator {
 public:
  explicit Repetition(Settings s) : s_(s) {}

  const Descriptor& descriptor() const override { return RepetitionDescriptor(); }

  Result<Score> Evaluate(const Sample& sample) override {
    const std::string_view text = std::string_view(sample.response).substr(0, kMaxTextBytes);
    const std::shared_ptr<const Analysis> analysis = Analyze(text);
    const std::vector<Token>& tokens = analysis->tokens;
    // The longest run of one word, and the sentences (as hashes of their words).
    size_t run = 0;
    size_t longest_run = 0;
    uint64_t sentence = 0;
    size_t sentence_words = 0;
    size_t repeated_sentence_words = 0;
    WordTable<uint8_t> sentences(64);
    auto end_sentence = [&] {
      if (sentence_words >= kMinSentenceWords) {
        uint8_t& seen = sentences[sentence == 0 ? 1 : sentence];
        if (seen != 0) repeated_sentence_words += sentence_words;
        seen = 1;
      }
      sentence = 0;
      sentence_words = 0;
    };
    for (size_t i = 0; i < tokens.size(); ++i) {
      const Token& t = tokens[i];
      if (i > 0 && EndsSentence(text, tokens[i - 1].end, t.begin)) end_sentence();
      run = (i > 0 && t.word == tokens[i - 1].word && t.letters > 0) ? run + 1 : 1;
      longest_run = std::max(longest_run, run);
      sentence = Mix(sentence, t.word);
      ++sentence_words;
    }
    end_sentence();

    const size_t n = tokens.size();
    if (n < s_.min_words) {
      return MakeScore(std::nan(""), "not_applicable",
                       "too short to judge repetition (" + std::to_string(n) + " words, need " +
                           std::to_string(s_.min_words) + ")");
    }
    if (longest_run > s_.max_run) {
      return MakeScore(0, "looping", "one word repeats " + std::to_string(longest_run) + " times in a row");
    }
    WordTable<uint8_t> distinct(n);
    for (const Token& t : tokens) distinct[t.word] = 1;
    const double distinct_ratio = static_cast<double>(distinct.size()) / static_cast<double>(n);
    if (n >= 50 && distinct_ratio < s_.min_distinct) {
      return MakeScore(0, "degenerate",
                       "only " + std::to_string(distinct.size()) + " distinct words among " + std::to_string(n) +
                           " (ratio " + FormatRatio(distinct_ratio) + ")");
    }
    double ngram_ratio = 0;
    const size_t k = std::min(s_.ngram, n);
    const size_t grams = n - k + 1;
    if (grams > 1) {
      WordTable<uint8_t> seen(grams);
      for (size_t i = 0; i + k <= n; ++i) {
        uint64_t g = 0;
        for (size_t j = 0; j < k; ++j) g = Mix(g, tokens[i + j].word);
        seen[g == 0 ? 1 : g] = 1;
      }
      ngram_ratio = 1 - static_cast<double>(seen.size()) / static_cast<double>(grams);
    }
    const double sentence_ratio = static_cast<double>(repeated_sentence_words) / static_cast<double>(n);
    const double r = std::max(ngram_ratio, sentence_ratio);
    const double value = 1 - std::clamp((r - s_.tolerance) / (1 - s_.tolerance), 0.0, 1.0);
    std::string why = "repeated " + std::to_string(k) + "-grams " + FormatRatio(ngram_ratio) +
                      ", words in repeated sentences " + FormatRatio(sentence_ratio) + ", distinct words " +
                      FormatRatio(distinct_ratio) + " (tolerance " + FormatRatio(s_.tolerance) + ")";
    return MakeScore(value, value < 1 ? "repetitive" : "ok", std::move(why));
  }

 private:
  Settings s_;
};

}  // namespace

const Descriptor& RepetitionDescriptor() {
  static const Descriptor d = {
      "repetition",
      "Repetition and degeneration: repeated n-grams and sentences, one word looping, few distinct words.",
      false,
      {
          {"ngram", OptionSpec::Type::kNumber, "4", false, "The n of the repeated n-gram ratio, 2 to 16."},
          {"tolerance", OptionSpec::Type::kNumber, "0.2", false,
           "Repetition ratio, in [0, 1), that ordinary text reaches and that still scores 1."},
          {"max_run", OptionSpec::Type::kNumber, "8", false,
           "The same word more times in a row than this scores 0 (looping)."},
          {"min_distinct", OptionSpec::Type::kNumber, "0.15", false,
           "Distinct words per word, in [0, 1], below which a response of 50 words or more scores 0."},
          {"min_words", OptionSpec::Type::kNumber, "10", false,
           "Responses with fewer words give NaN (too short to judge)."},
      }};
  return d;
}

Result<std::unique_ptr<Evaluator>> NewRepetition(const Options& options) {
  OptionValues o(RepetitionDescriptor(), options);
  Settings s;
  const double ngram = o.Number("ngram");
  s.tolerance = o.Number("tolerance");
  const double max_run = o.Number("max_run");
  s.min_distinct = o.Number("min_distinct");
  const double min_words = o.Number("min_words");
  if (o.ok() && !(ngram >= 2 && ngram <= 16)) o.Fail("ngram", "must be between 2 and 16");
  if (o.ok() && !(s.tolerance >= 0 && s.tolerance < 1)) o.Fail("tolerance", "must be in [0, 1)");
  if (o.ok() && !(max_run >= 1 && max_run <= 1e6)) o.Fail("max_run", "must be between 1 and 1000000");
  if (o.ok() && !(s.min_distinct >= 0 && s.min_distinct <= 1)) o.Fail("min_distinct", "must be in [0, 1]");
  if (o.ok() && !(min_words >= 1 && min_words <= 1e6)) o.Fail("min_words", "must be between 1 and 1000000");
  TYTO_RETURN_IF_ERROR(o.status());
  s.ngram = static_cast<size_t>(ngram);
  s.max_run = static_cast<size_t>(max_run);
  s.min_words = static_cast<size_t>(min_words);
  return std::unique_ptr<Evaluator>(std::make_unique<Repetition>(s));
}

}  // namespace tyto::evaluate
