// language: is the response in the language it should be? That is the language the prompt asks
// for ("answer in French", "translate into German"), else the `expected` option's, else the
// prompt's own. Detection, for each text (fenced code blocks skipped):
//
//   1. letters are counted per script by Unicode block (text.h); Han, Kana and Hangul count
//      twice, as one such character carries about what two alphabetic letters do. Fewer than
//      `min_letters` in all: undetermined.
//   2. the script with most letters decides: Han and Kana together are Japanese when at least
//      10% of them are Kana, Chinese otherwise; Hangul is Korean, Greek Greek, Hebrew Hebrew,
//      Arabic Arabic, Devanagari Hindi, Thai Thai, and so on (docs/evaluators.md lists them).
//   3. Latin and Cyrillic scripts are shared by many languages: the stop-word lists
//      (stop_words.h) vote, a word in k lists giving each 1/k. The winner needs at least
//      `min_stop_words` votes and a 25% lead over the runner-up; otherwise only the script is
//      known.
//
// Score 1 when the languages match, 0 when they differ (also when only the scripts are known
// and they differ), NaN when it cannot be told. The label is "<wanted>-><found>" ("en->fr").
#include <array>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "evaluate/analysis.h"
#include "evaluate/builtins.h"
#include "evaluate/options.h"
#include "evaluate/phrases.h"
#include "evaluate/stop_words.h"
#include "evaluate/text.h"

