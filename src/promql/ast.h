// The PromQL syntax tree, as Prometheus 3's parser builds it (promql/parser/ast.go), for the
// evaluation engine to walk.
//
// A tree is produced by promql::Parse (parser.h) and is immutable afterwards: every node owns its
// children (unique_ptr), so a tree is a value that one thread builds and any number of threads may
// then read. Nodes are plain structs; switch on Expr::kind() and use Expr::As<T>() to reach the
// concrete node.
//
// Times and durations are milliseconds, the resolution Prometheus keeps them at. Positions are
// byte offsets into the query text, start inclusive and end exclusive, as Prometheus's
// posrange.PositionRange.
//
// What the parser guarantees about a tree it returns (the type checks of Prometheus's checkAST):
// a MatrixSelector's selector is a VectorSelector without offset or @; a Call has as many
// arguments as its Function allows, each of the declared type; an AggregateExpr has a param
// exactly when its op takes one; a BinaryExpr has `matching` exactly when both sides are instant
// vectors, and `return_bool` only on comparisons; set operators only join instant vectors.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tyto/matcher.h"

namespace tyto::promql {

// The type an expression evaluates to. kNone only for an unknown function's return (never in a
// tree the parser returns).
enum class ValueType { kNone, kScalar, kVector, kMatrix, kString };

// "scalar", "instant vector", "range vector", "string" (as Prometheus's error messages say).
std::string_view ValueTypeName(ValueType t);
// "scalar", "vector", "matrix", "string" (the resultType the HTTP API reports).
std::string_view ValueTypeApiName(ValueType t);

struct PositionRange {
  int start = 0;  // byte offset, inclusive
  int end = 0;    // byte offset, exclusive
};

enum class BinaryOp {
  kAdd, kSub, kMul, kDiv, kMod, kPow, kAtan2,      // arithmetic (atan2 is a keyword operator)
  kEql, kNeq, kGtr, kLss, kGte, kLte,               // comparison: == != > < >= <=
  kAnd, kOr, kUnless,                               // set operators
  kTrimUpper, kTrimLower,  // </ and >/ : trim native histograms' buckets above/below a value
};
std::string_view BinaryOpName(BinaryOp op);  // "+", "==", "and", "atan2", ...
bool IsComparison(BinaryOp op);
bool IsSetOperator(BinaryOp op);

enum class AggregateOp {
  kSum, kAvg, kCount, kMin, kMax, kGroup, kStddev, kStdvar,
  kTopk, kBottomk, kQuantile, kCountValues, kLimitk, kLimitRatio,
};
std::string_view AggregateOpName(AggregateOp op);  // "sum", "count_values", ...
// topk, bottomk, quantile, count_values, limitk, limit_ratio take a parameter before the vector.
bool AggregateTakesParam(AggregateOp op);

// The @ modifier: none, a fixed timestamp, or the query's start()/end().
enum class AtModifier { kNone, kTimestamp, kStart, kEnd };

enum class NodeKind {
  kNumberLiteral,
  kStringLiteral,
  kVectorSelector,
  kMatrixSelector,
  kSubquery,
  kParen,
  kUnary,
  kBinary,
  kAggregate,
  kCall,
  kDuration,  // arithmetic on durations (experimental duration expressions)
};

class Expr {
 public:
  explicit Expr(NodeKind kind) : kind_(kind) {}
  virtual ~Expr() = default;
  Expr(const Expr&) = delete;
  Expr& operator=(const Expr&) = delete;

  NodeKind kind() const { return kind_; }
  virtual ValueType type() const = 0;
  // Where the expression is in the query text.
  virtual PositionRange position() const = 0;

  // The canonical text, as Prometheus's expr.String(): parsing it gives the same tree.
  std::string String() const;

  // Precondition: kind() is T::kKind (a bug otherwise).
  template <typename T>
  const T& As() const {
    return static_cast<const T&>(*this);
  }
  template <typename T>
  T& As() {
    return static_cast<T&>(*this);
  }

 private:
  NodeKind kind_;
};

using ExprPtr = std::unique_ptr<Expr>;

struct NumberLiteral final : Expr {
  static constexpr NodeKind kKind = NodeKind::kNumberLiteral;
  NumberLiteral() : Expr(kKind) {}
  ValueType type() const override { return ValueType::kScalar; }
  PositionRange position() const override { return pos; }

