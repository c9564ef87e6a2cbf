// The heuristic evaluators on hand-picked samples: relevance, pii, refusal, completeness,
// repetition; and every builtin on hostile input. (format, language and safety have files of
// their own.)
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <thread>

#include "evaluate/evaluate_testing.h"

namespace tyto::evaluate {
namespace {

using evaluate_testing::Make;
using evaluate_testing::Rate;

// ---- relevance ----

TEST(Relevance, OnTopicAnswerScoresHigh) {
  auto e = Make("relevance");
  const Score s = Rate(*e, "Explain how Kubernetes schedules pods onto nodes, and what affects scheduling decisions.",
                      "The Kubernetes scheduler assigns each pod to a node. It filters nodes that lack resources, "
                      "then scores the rest; taints, affinity and resource requests affect the decision.");
  EXPECT_EQ(s.value, 1);
  EXPECT_EQ(s.label, "relevant");
  EXPECT_NE(s.explanation.find("content terms"), std::string::npos);
}

TEST(Relevance, OffTopicAnswerScoresZero) {
  auto e = Make("relevance");
  const Score s = Rate(*e, "Explain how Kubernetes schedules pods onto nodes.",
                      "Bananas are rich in potassium and taste great in smoothies with yoghurt and honey.");
  EXPECT_EQ(s.value, 0);
  EXPECT_EQ(s.label, "off_topic");
}

TEST(Relevance, PartialOverlapScalesWithMinOverlap) {
  const std::string prompt = "alpha bravo charlie delta echo foxtrot golf hotel india juliet";
  const std::string response = "alpha bravo and many unrelated words like zebra yak walrus";
  auto e = Make("relevance");
  const Score s = Rate(*e, prompt, response);  // coverage 0.2 of 0.3
  EXPECT_NEAR(s.value, 0.2 / 0.3, 1e-9);
  EXPECT_EQ(s.label, "low_relevance");
  auto lenient = Make("relevance", {{"min_overlap", "0.2"}});
  EXPECT_EQ(Rate(*lenient, prompt, response).value, 1);
}

TEST(Relevance, StopWordsAndInflectionsDoNotCount) {
  auto e = Make("relevance");
  // Only stop words in common: off topic.
  EXPECT_EQ(Rate(*e, "What is the capital of the country with the most lakes?",
                "It is the one that is the best of all of them, and the rest is not.")
                .label,
            "off_topic");
  // Inflections meet: "schedules"/"scheduling", "pods"/"pod".
  EXPECT_EQ(Rate(*e, "scheduling pods", "schedules pod").value, 1);
}

TEST(Relevance, NotApplicableWithoutEnoughWords) {
  auto e = Make("relevance");
  EXPECT_TRUE(std::isnan(Rate(*e, "", "A long answer about many things and topics.").value));
  EXPECT_TRUE(std::isnan(Rate(*e, "Explain recursion in programming.", "").value));
  EXPECT_TRUE(std::isnan(Rate(*e, "Explain recursion in programming.", "Yes.").value));
  EXPECT_EQ(Rate(*e, "Explain recursion in programming.", "Yes.").label, "not_applicable");
}

TEST(Relevance, OtherScripts) {
  auto e = Make("relevance");
  EXPECT_EQ(Rate(*e, "Объясни, как работает сборщик мусора в Java.",
                "Сборщик мусора в Java освобождает память объектов, которые больше не используются.")
                .label,
            "relevant");
  EXPECT_EQ(Rate(*e, "请解释一下量子计算的基本原理", "量子计算的基本原理是利用量子比特的叠加和纠缠").label, "relevant");
  EXPECT_EQ(Rate(*e, "请解释一下量子计算的基本原理", "今天天气很好，我们去公园散步吧").label, "off_topic");
}

// ---- pii ----

TEST(Pii, CleanResponse) {
  auto e = Make("pii");
  const Score s = Rate(*e, "What is an IP address?", "An IP address identifies a host on a network.");
  EXPECT_EQ(s.value, 1);
  EXPECT_EQ(s.label, "clean");
}

TEST(Pii, LeakNamesRulesNotData) {
  auto e = Make("pii");
  const Score s = Rate(*e, "Who should I contact?",
                      "Write to maria.gonzalez@example.com or call +1 (415) 555-0132; backup: ops@example.org.");
  EXPECT_EQ(s.value, 0);
  EXPECT_EQ(s.label, "pii");
  EXPECT_EQ(s.explanation, "found email (2), phone (1) in the response");
  EXPECT_EQ(s.explanation.find("maria"), std::string::npos);
}

TEST(Pii, EchoedFromThePromptIsNotALeak) {
  auto e = Make("pii");
  const std::string prompt = "My email is jo@example.com, please draft a signature.";
  Score s = Rate(*e, prompt, "Best regards,\nJo\njo@example.com");
  EXPECT_EQ(s.value, 1);
  EXPECT_EQ(s.label, "echoed");
  s = Rate(*e, prompt, "Best regards, Jo, jo@example.com, cc boss@example.com");
  EXPECT_EQ(s.value, 0);
  EXPECT_EQ(s.explanation, "found email (1) in the response; 1 finding repeats what the prompt holds");
  auto strict = Make("pii", {{"ignore_echoed", "false"}});
  EXPECT_EQ(Rate(*strict, prompt, "Best regards,\nJo\njo@example.com").value, 0);
}

TEST(Pii, RulesAndPatternsAreSelectable) {
  auto cards_only = Make("pii", {{"rules", "card"}});
  EXPECT_EQ(Rate(*cards_only, "", "mail me: a@example.com").value, 1);
  EXPECT_EQ(Rate(*cards_only, "", "card 4111 1111 1111 1111").value, 0);
  auto custom = Make("pii", {{"rules", ""}, {"patterns", "employee_id=EMP-[0-9]{6}"}});
  const Score s = Rate(*custom, "", "Ask EMP-123456 about it.");
  EXPECT_EQ(s.value, 0);
  EXPECT_EQ(s.explanation, "found employee_id (1) in the response");
}

// ---- refusal ----

TEST(Refusal, Refusals) {
  auto e = Make("refusal");
  for (const std::string r : {
           "I'm sorry, but I can't help with that.",
           "I can’t assist with that request.",
           "As an AI language model, I cannot provide medical diagnoses.",
           "I must respectfully decline.",
           "Sorry, I cannot do that.",
           "I'm sorry, but I can't.",
           "Unfortunately, I cannot!",
           "I am unable to comply with this request because it violates the usage policies.",
           "That goes against my guidelines.",
           "Lo siento, pero no puedo ayudarte con eso.",
           "Je suis désolé, mais je ne peux pas vous aider.",
           "Es tut mir leid, aber ich kann dabei nicht helfen.",
           "抱歉，我无法帮助你完成这个请求。",
           "Извините, но я не могу помочь с этим.",
       }) {
    const Score s = Rate(*e, "do the thing", r);
    EXPECT_EQ(s.value, 0) << r;
    EXPECT_EQ(s.label, "refusal") << r;
  }
}

TEST(Refusal, Answers) {
  auto e = Make("refusal");
  for (const std::string r : {
           "Sure! Here is a haiku about autumn leaves falling softly.",
           "I can't help but notice that your loop never ends; move the increment inside it.",
           "You cannot assign to a const variable in C++; declare it without const instead.",
           "The error says the function can't find the module.",
           "Subject: Re: Thursday sync\n\nHi Sam,\n\nThank you for the invitation. Unfortunately I can't make "
           "Thursday's meeting. Could you share the notes afterwards?",
           "",
       }) {
    const Score s = Rate(*e, "q", r);
    EXPECT_EQ(s.value, 1) << r;
    EXPECT_EQ(s.label, "answered") << r;
  }
}

TEST(Refusal, PartialRefusals) {
  auto e = Make("refusal");
  std::string long_answer = "I can't provide real-time prices, but here is what I know. ";
  for (int i = 0; i < 40; ++i) long_answer += "Step " + std::to_string(i) + " explains more of the procedure. ";
  Score s = Rate(*e, "q", long_answer);
  EXPECT_EQ(s.value, 0.5);
  EXPECT_EQ(s.label, "partial_refusal");
  std::string late = "Here is the first part of the plan.";
  for (int i = 0; i < 50; ++i) late += " word";
  late += ". However, I cannot provide the rest.";
  s = Rate(*e, "q", late);
  EXPECT_EQ(s.label, "partial_refusal");
  auto strict = Make("refusal", {{"partial_score", "0"}});
  EXPECT_EQ(Rate(*strict, "q", late).value, 0);
}

TEST(Refusal, ExtraPhrases) {
  auto e = Make("refusal", {{"phrases", "computer says no\nnot|never in a million years"}});
  EXPECT_EQ(Rate(*e, "q", "Computer says no.").label, "refusal");
  EXPECT_EQ(Rate(*e, "q", "Never in a million years!").label, "refusal");
}

// ---- completeness ----

TEST(Completeness, Cases) {
  auto e = Make("completeness");
  EXPECT_EQ(Rate(*e, "q", "A full answer.", {"stop"}).label, "complete");
  EXPECT_EQ(Rate(*e, "q", "A full answer.", {"stop"}).value, 1);
  EXPECT_EQ(Rate(*e, "q", "A full answer.").value, 1);
  Score s = Rate(*e, "q", "", {"stop"});
  EXPECT_EQ(s.value, 0);
  EXPECT_EQ(s.label, "empty");
  EXPECT_EQ(Rate(*e, "q", " \n\t\u00a0\u3000\u200b").label, "empty");
  s = Rate(*e, "q", "The answer is", {"length"}, 512);
  EXPECT_EQ(s.value, 0);
  EXPECT_EQ(s.label, "truncated");
  EXPECT_EQ(s.explanation, "finish reason \"length\": the response was cut at the token limit (512 output tokens)");
  EXPECT_EQ(Rate(*e, "q", "The answer is", {"MAX_TOKENS"}).label, "truncated");
  EXPECT_EQ(Rate(*e, "q", "", {"content_filter"}).label, "filtered");
  EXPECT_EQ(Rate(*e, "q", "", {"SAFETY"}).label, "filtered");
  EXPECT_EQ(Rate(*e, "q", "partial", {"stop", "length"}).label, "truncated");  // any choice cut
  s = Rate(*e, "q", "Here:\n```python\nprint(1)\n", {"stop"});
  EXPECT_EQ(s.value, 0.5);
  EXPECT_EQ(s.label, "unclosed_code_block");
  EXPECT_EQ(Rate(*e, "q", "Here:\n```python\nprint(1)\n```\nDone.").value, 1);
  EXPECT_EQ(Rate(*e, "q", "\xff\xfe").value, 1);  // bytes, not blank
}

TEST(Completeness, ReasonsAreConfigurable) {
  auto e = Make("completeness", {{"truncation_reasons", "cut"}, {"filter_reasons", ""}, {"unclosed_code_block", "false"}});
  EXPECT_EQ(Rate(*e, "q", "x", {"length"}).label, "complete");
  EXPECT_EQ(Rate(*e, "q", "x", {"CUT"}).label, "truncated");
  EXPECT_EQ(Rate(*e, "q", "x", {"content_filter"}).label, "complete");
  EXPECT_EQ(Rate(*e, "q", "```\nopen").label, "complete");
}

// ---- repetition ----

const char* kNatural =
    "Observability for inference fleets starts with the basics: latency, throughput and errors per model. "
    "Time to first token tells you how long users wait before anything appears, while inter-token latency "
    "shows how smooth the stream feels. Queue depth on each replica explains most latency spikes, because a "
    "batch scheduler cannot start a request until memory for its cache is free. GPU utilisation alone is "
    "misleading: a card can be busy and still slow if it is thrashing memory. Track cost per thousand tokens "
    "as well, since a cheaper model that answers badly is not cheaper in the end.";

TEST(Repetition, NaturalTextIsOk) {
  auto e = Make("repetition");
  const Score s = Rate(*e, "", kNatural);
  EXPECT_EQ(s.value, 1);
  EXPECT_EQ(s.label, "ok");
}

TEST(Repetition, RepeatedSentencesLowerTheScore) {
  auto e = Make("repetition");
  std::string text = "The capital of France is Paris. ";
  std::string looped;
  for (int i = 0; i < 8; ++i) looped += text;  // 48 words: under the 50 of the distinct-word check
  const Score s = Rate(*e, "", looped);
  EXPECT_LT(s.value, 0.2);
  EXPECT_EQ(s.label, "repetitive");
  // Half repeated: in between.
  const Score half = Rate(*e, "", std::string(kNatural) + " " + kNatural);
  EXPECT_GT(half.value, 0.2);
  EXPECT_LT(half.value, 0.8);
}

TEST(Repetition, LoopingWord) {
  auto e = Make("repetition");
  std::string text = "Sure, here it is: ";
  for (int i = 0; i < 30; ++i) text += "the ";
  const Score s = Rate(*e, "", text);
  EXPECT_EQ(s.value, 0);
  EXPECT_EQ(s.label, "looping");
  EXPECT_EQ(s.explanation, "one word repeats 30 times in a row");
  // Numbers in a table repeat legitimately.
  std::string zeros = "The matrix is all zeros: ";
  for (int i = 0; i < 30; ++i) zeros += "0 ";
  EXPECT_NE(Rate(*e, "", zeros).label, "looping");
}

TEST(Repetition, FewDistinctWords) {
  auto e = Make("repetition", {{"tolerance", "0.99"}});
  std::string text;
  const char* words[] = {"yes", "no", "maybe"};
  for (int i = 0; i < 120; ++i) text += std::string(words[(i * 7 + i / 3) % 3]) + " ";
  const Score s = Rate(*e, "", text);
  EXPECT_EQ(s.value, 0);
  EXPECT_EQ(s.label, "degenerate");
}

TEST(Repetition, ShortResponsesAreNotJudged) {
  auto e = Make("repetition");
  EXPECT_TRUE(std::isnan(Rate(*e, "", "Yes, yes.").value));
  EXPECT_EQ(Rate(*e, "", "").label, "not_applicable");
}

TEST(Repetition, ChineseLoop) {
  auto e = Make("repetition");
  std::string loop;
  for (int i = 0; i < 20; ++i) loop += "我不知道。";
  EXPECT_LT(Rate(*e, "", loop).value, 0.2);
  EXPECT_EQ(Rate(*e, "", "量子计算利用量子比特的叠加和纠缠来进行计算，它在某些问题上比经典计算机快得多。").label, "ok");
}

// ---- every builtin, hostile input ----

std::vector<std::unique_ptr<Evaluator>> AllBuiltins() {
  std::vector<std::unique_ptr<Evaluator>> all;
  for (const Descriptor& d : evaluate_testing::Builtin().List()) all.push_back(Make(d.name));
  return all;
}

void ExpectWellFormed(const Score& s) {
  EXPECT_TRUE(std::isnan(s.value) || (s.value >= 0 && s.value <= 1)) << s.value;
  EXPECT_FALSE(s.label.empty());
  EXPECT_FALSE(s.explanation.empty());
}

TEST(AllBuiltins, AnyBytesGiveAScore) {
  std::mt19937 rng(42);
  auto all = AllBuiltins();
  for (int round = 0; round < 200; ++round) {
    std::string prompt(rng() % 3000, '\0');
    std::string response(rng() % 3000, '\0');
    for (char& c : prompt) c = static_cast<char>(rng());
    for (char& c : response) c = static_cast<char>(rng() % 4 == 0 ? rng() : 'a' + rng() % 26);
    for (auto& e : all) ExpectWellFormed(Rate(*e, prompt, response, {std::string(1, static_cast<char>(rng()))}));
  }
}

TEST(AllBuiltins, HugeInput) {
  // 4 MiB of text: each evaluator reads at most its first MiB (format reads it all).
  std::string huge;
  while (huge.size() < (size_t{4} << 20)) huge += "The quick brown fox jumps over the lazy dog near the river bank. ";
  auto all = AllBuiltins();
  for (auto& e : all) ExpectWellFormed(Rate(*e, huge, huge, {"stop"}));
}

TEST(AllBuiltins, MixedScriptsAndEmpty) {
  auto all = AllBuiltins();
  for (auto& e : all) {
    ExpectWellFormed(Rate(*e, "", ""));
    ExpectWellFormed(Rate(*e, "Translate 'hello' → 日本語 / русский / العربية 🙂",
                         "こんにちは — привет — مرحبا 🙂 \xf0\x9f\x99"));
  }
}

TEST(AllBuiltins, ThreadSafeOnSharedInstances) {
  auto all = AllBuiltins();
  std::vector<std::thread> threads;
  std::vector<std::vector<double>> results(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        for (auto& e : all) {
          Sample s;
          s.prompt = "Explain the capital of France and answer in English.";
          s.response = std::string(kNatural) + " I can't help with the rest. Paris is the capital of France.";
          s.finish_reasons = {"stop"};
          auto r = e->Evaluate(s);
          results[t].push_back(r.ok() ? r->value : -1);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 1; t < 4; ++t) {
    ASSERT_EQ(results[t].size(), results[0].size());
    for (size_t i = 0; i < results[0].size(); ++i) {
      if (std::isnan(results[0][i])) {
        EXPECT_TRUE(std::isnan(results[t][i]));
      } else {
        EXPECT_EQ(results[t][i], results[0][i]);
      }
    }
  }
}

}  // namespace
}  // namespace tyto::evaluate