namespace tyto::evaluate {
namespace {

// The languages this evaluator can name. A Latin or Cyrillic script language is named by its
// stop-word list; the others by their script alone.
struct Language {
  std::string_view code;
  std::string_view name;
  Script script;
};
constexpr std::array<Language, 25> kLanguages = {{
    {"en", "English", Script::kLatin},       {"es", "Spanish", Script::kLatin},
    {"fr", "French", Script::kLatin},        {"de", "German", Script::kLatin},
    {"it", "Italian", Script::kLatin},       {"pt", "Portuguese", Script::kLatin},
    {"nl", "Dutch", Script::kLatin},         {"sv", "Swedish", Script::kLatin},
    {"pl", "Polish", Script::kLatin},        {"tr", "Turkish", Script::kLatin},
    {"ru", "Russian", Script::kCyrillic},    {"uk", "Ukrainian", Script::kCyrillic},
    {"zh", "Chinese", Script::kHan},         {"ja", "Japanese", Script::kKana},
    {"ko", "Korean", Script::kHangul},       {"el", "Greek", Script::kGreek},
    {"hy", "Armenian", Script::kArmenian},   {"he", "Hebrew", Script::kHebrew},
    {"ar", "Arabic", Script::kArabic},       {"hi", "Hindi", Script::kDevanagari},
    {"bn", "Bengali", Script::kBengali},     {"ta", "Tamil", Script::kTamil},
    {"th", "Thai", Script::kThai},           {"ka", "Georgian", Script::kGeorgian},
    {"und", "an undetermined language", Script::kOther},
}};
constexpr size_t kUndetermined = kLanguages.size() - 1;

size_t LanguageIndex(std::string_view code) {
  for (size_t i = 0; i < kLanguages.size(); ++i) {
    if (kLanguages[i].code == code) return i;
  }
  return kLanguages.size();
}

// The language a script alone names, or kUndetermined.
size_t LanguageOfScript(Script s) {
  switch (s) {
    case Script::kLatin:
    case Script::kCyrillic:
    case Script::kOther:
    case Script::kNone:
      return kUndetermined;
    default:
      break;
  }
  for (size_t i = 12; i < kUndetermined; ++i) {  // the script-named languages
    if (kLanguages[i].script == s) return i;
  }
  return kUndetermined;
}

// Han and Kana decide together.
Script Family(Script s) { return s == Script::kKana ? Script::kHan : s; }

// ---- Requests in the prompt: "answer in French", "translate into German". ----
//
// A request is a trigger phrase followed by a language's name: "answer in" + an English or
// native name, "into" + any name, "en|auf|po|用..." + a native name ("en français", "auf
// Deutsch", "用中文"), "in" + an English name + "please|only". A bare "in Italian" is not a
// request ("what is 'cat' in Italian?"), while "in italiano" is.

enum Trigger : uint32_t {
  kAskIn,        // name follows, English or native
  kInto,         // name follows, English or native
  kPreposition,  // native name follows
  kIn,           // English name follows, then please|only
  kTranslate,    // a translation is asked for; the language may not be named
  kFixed,        // kFixed + i: a whole phrase naming language i ("日本語で")
};

// Each language's English name, and its names in itself and in the other listed languages, by
// kLanguages index.
struct LanguageNames {
  std::string_view english;
  std::string_view others;
};
constexpr std::array<LanguageNames, 24> kNames = {{
    {"english", "inglés|ingles|anglais|englisch|inglese|inglês|engels|engelska|angielsku|английском|英文|英语"},
    {"spanish", "español|espanol|castellano|espagnol|spanisch|spagnolo|espanhol|spaans"},
    {"french", "français|francais|francés|frances|französisch|francese|francês|frans|franska|francusku|французском"},
    {"german", "deutsch|alemán|aleman|allemand|tedesco|alemão|duits|tyska|niemiecku|немецком"},
    {"italian", "italiano|italien|italienisch|italiaans"},
    {"portuguese", "português|portugues|portugais|portugiesisch|portoghese|portugees"},
    {"dutch", "nederlands|néerlandais|niederländisch|holandés|olandese"},
    {"swedish", "svenska|suédois|schwedisch|sueco|svedese"},
    {"polish", "polski|polsku|polonais|polnisch|polaco|polacco"},
    {"turkish", "türkçe|turkce|turc|türkisch|turco"},
    {"russian", "русском|по_русски|russe|russisch|ruso|russo"},
    {"ukrainian", "українською|ukrainien|ukrainisch|ucraniano|ucraino"},
    {"chinese|mandarin", "中文|汉语|漢語|简体中文|繁體中文|chinois|chinesisch|chino|cinese|chinês"},
    {"japanese", "日本語|japonais|japanisch|japonés|giapponese|japonês"},
    {"korean", "한국어|coréen|koreanisch|coreano"},
    {"greek", "ελληνικά|grec|griechisch|griego|greco"},
    {"armenian", "arménien|armenisch|armenio"},
    {"hebrew", "hébreu|hebräisch|hebreo|ebraico"},
    {"arabic", "arabe|arabisch|árabe|arabo"},
    {"hindi", "हिंदी|हिन्दी"},
    {"bengali", "bangla|বাংলা"},
    {"tamil", "தமிழ்"},
    {"thai", "thaï|tailandés|tailandese|ภาษาไทย"},
    {"georgian", "géorgien|georgisch|georgiano"},
}};

class RequestFinder {
 public:
  RequestFinder() {
    std::vector<PhraseSet::Entry> e = {
        {"respond|answer|reply|write|speak|explain|translate|output|rewrite|summarize|summarise|say|talk|continue|"
         "describe|chat [it|this|that|me|only|please] in|into",
         kAskIn},
        {"into", kInto},
        {"translate|translated|translating|translation to", kInto},
        {"en|em|in|in_het|auf|ins|på|po|на|用|al|para|para_o|naar_het", kPreposition},
        {"in", kIn},
        {"translate|translation|translating|traduce|traducir|traduire|traduis|traduisez|traduzca|traduza|traduzir|"
         "tradurre|traduci|übersetze|übersetzen|übersetzung|vertaal|vertalen|översätt|przetłumacz|переведи|"
         "перевести|перевод|翻译|翻譯|翻訳|번역",
         kTranslate},
        {"日本語で", kFixed + 13},
        {"英語で|英文回答", kFixed + 0},
        {"中国語で|中文回答", kFixed + 12},
        {"韓国語で", kFixed + 14},
    };
    auto built = PhraseSet::Create(e, /*stem=*/true);
    if (!built.ok()) {
      std::fprintf(stderr, "language: the built-in request list: %s\n", built.status().ToString().c_str());
      std::abort();  // a broken built-in list: a bug, found by the first test that runs
    }
    triggers_ = std::move(built).value();
    for (uint32_t i = 0; i < kNames.size(); ++i) {
      AddNames(kNames[i].english, i, true);
      AddNames(kNames[i].others, i, false);
    }
    please_ = Key("please");
    only_ = Key("only");
  }

