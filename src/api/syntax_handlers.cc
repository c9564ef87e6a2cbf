#include "api/syntax_handlers.h"

#include "api/ast_json.h"
#include "api/json.h"
#include "promql/ast.h"
#include "promql/parser.h"

namespace tyto::api {
namespace {

using http::Request;
using http::Response;

// The parsed `query` parameter, or the 400 Prometheus gives for it.
Result<promql::ExprPtr> ParseQueryParam(const Request& req) {
  auto expr = promql::Parse(req.Param("query").value_or(""));
  if (!expr.ok()) return InvalidArgument("invalid parameter \"query\": " + expr.status().message());
  return expr;
}

}  // namespace

void AddSyntaxRoutes(http::Router* router, auth::Guard* guard) {
  router->Add({"GET", "POST"}, "/api/v1/format_query", "/api/v1/format_query",
              guard->Require(auth::Scope::kRead, [](Request& req) {
                auto expr = ParseQueryParam(req);
                if (!expr.ok()) return Response::Error(400, "bad_data", expr.status().message());
                // Prometheus 3 answers expr.Pretty(0): long queries over several lines.
                const std::string text = promql::Pretty(**expr);
                return SuccessValue([&](JsonWriter& w) {
                  w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
                });
              }));

  router->Add({"GET", "POST"}, "/api/v1/parse_query", "/api/v1/parse_query",
              guard->Require(auth::Scope::kRead, [](Request& req) {
                auto expr = ParseQueryParam(req);
                if (!expr.ok()) return Response::Error(400, "bad_data", expr.status().message());
                return SuccessValue([&](JsonWriter& w) { WriteSyntaxTree(w, **expr); });
              }));
}

}  // namespace tyto::api
