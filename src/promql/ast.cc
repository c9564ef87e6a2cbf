// Names of the AST's enums and the canonical printer (Prometheus's promql/parser/printer.go).
#include "promql/ast.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "common/units.h"
#include "promql/functions.h"
#include "promql/lex.h"

namespace tyto::promql {

std::string_view ValueTypeName(ValueType t) {
  switch (t) {
    case ValueType::kNone: return "none";
    case ValueType::kScalar: return "scalar";
    case ValueType::kVector: return "instant vector";
    case ValueType::kMatrix: return "range vector";
    case ValueType::kString: return "string";
  }
  return "none";
}

std::string_view ValueTypeApiName(ValueType t) {
  switch (t) {
    case ValueType::kNone: return "none";
    case ValueType::kScalar: return "scalar";
    case ValueType::kVector: return "vector";
    case ValueType::kMatrix: return "matrix";
    case ValueType::kString: return "string";
  }
  return "none";
}

std::string_view BinaryOpName(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd: return "+";
    case BinaryOp::kSub: return "-";
    case BinaryOp::kMul: return "*";
    case BinaryOp::kDiv: return "/";
    case BinaryOp::kMod: return "%";
    case BinaryOp::kPow: return "^";
    case BinaryOp::kAtan2: return "atan2";
    case BinaryOp::kEql: return "==";
    case BinaryOp::kNeq: return "!=";
    case BinaryOp::kGtr: return ">";
    case BinaryOp::kLss: return "<";
    case BinaryOp::kGte: return ">=";
    case BinaryOp::kLte: return "<=";
    case BinaryOp::kAnd: return "and";
    case BinaryOp::kOr: return "or";
    case BinaryOp::kUnless: return "unless";
    case BinaryOp::kTrimUpper: return "</";
    case BinaryOp::kTrimLower: return ">/";
  }
  return "?";
}

bool IsComparison(BinaryOp op) {
  switch (op) {
    case BinaryOp::kEql:
    case BinaryOp::kNeq:
    case BinaryOp::kGtr:
    case BinaryOp::kLss:
    case BinaryOp::kGte:
    case BinaryOp::kLte:
      return true;
    default:
      return false;
  }
}

bool IsSetOperator(BinaryOp op) {
  return op == BinaryOp::kAnd || op == BinaryOp::kOr || op == BinaryOp::kUnless;
}

std::string_view AggregateOpName(AggregateOp op) {
  switch (op) {
    case AggregateOp::kSum: return "sum";
    case AggregateOp::kAvg: return "avg";
    case AggregateOp::kCount: return "count";
    case AggregateOp::kMin: return "min";
    case AggregateOp::kMax: return "max";
    case AggregateOp::kGroup: return "group";
    case AggregateOp::kStddev: return "stddev";
    case AggregateOp::kStdvar: return "stdvar";
    case AggregateOp::kTopk: return "topk";
    case AggregateOp::kBottomk: return "bottomk";
    case AggregateOp::kQuantile: return "quantile";
    case AggregateOp::kCountValues: return "count_values";
    case AggregateOp::kLimitk: return "limitk";
    case AggregateOp::kLimitRatio: return "limit_ratio";
  }
  return "?";
}

bool AggregateTakesParam(AggregateOp op) {
  switch (op) {
    case AggregateOp::kTopk:
    case AggregateOp::kBottomk:
    case AggregateOp::kQuantile:
    case AggregateOp::kCountValues:
    case AggregateOp::kLimitk:
    case AggregateOp::kLimitRatio:
      return true;
    default:
      return false;
  }
}

std::string_view CardinalityName(Cardinality c) {
  switch (c) {
    case Cardinality::kOneToOne: return "one-to-one";
    case Cardinality::kManyToOne: return "many-to-one";
    case Cardinality::kOneToMany: return "one-to-many";
    case Cardinality::kManyToMany: return "many-to-many";
  }
  return "?";
}

ValueType BinaryExpr::type() const {
  if (lhs->type() == ValueType::kScalar && rhs->type() == ValueType::kScalar) return ValueType::kScalar;
  return ValueType::kVector;
}

ValueType Call::type() const { return func != nullptr ? func->return_type : ValueType::kNone; }

