#include "promql/lex.h"

#include <gtest/gtest.h>

#include <vector>

namespace tyto::promql {
namespace {

struct Lexed {
  TokenType type;
  std::string text;
};

std::vector<Lexed> All(std::string_view in) {
  Lexer lex(in);
  std::vector<Lexed> out;
  for (;;) {
    Token t = lex.Next();
    if (t.type == TokenType::kEOF) break;
    out.push_back({t.type, std::string(t.text)});
    if (t.type == TokenType::kError) break;
  }
  return out;
}

TEST(LexTest, NumbersDurationsAndWords) {
  auto t = All("1 0x1F .5 1e3 Inf nan 5m 1h30m 500ms foo:bar SUM By # comment\n x");
  ASSERT_EQ(t.size(), 13u);
  EXPECT_EQ(t[0].type, TokenType::kNumber);
  EXPECT_EQ(t[1].type, TokenType::kNumber);
  EXPECT_EQ(t[2].type, TokenType::kNumber);
  EXPECT_EQ(t[3].type, TokenType::kNumber);
  EXPECT_EQ(t[4].type, TokenType::kNumber);
  EXPECT_EQ(t[5].type, TokenType::kNumber);
  EXPECT_EQ(t[6].type, TokenType::kDuration);
  EXPECT_EQ(t[7].type, TokenType::kDuration);
  EXPECT_EQ(t[8].type, TokenType::kDuration);
  EXPECT_EQ(t[9].type, TokenType::kMetricIdentifier);
  EXPECT_EQ(t[10].type, TokenType::kSum);
  EXPECT_EQ(t[11].type, TokenType::kBy);
  EXPECT_EQ(t[12].type, TokenType::kIdentifier);
  EXPECT_EQ(t[12].text, "x");
}

TEST(LexTest, Errors) {
  EXPECT_EQ(All("5mm").back().text, "bad number or duration syntax: \"5mm\"");
  EXPECT_EQ(All("\"abc").back().text, "unterminated quoted string");
  EXPECT_EQ(All("`abc").back().text, "unterminated raw string");
  EXPECT_EQ(All("'\\c'").back().text, "unknown escape sequence U+0063 'c'");
  EXPECT_EQ(All("(1").back().text, "unclosed left parenthesis");
  EXPECT_EQ(All("1)").back().text, "unexpected right parenthesis ')'");
  EXPECT_EQ(All("foo{").back().text, "unexpected end of input inside braces");
  EXPECT_EQ(All("$").back().text, "unexpected character: '$'");
  EXPECT_EQ(All("!x").back().text, "unexpected character after '!': 'x'");
}

TEST(LexTest, QuoteAndUnquoteRoundTrip) {
  for (std::string s : {std::string("plain"), std::string("a\"b\\c\n\t"), std::string("\x01\x7f\xff"),
                        std::string("ünï ✓"), std::string("\xc2\x85")}) {
    std::string q = GoQuote(s);
    auto toks = All(q);
    ASSERT_EQ(toks.size(), 1u) << q;
    ASSERT_EQ(toks[0].type, TokenType::kString) << q;
    EXPECT_EQ(Unquote(toks[0].text), s) << q;
  }
  EXPECT_EQ(GoQuote("a\"b"), "\"a\\\"b\"");
  EXPECT_EQ(Unquote("'a\\'b'"), "a'b");
  EXPECT_EQ(Unquote("\"\\u00fc\\x41\\101\""), "\xc3\xbc" "AA");
  EXPECT_EQ(Unquote("`a\\nb`"), "a\\nb");
}

}  // namespace
}  // namespace tyto::promql