  double value = 0;
  // Written as a duration ("5m"), which String() keeps; value is in seconds either way.
  bool duration = false;
  PositionRange pos;
};

struct StringLiteral final : Expr {
  static constexpr NodeKind kKind = NodeKind::kStringLiteral;
  StringLiteral() : Expr(kKind) {}
  ValueType type() const override { return ValueType::kString; }
  PositionRange position() const override { return pos; }

  std::string value;  // unescaped
  PositionRange pos;
};

// An offset or range written as an expression (`foo[2m*15]`, `offset step()`): BinaryOp
// arithmetic (+ - * / % ^) on NumberLiterals, unary minus, step(), range(), min_of(a, b),
// max_of(a, b). Values are seconds. The parser folds those that do not use step() or range()
// into the owning node's milliseconds and keeps the expression for printing; those that do are
// left for the engine to evaluate with EvaluateDuration (parser.h).
struct DurationExpr final : Expr {
  static constexpr NodeKind kKind = NodeKind::kDuration;
  enum class Op { kBinary, kNegate, kStep, kRange, kMinOf, kMaxOf };
  DurationExpr() : Expr(kKind) {}
  ValueType type() const override { return ValueType::kScalar; }
  PositionRange position() const override { return pos; }

  Op op = Op::kBinary;
  BinaryOp binary = BinaryOp::kAdd;  // for kBinary
  ExprPtr lhs;                       // kBinary, kMinOf, kMaxOf
  ExprPtr rhs;                       // kBinary, kNegate (the operand), kMinOf, kMaxOf
  bool wrapped = false;              // written inside parentheses
  PositionRange pos;
};

// A duration slot of a selector or subquery (range, step, offset): its value, and the
// expression it was written as when it was more than a literal.
struct Duration {
  std::chrono::milliseconds value{0};
  // Non-null for duration expressions; when it uses step() or range(), `value` is 0 until the
  // engine evaluates it.
  std::unique_ptr<DurationExpr> expr;
  // Whether `value` is final (no step()/range() inside).
  bool IsConstant() const;
};

// metric{label="value", ...} [offset d] [@ t]
struct VectorSelector final : Expr {
  static constexpr NodeKind kKind = NodeKind::kVectorSelector;
  VectorSelector() : Expr(kKind) {}
  ValueType type() const override { return ValueType::kVector; }
  PositionRange position() const override { return pos; }

  std::string name;               // the metric name written before '{', or ""
  std::vector<Matcher> matchers;  // every matcher, including __name__="<name>" for `name`
  Duration offset;                // the offset as written (negative for `offset -5m`)
  AtModifier at = AtModifier::kNone;
  int64_t timestamp_ms = 0;       // for AtModifier::kTimestamp
  // Extended range selectors (experimental): `foo[5m] anchored`, `foo smoothed`.
  bool anchored = false;
  bool smoothed = false;
  // The selector is info()'s second argument, which may match the empty string.
  bool bypass_empty_matcher_check = false;
  PositionRange pos;
};

// selector[range]; the selector's offset and @ (written after the range) apply to it.
struct MatrixSelector final : Expr {
  static constexpr NodeKind kKind = NodeKind::kMatrixSelector;
  MatrixSelector() : Expr(kKind) {}
  ValueType type() const override { return ValueType::kMatrix; }
  PositionRange position() const override { return {selector->pos.start, end}; }

  std::unique_ptr<VectorSelector> selector;
  Duration range;
  int end = 0;  // position after the closing bracket (or modifiers that follow it)
};

// expr[range:step] [offset d] [@ t]; a step of 0 means the engine's default (the query step,
// or the global evaluation interval).
struct SubqueryExpr final : Expr {
  static constexpr NodeKind kKind = NodeKind::kSubquery;
  SubqueryExpr() : Expr(kKind) {}
  ValueType type() const override { return ValueType::kMatrix; }
  PositionRange position() const override { return {expr->position().start, end}; }

  ExprPtr expr;
  Duration range;
  Duration step;
  Duration offset;
  AtModifier at = AtModifier::kNone;
  int64_t timestamp_ms = 0;
  int end = 0;
};

struct ParenExpr final : Expr {
  static constexpr NodeKind kKind = NodeKind::kParen;
  ParenExpr() : Expr(kKind) {}
  ValueType type() const override { return expr->type(); }
  PositionRange position() const override { return pos; }

  ExprPtr expr;
  PositionRange pos;
};

// -expr or +expr (a minus before a number literal is folded into the literal instead).
struct UnaryExpr final : Expr {
  static constexpr NodeKind kKind = NodeKind::kUnary;
  UnaryExpr() : Expr(kKind) {}
  ValueType type() const override { return expr->type(); }
  PositionRange position() const override { return {start, expr->position().end}; }

