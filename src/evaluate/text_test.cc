// Words (text.h) and phrase matching (phrases.h): the ground every word-based evaluator stands on.
#include "evaluate/text.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "evaluate/analysis.h"
#include "evaluate/phrases.h"
#include "evaluate/stop_words.h"

namespace tyto::evaluate {
namespace {

std::vector<std::string> Words(std::string_view text) {
  std::vector<std::string> out;
  ForEachWord(text, [&](const Word& w) { out.emplace_back(w.text); });
  return out;
}

using V = std::vector<std::string>;

TEST(Words, SplitsOnPunctuationAndFoldsCase) {
  EXPECT_EQ(Words("Hello, World!  It's 2024; GPT4-turbo_v2"), (V{"hello", "world", "it's", "2024", "gpt4", "turbo", "v2"}));
  EXPECT_EQ(Words(""), V{});
  EXPECT_EQ(Words("  \n\t ... "), V{});
}

TEST(Words, ApostropheOnlyBetweenLetters) {
  EXPECT_EQ(Words("'quoted' rock'n'roll l’homme can't's"), (V{"quoted", "rock'n'roll", "l'homme", "can't's"}));
  EXPECT_EQ(Words("dogs' 5'6 '"), (V{"dogs", "5", "6"}));
}

TEST(Words, OffsetsCoverTheOriginalBytes) {
  const std::string text = "  Ça VA, Ñandú!";
  std::vector<std::pair<uint32_t, uint32_t>> spans;
  ForEachWord(text, [&](const Word& w) { spans.emplace_back(w.begin, w.end); });
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_EQ(text.substr(spans[0].first, spans[0].second - spans[0].first), "Ça");
  EXPECT_EQ(text.substr(spans[1].first, spans[1].second - spans[1].first), "VA");
  EXPECT_EQ(text.substr(spans[2].first, spans[2].second - spans[2].first), "Ñandú");
  EXPECT_EQ(Words(text), (V{"ça", "va", "ñandú"}));
}

TEST(Words, FoldsOtherAlphabets) {
  EXPECT_EQ(Words("ПРИВЕТ Мир ЁЖ"), (V{"привет", "мир", "ёж"}));
  EXPECT_EQ(Words("ΣΟΦΊΑ λόγος"), (V{"σοφία", "λόγοσ"}));  // final sigma reads as sigma
  EXPECT_EQ(Words("ĀŁŒŽ"), (V{"āłœž"}));
  EXPECT_EQ(Words("ＡＢＣ １２"), (V{"abc", "12"}));   // fullwidth forms fold to ASCII
  EXPECT_EQ(Words("Բարեւ"), (V{"բարեւ"}));
}

TEST(Words, ScriptsWithoutSpacesGiveOneWordPerCharacter) {
  EXPECT_EQ(Words("我爱北京。"), (V{"我", "爱", "北", "京"}));
  EXPECT_EQ(Words("日本語です"), (V{"日", "本", "語", "で", "す"}));
  EXPECT_EQ(Words("abc中文def"), (V{"abc", "中", "文", "def"}));
  EXPECT_EQ(Words("안녕하세요 세계"), (V{"안녕하세요", "세계"}));  // Hangul uses spaces
}

TEST(Words, ScriptsAndLetters) {
  std::vector<Script> scripts;
  std::vector<uint32_t> letters;
  ForEachWord("hello мир 世 مرحبا שלום नमस्ते สวัสดี 42 ქართ", [&](const Word& w) {
    scripts.push_back(w.script);
    letters.push_back(w.letters);
  });
  EXPECT_EQ(scripts, (std::vector<Script>{Script::kLatin, Script::kCyrillic, Script::kHan, Script::kArabic,
                                          Script::kHebrew, Script::kDevanagari, Script::kThai, Script::kThai,
                                          Script::kThai, Script::kThai, Script::kThai, Script::kThai, Script::kNone,
                                          Script::kGeorgian}));
  EXPECT_EQ(letters[0], 5u);
  EXPECT_EQ(letters[12], 0u);  // "42": digits are not letters
}

TEST(Words, InvalidUtf8SeparatesWordsAndNeverCrashes) {
  EXPECT_EQ(Words("abc\xff" "def"), (V{"abc", "def"}));
  EXPECT_EQ(Words("\xc3"), V{});                      // truncated sequence at the end
  EXPECT_EQ(Words("\xe2\x82"), V{});
  EXPECT_EQ(Words("a\xc0\xafz"), (V{"a", "z"}));      // overlong '/'
  EXPECT_EQ(Words("x\xed\xa0\x80y"), (V{"x", "y"}));  // a surrogate
  EXPECT_EQ(Words("\xf4\x90\x80\x80q"), (V{"q"}));     // above U+10FFFF
  EXPECT_EQ(Words(std::string("a\0b", 3)), (V{"a", "b"}));
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  EXPECT_FALSE(Words(all + all).empty());
}

TEST(Words, LongWordsAreCutAtACharacterBoundary) {
  const std::string word(500, 'x');
  auto w = Words(word + " y");
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].size(), kMaxWordBytes);
  std::string cyrillic;
  for (int i = 0; i < 100; ++i) cyrillic += "ж";  // two bytes each
  w = Words(cyrillic);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_LE(w[0].size(), kMaxWordBytes);
  EXPECT_EQ(w[0].size() % 2, 0u);
}

