// Pretty(): Prometheus's expr.Pretty(0), the text /api/v1/format_query answers. The cases follow
// the behaviour Prometheus's prettier tests document, mostly with a line limit of 10 so that
// short queries already split; every case, and every query of Prometheus's own PromQL scripts,
// must parse back to the tree it was printed from.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "promql/ast.h"
#include "promql/parser.h"

namespace tyto::promql {
namespace {

// The pretty text of `query`, after checking that it parses back to the same tree.
std::string PrettyOf(std::string_view query, size_t limit) {
  Result<ExprPtr> e = Parse(query);
  if (!e.ok()) return "ERROR: " + e.status().message();
  std::string pretty = Pretty(**e, limit);
  Result<ExprPtr> again = Parse(pretty);
  EXPECT_TRUE(again.ok()) << query << "\nprinted as\n" << pretty;
  if (again.ok()) {
    EXPECT_EQ((*again)->String(), (*e)->String()) << pretty;
  }
  return pretty;
}

struct Case {
  const char* input;
  const char* pretty;
};

void ExpectAll(const std::vector<Case>& cases, size_t limit) {
  for (const Case& c : cases) {
    EXPECT_EQ(PrettyOf(c.input, limit), c.pretty) << c.input;
  }
}

TEST(PrettyTest, AggregationsOpenTheirBody) {
  ExpectAll({
      {"sum(bar)", "sum(bar)"},
      // An empty by() is no grouping; a grouping written after the body moves before it.
      {R"(sum by () (http:reqs:rate5m{job="a"}))", "sum(\n  http:reqs:rate5m{job=\"a\"}\n)"},
      {R"(sum(http:reqs:rate5m{job="a"}) without(job,le))",
       "sum without (job, le) (\n  http:reqs:rate5m{job=\"a\"}\n)"},
      {R"(count by(job,le) (http:reqs:rate5m{job="a"}))",
       "count by (job, le) (\n  http:reqs:rate5m{job=\"a\"}\n)"},
      {R"(sum without() (http:reqs:rate5m{job="a"}))",
       "sum without () (\n  http:reqs:rate5m{job=\"a\"}\n)"},
      // The parameter is the first line of the body.
      {R"(bottomk(3, http:reqs:rate5m{job="a"}))", "bottomk(\n  3,\n  http:reqs:rate5m{job=\"a\"}\n)"},
      {R"(count_values("v", foo_metric))", "count_values(\n  \"v\",\n  foo_metric\n)"},
      {"avg by(job) (avg by(job) (x_long_name))",
       "avg by (job) (\n  avg by (job) (\n    x_long_name\n  )\n)"},
      {"max by(a) (max by(a) (max by(a) (metric)))",
       "max by (a) (\n  max by (a) (\n    max by (a) (\n      metric\n    )\n  )\n)"},
  }, 10);
}

TEST(PrettyTest, BinaryExpressionsPutTheOperatorBetweenIndentedSides) {
  ExpectAll({
      {"x+y", "x + y"},
      {"x != bool 1", "  x\n!= bool\n  1"},
      {"x - ignoring(job) y", "  x\n- ignoring (job)\n  y"},
      {"x and on() y", "  x\nand on ()\n  y"},
      {"metric_a * metric_b", "  metric_a\n*\n  metric_b"},
      // Left-associative chains nest to the left, one level per operator.
      {"metric_a / metric_b / metric_c", "    metric_a\n  /\n    metric_b\n/\n  metric_c"},
      {"mm_a - mm_b - mm_c - mm_d", "      mm_a\n    -\n      mm_b\n  -\n    mm_c\n-\n  mm_d"},
      // A side that fits stays on one line.
      {"ab + cde + metric_c", "  ab + cde\n+\n  metric_c"},
      {"m_1 + on(x) group_left m_2 - ignoring(y) group_right(z) m_3",
       "    m_1\n  + on (x) group_left ()\n    m_2\n- ignoring (y) group_right (z)\n  m_3"},
      {"metric_a atan2 metric_b", "  metric_a\natan2\n  metric_b"},
      // ^ is right-associative.
      {"pow_a ^ pow_b ^ pow_c", "  pow_a\n^\n    pow_b\n  ^\n    pow_c"},
  }, 10);
}

TEST(PrettyTest, FillModifiersStayOnTheOperatorLine) {
  // The operator line carries the modifiers exactly as String() prints them.
  for (const char* modifiers : {"fill(0)", "fill_left(1) fill_right(-2)", "on (job) group_left () fill(NaN)"}) {
    const std::string op = std::string("+ ") + modifiers;
    Result<ExprPtr> shortest = Parse("a " + op + " b");
    ASSERT_TRUE(shortest.ok()) << shortest.status().message();
    const std::string printed = (*shortest)->String();
    const std::string op_line = printed.substr(2, printed.size() - 4);
    EXPECT_EQ(PrettyOf("metric_a " + op + " metric_b", 10), "  metric_a\n" + op_line + "\n  metric_b");
  }
}

TEST(PrettyTest, CallsPutOneArgumentPerLine) {
  ExpectAll({
      {"time()", "time()"},
      {"irate(foo[5m])", "irate(\n  foo[5m]\n)"},
      {"histogram_quantile(0.99, irate(foo[5m]))",
       "histogram_quantile(\n  0.99,\n  irate(\n    foo[5m]\n  )\n)"},
      {R"(label_join(up{a="b"}, "dst", ",", "s1", "s2"))",
       "label_join(\n  up{a=\"b\"},\n  \"dst\",\n  \",\",\n  \"s1\",\n  \"s2\"\n)"},
      {R"q(label_replace(label_replace(up{a="b"}, "d", "$1", "s", "(.*)"), "e", "$1", "s", "(.*)"))q",
       "label_replace(\n  label_replace(\n    up{a=\"b\"},\n    \"d\",\n    \"$1\",\n    \"s\",\n    \"(.*)\"\n  ),\n"
       "  \"e\",\n  \"$1\",\n  \"s\",\n  \"(.*)\"\n)"},
  }, 10);
}

TEST(PrettyTest, SubqueriesSplitTheirInnerExpression) {
  ExpectAll({
      // A long subquery of a selector: the selector cannot split, the suffix follows it.
      {"deriv(long_metric[10m:1m] @ end() offset 2m)", "deriv(\n  long_metric[10m:1m] @ end() offset 2m\n)"},
      {"min_over_time(irate(some_metric_total[5m])[30m:] offset 5m)",
       "min_over_time(\n  irate(\n    some_metric_total[5m]\n  )[30m:] offset 5m\n)"},
      // A subquery that fits prints without indent, as Prometheus's SubqueryExpr.Pretty does.
      {"max_over_time(m[5m:])", "max_over_time(\nm[5m:]\n)"},
  }, 10);
}

TEST(PrettyTest, ParensOpenWhenTheyDoNotFit) {
  ExpectAll({
      {"(bar)", "(bar)"},
      {"(long_metric)", "(\n  long_metric\n)"},
      {"((metric_x))", "(\n  (metric_x)\n)"},
      {"((long_metric))", "(\n  (\n    long_metric\n  )\n)"},
      {"(((metric_x)))", "(\n  (\n    (metric_x)\n  )\n)"},
      {"(1 + 2)", "(1 + 2)"},
      {"(foo + bar)", "(\n  foo + bar\n)"},
      {"(metric_a + metric_b)", "(\n    metric_a\n  +\n    metric_b\n)"},
      {"((metric_a + metric_b) + metric_c)",
       "(\n    (\n        metric_a\n      +\n        metric_b\n    )\n  +\n    metric_c\n)"},
      {"(1111 + 2222)", "(\n    1111\n  +\n    2222\n)"},
  }, 10);
}

TEST(PrettyTest, SelectorsAndLiteralsNeverSplit) {
  ExpectAll({
      {"x @ 5", "x @ 5.000"},
      {"long_metric @ start()", "long_metric @ start()"},
      {"long_metric offset 5m", "long_metric offset 5m"},
      {R"(long_metric{b="2",a="1"}[5m] offset -1h)", R"(long_metric{a="1",b="2"}[5m] offset -1h)"},
      {R"("a long string literal")", R"("a long string literal")"},
      {"123456789012345", "123456789012345"},
      // Duration expressions print inside their selector.
      {"irate(foo[3*1h])", "irate(\n  foo[3 * 1h]\n)"},
      {"irate(foo[-2m+10m])", "irate(\n  foo[-2m + 10m]\n)"},
  }, 10);
}

TEST(PrettyTest, UnaryPrintsItsOperatorBeforeTheChild) {
  ExpectAll({
      {"-5", "-5"},
      {"-long_metric", "-long_metric"},
      {"(-long_metric)", "(\n  -long_metric\n)"},
      {"-histogram_quantile(0.5, irate(foo[5m]))",
       "-histogram_quantile(\n  0.5,\n  irate(\n    foo[5m]\n  )\n)"},
      {"-histogram_quantile(0.5, -irate(foo[5m] @ end()))",
       "-histogram_quantile(\n  0.5,\n  -irate(\n    foo[5m] @ end()\n  )\n)"},
      // ^ binds tighter than the sign: the sign opens the first line of the split power.
      {"-metric_a ^ metric_b", "-metric_a\n^\n  metric_b"},
  }, 10);
}

TEST(PrettyTest, SignedNumberLeftOfPowerKeepsItsParentheses) {
  EXPECT_EQ(PrettyOf("(-1) ^ metric_b", 10), "  (-1)\n^\n  metric_b");
  EXPECT_EQ(PrettyOf("(+Inf) ^ metric_b", 10), "  (+Inf)\n^\n  metric_b");
}

TEST(PrettyTest, PrometheusLimitIsOneHundredCharacters) {
  // 100 characters stay on one line; 101 split.
  const std::string hundred = "sum by (job) (rate(http_requests_total{handler=\"/api/v1/query\",job=\"prometheus\"}[5m])) > 0.123456789";
  ASSERT_EQ(hundred.size(), 100u);
  EXPECT_EQ(PrettyOf(hundred, kPrettyLineLength), hundred);
  Result<ExprPtr> e = Parse(hundred);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(Pretty(**e), hundred);

  ExpectAll({
      {"sum by (job) (rate(http_requests_total{handler=\"/api/v1/query\",job=\"prometheus\"}[5m])) > 0.1234567891",
       "  sum by (job) (rate(http_requests_total{handler=\"/api/v1/query\",job=\"prometheus\"}[5m]))\n"
       ">\n"
       "  0.1234567891"},
      {"(node_filesystem_avail_bytes{job=\"node\",fstype!=\"\"} / node_filesystem_size_bytes{job=\"node\","
       "fstype!=\"\"} * 100 < 10 and node_filesystem_readonly{job=\"node\",fstype!=\"\"} == 0)",
       "(\n"
       "          node_filesystem_avail_bytes{fstype!=\"\",job=\"node\"}\n"
       "        /\n"
       "          node_filesystem_size_bytes{fstype!=\"\",job=\"node\"}\n"
       "      *\n"
       "        100\n"
       "    <\n"
       "      10\n"
       "  and\n"
       "    node_filesystem_readonly{fstype!=\"\",job=\"node\"} == 0\n"
       ")"},
      {"histogram_quantile(0.99, sum by (le, job) (rate(apiserver_request_duration_seconds_bucket{verb!=\"WATCH\"}[5m])))",
       "histogram_quantile(\n"
       "  0.99,\n"
       "  sum by (le, job) (rate(apiserver_request_duration_seconds_bucket{verb!=\"WATCH\"}[5m]))\n"
       ")"},
  }, kPrettyLineLength);
}

// The queries of Prometheus's PromQL scripts (read in place, never copied), as
// conformance_parse_test.cc reads them.
std::vector<std::string> ConformanceQueries() {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(TYTO_PROMQL_CONFORMANCE_DIR)) {
    if (entry.path().extension() == ".test") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  const std::regex eval(R"(^eval(_fail|_warn|_info|_ordered)?\s+(instant\s+at|range\s+from\s+\S+\s+to\s+\S+\s+step)\s+\S+\s+(.*)$)");
  std::vector<std::string> out;
  for (const auto& path : files) {
    std::ifstream in(path);
    std::string line;
    std::smatch m;
    while (std::getline(in, line)) {
      if (std::regex_match(line, m, eval)) out.push_back(m[3].str());
    }
  }
  return out;
}

TEST(PrettyTest, EveryConformanceQueryParsesBackToTheSameTree) {
  const std::vector<std::string> queries = ConformanceQueries();
  ASSERT_GT(queries.size(), 2000u) << "conformance scripts not found in " << TYTO_PROMQL_CONFORMANCE_DIR;
  int parsed = 0;
  int split = 0;
  for (const std::string& q : queries) {
    Result<ExprPtr> e = Parse(q);
    if (!e.ok()) continue;  // queries meant to fail
    ++parsed;
    const std::string canonical = (*e)->String();
    // Prometheus's limit, a small one, and 0 (every node that can open does).
    for (size_t limit : {kPrettyLineLength, size_t{20}, size_t{0}}) {
      const std::string pretty = Pretty(**e, limit);
      if (canonical.size() <= limit) {
        EXPECT_EQ(pretty, canonical);
      }
      if (limit == kPrettyLineLength && pretty != canonical) ++split;
      Result<ExprPtr> again = Parse(pretty);
      ASSERT_TRUE(again.ok()) << q << "\nprinted with limit " << limit << " as\n" << pretty << "\n"
                              << again.status().message();
      EXPECT_EQ((*again)->String(), canonical) << q << "\nprinted with limit " << limit << " as\n" << pretty;
    }
  }
  EXPECT_GT(parsed, 2000);
  std::printf("pretty: %d conformance queries print and parse back at limits 100, 20 and 0; "
              "%d of them are longer than 100 characters\n", parsed, split);
}

}  // namespace
}  // namespace tyto::promql