  // The language the prompt asks for (its kLanguages index; the last request wins), or
  // kLanguages.size(); *translation: it asks for a translation at all.
  size_t Find(std::string_view text, const std::vector<Token>& tokens, bool* translation) const {
    size_t requested = kLanguages.size();
    *translation = false;
    triggers_.Find(text, tokens, [&](const PhraseSet::Match& m) {
      const size_t end = m.first_word + m.words;
      if (m.group >= kFixed) {
        requested = m.group - kFixed;
        return true;
      }
      if (m.group == kTranslate) {
        *translation = true;
        return true;
      }
      size_t after = 0;
      const Name* name = NameAt(tokens, end, &after);
      if (name == nullptr) return true;
      switch (m.group) {
        case kAskIn:
        case kInto:
          requested = name->language;
          break;
        case kPreposition:
          if (!name->english) requested = name->language;
          break;
        case kIn:
          if (name->english && after < tokens.size() &&
              (tokens[after].hash == please_ || tokens[after].hash == only_)) {
            requested = name->language;
          }
          break;
        default:
          break;
      }
      return true;
    });
    return requested;
  }

 private:
  struct Name {
    std::vector<uint64_t> words;
    uint32_t language = 0;
    bool english = false;
  };

  static uint64_t Key(std::string_view word) {
    uint64_t key = 0;
    ForEachWord(word, [&](const Word& w) { key = WordKey(w, true); });
    return key;
  }

  void AddNames(std::string_view list, uint32_t language, bool english) {
    size_t start = 0;
    while (start <= list.size()) {
      size_t bar = list.find('|', start);
      if (bar == std::string_view::npos) bar = list.size();
      Name n;
      n.language = language;
      n.english = english;
      ForEachWord(list.substr(start, bar - start), [&](const Word& w) { n.words.push_back(WordKey(w, true)); });
      if (!n.words.empty()) {
        uint32_t& slot = index_[n.words[0]];
        if (slot == 0) {
          by_first_.emplace_back();
          slot = static_cast<uint32_t>(by_first_.size());
        }
        by_first_[slot - 1].push_back(std::move(n));
      }
      start = bar + 1;
    }
  }

  // The longest name at tokens[at...]; *after: the token after it.
  const Name* NameAt(const std::vector<Token>& tokens, size_t at, size_t* after) const {
    if (at >= tokens.size()) return nullptr;
    const uint32_t* slot = index_.Find(tokens[at].hash);
    if (slot == nullptr) return nullptr;
    const Name* best = nullptr;
    for (const Name& n : by_first_[*slot - 1]) {
      if (at + n.words.size() > tokens.size()) continue;
      if (best != nullptr && n.words.size() <= best->words.size()) continue;
      bool same = true;
      for (size_t k = 0; k < n.words.size() && same; ++k) same = tokens[at + k].hash == n.words[k];
      if (same) best = &n;
    }
    if (best != nullptr) *after = at + best->words.size();
    return best;
  }