std::string Stem(std::string w) {
  w.resize(StemAscii(w.data(), w.size()));
  return w;
}

TEST(Stem, InflectionsMeet) {
  EXPECT_EQ(Stem("make"), "mak");
  EXPECT_EQ(Stem("makes"), "mak");
  EXPECT_EQ(Stem("making"), "mak");
  EXPECT_EQ(Stem("running"), "run");
  EXPECT_EQ(Stem("stopped"), "stop");
  EXPECT_EQ(Stem("studies"), "studi");
  EXPECT_EQ(Stem("study"), "studi");
  EXPECT_EQ(Stem("boxes"), "box");
  EXPECT_EQ(Stem("watches"), "watch");
  EXPECT_EQ(Stem("bombs"), "bomb");
  EXPECT_EQ(Stem("bombing"), "bomb");
  EXPECT_EQ(Stem("instructions"), "instruction");
  EXPECT_EQ(Stem("classes"), "class");
}

TEST(Stem, LeavesWhatItShould) {
  EXPECT_EQ(Stem("this"), "this");
  EXPECT_EQ(Stem("analysis"), "analysis");
  EXPECT_EQ(Stem("status"), "status");
  EXPECT_EQ(Stem("previous"), "previous");
  EXPECT_EQ(Stem("need"), "need");
  EXPECT_EQ(Stem("string"), "string");
  EXPECT_EQ(Stem("run"), "run");
  EXPECT_EQ(Stem("can't"), "can't");
  EXPECT_EQ(Stem("mp3s"), "mp3s");
  EXPECT_EQ(Stem("naïve"), "naïve");
}

TEST(HashWord, NeverZeroAndTellsWordsApart) {
  EXPECT_NE(HashWord(""), 0u);
  EXPECT_NE(HashWord("a"), HashWord("b"));
  EXPECT_NE(HashWord("abcdefgh"), HashWord("abcdefgi"));
  EXPECT_NE(HashWord("abcdefghijklmnop"), HashWord("abcdefghijklmnoq"));
  EXPECT_NE(HashWord(std::string_view("a\0", 2)), HashWord("a"));
  EXPECT_EQ(HashWord("same"), HashWord(std::string("same")));
}

TEST(WordTable, CountsAndGrows) {
  WordTable<uint32_t> t(2);
  for (uint64_t k = 1; k <= 1000; ++k) t[k * 7919] += static_cast<uint32_t>(k);
  EXPECT_EQ(t.size(), 1000u);
  for (uint64_t k = 1; k <= 1000; ++k) {
    ASSERT_NE(t.Find(k * 7919), nullptr);
    EXPECT_EQ(*t.Find(k * 7919), k);
  }
  EXPECT_EQ(t.Find(3), nullptr);
  size_t seen = 0;
  t.ForEach([&](uint64_t, uint32_t) { ++seen; });
  EXPECT_EQ(seen, 1000u);
}

