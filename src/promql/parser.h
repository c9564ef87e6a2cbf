// Parsing PromQL text into the syntax tree (ast.h), as Prometheus 3's promql/parser.ParseExpr.
#pragma once

#include <chrono>
#include <string_view>

#include "promql/ast.h"
#include "tyto/status.h"

namespace tyto::promql {

// Features Prometheus keeps behind --enable-feature flags. Tyto enables them unless told not to;
// turning one off gives Prometheus's error for its syntax.
struct ParseOptions {
  bool experimental_functions = true;    // promql-experimental-functions (limitk, sort_by_label, ...)
  bool duration_expressions = true;      // promql-duration-expr: foo[2m*15], offset step()
  bool extended_range_selectors = true;  // promql-extended-range-selectors: anchored, smoothed
  bool fill_modifiers = true;            // binop fill(), fill_left(), fill_right()
  // Deepest nesting accepted (parentheses, calls, operator chains); deeper queries get an error
  // rather than exhausting the stack.
  int max_depth = 500;
};

// Parses and type-checks `query`. Errors are kInvalidArgument with Prometheus's message, prefixed
// by the 1-based line and byte column: "1:5: parse error: unexpected end of input".
Result<ExprPtr> Parse(std::string_view query, const ParseOptions& options = {});

// The value of a duration expression in milliseconds, given the query's step and range (end -
// start; 0 for instant queries). Fails on division by zero or a result out of range.
Result<std::chrono::milliseconds> EvaluateDuration(const Expr& duration, std::chrono::milliseconds step,
                                                   std::chrono::milliseconds range);

}  // namespace tyto::promql
