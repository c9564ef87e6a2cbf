// URLs as Tyto's HTTP clients write them: an absolute http(s) URL split into what a
// ClientRequest needs (`tyto query --server`), a "host:port" address split as scrape targets
// give it, and query strings escaped as Go's net/url escapes them (scrape params, form bodies).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tyto/status.h"

namespace tyto::http {

struct Url {
  bool https = false;
  std::string host;   // a name or an IP literal (IPv6 without brackets)
  uint16_t port = 0;  // the scheme's (80, 443) when the URL names none
  std::string path;   // as written, starting with '/'; "/" when the URL has none
  std::string query;  // as written, after '?' (without it); empty when none
};

// Parses "http://127.0.0.1:9800", "https://tyto.example.com/prefix", "http://[::1]:9800/".
// A fragment is dropped. kInvalidArgument, naming the URL, for another scheme, user info
// (credentials do not belong in URLs), or a missing host or bad port.
Result<Url> ParseUrl(std::string_view text);

// "host:port", "[v6]:port", or a host alone (then the scheme's port: 443 with `https`, else
// 80) into *host (without brackets) and *port. kInvalidArgument naming the address.
Status SplitAddress(std::string_view address, bool https, std::string* host, uint16_t* port);

// Appends `s` escaped for a query string or a form body, as Go's url.QueryEscape does:
// letters, digits and -_.~ as they are, space as '+', every other byte as %XX.
void AppendQueryEscaped(std::string* out, std::string_view s);

// "a=1&b=x+y": the pairs in order, each name and value escaped. The inverse of
// ParseQueryString (message.h); also the body of an application/x-www-form-urlencoded POST.
std::string EncodeQueryString(const std::vector<std::pair<std::string, std::string>>& params);

}  // namespace tyto::http
