#include "remote/selector.h"

#include <gtest/gtest.h>

#include <random>

#include "promql/ast.h"
#include "promql/parser.h"

namespace tyto::remote {
namespace {

Matcher M(MatchType type, std::string name, std::string value) {
  return std::move(Matcher::Make(type, std::move(name), std::move(value))).value();
}

// The matchers of `{...}[Nms]` as tyto's PromQL parser (Prometheus's grammar) reads them back,
// and the range.
std::vector<Matcher> ParseBack(const std::string& text, int64_t* range_ms) {
  Result<promql::ExprPtr> e = promql::Parse(text);
  EXPECT_TRUE(e.ok()) << e.status().ToString() << " in " << text;
  if (!e.ok()) return {};
  EXPECT_EQ((*e)->kind(), promql::NodeKind::kMatrixSelector);
  const auto& ms = (*e)->As<promql::MatrixSelector>();
  *range_ms = ms.range.value.count();
  return ms.selector->matchers;
}

void ExpectSame(const std::vector<Matcher>& want, const std::vector<Matcher>& got, const std::string& text) {
  ASSERT_EQ(want.size(), got.size()) << text;
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(want[i].type(), got[i].type()) << text;
    EXPECT_EQ(want[i].name(), got[i].name()) << text;
    EXPECT_EQ(want[i].value(), got[i].value()) << text;
  }
}

TEST(SelectorTextTest, WritesEveryMatcherInsideTheBraces) {
  EXPECT_EQ(SelectorText({M(MatchType::kEqual, "__name__", "up"), M(MatchType::kRegexMatch, "job", "api|web"),
                          M(MatchType::kNotEqual, "env", "dev"), M(MatchType::kRegexNoMatch, "pod", "x.*")}),
            R"({__name__="up",job=~"api|web",env!="dev",pod!~"x.*"})");
  EXPECT_EQ(SelectorText({}), "{}");
}

TEST(SelectorTextTest, EscapesValuesAsGoQuotes) {
  EXPECT_EQ(SelectorText({M(MatchType::kEqual, "a", "say \"hi\"")}), R"({a="say \"hi\""})");
  EXPECT_EQ(SelectorText({M(MatchType::kEqual, "a", "C:\\dir")}), R"({a="C:\\dir"})");
  EXPECT_EQ(SelectorText({M(MatchType::kEqual, "a", "two\nlines\ttab\r")}), R"({a="two\nlines\ttab\r"})");
  EXPECT_EQ(SelectorText({M(MatchType::kEqual, "a", "π ≈ 3.14 🦉")}), "{a=\"π ≈ 3.14 🦉\"}");
  EXPECT_EQ(SelectorText({M(MatchType::kEqual, "a", std::string("nul\0byte", 8))}), R"({a="nul\x00byte"})");
  EXPECT_EQ(SelectorText({M(MatchType::kEqual, "a", "bad\xff")}), R"({a="bad\xff"})");
  // A regex's own backslashes are doubled once, for the string literal.
  EXPECT_EQ(SelectorText({M(MatchType::kRegexMatch, "path", R"(/api/v\d+\.json)")}), R"({path=~"/api/v\\d+\\.json"})");
}

TEST(SelectorTextTest, QuotesLabelNamesThatAreNotIdentifiers) {
  EXPECT_EQ(SelectorText({M(MatchType::kEqual, "__name__", "http.server.duration"), M(MatchType::kEqual, "k8s.pod", "p")}),
            R"({__name__="http.server.duration","k8s.pod"="p"})");
}

TEST(SelectorTextTest, ParsesBackToTheSameMatchers) {
  const std::vector<std::vector<Matcher>> cases = {
      {M(MatchType::kEqual, "__name__", "up")},
      {M(MatchType::kEqual, "__name__", "x"), M(MatchType::kEqual, "q", "\"quoted\" and \\back\\slashed\\")},
      {M(MatchType::kRegexMatch, "__name__", "a|b"), M(MatchType::kRegexMatch, "v", R"(\d+\.\d+|"x"|\\)")},
      {M(MatchType::kEqual, "__name__", "x"), M(MatchType::kNotEqual, "nl", "a\nb\r\n\t\v\f\a\b")},
      {M(MatchType::kEqual, "__name__", "x"), M(MatchType::kEqual, "u", "日本語 ünïcödé \u2028 \u00ad \ufeff 🦉")},
      {M(MatchType::kEqual, "__name__", "x"), M(MatchType::kEqual, "ctl", std::string("\x01\x1f\x7f\0", 4))},
      {M(MatchType::kEqual, "__name__", "x"), M(MatchType::kEqual, "bytes", "\xc3\x28 \xe2\x82 \xff\xfe")},
      {M(MatchType::kEqual, "__name__", "x"), M(MatchType::kEqual, "utf8.name with space", "v"),
       M(MatchType::kEqual, "ünï", "v")},
  };
  for (const auto& matchers : cases) {
    const std::string text = RangeQueryText(matchers, 1000, 60999);
    int64_t range = 0;
    ExpectSame(matchers, ParseBack(text, &range), text);
    EXPECT_EQ(range, 60000) << text;
  }
}

