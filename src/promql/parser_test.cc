#include "promql/parser.h"

#include <gtest/gtest.h>

#include <string>

#include "promql/functions.h"

namespace tyto::promql {
namespace {

std::string Canonical(std::string_view q) {
  Result<ExprPtr> e = Parse(q);
  if (!e.ok()) return "ERROR: " + e.status().message();
  return (*e)->String();
}

std::string ErrorOf(std::string_view q, const ParseOptions& o = {}) {
  Result<ExprPtr> e = Parse(q, o);
  if (e.ok()) return "parsed as " + (*e)->String();
  EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
  return e.status().message();
}

struct Valid {
  const char* input;
  const char* canonical;
};

// Canonical forms as Prometheus's expr.String() prints them.
const Valid kValid[] = {
    {"1", "1"},
    {"+1", "1"},
    {"-1", "-1"},
    {"- 1.5e3", "-1500"},
    {"0x1F", "31"},
    {"017", "15"},
    {".5", "0.5"},
    {"Inf", "+Inf"},
    {"-inf", "-Inf"},
    {"NaN", "NaN"},
    {"5m", "5m"},
    {"-5m", "-5m"},
    {"1h30m", "1h30m"},
    {"\"a\\nb\"", "\"a\\nb\""},
    {"'single \"q\"'", "\"single \\\"q\\\"\""},
    {"`raw\\n`", "\"raw\\\\n\""},
    {"foo", "foo"},
    {"foo:bar_baz", "foo:bar_baz"},
    {"foo{}", "foo"},
    {"foo{a=\"b\", c!=\"d\", e=~\"f.*\", g!~\"h\",}", "foo{a=\"b\",c!=\"d\",e=~\"f.*\",g!~\"h\"}"},
    {"{__name__=\"foo\"}", "{__name__=\"foo\"}"},
    {"{\"my.metric\", a=\"b\"}", "{__name__=\"my.metric\",a=\"b\"}"},
    {"foo{\"label.x\"=\"v\"}", "foo{\"label.x\"=\"v\"}"},
    {"by", "by"},
    {"sum", "sum"},
    {"foo offset 5m", "foo offset 5m"},
    {"foo offset -5m", "foo offset -5m"},
    {"foo OFFSET 1h", "foo offset 1h"},
    {"foo @ 10", "foo @ 10.000"},
    {"foo @ 1.5 offset 1m", "foo @ 1.500 offset 1m"},
    {"foo offset 1m @ start()", "foo @ start() offset 1m"},
    {"foo @ end()", "foo @ end()"},
    {"foo[5m]", "foo[5m]"},
    {"foo[1001ms]", "foo[1s1ms]"},  // 1.001 s is 1000.999... ms in binary: rounded, not truncated
    {"1.5 + +Inf ^ 1", "1.5 + +(+Inf) ^ 1"},  // a signed number left of ^ keeps its parentheses
    {"Inf ^ 2", "(+Inf) ^ 2"},
    {"foo[5m] offset 1001ms", "foo[5m] offset 1s1ms"},
    {"foo[90s]", "foo[1m30s]"},
    {"foo[5]", "foo[5s]"},
    {"foo[5m] offset 1m", "foo[5m] offset 1m"},
    {"foo[5m] @ 100", "foo[5m] @ 100.000"},
    {"foo[1h:5m]", "foo[1h:5m]"},
    {"foo[1h:]", "foo[1h:]"},
    {"rate(foo[5m])[30m:1m] offset 2m", "rate(foo[5m])[30m:1m] offset 2m"},
    {"(foo)", "(foo)"},
    {"-foo", "-foo"},
    {"-foo ^ 2", "-foo ^ 2"},
    {"1 + 2 * 3", "1 + 2 * 3"},
    {"(1 + 2) * 3", "(1 + 2) * 3"},
    {"2 ^ 3 ^ 2", "2 ^ 3 ^ 2"},
    {"a or b and c unless d", "a or b and c unless d"},
    {"a > bool 1", "a > bool 1"},
    {"1 == bool 1", "1 == bool 1"},
    {"a + on(x, y) b", "a + on (x, y) b"},
    {"a + on() b", "a + on () b"},
    {"a + ignoring(x) b", "a + ignoring (x) b"},
    {"a + ignoring() b", "a + b"},
    {"a * on(x) group_left(y) b", "a * on (x) group_left (y) b"},
    {"a * ignoring(x) group_right b", "a * ignoring (x) group_right () b"},
    {"a and on(x) b", "a and on (x) b"},
    {"a atan2 b", "a atan2 b"},
    {"a + fill(0) b", "a + fill(0) b"},
    {"a + fill_left(5) fill_right(-7) b", "a + fill_left(5) fill_right(-7) b"},
    {"a == bool on(job) fill(NaN) b", "a == bool on (job) fill(NaN) b"},
    {"sum(foo)", "sum(foo)"},
    {"sum by (job) (foo)", "sum by (job) (foo)"},
    {"sum(foo) by (job, instance)", "sum by (job, instance) (foo)"},
    {"SUM(foo) BY (job)", "sum by (job) (foo)"},
    {"sum without (job) (foo)", "sum without (job) (foo)"},
    {"sum by () (foo)", "sum(foo)"},
    {"sum without () (foo)", "sum without () (foo)"},
    {"topk(5, foo)", "topk(5, foo)"},
    {"count_values(\"v\", foo)", "count_values(\"v\", foo)"},
    {"quantile(0.9, foo) by (le)", "quantile by (le) (0.9, foo)"},
    {"limitk(2, foo)", "limitk(2, foo)"},
    {"limit_ratio(0.5, foo)", "limit_ratio(0.5, foo)"},
    {"sum by (\"a.b\") (foo)", "sum by (\"a.b\") (foo)"},
    {"rate(foo[5m])", "rate(foo[5m])"},
    {"histogram_quantile(0.9, sum by (le) (rate(foo_bucket[5m])))",
     "histogram_quantile(0.9, sum by (le) (rate(foo_bucket[5m])))"},
    {"label_replace(up, \"a\", \"$1\", \"b\", \"(.*)\")", "label_replace(up, \"a\", \"$1\", \"b\", \"(.*)\")"},
    {"label_join(up, \"a\", \",\", \"b\", \"c\", \"d\")", "label_join(up, \"a\", \",\", \"b\", \"c\", \"d\")"},
    {"round(foo)", "round(foo)"},
    {"round(foo, 0.5)", "round(foo, 0.5)"},
    {"time()", "time()"},
    {"pi()", "pi()"},
    {"day_of_week()", "day_of_week()"},
    {"vector(1)", "vector(1)"},
    {"scalar(foo) + 1", "scalar(foo) + 1"},
    {"sort_by_label(foo, \"a\", \"b\")", "sort_by_label(foo, \"a\", \"b\")"},
    {"info(foo, {data=~\".*\"})", "info(foo, {data=~\".*\"})"},
    {"info(foo, {})", "info(foo, {})"},
    {"absent_over_time(foo[5m])", "absent_over_time(foo[5m])"},
    {"quantile_over_time(0.5, foo[5m])", "quantile_over_time(0.5, foo[5m])"},
    {"double_exponential_smoothing(foo[5m], 0.5, 0.5)", "double_exponential_smoothing(foo[5m], 0.5, 0.5)"},
    {"foo # trailing comment", "foo"},
    {"foo[26m+4m]", "foo[26m + 4m]"},
    {"foo[2m*(10+5)]", "foo[2m * (10 + 5)]"},
    {"foo[step()]", "foo[step()]"},
    {"foo[min_of(step()+1,1h)]", "foo[min_of(step() + 1, 1h)]"},
    {"foo offset step()", "foo offset step()"},
    {"foo offset -(2*3)", "foo offset -(2 * 3)"},
    {"foo offset 2 ^ 2", "foo offset 2s ^ 2"},
    {"foo[29s+1s:5s+5s]", "foo[29s + 1s:5s + 5s]"},
    {"increase(foo[1m] anchored)", "increase(foo[1m] anchored)"},
    {"rate(foo[1m] smoothed)", "rate(foo[1m] smoothed)"},
    {"foo smoothed", "foo smoothed"},
    // Parsed; the engine refuses functions that cannot take an extended range (as Prometheus).
    {"deriv(foo[3m] smoothed)", "deriv(foo[3m] smoothed)"},
    {"max_over_time(foo[3m] anchored)", "max_over_time(foo[3m] anchored)"},
    {"1 - -1", "1 - -1"},
    {"-1 ^ 2", "-1 ^ 2"},
    {"2 * -foo * 3", "2 * -foo * 3"},
};

TEST(ParserTest, CanonicalForms) {
  for (const Valid& v : kValid) {
    EXPECT_EQ(Canonical(v.input), v.canonical) << "input: " << v.input;
  }
}

TEST(ParserTest, CanonicalFormsReparseToThemselves) {
  for (const Valid& v : kValid) {
    std::string once = Canonical(v.input);
    ASSERT_EQ(once.rfind("ERROR", 0), std::string::npos) << v.input << ": " << once;
    EXPECT_EQ(Canonical(once), once) << "input: " << v.input;
  }
}

TEST(ParserTest, Precedence) {
  // The tree's shape, not only its text: the root's operator.
  auto root_op = [](std::string_view q) {
    Result<ExprPtr> e = Parse(q);
    EXPECT_TRUE(e.ok()) << q;
    if (!e.ok() || (*e)->kind() != NodeKind::kBinary) return std::string("not binary");
    return std::string(BinaryOpName((*e)->As<BinaryExpr>().op));
  };
  EXPECT_EQ(root_op("a or b and c"), "or");
  EXPECT_EQ(root_op("a and b or c"), "or");
  EXPECT_EQ(root_op("a + b * c"), "+");
  EXPECT_EQ(root_op("a * b + c"), "+");
  EXPECT_EQ(root_op("a == b + c"), "==");
  EXPECT_EQ(root_op("a / b atan2 c"), "atan2");  // same level, left-associative
  Result<ExprPtr> pow = Parse("2 ^ 3 ^ 2");
  ASSERT_TRUE(pow.ok());
  EXPECT_EQ((*pow)->As<BinaryExpr>().rhs->kind(), NodeKind::kBinary);  // right-associative
  Result<ExprPtr> sub = Parse("1 - 2 - 3");
  ASSERT_TRUE(sub.ok());
  EXPECT_EQ((*sub)->As<BinaryExpr>().lhs->kind(), NodeKind::kBinary);  // left-associative
  Result<ExprPtr> neg = Parse("-a ^ 2");
  ASSERT_TRUE(neg.ok());
  EXPECT_EQ((*neg)->kind(), NodeKind::kUnary);  // -(a ^ 2)
  Result<ExprPtr> neg_mul = Parse("-a * 2");
  ASSERT_TRUE(neg_mul.ok());
  EXPECT_EQ((*neg_mul)->kind(), NodeKind::kBinary);  // (-a) * 2
}

TEST(ParserTest, TreeContents) {
  Result<ExprPtr> e = Parse("sum by (job) (rate(http_requests_total{code=~\"5..\"}[5m] offset 1m)) / on(job) group_left(team) x");
  ASSERT_TRUE(e.ok()) << e.status().message();
  const auto& div = (*e)->As<BinaryExpr>();
  EXPECT_EQ(div.op, BinaryOp::kDiv);
  ASSERT_TRUE(div.matching.has_value());
  EXPECT_EQ(div.matching->card, Cardinality::kManyToOne);
  EXPECT_TRUE(div.matching->on);
  EXPECT_EQ(div.matching->matching_labels, std::vector<std::string>{"job"});
  EXPECT_EQ(div.matching->include, std::vector<std::string>{"team"});
  const auto& sum = div.lhs->As<AggregateExpr>();
  EXPECT_EQ(sum.op, AggregateOp::kSum);
  EXPECT_EQ(sum.grouping, std::vector<std::string>{"job"});
  const auto& rate = sum.expr->As<Call>();
  EXPECT_EQ(rate.func->name, "rate");
  EXPECT_EQ(rate.type(), ValueType::kVector);
  const auto& ms = rate.args[0]->As<MatrixSelector>();
  EXPECT_EQ(ms.range.value, std::chrono::minutes(5));
  EXPECT_EQ(ms.selector->offset.value, std::chrono::minutes(1));
  EXPECT_EQ(ms.selector->name, "http_requests_total");
  ASSERT_EQ(ms.selector->matchers.size(), 2u);
  EXPECT_EQ(ms.selector->matchers.back().name(), "__name__");
  EXPECT_TRUE(ms.selector->matchers[0].Matches("503"));
  EXPECT_FALSE(ms.selector->matchers[0].Matches("200"));
  // Positions are byte ranges of the text.
  EXPECT_EQ(sum.pos.start, 0);
  EXPECT_EQ(rate.pos.start, 14);

  Result<ExprPtr> scalar = Parse("1 + 2");
  ASSERT_TRUE(scalar.ok());
  EXPECT_EQ((*scalar)->type(), ValueType::kScalar);
  EXPECT_FALSE((*scalar)->As<BinaryExpr>().matching.has_value());

  Result<ExprPtr> set = Parse("a and b");
  ASSERT_TRUE(set.ok());
  EXPECT_EQ((*set)->As<BinaryExpr>().matching->card, Cardinality::kManyToMany);

  Result<ExprPtr> at = Parse("foo @ 1.5");
  ASSERT_TRUE(at.ok());
  EXPECT_EQ((*at)->As<VectorSelector>().at, AtModifier::kTimestamp);
  EXPECT_EQ((*at)->As<VectorSelector>().timestamp_ms, 1500);
}

TEST(ParserTest, DurationExpressions) {
  Result<ExprPtr> e = Parse("foo[1h/2]");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)->As<MatrixSelector>().range.value, std::chrono::minutes(30));
  EXPECT_TRUE((*e)->As<MatrixSelector>().range.IsConstant());