  PhraseSet triggers_;
  WordTable<uint32_t> index_{256};
  std::vector<std::vector<Name>> by_first_;
  uint64_t please_ = 0;
  uint64_t only_ = 0;
};

const RequestFinder& Requests() {
  static const RequestFinder* finder = new RequestFinder();
  return *finder;
}

// ---- Detection. ----

struct Counts {
  std::array<double, kScriptCount> letters{};
  std::array<double, 32> weighted{};  // per stop-word list
  std::array<uint32_t, 32> hits{};
};

// Calls f(offset, segment) for the parts of text outside fenced code blocks (``` or ~~~).
template <typename F>
void ForEachProseSegment(std::string_view text, bool skip_code, F&& f) {
  if (text.size() > kMaxTextBytes) text = text.substr(0, kMaxTextBytes);
  if (!skip_code) {
    f(size_t{0}, text);
    return;
  }
  bool in_fence = false;
  size_t segment_start = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    size_t indent = 0;
    while (indent < line.size() && indent < 4 && line[indent] == ' ') ++indent;
    const bool fence = indent < 4 && (line.substr(indent, 3) == "```" || line.substr(indent, 3) == "~~~");
    if (fence) {
      if (!in_fence && pos > segment_start) f(segment_start, text.substr(segment_start, pos - segment_start));
      in_fence = !in_fence;
      segment_start = end;  // after the fence line
    }
    pos = end + 1;
  }
  if (!in_fence && segment_start < text.size()) f(segment_start, text.substr(segment_start));
}

// Letters per script and stop words per list, over the words outside fenced code blocks.
Counts CountProse(std::string_view text, const Analysis& a, bool skip_code) {
  std::vector<std::pair<size_t, size_t>> prose;  // [begin, end) byte ranges, in order
  ForEachProseSegment(text, skip_code, [&](size_t offset, std::string_view seg) {
    prose.emplace_back(offset, offset + seg.size());
  });
  Counts c;
  size_t r = 0;
  for (const Token& t : a.tokens) {
    while (r < prose.size() && prose[r].second <= t.begin) ++r;
    if (r == prose.size()) break;
    if (t.begin < prose[r].first || t.script == Script::kNone) continue;
    const Script s = t.script;
    const double weight = (s == Script::kHan || s == Script::kKana || s == Script::kHangul) ? 2 : 1;
    c.letters[static_cast<size_t>(s)] += weight * t.letters;
    if (t.stop == 0) continue;
    const double share = 1.0 / BitCount(t.stop);
    for (uint32_t m = t.stop; m != 0; m &= m - 1) {
      const int i = std::countr_zero(m);
      c.weighted[i] += share;
      ++c.hits[i];
    }
  }
  return c;
}

struct Detection {
  bool script_known = false;  // enough letters
  Script script = Script::kNone;  // the deciding script (Han for Han and Kana)
  size_t language = kUndetermined;
  double letters = 0;
};

struct Settings {
  double min_letters = 20;
  double min_stop_words = 1;
  size_t expected = kLanguages.size();  // none
  bool skip_code = true;
  bool follow_requests = true;
};

Detection Decide(const Counts& c, const Settings& s) {
  Detection d;
  std::array<double, kScriptCount> by_family = c.letters;
  by_family[static_cast<size_t>(Script::kHan)] += by_family[static_cast<size_t>(Script::kKana)];
  by_family[static_cast<size_t>(Script::kKana)] = 0;
  size_t best = 0;
  for (size_t i = 0; i < kScriptCount; ++i) {
    d.letters += by_family[i];
    if (by_family[i] > by_family[best]) best = i;
  }
  if (d.letters < s.min_letters || by_family[best] == 0) return d;
  d.script_known = true;
  d.script = static_cast<Script>(best);
  if (d.script == Script::kHan) {
    const double kana = c.letters[static_cast<size_t>(Script::kKana)];
    d.language = LanguageIndex(kana >= 0.1 * by_family[best] ? "ja" : "zh");
    return d;
  }
  if (d.script != Script::kLatin && d.script != Script::kCyrillic) {
    d.language = LanguageOfScript(d.script);
    return d;
  }
  const std::vector<StopWordList>& lists = StopWordLists();
  int first = -1;
  int second = -1;
  for (size_t i = 0; i < lists.size(); ++i) {
    if (!lists[i].identifies || lists[i].script != d.script) continue;
    const int k = static_cast<int>(i);
    if (first < 0 || c.weighted[i] > c.weighted[first]) {
      second = first;
      first = k;
    } else if (second < 0 || c.weighted[i] > c.weighted[second]) {
      second = k;
    }
  }
  if (first < 0 || c.hits[first] == 0 || c.weighted[first] < s.min_stop_words) return d;
  if (second >= 0 && c.weighted[first] < 1.25 * c.weighted[second]) return d;
  d.language = LanguageIndex(lists[first].code);
  return d;
}

// "fr", or the script's name when only the script is known, or "unknown".
std::string Code(const Detection& d) {
  if (!d.script_known) return "unknown";
  if (d.language != kUndetermined) return std::string(kLanguages[d.language].code);
  return std::string(ScriptName(d.script));
}

std::string Describe(const Detection& d) {
  if (!d.script_known) return "too little text to tell (" + std::to_string(static_cast<int>(d.letters)) + " letters)";
  if (d.language != kUndetermined) {
    return std::string(kLanguages[d.language].name) + " (" + std::string(kLanguages[d.language].code) + ")";
  }
  return "an undetermined language in " + std::string(ScriptName(d.script)) + " script";
}

class LanguageMatch final : public Evaluator {
 public:
  explicit LanguageMatch(Settings s) : s_(s) {}

  const Descriptor& descriptor() const override { return LanguageDescriptor(); }

