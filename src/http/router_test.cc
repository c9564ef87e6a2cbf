#include "http/router.h"

#include <gtest/gtest.h>

namespace tyto::http {
namespace {

Request Req(std::string method, std::string path) {
  Request r;
  r.method = std::move(method);
  r.path = std::move(path);
  return r;
}

TEST(RouterTest, MatchesLiteralAndParamSegments) {
  Router router;
  router.Add({"GET"}, "/api/v1/query", "query", [](Request&) { return Response::Text(200, "q"); });
  router.Add({"GET"}, "/api/v1/label/:name/values", "label_values", [](Request& r) {
    return Response::Text(200, std::string(*r.PathParam("name")));
  });
  auto r1 = Req("GET", "/api/v1/query");
  EXPECT_EQ(router.Dispatch(r1).body, "q");
  auto r2 = Req("GET", "/api/v1/label/job/values");
  Response resp = router.Dispatch(r2);
  EXPECT_EQ(resp.body, "job");
  EXPECT_EQ(resp.handler, "label_values");
}

TEST(RouterTest, AnEscapedSlashStaysInItsSegment) {
  Router router;
  router.Add({"GET"}, "/api/v1/models/:model/gpus", "model_gpus", [](Request& r) {
    return Response::Text(200, std::string(*r.PathParam("model")));
  });
  Request r;
  r.method = "GET";
  r.target = "/api/v1/models/meta-llama%2FLlama-3.1-8B%20Instruct/gpus?x=1";
  ASSERT_EQ(ParseTarget(&r), std::nullopt);
  Response resp = router.Dispatch(r);
  EXPECT_EQ(resp.status, 200) << resp.body;
  EXPECT_EQ(resp.body, "meta-llama/Llama-3.1-8B Instruct");
  // Unescaped, the same name is two segments and matches nothing.
  Request two;
  two.method = "GET";
  two.target = "/api/v1/models/meta-llama/Llama-3.1-8B/gpus";
  ASSERT_EQ(ParseTarget(&two), std::nullopt);
  EXPECT_EQ(router.Dispatch(two).status, 404);
}

TEST(RouterTest, WildcardTakesTheRest) {
  Router router;
  router.Add({"GET"}, "/ui/*file", "ui", [](Request& r) { return Response::Text(200, std::string(*r.PathParam("file"))); });
  auto r = Req("GET", "/ui/assets/app.js");
  EXPECT_EQ(router.Dispatch(r).body, "assets/app.js");
}

TEST(RouterTest, UnknownPathIs404AndWrongMethodIs405WithAllow) {
  Router router;
  router.Add({"POST", "PUT"}, "/-/reload", "reload", [](Request&) { return Response::Text(200, ""); });
  auto r1 = Req("GET", "/nope");
  Response a = router.Dispatch(r1);
  EXPECT_EQ(a.status, 404);
  EXPECT_EQ(a.handler, "(unmatched)");
  auto r2 = Req("GET", "/-/reload");
  Response b = router.Dispatch(r2);
  EXPECT_EQ(b.status, 405);
  ASSERT_EQ(b.headers.size(), 1u);
  EXPECT_EQ(b.headers[0].second, "POST, PUT");
}

TEST(RouterTest, HeadIsServedByGetRoutes) {
  Router router;
  router.Add({"GET"}, "/-/healthy", "healthy", [](Request&) { return Response::Text(200, "ok"); });
  auto r = Req("HEAD", "/-/healthy");
  EXPECT_EQ(router.Dispatch(r).status, 200);
}

TEST(RouterTest, LiteralSegmentsMustMatchWholePath) {
  Router router;
  router.Add({"GET"}, "/a/b", "ab", [](Request&) { return Response::Text(200, ""); });
  auto r1 = Req("GET", "/a");
  auto r2 = Req("GET", "/a/b/c");
  EXPECT_EQ(router.Dispatch(r1).status, 404);
  EXPECT_EQ(router.Dispatch(r2).status, 404);
}

}  // namespace
}  // namespace tyto::http