namespace {

bool UsesStepOrRange(const Expr& e) {
  if (e.kind() == NodeKind::kDuration) {
    auto op = e.As<DurationExpr>().op;
    if (op == DurationExpr::Op::kStep || op == DurationExpr::Op::kRange) return true;
  }
  bool found = false;
  ForEachChild(e, [&](const Expr& c) { found = found || UsesStepOrRange(c); });
  return found;
}

// Go's strconv.FormatFloat(v, 'f', -1, 64), with Prometheus's spelling of the infinities.
std::string FormatNumber(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[400];
  auto r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
  return std::string(buf, r.ptr);
}

std::string FormatSeconds(double seconds) {
  return FormatDuration(std::chrono::milliseconds(std::llround(seconds * 1000)));
}

void PrintDuration(const Duration& d, std::string& out) {
  if (d.expr) {
    out += d.expr->String();
  } else {
    out += FormatDuration(d.value);
  }
}

// " @ 10.000", " @ start()", or "".
void PrintAt(AtModifier at, int64_t ts, std::string& out) {
  switch (at) {
    case AtModifier::kNone: break;
    case AtModifier::kStart: out += " @ start()"; break;
    case AtModifier::kEnd: out += " @ end()"; break;
    case AtModifier::kTimestamp: {
      char buf[64];
      std::snprintf(buf, sizeof(buf), " @ %.3f", static_cast<double>(ts) / 1000.0);
      out += buf;
      break;
    }
  }
}

void PrintOffset(const Duration& d, std::string& out) {
  if (d.expr) {
    out += " offset ";
    out += d.expr->String();
  } else if (d.value.count() != 0) {
    out += " offset ";
    out += FormatDuration(d.value);  // "-5m" for negative offsets
  }
}

void PrintLabelList(const std::vector<std::string>& labels, std::string& out) {
  out += '(';
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out += ", ";
    out += IsLegacyLabelName(labels[i]) ? labels[i] : GoQuote(labels[i]);
  }
  out += ')';
}

std::string MatcherString(const Matcher& m) {
  std::string s = IsLegacyLabelName(m.name()) ? m.name() : GoQuote(m.name());
  switch (m.type()) {
    case MatchType::kEqual: s += "="; break;
    case MatchType::kNotEqual: s += "!="; break;
    case MatchType::kRegexMatch: s += "=~"; break;
    case MatchType::kRegexNoMatch: s += "!~"; break;
  }
  s += GoQuote(m.value());
  return s;
}

// The selector without its modifiers.
void PrintSelectorBody(const VectorSelector& vs, std::string& out) {
  std::vector<std::string> parts;
  for (const Matcher& m : vs.matchers) {
    if (m.name() == "__name__" && m.type() == MatchType::kEqual && m.value() == vs.name && !vs.name.empty()) continue;
    parts.push_back(MatcherString(m));
  }
  std::sort(parts.begin(), parts.end());
  bool legacy_name = vs.name.empty() || IsLegacyMetricName(vs.name);
  if (!legacy_name) parts.insert(parts.begin(), GoQuote(vs.name));
  if (legacy_name) out += vs.name;
  if (parts.empty() && !vs.name.empty()) return;  // `{}` (allowed in info()) keeps its braces
  out += '{';
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += ',';
    out += parts[i];
  }
  out += '}';
}

void PrintSelectorModifiers(const VectorSelector& vs, std::string& out) {
  PrintAt(vs.at, vs.timestamp_ms, out);
  PrintOffset(vs.offset, out);
  if (vs.anchored) out += " anchored";
  if (vs.smoothed) out += " smoothed";
}