  Result<Score> Evaluate(const Sample& sample) override {
    const std::shared_ptr<const Analysis> response_words = Analyze(sample.response);
    const Counts response_counts = CountProse(sample.response, *response_words, s_.skip_code);
    const Detection response = Decide(response_counts, s_);

    // What the response should be in.
    Detection wanted;
    std::string why_wanted;
    if (s_.expected < kLanguages.size()) {
      wanted.script_known = true;
      wanted.language = s_.expected;
      wanted.script = Family(kLanguages[s_.expected].script);
      why_wanted = "expected " + Describe(wanted);
    } else {
      const std::shared_ptr<const Analysis> prompt_words = Analyze(sample.prompt);
      const Counts prompt_counts = CountProse(sample.prompt, *prompt_words, s_.skip_code);
      const std::vector<Token>& tokens = prompt_words->tokens;
      size_t requested = kLanguages.size();
      bool translation = false;
      if (s_.follow_requests) requested = Requests().Find(sample.prompt, tokens, &translation);
      if (requested < kLanguages.size()) {
        wanted.script_known = true;
        wanted.language = requested;
        wanted.script = Family(kLanguages[requested].script);
        why_wanted = "the prompt asks for " + Describe(wanted);
      } else if (translation) {
        return MakeScore(std::nan(""), "translation",
                         "the prompt asks for a translation without naming the language; the response is in " +
                             Describe(response));
      } else {
        wanted = Decide(prompt_counts, s_);
        why_wanted = "the prompt is in " + Describe(wanted);
      }
    }

    const std::string label = Code(wanted) + "->" + Code(response);
    const std::string why = why_wanted + "; the response is in " + Describe(response);
    if (!wanted.script_known || !response.script_known) return MakeScore(std::nan(""), "undetermined", why);
    if (Family(wanted.script) != Family(response.script)) return MakeScore(0, label, why);
    if (wanted.language == kUndetermined || response.language == kUndetermined) {
      return MakeScore(std::nan(""), "undetermined", why);
    }
    return MakeScore(wanted.language == response.language ? 1 : 0, label, why);
  }

 private:
  Settings s_;
};

std::string KnownCodes() {
  std::string all;
  for (size_t i = 0; i < kUndetermined; ++i) {
    if (!all.empty()) all += ", ";
    all.append(kLanguages[i].code);
  }
  return all;
}

}  // namespace

const Descriptor& LanguageDescriptor() {
  static const Descriptor d = {
      "language",
      "The response is in the language the prompt asks for, or is written in (or the `expected` one).",
      false,
      {
          {"expected", OptionSpec::Type::kString, "", false,
           "The language every response should be in (ISO 639-1: en, es, fr, de, it, pt, nl, sv, pl, tr, ru, uk, "
           "zh, ja, ko, el, hy, he, ar, hi, bn, ta, th, ka); unset: the prompt's."},
          {"min_letters", OptionSpec::Type::kNumber, "20", false,
           "Fewer letters than this (Han, Kana, Hangul count 2) in a text: its language is undetermined (NaN)."},
          {"min_stop_words", OptionSpec::Type::kNumber, "1", false,
           "Stop words needed to name a Latin- or Cyrillic-script language (a word on k languages' lists counts "
           "1/k)."},
          {"skip_code", OptionSpec::Type::kBool, "true", false, "Leave Markdown fenced code blocks out."},
          {"follow_requests", OptionSpec::Type::kBool, "true", false,
           "Honour a language the prompt asks for (\"answer in French\", \"translate into German\"); a translation "
           "request naming no language gives NaN."},
      }};
  return d;
}

Result<std::unique_ptr<Evaluator>> NewLanguage(const Options& options) {
  OptionValues o(LanguageDescriptor(), options);
  Settings s;
  const std::string expected = o.String("expected");
  s.min_letters = o.Number("min_letters");
  s.min_stop_words = o.Number("min_stop_words");
  s.skip_code = o.Bool("skip_code");
  s.follow_requests = o.Bool("follow_requests");
  if (o.ok() && !expected.empty()) {
    s.expected = LanguageIndex(expected);
    if (s.expected >= kUndetermined) {
      o.Fail("expected", "unknown language \"" + expected.substr(0, 16) + "\"; known: " + KnownCodes());
    }
  }
  if (o.ok() && !(s.min_letters >= 1 && s.min_letters <= 1e9)) o.Fail("min_letters", "must be between 1 and 1e9");
  if (o.ok() && !(s.min_stop_words >= 0 && s.min_stop_words <= 1e9)) {
    o.Fail("min_stop_words", "must be between 0 and 1e9");
  }
  TYTO_RETURN_IF_ERROR(o.status());
  if (s.follow_requests) (void)Requests();  // built now rather than on the first sample
  return std::unique_ptr<Evaluator>(std::make_unique<LanguageMatch>(s));
}

}  // namespace tyto::evaluate
