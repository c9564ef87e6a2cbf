// Router: maps method and path to a named handler.
//
// Patterns are literal paths with optional ":name" segments ("/api/v1/label/:name/values");
// a trailing "*name" segment matches the rest of the path. Routes are tried in the order added.
// Thread-safe for Dispatch once all routes are added (routes are added at start-up only).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "http/message.h"

namespace tyto::http {

using Handler = std::function<Response(Request&)>;

class Router {
 public:
  // `name` labels the route in metrics and logs; keep it stable (Prometheus uses the pattern).
  void Add(std::vector<std::string> methods, const std::string& pattern, std::string name, Handler handler);

  // Runs the matching handler. No route: 404; a route for the path but not the method: 405
  // with an Allow header. The response's `handler` is the route's name ("(unmatched)" if none).
  Response Dispatch(Request& req) const;

  // Every route added, in order: its methods and pattern ("/api/v1/label/:name/values"), for
  // tests that try each one.
  struct RouteInfo {
    std::vector<std::string> methods;
    std::string pattern;
  };
  std::vector<RouteInfo> Routes() const;

 private:
  struct Route {
    std::vector<std::string> methods;
    std::string pattern;
    std::vector<std::string> segments;
    std::string name;
    Handler handler;
  };
  static bool Match(const Route& r, const std::vector<std::string>& path,
                    std::vector<std::pair<std::string, std::string>>* params);

  std::vector<Route> routes_;
};

}  // namespace tyto::http