void Print(const Expr& e, std::string& out) {
  switch (e.kind()) {
    case NodeKind::kNumberLiteral: {
      const auto& n = e.As<NumberLiteral>();
      out += n.duration ? FormatSeconds(n.value) : FormatNumber(n.value);
      break;
    }
    case NodeKind::kStringLiteral:
      out += GoQuote(e.As<StringLiteral>().value);
      break;
    case NodeKind::kVectorSelector: {
      const auto& vs = e.As<VectorSelector>();
      PrintSelectorBody(vs, out);
      PrintSelectorModifiers(vs, out);
      break;
    }
    case NodeKind::kMatrixSelector: {
      const auto& ms = e.As<MatrixSelector>();
      PrintSelectorBody(*ms.selector, out);
      out += '[';
      PrintDuration(ms.range, out);
      out += ']';
      PrintSelectorModifiers(*ms.selector, out);
      break;
    }
    case NodeKind::kSubquery: {
      const auto& sq = e.As<SubqueryExpr>();
      Print(*sq.expr, out);
      out += '[';
      PrintDuration(sq.range, out);
      out += ':';
      if (sq.step.expr || sq.step.value.count() != 0) PrintDuration(sq.step, out);
      out += ']';
      PrintAt(sq.at, sq.timestamp_ms, out);
      PrintOffset(sq.offset, out);
      break;
    }
    case NodeKind::kParen:
      out += '(';
      Print(*e.As<ParenExpr>().expr, out);
      out += ')';
      break;
    case NodeKind::kUnary:
      out += BinaryOpName(e.As<UnaryExpr>().op);
      Print(*e.As<UnaryExpr>().expr, out);
      break;
    case NodeKind::kBinary: {
      const auto& b = e.As<BinaryExpr>();
      // A signed number left of ^ ("+Inf", "-1") would read back as a unary sign over the power
      // (^ binds tighter): parentheses keep the tree (found by the fuzzer: "+Inf ^ 1").
      std::string lhs;
      Print(*b.lhs, lhs);
      if (b.op == BinaryOp::kPow && b.lhs->kind() == NodeKind::kNumberLiteral && !lhs.empty() &&
          (lhs[0] == '+' || lhs[0] == '-')) {
        lhs = "(" + lhs + ")";
      }
      out += lhs;
      out += ' ';
      out += BinaryOpName(b.op);
      if (b.return_bool) out += " bool";
      if (b.matching) {
        const VectorMatching& vm = *b.matching;
        if (!vm.matching_labels.empty() || vm.on) {
          out += vm.on ? " on " : " ignoring ";
          PrintLabelList(vm.matching_labels, out);
          if (vm.card == Cardinality::kManyToOne || vm.card == Cardinality::kOneToMany) {
            out += vm.card == Cardinality::kManyToOne ? " group_left " : " group_right ";
            PrintLabelList(vm.include, out);
          }
        }
        if (vm.fill_left && vm.fill_right && (*vm.fill_left == *vm.fill_right ||
                                              (std::isnan(*vm.fill_left) && std::isnan(*vm.fill_right)))) {
          out += " fill(" + FormatNumber(*vm.fill_left) + ")";
        } else {
          if (vm.fill_left) out += " fill_left(" + FormatNumber(*vm.fill_left) + ")";
          if (vm.fill_right) out += " fill_right(" + FormatNumber(*vm.fill_right) + ")";
        }
      }
      out += ' ';
      Print(*b.rhs, out);
      break;
    }
    case NodeKind::kAggregate: {
      const auto& a = e.As<AggregateExpr>();
      out += AggregateOpName(a.op);
      if (a.without) {
        out += " without ";
        PrintLabelList(a.grouping, out);
        out += ' ';
      } else if (!a.grouping.empty()) {
        out += " by ";
        PrintLabelList(a.grouping, out);
        out += ' ';
      }
      out += '(';
      if (a.param) {
        Print(*a.param, out);
        out += ", ";
      }
      Print(*a.expr, out);
      out += ')';
      break;
    }
    case NodeKind::kCall: {
      const auto& c = e.As<Call>();
      out += c.func->name;
      out += '(';
      for (size_t i = 0; i < c.args.size(); ++i) {
        if (i > 0) out += ", ";
        Print(*c.args[i], out);
      }
      out += ')';
      break;
    }
    case NodeKind::kDuration: {
      const auto& d = e.As<DurationExpr>();
      if (d.wrapped) out += '(';
      switch (d.op) {
        case DurationExpr::Op::kStep: out += "step()"; break;
        case DurationExpr::Op::kRange: out += "range()"; break;
        case DurationExpr::Op::kMinOf:
        case DurationExpr::Op::kMaxOf:
          out += d.op == DurationExpr::Op::kMinOf ? "min_of(" : "max_of(";
          Print(*d.lhs, out);
          out += ", ";
          Print(*d.rhs, out);
          out += ')';
          break;
        case DurationExpr::Op::kNegate:
          out += '-';
          Print(*d.rhs, out);
          break;
        case DurationExpr::Op::kBinary:
          Print(*d.lhs, out);
          out += ' ';
          out += BinaryOpName(d.binary);
          out += ' ';
          Print(*d.rhs, out);
          break;
      }
      if (d.wrapped) out += ')';
      break;
    }
  }
}

}  // namespace

bool Duration::IsConstant() const { return !expr || !UsesStepOrRange(*expr); }

std::string Expr::String() const {
  std::string out;
  Print(*this, out);
  return out;
}

}  // namespace tyto::promql