  Result<ExprPtr> s = Parse("foo[step()*2+1s]");
  ASSERT_TRUE(s.ok());
  const Duration& d = (*s)->As<MatrixSelector>().range;
  EXPECT_FALSE(d.IsConstant());
  Result<std::chrono::milliseconds> v = EvaluateDuration(*d.expr, std::chrono::seconds(10), std::chrono::seconds(0));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, std::chrono::seconds(21));

  Result<ExprPtr> r = Parse("foo offset min_of(range(), 8s)");
  ASSERT_TRUE(r.ok());
  v = EvaluateDuration(*(*r)->As<VectorSelector>().offset.expr, std::chrono::seconds(5), std::chrono::seconds(10));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, std::chrono::seconds(8));

  // offset takes one signed atom: the ^ applies to the whole selector.
  Result<ExprPtr> o = Parse("foo offset -2 ^ 2");
  ASSERT_TRUE(o.ok());
  ASSERT_EQ((*o)->kind(), NodeKind::kBinary);
  EXPECT_EQ((*o)->As<BinaryExpr>().lhs->As<VectorSelector>().offset.value, std::chrono::seconds(-2));
}

struct Invalid {
  const char* input;
  const char* error;
};

const Invalid kInvalid[] = {
    {"", "1:1: parse error: no expression found in input"},
    {"# only a comment", "1:1: parse error: no expression found in input"},
    {"1 +", "1:4: parse error: unexpected end of input"},
    {"*1", "1:1: parse error: unexpected <op:*>"},
    {"(1))", "1:4: parse error: unexpected right parenthesis ')'"},
    {"((1)", "1:5: parse error: unclosed left parenthesis"},
    {"foo{", "1:5: parse error: unexpected end of input inside braces"},
    {"2.5.", "1:1: parse error: bad number or duration syntax: \"2.5.\""},
    {"1 and 1", "1:1: parse error: set operator \"and\" not allowed in binary scalar expression"},
    {"1 == 1", "1:2: parse error: comparisons between scalars must use BOOL modifier"},
    {"1 or on(bar) foo", "1:1: parse error: vector matching only allowed between instant vectors"},
    {"foo + bool bar", "1:4: parse error: bool modifier can only be used on comparison operators"},
    {"foo + group_left(baz) bar", "1:7: parse error: unexpected <group_left>"},
    {"foo and on(bar) group_left(baz) bar", "1:1: parse error: no grouping allowed for \"and\" operation"},
    {"foo * on(instance) group_left(instance) bar",
     "1:4: parse error: label \"instance\" must not occur in ON and GROUP clause at once"},
    {"a - on(b) ignoring(c) d", "1:11: parse error: unexpected <ignoring>"},
    {"-\"string\"", "1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got \"string\""},
    {"-foo[5m]", "1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got \"range vector\""},
    {"foo[5m] + 1", "1:1: parse error: binary expression must contain only scalar and instant vector types"},
    {"1 offset 1d", "1:1: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery"},
    {"foo offset 1s offset 2s", "1:1: parse error: offset may not be set multiple times"},
    {"foo offset 1m [5m]", "1:15: parse error: no offset modifiers allowed before range"},
    {"foo @ 1 [5m]", "1:9: parse error: no @ modifiers allowed before range"},
    {"(foo)[5m]", "1:6: parse error: ranges only allowed for vector selectors"},
    {"foo @ 1 @ 2", "1:1: parse error: @ <timestamp> may not be set multiple times"},
    {"rate(foo[5m]) @ 1", "1:1: parse error: @ modifier must be preceded by an instant vector selector or range vector selector or a subquery"},
    {"foo @ Inf", "1:1: parse error: timestamp out of bounds for @ modifier: +Inf"},
    {"{}", "1:1: parse error: vector selector must contain at least one non-empty matcher"},
    {"{x=~\".*\"}", "1:1: parse error: vector selector must contain at least one non-empty matcher"},
    {"foo{__name__=\"bar\"}", "1:1: parse error: metric name must not be set twice: \"foo\" or \"bar\""},
    {"foo{__name__= =}", "1:15: parse error: unexpected \"=\" in label matching, expected string"},
    {"foo{,}", "1:5: parse error: unexpected \",\" in label matching, expected identifier or \"}\""},
    {"foo{a=\"b\" lol}", "1:11: parse error: unexpected identifier \"lol\" in label matching, expected \",\" or \"}\""},
    {"rate(foo)", "1:6: parse error: expected type range vector in call to function \"rate\", got instant vector"},
    {"floor(1)", "1:7: parse error: expected type instant vector in call to function \"floor\", got scalar"},
    {"floor()", "1:1: parse error: expected 1 argument(s) in call to \"floor\", got 0"},
    {"label_join(foo)", "1:1: parse error: expected at least 3 argument(s) in call to \"label_join\", got 1"},
    {"round(foo, 1, 2)", "1:1: parse error: expected at most 2 argument(s) in call to \"round\", got 3"},
    {"nonexistent(foo)", "1:1: parse error: unknown function with name \"nonexistent\""},
    {"rate(foo[5m],)", "1:13: parse error: trailing commas not allowed in function call args"},
    {"sum(1)", "1:5: parse error: expected type instant vector in aggregation expression, got scalar"},
    {"sum()", "1:1: parse error: no arguments for aggregate expression provided"},
    {"topk(foo)", "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1"},
    {"count_values(5, foo)", "1:14: parse error: expected type string in aggregation parameter, got scalar"},
    {"sum some_metric by (test)", "1:5: parse error: unexpected identifier \"some_metric\" in aggregation"},
    {"sum without(==) (foo)", "1:13: parse error: unexpected <op:==> in grouping opts, expected label"},
    {"sum by (a b) (foo)", "1:11: parse error: unexpected identifier \"b\" in grouping opts, expected \",\" or \")\""},
    {"foo[5m:1m:1m]", "1:10: parse error: unexpected \":\" in subquery selector, expected \"]\""},
    {"foo[5m x]", "1:8: parse error: unexpected identifier \"x\" in subquery or range, expected \":\" or \"]\""},
    {"foo[5m][5m]", "1:8: parse error: ranges only allowed for vector selectors"},
    {"foo[5m][10m:1m]", "1:1: parse error: subquery is only allowed on instant vector, got matrix instead"},
    {"foo[0s]", "1:5: parse error: duration must be greater than 0"},
    {"foo bar", "1:5: parse error: unexpected identifier \"bar\""},
    {"foo\n  + bar +", "2:10: parse error: unexpected end of input"},
    {"\"\\xzz\"", "1:4: parse error: illegal character U+007A 'z' in escape sequence"},
};

