// The registry's checks of descriptors and options, each error message, the builtin descriptor
// tables, and docs/evaluators.md kept in step with them.
#include "evaluate/registry.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "evaluate/evaluate_testing.h"
#include "evaluate/options.h"

namespace tyto::evaluate {
namespace {

using evaluate_testing::Builtin;
using evaluate_testing::CreateError;

class Constant final : public Evaluator {
 public:
  Constant(const Descriptor& d, Options seen) : d_(d), seen_(std::move(seen)) {}
  const Descriptor& descriptor() const override { return d_; }
  Result<Score> Evaluate(const Sample&) override {
    Score s;
    s.value = 1;
    s.label = "ok";
    return s;
  }
  const Options& seen() const { return seen_; }

 private:
  const Descriptor& d_;
  Options seen_;
};

Descriptor TestDescriptor() {
  return {"test",
          "A test evaluator.",
          false,
          {
              {"threshold", OptionSpec::Type::kNumber, "0.5", false, "A number."},
              {"strict", OptionSpec::Type::kBool, "false", false, "A bool."},
              {"timeout", OptionSpec::Type::kDuration, "10s", false, "A duration."},
              {"model", OptionSpec::Type::kString, "", true, "A required string."},
              {"labels", OptionSpec::Type::kStringList, "", false, "A list, unset by default."},
          }};
}

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(registry_
                    .Register(TestDescriptor(),
                              [this](const Options& o) -> Result<std::unique_ptr<Evaluator>> {
                                seen_ = o;
                                return std::unique_ptr<Evaluator>(
                                    std::make_unique<Constant>(*registry_.Find("test"), o));
                              })
                    .ok());
  }
  std::string Error(const Options& o, std::string_view name = "test") {
    auto e = registry_.Create(name, o);
    if (e.ok()) return "";
    EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
    return e.status().message();
  }
  Registry registry_;
  Options seen_;
};

TEST_F(RegistryTest, FillsDefaultsAndPassesValues) {
  auto e = registry_.Create("test", {{"model", "gpt-4o"}, {"threshold", "0.75"}});
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(seen_, (Options{{"model", "gpt-4o"}, {"threshold", "0.75"}, {"strict", "false"}, {"timeout", "10s"}}));
}

TEST_F(RegistryTest, UnknownEvaluator) {
  EXPECT_EQ(Error({}, "tset"), "evaluator tset: unknown evaluator (did you mean test?); known: test");
  EXPECT_EQ(Error({}, "zzzzzzzzzz"), "evaluator zzzzzzzzzz: unknown evaluator; known: test");
}

TEST_F(RegistryTest, UnknownOption) {
  EXPECT_EQ(Error({{"model", "m"}, {"treshold", "1"}}),
            "evaluator test: option treshold: unknown option (did you mean threshold?); known options: threshold, "
            "strict, timeout, model, labels");
  EXPECT_EQ(Error({{"model", "m"}, {"qqqqqqqq", "1"}}),
            "evaluator test: option qqqqqqqq: unknown option; known options: threshold, strict, timeout, model, "
            "labels");
}

TEST_F(RegistryTest, WrongTypes) {
  EXPECT_EQ(Error({{"model", "m"}, {"threshold", "high"}}),
            "evaluator test: option threshold: want a number, got \"high\"");
  EXPECT_EQ(Error({{"model", "m"}, {"threshold", "nan"}}), "evaluator test: option threshold: want a number, got \"nan\"");
  EXPECT_EQ(Error({{"model", "m"}, {"threshold", "1e999"}}),
            "evaluator test: option threshold: want a number, got \"1e999\"");
  EXPECT_EQ(Error({{"model", "m"}, {"threshold", ""}}), "evaluator test: option threshold: want a number, got \"\"");
  EXPECT_EQ(Error({{"model", "m"}, {"strict", "yes"}}), "evaluator test: option strict: want true or false, got \"yes\"");
  EXPECT_EQ(Error({{"model", "m"}, {"timeout", "10"}}),
            "evaluator test: option timeout: want a duration like 250ms, 10s or 1m, got \"10\"");
  EXPECT_EQ(Error({{"model", "m"}, {"threshold", "-1.5e-3"}, {"strict", "TRUE"}, {"timeout", "1m30s"}}), "");
}

