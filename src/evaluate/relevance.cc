// relevance: does the response talk about what the prompt asks? Lexical: the share of the
// prompt's content words that the response uses too.
//
//   terms(x)  the words of x (text.h) without one-byte words and stop words (English's, and
//             those of the language most of x's stop words belong to; stop_words.h), stemmed
//             ("schedules", "scheduling" -> "schedul")
//   w(t)      1 + ln(count of t in the prompt): a term the prompt repeats weighs more
//   coverage  sum of w(t) over prompt terms the response also uses / sum of w(t) over all
//   score     min(1, coverage / min_overlap)
//
// NaN when the prompt or the response has fewer than `min_terms` distinct terms: too little text
// to judge by words. Labels: relevant (coverage >= min_overlap), low_relevance, off_topic
// (coverage < min_overlap / 3).
#include <array>
#include <bit>
#include <cmath>
#include <vector>

#include "evaluate/analysis.h"
#include "evaluate/builtins.h"
#include "evaluate/options.h"
#include "evaluate/stop_words.h"
#include "evaluate/text.h"

namespace tyto::evaluate {
namespace {

// Counts each content term of `text` into *terms. A word is a stop word when English's list or
// the list of the language most of the text's stop words belong to holds it ("pod" is Polish for
// "under", but in an English text a pod is a pod), or when it is a Chinese or Japanese function
// character.
void CountTerms(std::string_view text, WordTable<uint32_t>* terms) {
  const std::shared_ptr<const Analysis> a = Analyze(text);
  const std::vector<StopWordList>& lists = StopWordLists();
  std::array<double, 32> votes{};
  for (const Token& t : a->tokens) {
    if (t.stop == 0) continue;
    const double share = 1.0 / BitCount(t.stop);
    for (uint32_t m = t.stop; m != 0; m &= m - 1) votes[std::countr_zero(m)] += share;
  }
  uint32_t active = 0;
  size_t top = 0;
  for (size_t i = 0; i < lists.size(); ++i) {
    if (!lists[i].identifies || lists[i].code == "en") active |= 1u << i;
    if (votes[i] > votes[top]) top = i;
  }
  if (votes[top] >= 2) active |= 1u << top;  // one stray word ("pod") names no language
  for (const Token& t : a->tokens) {
    if (t.bytes >= 2 && (t.stop & active) == 0) ++(*terms)[t.hash];
  }
}

class Relevance final : public Evaluator {
 public:
  Relevance(double min_overlap, size_t min_terms) : min_overlap_(min_overlap), min_terms_(min_terms) {}

  const Descriptor& descriptor() const override { return RelevanceDescriptor(); }

  Result<Score> Evaluate(const Sample& s) override {
    WordTable<uint32_t> prompt(std::min<size_t>(s.prompt.size() / 4 + 16, 1 << 16));
    WordTable<uint32_t> response(std::min<size_t>(s.response.size() / 4 + 16, 1 << 16));
    CountTerms(s.prompt, &prompt);
    CountTerms(s.response, &response);
    if (prompt.size() < min_terms_ || response.size() < min_terms_) {
      return MakeScore(std::nan(""), "not_applicable",
                       "too few content words to compare (prompt " + std::to_string(prompt.size()) + ", response " +
                           std::to_string(response.size()) + ", need " + std::to_string(min_terms_) + ")");
    }
    double total = 0;
    double shared = 0;
    size_t shared_terms = 0;
    prompt.ForEach([&](uint64_t term, uint32_t count) {
      const double w = 1 + std::log(static_cast<double>(count));
      total += w;
      if (response.Contains(term)) {
        shared += w;
        ++shared_terms;
      }
    });
    const double coverage = shared / total;
    const double value = std::min(1.0, coverage / min_overlap_);
    std::string label = "relevant";
    if (coverage < min_overlap_) label = coverage < min_overlap_ / 3 ? "off_topic" : "low_relevance";
    return MakeScore(value, std::move(label),
                     "the response uses " + std::to_string(shared_terms) + " of the prompt's " +
                         std::to_string(prompt.size()) + " content terms (weighted coverage " + FormatRatio(coverage) +
                         "; " + FormatRatio(min_overlap_) + " counts as relevant)");
  }

 private:
  double min_overlap_;
  size_t min_terms_;
};

}  // namespace

const Descriptor& RelevanceDescriptor() {
  static const Descriptor d = {
      "relevance",
      "Lexical relevance: the weighted share of the prompt's content words that the response uses.",
      false,
      {
          {"min_overlap", OptionSpec::Type::kNumber, "0.3", false,
           "Coverage, in (0, 1], at or above which the response counts as relevant (score 1); below, the score "
           "falls linearly to 0."},
          {"min_terms", OptionSpec::Type::kNumber, "2", false,
           "Fewer distinct content terms than this in the prompt or the response gives NaN (not applicable)."},
      }};
  return d;
}

Result<std::unique_ptr<Evaluator>> NewRelevance(const Options& options) {
  OptionValues o(RelevanceDescriptor(), options);
  const double min_overlap = o.Number("min_overlap");
  const double min_terms = o.Number("min_terms");
  if (o.ok() && !(min_overlap > 0 && min_overlap <= 1)) o.Fail("min_overlap", "must be in (0, 1]");
  if (o.ok() && !(min_terms >= 1 && min_terms <= 1e6)) o.Fail("min_terms", "must be between 1 and 1000000");
  TYTO_RETURN_IF_ERROR(o.status());
  return std::unique_ptr<Evaluator>(std::make_unique<Relevance>(min_overlap, static_cast<size_t>(min_terms)));
}

}  // namespace tyto::evaluate