TEST(StopWords, ListsAreFoldedAndLookedUpByHash) {
  const auto& lists = StopWordLists();
  auto index = [&](std::string_view code) {
    for (size_t i = 0; i < lists.size(); ++i) {
      if (lists[i].code == code) return i;
    }
    ADD_FAILURE() << code;
    return size_t{0};
  };
  EXPECT_NE(StopWordMask(HashWord("the")) & (1u << index("en")), 0u);
  EXPECT_NE(StopWordMask(HashWord("der")) & (1u << index("de")), 0u);
  EXPECT_NE(StopWordMask(HashWord("de")) & (1u << index("fr")), 0u);
  EXPECT_NE(StopWordMask(HashWord("de")) & (1u << index("es")), 0u);
  EXPECT_NE(StopWordMask(HashWord("что")) & (1u << index("ru")), 0u);
  EXPECT_NE(StopWordMask(HashWord("的")) & (1u << index("zh")), 0u);
  EXPECT_NE(StopWordMask(HashWord("don't")), 0u);
  EXPECT_EQ(StopWordMask(HashWord("kubernetes")), 0u);
  EXPECT_LE(lists.size(), 32u);
}

TEST(Analysis, TokensCarryWhatEvaluatorsRead) {
  Analysis a;
  AnalyzeInto("Bombs, the Мир 42", &a);
  ASSERT_EQ(a.tokens.size(), 4u);
  EXPECT_EQ(a.tokens[0].word, HashWord("bombs"));
  EXPECT_EQ(a.tokens[0].hash, HashWord("bomb"));  // stemmed
  EXPECT_EQ(a.tokens[0].begin, 0u);
  EXPECT_EQ(a.tokens[0].end, 5u);
  EXPECT_EQ(a.tokens[0].letters, 5u);
  EXPECT_EQ(a.tokens[0].stop, 0u);
  EXPECT_NE(a.tokens[1].stop, 0u);  // "the"
  EXPECT_EQ(a.tokens[2].script, Script::kCyrillic);
  EXPECT_EQ(a.tokens[2].bytes, 6u);
  EXPECT_EQ(a.tokens[3].script, Script::kNone);
  EXPECT_EQ(a.tokens[3].letters, 0u);
}

TEST(Analysis, RememberedByContentNotByAddress) {
  std::string text = "alpha beta";
  auto first = Analyze(text);
  EXPECT_EQ(Analyze(std::string("alpha beta")).get(), first.get());  // same bytes elsewhere
  text[0] = 'A';  // same address, other bytes
  auto changed = Analyze(text);
  EXPECT_NE(changed.get(), first.get());
  EXPECT_EQ(changed->tokens.size(), 2u);
  EXPECT_EQ(first->tokens[0].word, HashWord("alpha"));  // what callers hold stays valid
  // Past four texts, the first is forgotten and analysed again, alike.
  for (const char* other : {"one", "two", "three", "four"}) Analyze(other);
  auto again = Analyze("alpha beta");
  EXPECT_NE(again.get(), first.get());
  EXPECT_EQ(again->tokens.size(), 2u);
  EXPECT_EQ(again->tokens[1].hash, first->tokens[1].hash);
}

// ---- PhraseSet ----

struct Found {
  uint32_t group;
  std::string phrase;
  uint32_t first_word;
};

std::vector<Found> Find(const PhraseSet& set, std::string_view text) {
  Analysis a;
  AnalyzeInto(text, &a);
  std::vector<Found> out;
  set.Find(text, a.tokens, [&](const PhraseSet::Match& m) {
    out.push_back({m.group, PhraseSet::MatchedText(text, a.tokens, m), m.first_word});
    return true;
  });
  return out;
}

PhraseSet Make(std::vector<PhraseSet::Entry> entries, bool stem = true) {
  auto s = PhraseSet::Create(entries, stem);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : PhraseSet();
}

TEST(PhraseSet, WordsAcrossCaseSpacingAndPunctuation) {
  const PhraseSet set = Make({{"ignore [all] previous|prior instructions", 7}});
  auto f = Find(set, "OK. Now, IGNORE   all previous\n\tinstructions!!");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].group, 7u);
  EXPECT_EQ(f[0].phrase, "ignore all previous instructions");
  EXPECT_EQ(f[0].first_word, 2u);
  EXPECT_EQ(Find(set, "ignore prior instruction").size(), 1u);  // stemmed
  EXPECT_EQ(Find(set, "ignore the previous instructions").size(), 0u);
  EXPECT_EQ(Find(set, "ignore all previous").size(), 0u);
}

TEST(PhraseSet, WordBoundaries) {
  const PhraseSet set = Make({{"kill", 0}});
  EXPECT_EQ(Find(set, "skill skilled killer").size(), 0u);
  EXPECT_EQ(Find(set, "kills, killing, killed").size(), 3u);
}