TEST_F(RegistryTest, MissingRequired) {
  EXPECT_EQ(Error({{"threshold", "1"}}), "evaluator test: option model: required");
}

TEST_F(RegistryTest, DuplicateRegistration) {
  Status s = registry_.Register(TestDescriptor(), [](const Options&) -> Result<std::unique_ptr<Evaluator>> {
    return InvalidArgument("never");
  });
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(s.message(), "evaluator test: already registered");
}

TEST_F(RegistryTest, InconsistentDescriptors) {
  auto factory = [](const Options&) -> Result<std::unique_ptr<Evaluator>> { return InvalidArgument("never"); };
  auto with = [](OptionSpec o) {
    Descriptor d{"x", "X.", false, {std::move(o)}};
    return d;
  };
  EXPECT_EQ(registry_.Register({"", "No name.", false, {}}, factory).message(), "evaluator descriptor without a name");
  EXPECT_EQ(registry_.Register(with({"a", OptionSpec::Type::kNumber, "1", false, ""}), factory).message(),
            "evaluator x: option a: no help text");
  EXPECT_EQ(registry_.Register(with({"a", OptionSpec::Type::kNumber, "one", false, "A."}), factory).message(),
            "evaluator x: option a: default: want a number, got \"one\"");
  EXPECT_EQ(registry_.Register(with({"a", OptionSpec::Type::kString, "v", true, "A."}), factory).message(),
            "evaluator x: option a: required, yet has a default");
  Descriptor twice{"x", "X.", false, {{"a", OptionSpec::Type::kBool, "true", false, "A."},
                                      {"a", OptionSpec::Type::kBool, "true", false, "A."}}};
  EXPECT_EQ(registry_.Register(twice, factory).message(), "evaluator x: option a: declared twice");
  EXPECT_EQ(registry_.Register({"y", "Y.", false, {}}, nullptr).message(), "evaluator y: no factory");
  EXPECT_EQ(registry_.Find("x"), nullptr);
}

TEST_F(RegistryTest, ListIsSortedAndFindWorks) {
  auto factory = [](const Options&) -> Result<std::unique_ptr<Evaluator>> { return InvalidArgument("no"); };
  ASSERT_TRUE(registry_.Register({"alpha", "A.", false, {}}, factory).ok());
  ASSERT_TRUE(registry_.Register({"zeta", "Z.", true, {}}, factory).ok());
  std::vector<std::string> names;
  for (const Descriptor& d : registry_.List()) names.push_back(d.name);
  EXPECT_EQ(names, (std::vector<std::string>{"alpha", "test", "zeta"}));
  ASSERT_NE(registry_.Find("zeta"), nullptr);
  EXPECT_TRUE(registry_.Find("zeta")->remote);
  EXPECT_EQ(registry_.Find("nope"), nullptr);
  // A factory's own error comes back as it is.
  EXPECT_EQ(Error({}, "alpha"), "no");
}

