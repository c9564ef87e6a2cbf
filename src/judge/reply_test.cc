// Reading the judge's reply: the chat-completions body, then the verdict in its text.
#include "judge/reply.h"

#include <gtest/gtest.h>

#include <string>

namespace tyto::judge {
namespace {

std::string Completion(std::string_view content_json) {
  return R"({"id":"c1","object":"chat.completion","model":"judge","choices":[{"index":0,"message":{"role":"assistant","content":)" +
         std::string(content_json) +
         R"(},"finish_reason":"stop"}],"usage":{"prompt_tokens":812,"completion_tokens":37,"total_tokens":849}})";
}

TEST(ParseCompletionTest, ReadsTheFirstChoiceAndUsage) {
  auto c = ParseCompletion(Completion(R"("{\"score\": 4, \"explanation\": \"Good.\"}")"));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->content, R"({"score": 4, "explanation": "Good."})");
  EXPECT_EQ(c->finish_reason, "stop");
  EXPECT_EQ(c->prompt_tokens, 812);
  EXPECT_EQ(c->completion_tokens, 37);
}

TEST(ParseCompletionTest, MissingOrOddUsageIsZero) {
  auto c = ParseCompletion(R"({"choices":[{"message":{"content":"Score: 3"}}]})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->content, "Score: 3");
  EXPECT_EQ(c->prompt_tokens, 0);
  EXPECT_EQ(c->completion_tokens, 0);
  EXPECT_TRUE(c->finish_reason.empty());
  auto odd = ParseCompletion(
      R"({"choices":[{"message":{"content":"x"}}],"usage":{"prompt_tokens":-5,"completion_tokens":"7"}})");
  ASSERT_TRUE(odd.ok());
  EXPECT_EQ(odd->prompt_tokens, 0);
  EXPECT_EQ(odd->completion_tokens, 0);
}

void ExpectError(std::string_view body, std::string_view want) {
  auto c = ParseCompletion(body);
  ASSERT_FALSE(c.ok()) << body;
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find(want), std::string::npos) << c.status().message();
}

TEST(ParseCompletionTest, MalformedRepliesNameWhatIsWrong) {
  ExpectError("<html>Bad Gateway</html>", "reply is not JSON");
  ExpectError("<html>Bad Gateway</html>", "<html>Bad Gateway</html>");  // the snippet
  ExpectError("", "reply is not JSON");
  ExpectError("[1,2]", "not a JSON object");
  ExpectError(R"({"object":"chat.completion"})", "no choices");
  ExpectError(R"({"choices":[]})", "no choices");
  ExpectError(R"({"choices":[7]})", "choices[0] is not an object");
  ExpectError(R"({"choices":[{"text":"4"}]})", "has no message");
  ExpectError(R"({"choices":[{"message":{"content":null},"finish_reason":"tool_calls"}]})", "tool_calls");
  ExpectError(R"({"error":{"message":"model 'x' not found","type":"NotFoundError"}})", "model 'x' not found");
  ExpectError("{\"choices\":[{\"message\":{\"content\":\"\xff\"}}]}", "reply is not JSON");
}

TEST(ParseCompletionTest, SnippetsAreBoundedAndPrintable) {
  std::string body = "\x01\x02 not json " + std::string(5000, 'x');
  auto c = ParseCompletion(body);
  ASSERT_FALSE(c.ok());
  EXPECT_LT(c.status().message().size(), 400u);
  EXPECT_NE(c.status().message().find("\\x01"), std::string::npos) << c.status().message();
}

double ScoreOf(std::string_view content) {
  auto v = ParseVerdict(content);
  EXPECT_TRUE(v.ok()) << v.status().ToString() << " for " << content;
  return v.ok() ? v->score : -1;
}

TEST(ParseVerdictTest, JsonObjectAloneInFencesOrInProse) {
  auto v = ParseVerdict(R"({"score": 4, "explanation": "Answers the question with one minor gap."})");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->score, 4);
  EXPECT_EQ(v->explanation, "Answers the question with one minor gap.");

  EXPECT_EQ(ScoreOf("```json\n{\n  \"score\": 2,\n  \"explanation\": \"Misses the point.\"\n}\n```"), 2);
  EXPECT_EQ(ScoreOf("Here is my evaluation:\n{\"score\": 5, \"explanation\": \"Complete.\"}\nHope this helps."), 5);
  EXPECT_EQ(ScoreOf(R"({"score": 3.5, "explanation": "Between."})"), 3.5);
  // An object without a score, or with a score that is not a number, is passed over.
  EXPECT_EQ(ScoreOf(R"(Criteria {"clarity": "high"} then {"score": 1, "explanation": "Wrong."})"), 1);
  // The score may be nested one object down; the inner object is tried after the outer.
  EXPECT_EQ(ScoreOf(R"({"evaluation": {"score": 3, "explanation": "Partly."}})"), 3);
}

TEST(ParseVerdictTest, ReasoningBeforeThinkEndIsSkipped) {
  EXPECT_EQ(ScoreOf("<think>Maybe {\"score\": 2}? No, better.</think>\n{\"score\": 4, \"explanation\": \"Good.\"}"), 4);
}

TEST(ParseVerdictTest, ScoreTextFallback) {
  auto v = ParseVerdict("Score: 4\nThe answer is   accurate\nbut terse.");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->score, 4);
  EXPECT_EQ(v->explanation, "Score: 4 The answer is accurate but terse.");
  EXPECT_EQ(ScoreOf("**Score:** 3 - partly helpful"), 3);
  EXPECT_EQ(ScoreOf("Final score = 2/5"), 2);
  EXPECT_EQ(ScoreOf("SCORE:5"), 5);
  EXPECT_EQ(ScoreOf(R"({"score": "4", "explanation": "quoted number"})"), 4);
  EXPECT_EQ(ScoreOf("I'd give it a score of... no. score: 1.5"), 1.5);
}

void ExpectVerdictError(std::string_view content, std::string_view want) {
  auto v = ParseVerdict(content);
  ASSERT_FALSE(v.ok()) << content;
  EXPECT_EQ(v.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(v.status().message().find(want), std::string::npos) << v.status().message();
}

TEST(ParseVerdictTest, MissingOrOutOfRangeScoresAreErrors) {
  ExpectVerdictError("The response is quite good overall.", "has no score");
  ExpectVerdictError("The response is quite good overall.", "quite good overall");  // the snippet
  ExpectVerdictError("", "has no score");
  ExpectVerdictError(R"({"explanation": "forgot the score"})", "has no score");
  ExpectVerdictError(R"({"score": 0, "explanation": "x"})", "score 0 is outside 1 to 5");
  ExpectVerdictError(R"({"score": 6})", "score 6 is outside 1 to 5");
  ExpectVerdictError(R"({"score": -1e300})", "is outside 1 to 5");
  ExpectVerdictError("Score: 10/10", "score 10 is outside 1 to 5");
  ExpectVerdictError("scores: 4", "has no score");   // not the word "score"
  ExpectVerdictError("score :: 4", "has no score");  // two separators
}

TEST(ParseVerdictTest, ExplanationIsOneBoundedLine) {
  const std::string long_text(5000, 'a');
  auto v = ParseVerdict(R"({"score": 2, "explanation": "line one\n\tline two )" + long_text + "\"}");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->explanation.size(), kMaxExplanationBytes);
  EXPECT_EQ(v->explanation.substr(0, 18), "line one line two ");
  auto missing = ParseVerdict(R"({"score": 2})");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->explanation, "");
}

TEST(ParseVerdictTest, ManyOpenBracesStayCheap) {
  // Every '{' starts a candidate; the search stops after a bounded number of them.
  std::string nested;
  for (int i = 0; i < 20000; ++i) nested += "{\"a\":";
  ExpectVerdictError(nested, "has no score");
  // Past the candidates searched, the text fallback still finds the score.
  EXPECT_EQ(ScoreOf(std::string(1000, '{') + R"({"score": 3})"), 3);
}

TEST(ScoreMappingTest, OneToFiveOntoZeroToOne) {
  EXPECT_EQ(NormalizedScore(1), 0.0);
  EXPECT_EQ(NormalizedScore(2), 0.25);
  EXPECT_EQ(NormalizedScore(3), 0.5);
  EXPECT_EQ(NormalizedScore(4), 0.75);
  EXPECT_EQ(NormalizedScore(5), 1.0);
  EXPECT_EQ(NormalizedScore(3.5), 0.625);
  EXPECT_EQ(ScoreLabel(4), "score_4");
  EXPECT_EQ(ScoreLabel(3.5), "score_3.5");
}

}  // namespace
}  // namespace tyto::judge
