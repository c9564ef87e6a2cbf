// The PromQL syntax tree as JSON, in the shape of Prometheus 3's /api/v1/parse_query
// (web/api/v1/translate_ast.go), which Prometheus's UI draws as its tree view. Private to
// src/api.
//
// Every node is an object with a "type" and its fields, keys in alphabetical order (Go writes
// its maps that way):
//   aggregation     expr, grouping, op ("sum", "topk", ...), param (a node or null), without
//   binaryExpr      bool, lhs, matching (null unless both sides are instant vectors:
//                   {card, fillValues: {lhs, rhs}, include, labels, on}), op ("+", "and", ...), rhs
//   call            args, func: {argTypes, name, returnType, variadic}
//   matrixSelector  anchored, matchers, name, offset, range, smoothed, startOrEnd, timestamp
//   subquery        expr, offset, range, startOrEnd, step, timestamp
//   vectorSelector  anchored, matchers, name, offset, smoothed, startOrEnd, timestamp
//   numberLiteral   val (a string, as Go's FormatFloat 'f' writes it)
//   stringLiteral   val
//   parenExpr       expr
//   unaryExpr       expr, op
// Durations (offset, range, step) are milliseconds; timestamp is the @ time in milliseconds or
// null; startOrEnd is "start", "end" or null; matchers are {name, type ("=", "!=", "=~",
// "!~"), value} with the metric name's matcher last, as Prometheus's parser puts it.
#pragma once

#include "api/json.h"
#include "promql/ast.h"

namespace tyto::api {

void WriteSyntaxTree(JsonWriter& w, const promql::Expr& expr);

}  // namespace tyto::api
