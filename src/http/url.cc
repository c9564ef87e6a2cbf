#include "http/url.h"

#include <strings.h>

#include <cstdlib>

namespace tyto::http {

Result<Url> ParseUrl(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return InvalidArgument("invalid URL '" + std::string(text) + "': " + std::string(why) +
                           " (expected http://HOST[:PORT][/PATH] or https://...)");
  };
  Url url;
  const size_t colon_slashes = text.find("://");
  if (colon_slashes == std::string_view::npos) return bad("no scheme");
  const std::string scheme(text.substr(0, colon_slashes));
  if (strcasecmp(scheme.c_str(), "https") == 0) {
    url.https = true;
  } else if (strcasecmp(scheme.c_str(), "http") != 0) {
    return bad("the scheme is not http or https");
  }
  std::string_view rest = text.substr(colon_slashes + 3);
  if (const size_t hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  const size_t authority_end = rest.find_first_of("/?");
  const std::string_view authority = rest.substr(0, authority_end);
  if (authority.find('@') != std::string_view::npos) return bad("user info is not supported");
  if (authority.empty()) return bad("no host");
  if (Status s = SplitAddress(authority, url.https, &url.host, &url.port); !s.ok()) return bad(s.message());
  if (authority_end != std::string_view::npos) rest = rest.substr(authority_end);
  else rest = {};
  const size_t question = rest.find('?');
  url.path = std::string(rest.substr(0, question));
  if (url.path.empty()) url.path = "/";
  if (question != std::string_view::npos) url.query = std::string(rest.substr(question + 1));
  return url;
}

Status SplitAddress(std::string_view addr, bool https, std::string* host, uint16_t* port) {
  *port = https ? 443 : 80;
  std::string_view port_text;
  if (!addr.empty() && addr[0] == '[') {
    const size_t close = addr.find(']');
    if (close == std::string_view::npos) return InvalidArgument("address '" + std::string(addr) + "': unclosed '['");
    *host = std::string(addr.substr(1, close - 1));
    if (close + 1 < addr.size()) {
      if (addr[close + 1] != ':') return InvalidArgument("address '" + std::string(addr) + "': expected ':' after ']'");
      port_text = addr.substr(close + 2);
    }
  } else {
    const size_t colon = addr.rfind(':');
    if (colon != std::string_view::npos && addr.find(':') != colon) {
      return InvalidArgument("address '" + std::string(addr) + "': an IPv6 address needs brackets");
    }
    *host = std::string(addr.substr(0, colon));
    if (colon != std::string_view::npos) port_text = addr.substr(colon + 1);
  }
  if (host->empty()) return InvalidArgument("address '" + std::string(addr) + "' has no host");
  if (!port_text.empty() || addr.back() == ':') {
    char* end = nullptr;
    const std::string p(port_text);
    const long v = std::strtol(p.c_str(), &end, 10);
    if (p.empty() || *end != '\0' || v < 1 || v > 65535) {
      return InvalidArgument("address '" + std::string(addr) + "': bad port '" + p + "'");
    }
    *port = static_cast<uint16_t>(v);
  }
  return Status::Ok();
}

void AppendQueryEscaped(std::string* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (const unsigned char c : s) {
    const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                            c == '_' || c == '.' || c == '~';
    if (unreserved) {
      out->push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out->push_back('+');
    } else {
      out->push_back('%');
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 15]);
    }
  }
}

std::string EncodeQueryString(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out.push_back('&');
    AppendQueryEscaped(&out, name);
    out.push_back('=');
    AppendQueryEscaped(&out, value);
  }
  return out;
}

}  // namespace tyto::http
