// The multi-line printer: Prometheus's expr.Pretty(0) (promql/parser/prettier.go), which its
// /api/v1/format_query answers.
//
// A node whose one-line text (String()) fits in the line limit prints as that text, indented by
// two spaces per level; a longer one opens up and prints its children one level deeper:
//
//   aggregation   sum by (job) (        a call      f(            a paren   (
//                   topk_param,           arg_1,                            child
//                   child                 arg_2                           )
//                 )                     )
//
//   a binary expression (the operator, bool and matching at the parent's level)
//       lhs
//     + on (job) group_left ()
//       rhs
//
// Selectors, literals and duration expressions never split. A unary expression prints its
// operator before its child's text with the child's first-line indent removed. A subquery that
// splits prints its inner expression at its own level followed by the [range:step] suffix; one
// that fits prints its one-line text without indent, as Prometheus does (so a short subquery
// inside an opened parent starts at column 0; it still parses back the same).
//
// The pieces between children (the aggregation's "sum by (job) ", the binary operator with its
// modifiers, the subquery's suffix) are cut from String()'s text rather than printed again, so
// the two printers cannot disagree on them.
#include <string>
#include <string_view>

#include "promql/ast.h"
#include "promql/functions.h"

namespace tyto::promql {
namespace {

class Printer {
 public:
  explicit Printer(size_t max_line) : max_line_(max_line) {}

  // `text` is e.String(), which the caller already has: each node's one-line text is printed
  // once, by its parent (a query nests at most ParseOptions::max_depth levels, so the work is at
  // most that many times the query's length).
  void Print(const Expr& e, const std::string& text, int level, std::string& out) const {
    const bool split = text.size() > max_line_;
    switch (e.kind()) {
      case NodeKind::kNumberLiteral:
      case NodeKind::kStringLiteral:
      case NodeKind::kVectorSelector:
      case NodeKind::kMatrixSelector:
      case NodeKind::kDuration:
        Indent(level, out);
        out += text;
        return;
      case NodeKind::kSubquery: {
        if (!split) {
          out += text;  // no indent: Prometheus's SubqueryExpr.Pretty returns String() as is
          return;
        }
        const auto& sq = e.As<SubqueryExpr>();
        const std::string inner = sq.expr->String();
        Print(*sq.expr, inner, level, out);
        out.append(text, inner.size(), std::string::npos);  // "[range:step] @ t offset d"
        return;
      }
      case NodeKind::kUnary: {
        const std::string_view op = BinaryOpName(e.As<UnaryExpr>().op);
        std::string child;
        Print(*e.As<UnaryExpr>().expr, text.substr(op.size()), level, child);
        Indent(level, out);
        out += op;
        out += Trim(child);
        return;
      }
      default:
        break;
    }
    if (!split) {
      Indent(level, out);
      out += text;
      return;
    }
    switch (e.kind()) {
      case NodeKind::kParen:
        Indent(level, out);
        out += "(\n";
        Print(*e.As<ParenExpr>().expr, text.substr(1, text.size() - 2), level + 1, out);
        out += '\n';
        Indent(level, out);
        out += ')';
        return;
      case NodeKind::kCall: {
        const auto& c = e.As<Call>();
        Indent(level, out);
        out += c.func->name;
        out += "(\n";
        for (size_t i = 0; i < c.args.size(); ++i) {
          if (i > 0) out += ",\n";
          Print(*c.args[i], c.args[i]->String(), level + 1, out);
        }
        out += '\n';
        Indent(level, out);
        out += ')';
        return;
      }
      case NodeKind::kAggregate: {
        const auto& a = e.As<AggregateExpr>();
        // text is "<op> by (labels) (" + [param ", "] + expr + ")": keep what precedes "(".
        const std::string body = a.expr->String();
        const std::string param = a.param ? a.param->String() : "";
        Indent(level, out);
        out.append(text, 0, text.size() - body.size() - 2 - (a.param ? param.size() + 2 : 0));
        out += "(\n";
        if (a.param) {
          Print(*a.param, param, level + 1, out);
          out += ",\n";
        }
        Print(*a.expr, body, level + 1, out);
        out += '\n';
        Indent(level, out);
        out += ')';
        return;
      }
      case NodeKind::kBinary: {
        const auto& b = e.As<BinaryExpr>();
        // text is lhs + " " + operator, bool and matching + " " + rhs, where String() wraps a
        // signed number left of ^ in parentheses (so that it does not read back as a sign
        // applied to the power); keep those parentheses here for the same reason.
        const std::string lhs = b.lhs->String();
        const std::string rhs = b.rhs->String();
        const bool wrapped = text.compare(0, lhs.size() + 1, lhs + " ") != 0;
        const size_t lhs_size = lhs.size() + (wrapped ? 2 : 0);
        const size_t op_size = text.size() - lhs_size - rhs.size() - 2;
        if (wrapped) {
          Indent(level + 1, out);
          out += '(' + lhs + ')';
        } else {
          Print(*b.lhs, lhs, level + 1, out);
        }
        out += '\n';
        Indent(level, out);
        out.append(text, lhs_size + 1, op_size);
        out += '\n';
        Print(*b.rhs, rhs, level + 1, out);
        return;
      }
      default:
        return;  // every other kind returned above
    }
  }

 private:
  static void Indent(int level, std::string& out) { out.append(2 * static_cast<size_t>(level), ' '); }

  // Go's strings.TrimSpace over the printer's own output (spaces and newlines only).
  static std::string_view Trim(std::string_view s) {
    const size_t first = s.find_first_not_of(" \n");
    if (first == std::string_view::npos) return {};
    const size_t last = s.find_last_not_of(" \n");
    return s.substr(first, last - first + 1);
  }

  size_t max_line_;
};

}  // namespace

std::string Pretty(const Expr& e, size_t max_line_length) {
  std::string out;
  Printer(max_line_length).Print(e, e.String(), 0, out);
  return out;
}

}  // namespace tyto::promql