// Random values and names (any bytes) survive the round trip through the parser.
TEST(SelectorTextTest, RandomBytesRoundTrip) {
  std::mt19937 rng(20240611);
  static constexpr char kOdd[] = "ab\"\\\n\r\t\0\x7f\x80\xff{}[]=~!,`'$ ";  // with a NUL inside
  const std::string alphabet = std::string(kOdd, sizeof(kOdd) - 1) + "ü🦉";
  auto random_string = [&](size_t max) {
    std::uniform_int_distribution<size_t> len(0, max), pick(0, alphabet.size() - 1), byte(0, 255);
    std::string s;
    for (size_t n = len(rng); s.size() < n;) {
      s += (rng() % 4 == 0) ? static_cast<char>(byte(rng)) : alphabet[pick(rng)];
    }
    return s;
  };
  for (int i = 0; i < 2000; ++i) {
    std::vector<Matcher> matchers = {M(MatchType::kEqual, "__name__", "m")};
    std::string name = random_string(6);
    if (name.empty() || name == "__name__") name = "n";
    const MatchType type = static_cast<MatchType>(i % 4);
    std::string value = random_string(12);
    if (type == MatchType::kRegexMatch || type == MatchType::kRegexNoMatch) {
      // Keep it a valid RE2 expression: quote every byte that could be special.
      std::string re;
      for (char c : value) {
        if (std::isalnum(static_cast<unsigned char>(c)) == 0 && static_cast<unsigned char>(c) < 0x80) re += '\\';
        re += c;
      }
      value = re;
    }
    Result<Matcher> m = Matcher::Make(type, name, value);
    if (!m.ok()) continue;  // RE2 refuses some byte sequences; not what is tested here
    matchers.push_back(*m);
    const std::string text = RangeQueryText(matchers, 0, 999);
    int64_t range = 0;
    ExpectSame(matchers, ParseBack(text, &range), text);
    if (HasFailure()) break;
  }
}

TEST(RangeQueryTextTest, AsksForMaxtMinusMintPlusOneMilliseconds) {
  const std::vector<Matcher> up = {M(MatchType::kEqual, "__name__", "up")};
  EXPECT_EQ(RangeQueryText(up, 1000, 1000), R"({__name__="up"}[1ms])");
  EXPECT_EQ(RangeQueryText(up, 0, 299999), R"({__name__="up"}[300000ms])");
  EXPECT_EQ(RangeQueryText(up, -5, 5), R"({__name__="up"}[11ms])");
  // No overflow, however far apart.
  EXPECT_EQ(RangeQueryText(up, INT64_MIN, INT64_MAX), "{__name__=\"up\"}[" + std::to_string(kMaxRangeMs) + "ms]");
  EXPECT_EQ(RangeQueryText(up, INT64_MIN, 0), "{__name__=\"up\"}[" + std::to_string(kMaxRangeMs) + "ms]");
  EXPECT_EQ(RangeQueryText(up, 1, kMaxRangeMs), "{__name__=\"up\"}[" + std::to_string(kMaxRangeMs) + "ms]");
  EXPECT_EQ(RangeQueryText(up, 0, kMaxRangeMs), "{__name__=\"up\"}[" + std::to_string(kMaxRangeMs) + "ms]");
  int64_t range = 0;
  (void)ParseBack(RangeQueryText(up, INT64_MIN, INT64_MAX), &range);
  EXPECT_EQ(range, kMaxRangeMs);
}

TEST(FormatSecondsTest, MillisecondsAsDecimalSeconds) {
  EXPECT_EQ(FormatSeconds(1700000000123), "1700000000.123");
  EXPECT_EQ(FormatSeconds(0), "0.000");
  EXPECT_EQ(FormatSeconds(5), "0.005");
  EXPECT_EQ(FormatSeconds(-1500), "-1.500");
  EXPECT_EQ(FormatSeconds(-1), "-0.001");
  EXPECT_EQ(FormatSeconds(INT64_MIN), "-9223372036854775.808");
  EXPECT_EQ(FormatSeconds(INT64_MAX), "9223372036854775.807");
}

TEST(LabelNamePathSegmentTest, EscapesWhatIsNotAnIdentifier) {
  EXPECT_EQ(LabelNamePathSegment("job"), "job");
  EXPECT_EQ(LabelNamePathSegment("__name__"), "__name__");
  EXPECT_EQ(LabelNamePathSegment("k8s.pod"), "U__k8s_2e_pod");
  EXPECT_EQ(LabelNamePathSegment("a_b c"), "U__a__b_20_c");
  EXPECT_EQ(LabelNamePathSegment("1x"), "U___31_x");
  EXPECT_EQ(LabelNamePathSegment("ü/"), "U___fc__2f_");
  EXPECT_EQ(LabelNamePathSegment("a\xff"), "U__a_FFFD_");
  for (char c : LabelNamePathSegment("../?#%&=+ \"\\")) {
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '_') << c;
  }
}

}  // namespace
}  // namespace tyto::remote