TEST(ParserTest, ErrorsAsPrometheusWordsThem) {
  for (const Invalid& v : kInvalid) {
    EXPECT_EQ(ErrorOf(v.input), v.error) << "input: " << v.input;
  }
}

TEST(ParserTest, FeatureFlagsOff) {
  ParseOptions off;
  off.experimental_functions = false;
  off.duration_expressions = false;
  off.extended_range_selectors = false;
  off.fill_modifiers = false;
  EXPECT_EQ(ErrorOf("sort_by_label(foo, \"a\")", off), "1:1: parse error: function \"sort_by_label\" is not enabled");
  EXPECT_EQ(ErrorOf("limitk(1, foo)", off),
            "1:1: parse error: limitk() and limit_ratio() are experimental and must be enabled with "
            "--enable-feature=promql-experimental-functions");
  EXPECT_EQ(ErrorOf("foo[1m+1m]", off),
            "1:7: parse error: unexpected <op:+> in subquery or range, expected \":\" or \"]\"");
  EXPECT_EQ(ErrorOf("rate(foo[1m] anchored)", off), "1:14: parse error: unexpected <anchored>");
  EXPECT_TRUE(Parse("foo offset -5m", off).ok());
}

TEST(ParserTest, DeepNestingIsAnErrorNotACrash) {
  std::string deep(100000, '(');
  deep += "1";
  deep += std::string(100000, ')');
  EXPECT_NE(ErrorOf(deep).find("nests too deeply"), std::string::npos);
  std::string chain = "1";
  for (int i = 0; i < 100000; ++i) chain += "+1";
  EXPECT_NE(ErrorOf(chain).find("nests too deeply"), std::string::npos);
  std::string unary(100000, '-');
  unary += "foo";
  EXPECT_NE(ErrorOf(unary).find("nests too deeply"), std::string::npos);
  // Within the limit, long chains parse.
  std::string ok_chain = "a";
  for (int i = 0; i < 200; ++i) ok_chain += " or a";
  EXPECT_TRUE(Parse(ok_chain).ok());
}

TEST(FunctionsTest, Table) {
  const Function* rate = LookupFunction("rate");
  ASSERT_NE(rate, nullptr);
  EXPECT_EQ(rate->arg_types, std::vector<ValueType>{ValueType::kMatrix});
  EXPECT_EQ(rate->return_type, ValueType::kVector);
  EXPECT_EQ(LookupFunction("RATE"), nullptr);  // function names are case-sensitive
  EXPECT_EQ(LookupFunction("holt_winters"), nullptr);  // removed in Prometheus 3
  EXPECT_EQ(LookupFunction("time")->return_type, ValueType::kScalar);
  for (size_t i = 1; i < AllFunctions().size(); ++i) EXPECT_LT(AllFunctions()[i - 1].name, AllFunctions()[i].name);
}

}  // namespace
}  // namespace tyto::promql
