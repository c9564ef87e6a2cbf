// HTTP requests and responses as handlers see them: plain structs, free of the network library,
// so handler code compiles fast and tests build requests directly.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tyto::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

// Who sent a request, once authenticated (see src/auth). Empty when auth is off.
struct Principal {
  std::string name;         // the token's name, for logs and the audit trail
  uint32_t scopes = 0;      // bit set of auth::Scope, for `tenant` (set by the guard)
  // What the credentials grant: per tenant ("*": any tenant), a bit set of auth::Scope.
  std::vector<std::pair<std::string, uint32_t>> grants = {};
  std::string tenant = {};  // the tenant this request acts for (set by the guard; never empty there)
  std::string role = {};      // the role named for `tenant`, when one was ("viewer", ... "admin")
};

struct Request {
  std::string method;       // "GET", "POST", ...
  std::string target;       // as sent: "/api/v1/query?query=up"
  std::string path;         // decoded path without the query: "/api/v1/query"
  Headers headers;          // in arrival order, names as sent
  std::string body;
  std::string remote;       // "127.0.0.1:51234"
  // URL query parameters, then (for POST application/x-www-form-urlencoded) body parameters,
  // decoded, in order. The Prometheus API accepts either.
  std::vector<std::pair<std::string, std::string>> params;
  // Values of ":name" segments of the matched route pattern.
  std::vector<std::pair<std::string, std::string>> path_params;
  Principal principal;
  // The connection's socket while the request is handled (-1 in tests that build requests).
  int connection_fd = -1;

  // Whether the client closed its side of the connection (or it broke) while the request is
  // handled, so long work such as a query can stop: a non-blocking check, cheap but a system
  // call. False when unknown.
  bool ClientGone() const;

  // First header with this name, compared case-insensitively.
  std::optional<std::string_view> Header(std::string_view name) const;
  // First parameter with this name.
  std::optional<std::string_view> Param(std::string_view name) const;
  // Every parameter with this name ("match[]" repeats).
  std::vector<std::string_view> Params(std::string_view name) const;
  std::optional<std::string_view> PathParam(std::string_view name) const;
};

// A response body produced over time (server-sent events, a live tail), for answers that last
// longer than a handler may hold a network thread. The server sends the headers with chunked
// transfer encoding (never gzip), then calls Poll on the connection's strand every
// ServerOptions::stream_poll_interval and sends what it returns. The stream ends when Poll says
// so, when the client goes away (a write fails or it closes its side) or when the server shuts
// down; the server then drops its reference, so a producer notices the end in its destructor.
class BodyStream {
 public:
  struct Chunk {
    std::string data;   // bytes to send now; empty: nothing yet
    bool done = false;  // the stream ends after `data`
  };
  virtual ~BodyStream() = default;
  // Called from network threads, one call at a time; must not block (it holds a network thread
  // while it runs). An exception ends the stream.
  virtual Chunk Poll() = 0;
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  Headers headers;          // extra headers
  std::string body;
  std::string handler;      // the route's name, for metrics and logs; set by the router
  // Why the request was refused unserved, as tyto_http_requests_refused_total's reason
  // ("rate_limited", "decompressed_too_large"); empty when it was not. The server counts it.
  std::string refused = {};
  // When set, the body is streamed from it (and `body` is ignored); see BodyStream. The server
  // refuses it with 503 when ServerOptions::max_streams are open already.
  std::shared_ptr<BodyStream> stream;

  static Response Text(int status, std::string body);
  static Response Json(int status, std::string body);
  // An error in the Prometheus HTTP API's shape, which Grafana and scripts already parse:
  //   {"status":"error","errorType":"bad_data","error":"..."}
  static Response Error(int status, std::string_view error_type, std::string_view message);
  // A 200 whose body is `stream`, of the given content type.
  static Response Stream(std::string content_type, std::shared_ptr<BodyStream> stream);
};

// The reason phrase for a status code ("Not Found").
std::string_view StatusText(int status);

// Percent-decoding of a URL component; '+' becomes a space when `plus_is_space`.
// Returns nullopt on a malformed escape.
std::optional<std::string> UrlDecode(std::string_view s, bool plus_is_space);

// Parses "a=1&b=2" into decoded pairs, appending to *out. Returns false on a malformed escape.
bool ParseQueryString(std::string_view qs, std::vector<std::pair<std::string, std::string>>* out);

// Splits a request target into path and query, decodes both into *req (path, params, and for
// form POSTs the body parameters). Returns an error message on malformed input.
std::optional<std::string> ParseTarget(Request* req);

// A header value as it is compared: surrounding spaces and tabs removed, ASCII letters lowercased
// ("Content-Encoding:  GZIP " -> "gzip").
std::string NormalizeHeaderValue(std::string_view v);

// Whether an Accept-Encoding header value accepts gzip (present and q > 0).
bool AcceptsGzip(std::string_view accept_encoding);

}  // namespace tyto::http
