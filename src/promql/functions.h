// The table of PromQL functions: every function Prometheus 3 knows, with its argument and return
// types, so the parser can type-check calls and the engine can dispatch on them.
#pragma once

#include <string_view>
#include <vector>

#include "promql/ast.h"

namespace tyto::promql {

// A function's signature, as Prometheus's parser.Function.
//
// `variadic`: 0 means exactly arg_types.size() arguments; n > 0 means the last declared argument
// is optional and up to n arguments of the last declared type may be given in its place (so
// between size()-1 and size()-1+n); -1 means at least size()-1 with no upper limit.
struct Function {
  std::string_view name;
  std::vector<ValueType> arg_types;
  int variadic = 0;
  ValueType return_type = ValueType::kVector;
  // Behind Prometheus's --enable-feature=promql-experimental-functions.
  bool experimental = false;
};

// The function called `name` (case-sensitive, as Prometheus), or null.
const Function* LookupFunction(std::string_view name);

// Every function, in name order.
const std::vector<Function>& AllFunctions();

}  // namespace tyto::promql
