#include "alertmanager/matchers.h"

#include <gtest/gtest.h>

namespace tyto::alertmanager {
namespace {

Matcher M(std::string_view text) {
  auto m = ParseMatcher(text);
  EXPECT_TRUE(m.ok()) << text << ": " << m.status().ToString();
  return std::move(m).value();
}

// Alertmanager docs, configuration.md "<matcher>": the four operators and the anchored regex.
TEST(Matcher, Operators) {
  LabelSet alert{{"alertname", "Watchdog"}, {"severity", "critical"}};
  EXPECT_TRUE(M("alertname=\"Watchdog\"").Matches(alert));
  EXPECT_FALSE(M("alertname!=Watchdog").Matches(alert));
  EXPECT_TRUE(M("severity=~\"crit.*\"").Matches(alert));
  EXPECT_FALSE(M("severity=~\"crit\"").Matches(alert));  // anchored at both ends
  EXPECT_FALSE(M("severity=~\"ritical\"").Matches(alert));
  EXPECT_TRUE(M("severity!~\"warn|info\"").Matches(alert));
  // An absent label reads as the empty string.
  EXPECT_TRUE(M("team=\"\"").Matches(alert));
  EXPECT_FALSE(M("team!=\"\"").Matches(alert));
  EXPECT_TRUE(M("team=~\".*\"").Matches(alert));
  // Go's regexp default, which Alertmanager keeps: "." stops at a newline.
  EXPECT_FALSE(M(R"(msg=~"a.b")").Matches({{"msg", "a\nb"}}));
  EXPECT_TRUE(M(R"(msg=~"(?s)a.b")").Matches({{"msg", "a\nb"}}));
}

TEST(Matcher, QuotingAndEscapes) {
  Matcher m = M(R"(msg="say \"hi\"\\now\n")");
  EXPECT_EQ(m.value(), "say \"hi\"\\now\n");
  EXPECT_EQ(m.ToString(), R"(msg="say \"hi\"\\now\n")");
  EXPECT_EQ(M("  foo = bar baz ").value(), "bar baz");
  EXPECT_EQ(M(R"("quoted name"="x")").name(), "quoted name");
  EXPECT_EQ(M(R"("quoted name"="x")").ToString(), R"("quoted name"="x")");
}

// configuration.md "Example": matchers: [ 'foo = bar', 'dings!=bums' ] and the braces form
// used by amtool and the API: {foo="bar",baz=~"qux.*"}.
TEST(Matchers, Lists) {
  auto list = ParseMatchers(R"({foo="bar", baz=~"qux.*",})");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ(MatchersToString(*list), R"({foo="bar",baz=~"qux.*"})");
  EXPECT_TRUE(MatchesAll(*list, {{"foo", "bar"}, {"baz", "quxx"}}));
  EXPECT_FALSE(MatchesAll(*list, {{"foo", "bar"}, {"baz", "xqux"}}));
  auto bare = ParseMatchers("foo = bar, dings!=bums");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(MatchersToString(*bare), R"({foo="bar",dings!="bums"})");
  EXPECT_TRUE(ParseMatchers("{}")->empty());
  EXPECT_TRUE(ParseMatchers("")->empty());
}

TEST(Matchers, ErrorsNameTheColumn) {
  struct Case {
    std::string_view text;
    std::string_view error;
  } cases[] = {
      {"foo", "column 4: expected an operator (=, !=, =~, !~), got end of input"},
      {"=bar", "column 1: expected a label name, got '='"},
      {"foo=\"bar", "column 9: unterminated quoted string"},
      {"foo=\"b\\qr\"", "column 8: unknown escape '\\q' in quoted string"},
      {"foo=~\"(\"", "column 6: invalid regular expression \"(\": missing ): ("},
      {"{foo=bar", "column 9: missing closing '}'"},
      {"{foo=bar} x", "column 11: unexpected 'x' after '}'"},
      {"foo=\"a\" bar=b", "column 9: expected ',' or the end, got 'b'"},
      {"a=b,,c=d", "column 5: expected a label name, got ','"},
      {"\"\"=x", "column 1: empty label name"},
  };
  for (const auto& c : cases) {
    auto r = ParseMatchers(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().message(), c.error) << c.text;
  }
  EXPECT_FALSE(ParseMatcher("a=b,c=d").ok());
}

TEST(Matchers, OrderAndLabelSetString) {
  Matchers ms = *ParseMatchers("b=1, a=~2, a=1");
  std::sort(ms.begin(), ms.end());
  EXPECT_EQ(MatchersToString(ms), R"({a="1",a=~"2",b="1"})");
  EXPECT_EQ(LabelSetToString({{"team", "x"}, {"alertname", "A"}}), R"({alertname="A", team="x"})");
}

TEST(Matchers, FromSeriesLabels) {
  LabelSet set = ToLabelSet(Labels::Of({"alertname", "GpuHot", "gpu", "0"}));
  EXPECT_EQ(LabelSetToString(set), R"({alertname="GpuHot", gpu="0"})");
  EXPECT_TRUE(M("gpu=~\"[0-3]\"").Matches(set));
}

}  // namespace
}  // namespace tyto::alertmanager
