// `tyto check rules` (CheckRules) and rule_files globs (LoadRuleFiles).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "rules/check.h"
#include "rules/loader.h"
#include "testing/temp_dir.h"

namespace tyto::rules {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class CheckTest : public ::testing::Test {
 protected:
  std::string WriteFile(const std::string& name, const std::string& text) {
    const std::string path = dir_.Path(name);
    EXPECT_TRUE(WriteFileAtomically(Env::Default(), path, text).ok());
    return path;
  }
  int Check(const std::vector<std::string>& files) {
    out_.str("");
    err_.str("");
    return CheckRules(files, Env::Default(), out_, err_);
  }

  testing::TempDir dir_;
  std::ostringstream out_;
  std::ostringstream err_;
};

constexpr const char* kGood = R"(groups:
  - name: g
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
      - alert: Down
        expr: up == 0
        for: 5m
)";

TEST_F(CheckTest, GoodFile) {
  const std::string f = WriteFile("good.yml", kGood);
  EXPECT_EQ(Check({f}), 0);
  EXPECT_EQ(out_.str(), "Checking " + f + "\n  SUCCESS: 2 rules found\n\n");
  EXPECT_EQ(err_.str(), "");
}

TEST_F(CheckTest, BadFileListsEveryProblemWithItsPosition) {
  const std::string good = WriteFile("good.yml", kGood);
  const std::string bad = WriteFile("bad.yml", R"(groups:
  - name: g
    rules:
      - record: r
        expr: sum(
      - alert: A
        expr: up
        for: soon
)");
  EXPECT_EQ(Check({bad, good}), 1);
  EXPECT_EQ(out_.str(), "Checking " + bad + "\nChecking " + good + "\n  SUCCESS: 2 rules found\n\n");
  const std::string err = err_.str();
  EXPECT_EQ(err.rfind("  FAILED:\n" + bad + ":5:", 0), 0u) << err;
  EXPECT_THAT(err, HasSubstr("\n" + bad + ":8:14: "));
}

TEST_F(CheckTest, MissingFileFails) {
  EXPECT_EQ(Check({dir_.Path("nope.yml")}), 1);
  EXPECT_THAT(err_.str(), HasSubstr("  FAILED:\n"));
  EXPECT_THAT(err_.str(), HasSubstr("nope.yml"));
}

TEST_F(CheckTest, DuplicateRulesAreALintThatDoesNotFail) {
  const std::string f = WriteFile("dup.yml", R"(groups:
  - name: a
    labels: {team: x}
    rules:
      - record: r
        expr: vector(1)
  - name: b
    rules:
      - record: r
        expr: vector(2)
        labels: {team: x}
)");
  EXPECT_EQ(Check({f}), 0);
  EXPECT_EQ(out_.str(), "Checking " + f + "\n\n");
  EXPECT_EQ(err_.str(),
            "  FAILED:\nlint error 1 duplicate rule(s) found.\nMetric: r\nLabel(s):\n\tteam: x\n"
            "Might cause inconsistency while recording expressions\n");
}

TEST_F(CheckTest, GlobsExpandInTheLastPathElement) {
  WriteFile("b.rules.yml", kGood);
  WriteFile("a.rules.yml", kGood);
  WriteFile("c.txt", "not rules");
  Result<std::vector<std::string>> paths =
      ExpandRuleFiles({dir_.Path("*.rules.yml"), dir_.Path("a.rules.yml"), dir_.Path("missing.yml")}, Env::Default());
  ASSERT_TRUE(paths.ok()) << paths.status().ToString();
  EXPECT_THAT(*paths, ElementsAre(dir_.Path("a.rules.yml"), dir_.Path("b.rules.yml")));
  auto files = LoadRuleFiles({dir_.Path("*.rules.yml")}, Env::Default());
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ((*files)[0].filename, dir_.Path("a.rules.yml"));
  EXPECT_EQ((*files)[1].groups[0].rules.size(), 2u);

  auto bad = ExpandRuleFiles({dir_.path() + "/*/x.yml"}, Env::Default());
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("invalid rule file path"));
}

TEST_F(CheckTest, LoadReportsTheErrorsOfEveryFile) {
  WriteFile("1.yml", "groups:\n  - name: g\n    rules:\n      - record: r\n");
  WriteFile("2.yml", "groups:\n  - name: g\n    bogus: 1\n    rules: []\n");
  auto files = LoadRuleFiles({dir_.Path("*.yml")}, Env::Default());
  ASSERT_FALSE(files.ok());
  EXPECT_EQ(files.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(files.status().message(), HasSubstr(dir_.Path("1.yml") + ":4:"));
  EXPECT_THAT(files.status().message(), HasSubstr("\n" + dir_.Path("2.yml") + ":3:"));
}

}  // namespace
}  // namespace tyto::rules
