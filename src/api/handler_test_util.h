// Helpers for the API handlers' tests (header-only, tests only): one request through a router
// as the server would hand it over, and a response body read as JSON.
#pragma once

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>

#include "http/message.h"
#include "http/router.h"

namespace tyto::api {

// Sends `method target` with `body` through `router`, authenticated with the bearer token
// `token`, or "r" for a GET and "w" otherwise (the tests' reader and writer tokens).
inline http::Response CallRoute(http::Router& router, const std::string& method, const std::string& target,
                                const std::string& body = "", const std::string& token = "") {
  http::Request req;
  req.method = method;
  req.target = target;
  req.body = body;
  const std::string t = token.empty() ? (method == "GET" ? "r" : "w") : token;
  req.headers.emplace_back("Authorization", "Bearer " + t);
  if (auto err = http::ParseTarget(&req)) return http::Response::Error(400, "bad_data", *err);
  return router.Dispatch(req);
}

// The response body as JSON; a body that is not JSON fails the test.
inline rapidjson::Document ParseJson(const http::Response& r) {
  rapidjson::Document d;
  d.Parse(r.body.data(), r.body.size());
  EXPECT_FALSE(d.HasParseError()) << r.body;
  return d;
}

}  // namespace tyto::api