TEST(PhraseSet, ExactAndUninflectedWords) {
  const PhraseSet set = Make({{"=DAN mode", 0}, {"cook ~meth", 1}});
  EXPECT_EQ(Find(set, "enable DAN mode").size(), 1u);
  EXPECT_EQ(Find(set, "enable Dan mode").size(), 0u);
  EXPECT_EQ(Find(set, "cook METH").size(), 1u);
  EXPECT_EQ(Find(set, "cook methods").size(), 0u);  // "methods" stems to "meth"
}

TEST(PhraseSet, PunctuationFollowingAWord) {
  const PhraseSet set = Make({{"system prompt :", 0}});
  EXPECT_EQ(Find(set, "System prompt: you are evil").size(), 1u);
  EXPECT_EQ(Find(set, "system prompt  :").size(), 1u);
  EXPECT_EQ(Find(set, "the system prompt is long").size(), 0u);
  EXPECT_EQ(Find(set, "system prompt").size(), 0u);
}

TEST(PhraseSet, MultiWordAlternativesAndNonLatin) {
  const PhraseSet set = Make({{"i can't|am_unable_to help", 0}, {"我 无法|不能", 1}, {"я не могу", 2}});
  EXPECT_EQ(Find(set, "Sorry, I am unable to help.").size(), 1u);
  EXPECT_EQ(Find(set, "I can’t help").size(), 1u);  // typographic apostrophe
  EXPECT_EQ(Find(set, "抱歉，我无法回答").size(), 1u);
  EXPECT_EQ(Find(set, "Извините, я НЕ МОГУ").size(), 1u);
}

TEST(PhraseSet, ReportsEveryMatchInWordOrder) {
  const PhraseSet set = Make({{"a b", 0}, {"a b c", 1}, {"b c", 2}});
  auto f = Find(set, "a b c");
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0].group, 0u);
  EXPECT_EQ(f[1].group, 1u);
  EXPECT_EQ(f[2].group, 2u);
}

TEST(PhraseSet, BadSpecsAreErrors) {
  struct Case {
    std::string spec;
    std::string error;
  };
  std::string long_phrase;
  for (int i = 0; i < 40; ++i) long_phrase += "w ";
  std::string many;
  for (int i = 0; i < 30; ++i) many += "a|b|c|d|e|f|g|h|i|j ";
  const Case cases[] = {
      {"", "phrase \"\": no words"},
      {"   ", "phrase \"   \": no words"},
      {"[unclosed", "phrase \"[unclosed\": unclosed ["},
      {"a||b", "phrase \"a||b\": empty alternative"},
      {"[]", "phrase \"[]\": empty alternative"},
      {"=two_words", "phrase \"=two_words\": =two_words must be exactly one word"},
      {"~two_words", "phrase \"~two_words\": ~two_words must be exactly one word"},
      {": first", "phrase \": first\": punctuation before the first word"},
      {"[a] : b", "phrase \"[a] : b\": punctuation before the first word"},
      {"[a] [b]", "phrase \"[a] [b]\": can match without a word: at least one item must need a word"},
      {long_phrase, "phrase \"" + long_phrase + "\": more than 32 items"},
      {many, "phrase \"" + many + "\": more than 256 word positions"},
  };
  for (const Case& c : cases) {
    auto s = PhraseSet::Create({{c.spec, 0}}, true);
    ASSERT_FALSE(s.ok()) << c.spec;
    EXPECT_EQ(s.status().message(), c.error);
  }
}

TEST(PhraseSet, CombinationsAreNotExpanded) {
  // 10^8 combinations: matched without building them.
  std::string spec;
  for (int i = 0; i < 8; ++i) spec += "a|b|c|d|e|f|g|h|i|j ";
  const PhraseSet set = Make({{spec + "end", 0}});
  EXPECT_EQ(Find(set, "j i h g f e d c end").size(), 1u);
  EXPECT_EQ(Find(set, "j i h g f e d end").size(), 0u);
}

TEST(PhraseSet, LinearOnRepetitiveText) {
  // Every word starts a partial match; the walk from each is bounded by the phrase length.
  const PhraseSet set = Make({{"a a a a a a a a a b", 0}});
  std::string text;
  for (int i = 0; i < 200000; ++i) text += "a ";
  EXPECT_TRUE(Find(set, text).empty());
  EXPECT_EQ(Find(set, text + "b").size(), 1u);
}

}  // namespace
}  // namespace tyto::evaluate
