#include "eventstore/text_query.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tyto::eventstore {
namespace {

using ::testing::HasSubstr;

std::string Ok(std::string_view text) {
  auto r = TranslateSearchText(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
  return r.ok() ? *r : "";
}

std::string Error(std::string_view text) {
  auto r = TranslateSearchText(text);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << text;
  return r.status().message();
}

TEST(TextQueryTest, Translations) {
  EXPECT_EQ(Ok("timeout"), "\"timeout\"");
  EXPECT_EQ(Ok("  timeout   upstream "), "\"timeout\" AND \"upstream\"");
  EXPECT_EQ(Ok("\"connection reset\""), "\"connection reset\"");
  EXPECT_EQ(Ok("time*"), "\"time\" *");
  EXPECT_EQ(Ok("\"conn res\"*"), "\"conn res\" *");
  EXPECT_EQ(Ok("db error OR warning"), "\"db\" AND (\"error\" OR \"warning\")");
  EXPECT_EQ(Ok("a OR b OR c d"), "(\"a\" OR \"b\" OR \"c\") AND \"d\"");
  EXPECT_EQ(Ok("timeout -debug -\"cache hit\""), "(\"timeout\") NOT (\"debug\" OR \"cache hit\")");
  EXPECT_EQ(Ok("timeout NOT debug"), "(\"timeout\") NOT (\"debug\")");
  EXPECT_EQ(Ok("a AND b"), "\"a\" AND \"b\"");
  EXPECT_EQ(Ok("or and not"), "\"or\" AND \"and\" AND \"not\"") << "operators are upper case only";
  EXPECT_EQ(Ok("user-id"), "\"user-id\"");
  EXPECT_EQ(Ok("a -> b : c"), "\"a\" AND \"b\" AND \"c\"") << "punctuation-only terms are passed over";
  EXPECT_EQ(Ok("naïve"), "\"naïve\"");
  // FTS5 syntax is only text once quoted.
  EXPECT_EQ(Ok("body:x NEAR(a"), "\"body:x\" AND \"NEAR(a\"");
  EXPECT_EQ(Ok("x\"y\""), "\"x\" AND \"y\"");
}

TEST(TextQueryTest, Errors) {
  EXPECT_THAT(Error("a \"b c"), HasSubstr("unterminated quote at position 3"));
  EXPECT_THAT(Error("OR a"), HasSubstr("OR needs a word before it at position 1"));
  EXPECT_THAT(Error("a OR"), HasSubstr("OR needs a word after it"));
  EXPECT_THAT(Error("a OR OR b"), HasSubstr("OR needs a word before it at position 6"));
  EXPECT_THAT(Error("a -b OR c"), HasSubstr("OR needs a word before it"));
  EXPECT_THAT(Error("a OR -b"), HasSubstr("an excluded term cannot be part of OR"));
  EXPECT_THAT(Error("-a -b"), HasSubstr("at least one word that is not excluded"));
  EXPECT_THAT(Error("!!! -- ::"), HasSubstr("no letter or digit"));
  EXPECT_THAT(Error(""), HasSubstr("no letter or digit"));
  EXPECT_THAT(Error("a NOT"), HasSubstr("NOT must be followed"));
  EXPECT_THAT(Error("NOT NOT a"), HasSubstr("NOT twice"));
  EXPECT_THAT(Error("é \"x"), HasSubstr("position 3")) << "positions count characters, not bytes";
  EXPECT_THAT(Error(std::string(kMaxSearchTextBytes + 1, 'a')), HasSubstr("at most"));
  std::string many;
  for (size_t i = 0; i <= kMaxSearchTerms; ++i) many += "w" + std::to_string(i) + " ";
  EXPECT_THAT(Error(many), HasSubstr("more than"));
}

}  // namespace
}  // namespace tyto::eventstore
