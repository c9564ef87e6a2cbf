#include "http/router.h"

#include <algorithm>

namespace tyto::http {
namespace {

std::vector<std::string_view> Split(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

// The path's segments, each decoded on its own, so an escaped slash ("%2F", as in a model named
// "meta-llama/Llama-3.1-8B") stays inside its segment instead of splitting it. Requests built
// without a target (tests) use the decoded path.
std::vector<std::string> Segments(const Request& req) {
  std::vector<std::string> out;
  std::string_view raw = std::string_view(req.target).substr(0, req.target.find('?'));
  if (raw.empty() || raw.front() != '/') {
    for (std::string_view s : Split(req.path)) out.emplace_back(s);
    return out;
  }
  for (std::string_view s : Split(raw)) {
    std::optional<std::string> d = UrlDecode(s, false);
    out.push_back(d ? std::move(*d) : std::string(s));
  }
  return out;
}

}  // namespace

void Router::Add(std::vector<std::string> methods, const std::string& pattern, std::string name, Handler handler) {
  Route r;
  r.methods = std::move(methods);
  r.pattern = pattern;
  for (std::string_view s : Split(pattern)) r.segments.emplace_back(s);
  r.name = std::move(name);
  r.handler = std::move(handler);
  routes_.push_back(std::move(r));
}

std::vector<Router::RouteInfo> Router::Routes() const {
  std::vector<RouteInfo> out;
  out.reserve(routes_.size());
  for (const Route& r : routes_) out.push_back({r.methods, r.pattern});
  return out;
}

bool Router::Match(const Route& r, const std::vector<std::string>& path,
                   std::vector<std::pair<std::string, std::string>>* params) {
  params->clear();
  size_t i = 0;
  for (; i < r.segments.size(); ++i) {
    const std::string& seg = r.segments[i];
    if (!seg.empty() && seg[0] == '*') {
      std::string rest;
      for (size_t j = i; j < path.size(); ++j) {
        if (j > i) rest += '/';
        rest += path[j];
      }
      params->emplace_back(seg.substr(1), std::move(rest));
      return true;
    }
    if (i >= path.size()) return false;
    if (!seg.empty() && seg[0] == ':') {
      params->emplace_back(seg.substr(1), std::string(path[i]));
    } else if (seg != path[i]) {
      return false;
    }
  }
  return i == path.size();
}

Response Router::Dispatch(Request& req) const {
  const std::vector<std::string> path = Segments(req);
  std::vector<std::string> allowed;
  std::vector<std::pair<std::string, std::string>> params;
  for (const Route& r : routes_) {
    if (!Match(r, path, &params)) continue;
    bool method_ok = std::find(r.methods.begin(), r.methods.end(), req.method) != r.methods.end() ||
                     (req.method == "HEAD" &&
                      std::find(r.methods.begin(), r.methods.end(), "GET") != r.methods.end());
    if (!method_ok) {
      allowed.insert(allowed.end(), r.methods.begin(), r.methods.end());
      continue;
    }
    req.path_params = std::move(params);
    Response resp = r.handler(req);
    resp.handler = r.name;
    return resp;
  }
  if (!allowed.empty()) {
    Response resp = Response::Error(405, "method_not_allowed",
                                    "method " + req.method + " not allowed for " + req.path);
    std::string allow;
    for (const std::string& m : allowed) allow += (allow.empty() ? "" : ", ") + m;
    resp.headers.emplace_back("Allow", allow);
    resp.handler = "(unmatched)";
    return resp;
  }
  Response resp = Response::Error(404, "not_found", "no handler for " + req.path);
  resp.handler = "(unmatched)";
  return resp;
}

}  // namespace tyto::http
