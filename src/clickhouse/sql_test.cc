#include "clickhouse/sql.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <re2/re2.h>

namespace tyto::clickhouse {
namespace {

using ::testing::HasSubstr;

TEST(SqlTest, QuoteStringEscapesEverythingThatCouldEndTheLiteral) {
  EXPECT_EQ(QuoteString("abc"), "'abc'");
  EXPECT_EQ(QuoteString("it's"), "'it\\'s'");
  EXPECT_EQ(QuoteString("a\\b"), "'a\\\\b'");
  EXPECT_EQ(QuoteString("\\'"), "'\\\\\\''");
  EXPECT_EQ(QuoteString(std::string("a\0b\n\x7f", 5)), "'a\\x00b\\x0a\\x7f'");
  EXPECT_EQ(QuoteString("café"), "'café'");
  for (const std::string& s : {std::string("x' OR 1=1 --"), std::string("\\"), std::string("'\\'"),
                               std::string("\xff\xfe'"), std::string(1, '\0')}) {
    std::string_view rest;
    const std::string sql = QuoteString(s) + " tail";
    auto back = UnquoteString(sql, &rest);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, s);
    EXPECT_EQ(rest, " tail");
  }
}

TEST(SqlTest, Identifiers) {
  EXPECT_TRUE(IsPlainIdentifier("tyto"));
  EXPECT_TRUE(IsPlainIdentifier("_a1"));
  EXPECT_FALSE(IsPlainIdentifier("1a"));
  EXPECT_FALSE(IsPlainIdentifier("a-b"));
  EXPECT_FALSE(IsPlainIdentifier("a`b"));
  EXPECT_FALSE(IsPlainIdentifier(""));
  EXPECT_FALSE(IsPlainIdentifier(std::string(65, 'a')));
  EXPECT_EQ(QuoteIdentifier("tyto"), "`tyto`");
  EXPECT_EQ(HexLiteral(std::string("\x01\xab", 2)), "unhex('01ab')");
}

// ClickHouse's match() is RE2 over lowerUTF8(body): check the expressions with RE2 itself.
bool Finds(std::string_view term, bool prefix, const std::string& lowered_body) {
  const std::string re = TermRegex(term, prefix);
  RE2 compiled(re);
  EXPECT_TRUE(compiled.ok()) << re;
  return RE2::PartialMatch(lowered_body, compiled);
}

TEST(SqlTest, TermRegexFindsWordsAsTheEmbeddedStoreDoes) {
  EXPECT_EQ(TermRegex("timeout", true).substr(0, 13), "(^|[^\\pL\\pN])");
  EXPECT_TRUE(Finds("timeout", false, "connection timeout to upstream"));
  EXPECT_TRUE(Finds("TIMEOUT", false, "timeout"));
  EXPECT_FALSE(Finds("timeout", false, "timeouts happen"));
  EXPECT_FALSE(Finds("time", false, "timeout"));
  EXPECT_TRUE(Finds("time", true, "timeout"));
  EXPECT_FALSE(Finds("out", true, "timeout"));
  EXPECT_TRUE(Finds("timeout to", false, "connection timeout to upstream"));
  EXPECT_FALSE(Finds("to timeout", false, "connection timeout to upstream"));
  EXPECT_TRUE(Finds("user-id", false, "user-id 77 rate limited"));
  EXPECT_TRUE(Finds("user id", false, "user-id 77 rate limited"));
  EXPECT_TRUE(Finds("77", false, "user-id 77 rate limited"));
  EXPECT_TRUE(Finds("cafe", false, "café ouvert"));
  EXPECT_TRUE(Finds("CAFÉ", false, "cafe ouvert"));
  EXPECT_TRUE(Finds("Ça", false, "ça va"));
  // Regular-expression syntax in a term is only a separator.
  EXPECT_TRUE(Finds("a.*b(", false, "a b"));
  EXPECT_FALSE(Finds("a.*b(", false, "axxb"));
  EXPECT_EQ(TermRegex("\xff", false), "");
}

TEST(SqlTest, SearchTextBecomesConditions) {
  auto c = SearchTextCondition("body", "timeout");
  ASSERT_TRUE(c.ok());
  EXPECT_THAT(*c, ::testing::StartsWith("match(lowerUTF8(body), '(^|[^\\\\pL\\\\pN])"));
  c = SearchTextCondition("body", "db error OR warning -debug");
  ASSERT_TRUE(c.ok());
  EXPECT_THAT(*c, HasSubstr(" AND NOT "));
  EXPECT_THAT(*c, HasSubstr(" OR "));
  EXPECT_THAT(*c, HasSubstr("[gĝğġģ]($|"));
  c = SearchTextCondition("body", "x' OR '1'='1");
  ASSERT_TRUE(c.ok());
  EXPECT_THAT(*c, ::testing::Not(HasSubstr("'1'")));
  // The embedded store's errors, word for word.
  EXPECT_THAT(SearchTextCondition("body", "a \"b c").status().message(), HasSubstr("unterminated quote at position 3"));
  EXPECT_EQ(SearchTextCondition("body", "OR a").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SearchTextCondition("body", "-a").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SearchTextCondition("body", "").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tyto::clickhouse
