// PromQL text in, its canonical text or its syntax tree out, as Prometheus 3 answers (its UI's
// "format" button and tree view use them):
//   GET|POST /api/v1/format_query?query=EXPR   read   {"data": "canonical text"}
//   GET|POST /api/v1/parse_query?query=EXPR    read   {"data": syntax tree (ast_json.h)}
// A query that does not parse is 400 bad_data: `invalid parameter "query": 1:5: parse error: ...`.
#pragma once

#include "auth/auth.h"
#include "http/router.h"

namespace tyto::api {

void AddSyntaxRoutes(http::Router* router, auth::Guard* guard);

}  // namespace tyto::api