  BinaryOp op = BinaryOp::kSub;  // kSub or kAdd
  ExprPtr expr;
  int start = 0;
};

enum class Cardinality { kOneToOne, kManyToOne, kOneToMany, kManyToMany };
std::string_view CardinalityName(Cardinality c);  // "one-to-one", ...

// How the elements of two instant vectors pair up in a binary operation.
struct VectorMatching {
  Cardinality card = Cardinality::kOneToOne;
  // on(labels) when `on`, otherwise ignoring(labels) (empty: all labels but the name).
  std::vector<std::string> matching_labels;
  bool on = false;
  // group_left(labels)/group_right(labels): labels copied from the "one" side.
  std::vector<std::string> include;
  // fill(v), fill_left(v), fill_right(v) (experimental): the value a side without a match
  // contributes instead of dropping the other side's element.
  std::optional<double> fill_left;
  std::optional<double> fill_right;
};

struct BinaryExpr final : Expr {
  static constexpr NodeKind kKind = NodeKind::kBinary;
  BinaryExpr() : Expr(kKind) {}
  ValueType type() const override;  // scalar when both sides are, otherwise instant vector
  PositionRange position() const override { return {lhs->position().start, rhs->position().end}; }

  BinaryOp op = BinaryOp::kAdd;
  ExprPtr lhs;
  ExprPtr rhs;
  bool return_bool = false;  // comparisons only: 0/1 instead of filtering
  // Present exactly when both sides are instant vectors.
  std::optional<VectorMatching> matching;
};

struct AggregateExpr final : Expr {
  static constexpr NodeKind kKind = NodeKind::kAggregate;
  AggregateExpr() : Expr(kKind) {}
  ValueType type() const override { return ValueType::kVector; }
  PositionRange position() const override { return pos; }

  AggregateOp op = AggregateOp::kSum;
  ExprPtr expr;   // the instant vector aggregated
  ExprPtr param;  // k, φ, the label name, or the ratio; null when the op takes none
  std::vector<std::string> grouping;
  bool without = false;  // grouping lists labels to drop rather than keep
  PositionRange pos;
};

struct Function;  // functions.h

struct Call final : Expr {
  static constexpr NodeKind kKind = NodeKind::kCall;
  Call() : Expr(kKind) {}
  ValueType type() const override;
  PositionRange position() const override { return pos; }

  const Function* func = nullptr;  // static storage; never null in a parsed tree
  std::vector<ExprPtr> args;
  PositionRange pos;
};

// The query as Prometheus's expr.Pretty(0) prints it, which its /api/v1/format_query answers
// (pretty.cc): a node whose String() is longer than max_line_length bytes opens up over several
// lines, its children indented by two spaces per level; one that fits stays on one line.
// Parsing the result gives the same tree. Other limits than Prometheus's 100 are for tests.
inline constexpr size_t kPrettyLineLength = 100;
std::string Pretty(const Expr& e, size_t max_line_length = kPrettyLineLength);

// Calls `f(child)` for each direct child expression, in the order they appear in the text.
// Duration expressions of selectors and subqueries are not children (they are part of the node).
template <typename F>
void ForEachChild(const Expr& e, F&& f) {
  switch (e.kind()) {
    case NodeKind::kMatrixSelector: f(static_cast<const Expr&>(*e.As<MatrixSelector>().selector)); break;
    case NodeKind::kSubquery: f(*e.As<SubqueryExpr>().expr); break;
    case NodeKind::kParen: f(*e.As<ParenExpr>().expr); break;
    case NodeKind::kUnary: f(*e.As<UnaryExpr>().expr); break;
    case NodeKind::kBinary:
      f(*e.As<BinaryExpr>().lhs);
      f(*e.As<BinaryExpr>().rhs);
      break;
    case NodeKind::kAggregate:
      if (e.As<AggregateExpr>().param) f(*e.As<AggregateExpr>().param);
      f(*e.As<AggregateExpr>().expr);
      break;
    case NodeKind::kCall:
      for (const ExprPtr& a : e.As<Call>().args) f(*a);
      break;
    case NodeKind::kDuration:
      if (e.As<DurationExpr>().lhs) f(*e.As<DurationExpr>().lhs);
      if (e.As<DurationExpr>().rhs) f(*e.As<DurationExpr>().rhs);
      break;
    case NodeKind::kNumberLiteral:
    case NodeKind::kStringLiteral:
    case NodeKind::kVectorSelector:
      break;
  }
}

}  // namespace tyto::promql
