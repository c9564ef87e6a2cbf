// Parses every query of Prometheus's own PromQL test scripts (read in place from
// ../shared/conformance/promql/, never copied): each one Prometheus evaluates must parse, and
// must print to a form that parses to the same form.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "promql/parser.h"

namespace tyto::promql {
namespace {

struct Query {
  std::string file;
  int line = 0;
  std::string expr;
  bool expect_fail = false;
};

std::vector<Query> ReadQueries() {
  std::vector<Query> out;
  const std::filesystem::path dir = TYTO_PROMQL_CONFORMANCE_DIR;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".test") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  const std::regex instant(R"(^eval(_fail|_warn|_info|_ordered)?\s+instant\s+at\s+\S+\s+(.*)$)");
  const std::regex range(R"(^eval(_fail|_warn|_info|_ordered)?\s+range\s+from\s+\S+\s+to\s+\S+\s+step\s+\S+\s+(.*)$)");
  const std::regex expect_fail(R"(^\s*expect\s+fail\b.*)");
  for (const auto& path : files) {
    std::ifstream in(path);
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
      ++n;
      std::smatch m;
      if (std::regex_match(line, m, instant) || std::regex_match(line, m, range)) {
        out.push_back({path.filename().string(), n, m[2].str(), m[1].str() == "_fail"});
      } else if (!out.empty() && std::regex_match(line, expect_fail) && out.back().file == path.filename().string()) {
        out.back().expect_fail = true;
      }
    }
  }
  return out;
}

TEST(ConformanceParseTest, EveryAcceptedQueryParses) {
  std::vector<Query> queries = ReadQueries();
  ASSERT_GT(queries.size(), 2000u) << "conformance scripts not found in " << TYTO_PROMQL_CONFORMANCE_DIR;
  int accepted = 0;
  int accepted_parsed = 0;
  int failing = 0;
  int failing_rejected_by_parser = 0;
  for (const Query& q : queries) {
    Result<ExprPtr> e = Parse(q.expr);
    if (q.expect_fail) {
      ++failing;
      if (!e.ok()) ++failing_rejected_by_parser;
      continue;
    }
    ++accepted;
    EXPECT_TRUE(e.ok()) << q.file << ":" << q.line << ": " << q.expr << "\n  " << e.status().message();
    if (!e.ok()) continue;
    ++accepted_parsed;
    std::string printed = (*e)->String();
    Result<ExprPtr> again = Parse(printed);
    ASSERT_TRUE(again.ok()) << q.file << ":" << q.line << ": " << q.expr << "\n  printed as " << printed << "\n  "
                            << again.status().message();
    EXPECT_EQ((*again)->String(), printed) << q.file << ":" << q.line;
  }
  std::printf("conformance scripts: %zu eval queries; %d/%d that Prometheus evaluates parse; "
              "%d expected to fail (%d of them already at parse time, the rest at evaluation)\n",
              queries.size(), accepted_parsed, accepted, failing, failing_rejected_by_parser);
}

}  // namespace
}  // namespace tyto::promql