TEST(OptionValues, ReadsDefaultsAndReportsMisuse) {
  const Descriptor d = TestDescriptor();
  Options set = {{"threshold", "2"}, {"labels", "a\n\nb\n"}};
  OptionValues o(d, set);
  EXPECT_EQ(o.Number("threshold"), 2);
  EXPECT_FALSE(o.Bool("strict"));
  EXPECT_EQ(o.Duration("timeout"), std::chrono::seconds(10));
  EXPECT_EQ(o.StringList("labels"), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(o.Has("threshold"));
  EXPECT_FALSE(o.Has("model"));
  EXPECT_TRUE(o.ok());
  EXPECT_EQ(o.Number("undeclared"), 0);
  EXPECT_EQ(o.status().message(), "evaluator test: option undeclared: not declared in the evaluator's option table");
  OptionValues wrong(d, set);
  EXPECT_FALSE(wrong.Bool("threshold"));
  EXPECT_EQ(wrong.status().message(), "evaluator test: option threshold: declared as number, read as bool");
  const Options bad = {{"threshold", "x"}};
  OptionValues bad_value(d, bad);
  EXPECT_EQ(bad_value.Number("threshold"), 0);
  EXPECT_EQ(bad_value.status().message(), "evaluator test: option threshold: want a number, got \"x\"");
}

// ---- The builtin evaluators' tables ----

TEST(Builtins, DescriptorTablesAreComplete) {
  const std::vector<Descriptor> all = Builtin().List();
  std::vector<std::string> names;
  for (const Descriptor& d : all) names.push_back(d.name);
  EXPECT_EQ(names, (std::vector<std::string>{"completeness", "format", "language", "pii", "refusal", "relevance",
                                             "repetition", "safety"}));
  for (const Descriptor& d : all) {
    SCOPED_TRACE(d.name);
    EXPECT_FALSE(d.remote);
    EXPECT_FALSE(d.description.empty());
    EXPECT_EQ(d.description.find('\n'), std::string::npos);
    EXPECT_EQ(d.description.back(), '.');
    for (const OptionSpec& o : d.options) {
      SCOPED_TRACE(o.name);
      EXPECT_FALSE(o.help.empty());
      EXPECT_EQ(o.help.back(), '.');
      // Every option has a default, is required, or is a string or list whose unset value
      // means "none".
      const bool may_be_unset = o.type == OptionSpec::Type::kString || o.type == OptionSpec::Type::kStringList;
      EXPECT_TRUE(!o.default_value.empty() || o.required || may_be_unset);
      if (!o.default_value.empty()) {
        EXPECT_TRUE(CheckOptionValue(o.type, o.default_value).ok());
      }
    }
    // Each can be created from its defaults alone, and says who it is.
    auto e = Builtin().Create(d.name, {});
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    EXPECT_EQ((*e)->descriptor().name, d.name);
  }
}

TEST(Builtins, EveryOptionIsChecked) {
  EXPECT_EQ(CreateError("relevance", {{"min_overlap", "0"}}), "evaluator relevance: option min_overlap: must be in (0, 1]");
  EXPECT_EQ(CreateError("relevance", {{"min_terms", "0"}}),
            "evaluator relevance: option min_terms: must be between 1 and 1000000");
  EXPECT_EQ(CreateError("repetition", {{"ngram", "1"}}), "evaluator repetition: option ngram: must be between 2 and 16");
  EXPECT_EQ(CreateError("repetition", {{"tolerance", "1"}}), "evaluator repetition: option tolerance: must be in [0, 1)");
  EXPECT_EQ(CreateError("repetition", {{"max_run", "0"}}),
            "evaluator repetition: option max_run: must be between 1 and 1000000");
  EXPECT_EQ(CreateError("repetition", {{"min_distinct", "2"}}),
            "evaluator repetition: option min_distinct: must be in [0, 1]");
  EXPECT_EQ(CreateError("refusal", {{"partial_score", "-1"}}),
            "evaluator refusal: option partial_score: must be in [0, 1]");
  EXPECT_EQ(CreateError("refusal", {{"window_words", "0"}}),
            "evaluator refusal: option window_words: must be between 1 and 1000000");
  EXPECT_EQ(CreateError("refusal", {{"phrases", "[oops"}}),
            "evaluator refusal: option phrases: phrase \"[oops\": unclosed [");
  EXPECT_EQ(CreateError("safety", {{"categories", "violence\nspam"}}),
            "evaluator safety: option categories: unknown category \"spam\"; known: "
            "sexual_minors,self_harm,violence,weapons,malware,hate,drugs");
  EXPECT_EQ(CreateError("safety", {{"prompt_attack_score", "1.5"}}),
            "evaluator safety: option prompt_attack_score: must be in [0, 1]");
  EXPECT_EQ(CreateError("safety", {{"patterns", "no equals sign"}}),
            "evaluator safety: option patterns: want name=regex with a name of a-z, 0-9 and _ (starting with a "
            "letter), got \"no equals sign\"");
  EXPECT_EQ(CreateError("safety", {{"patterns", "Bad=x"}}),
            "evaluator safety: option patterns: want name=regex with a name of a-z, 0-9 and _ (starting with a "
            "letter), got \"Bad=x\"");
  EXPECT_EQ(CreateError("safety", {{"patterns", "x=(unclosed"}}),
            "evaluator safety: option patterns: pattern x: missing ): (unclosed");
  EXPECT_EQ(CreateError("safety", {{"prompt_patterns", "x=a*"}}),
            "evaluator safety: option prompt_patterns: pattern x: matches the empty string");
  EXPECT_EQ(CreateError("pii", {{"rules", "email\nphonee"}}),
            "evaluator pii: option rules: unknown rule 'phonee', did you mean 'phone'? (built-in rules: email, "
            "phone, card, ipv4, ipv6, api_key, secret)");
  EXPECT_EQ(CreateError("pii", {{"patterns", "email=x"}}),
            "evaluator pii: option patterns: rule 'email': the name of a built-in rule (list built-in rules under "
            "`builtin`)");
  EXPECT_EQ(CreateError("pii", {{"patterns", "x"}}), "evaluator pii: option patterns: want name=regex, got \"x\"");
  EXPECT_EQ(CreateError("pii", {{"rules", ""}}),
            "evaluator pii: option rules: no rules: give at least one built-in rule or pattern");
  EXPECT_EQ(CreateError("language", {{"expected", "klingon"}}),
            "evaluator language: option expected: unknown language \"klingon\"; known: en, es, fr, de, it, pt, nl, "
            "sv, pl, tr, ru, uk, zh, ja, ko, el, hy, he, ar, hi, bn, ta, th, ka");
  EXPECT_EQ(CreateError("language", {{"min_letters", "0"}}),
            "evaluator language: option min_letters: must be between 1 and 1e9");
  EXPECT_EQ(CreateError("format", {{"format", "xml"}}),
            "evaluator format: option format: want json, json_schema or text, got \"xml\"");
  EXPECT_EQ(CreateError("format", {{"format", "json_schema"}}),
            "evaluator format: option schema: format json_schema needs exactly one of schema and schema_file");
  EXPECT_EQ(CreateError("format", {{"schema", "{}"}}), "evaluator format: option schema: only used with format json_schema");
  EXPECT_EQ(CreateError("format", {{"max_depth", "0"}}), "evaluator format: option max_depth: must be between 1 and 10000");
  EXPECT_EQ(CreateError("completeness", {{"unclosed_code_block", "maybe"}}),
            "evaluator completeness: option unclosed_code_block: want true or false, got \"maybe\"");
}

// docs/evaluators.md shows the generated reference between its markers; regenerate it with
// EvaluatorsReference(Builtin().List()) when a descriptor changes.
TEST(Builtins, DocsShowTheGeneratedReference) {
  std::ifstream in(std::string(TYTO_SOURCE_DIR) + "/docs/evaluators.md");
  ASSERT_TRUE(in) << "docs/evaluators.md";
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  const std::string begin = "<!-- generated: evaluators reference -->\n";
  const std::string end = "<!-- end generated -->";
  const size_t b = doc.find(begin);
  const size_t e = doc.find(end);
  ASSERT_NE(b, std::string::npos);
  ASSERT_NE(e, std::string::npos);
  const std::string shown = doc.substr(b + begin.size(), e - b - begin.size());
  const std::string want = "\n" + EvaluatorsReference(Builtin().List());
  EXPECT_EQ(shown, want) << "docs/evaluators.md is out of date; the generated part should read:\n" << want;
}

}  // namespace
}  // namespace tyto::evaluate
