#include "alertmanager/integration_http.h"


#include "http/encoding.h"
#include "common/build_info.h"
#include "http/client.h"
#include "http/url.h"

namespace tyto::alertmanager {

namespace {

// Answers of receivers are short; a larger one is cut off and the delivery reported failed.
constexpr uint64_t kMaxResponseBytes = 1 << 20;

std::string Trim(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return std::string(s);
}

// A short, printable excerpt of a response body for error messages.
std::string Excerpt(std::string_view body) {
  std::string out;
  for (char c : body.substr(0, 200)) out += (c >= 0x20 && c < 0x7f) ? c : ' ';
  if (body.size() > 200) out += "...";
  return Trim(out);
}

}  // namespace

std::string IntegrationName(std::string_view kind, int index) {
  return std::string(kind) + "_configs[" + std::to_string(index) + "]";
}

Result<std::string> ReadSecret(const Secret& value, const std::string& file, Env* env, std::string_view what) {
  if (!value.empty() || file.empty()) return value.value();
  Result<std::string> content = (env != nullptr ? env : Env::Default())->ReadFile(file);
  if (!content.ok()) {
    return FailedPrecondition("reading " + std::string(what) + " " + file + ": " + content.status().message());
  }
  return Trim(*content);
}

Result<std::string> AuthorizationHeader(const HttpConfig& c, Env* env) {
  if (!c.basic_auth_username.empty() || !c.basic_auth_password.empty() || !c.basic_auth_password_file.empty()) {
    TYTO_ASSIGN_OR_RETURN(std::string password,
                          ReadSecret(c.basic_auth_password, c.basic_auth_password_file, env, "basic_auth password_file"));
    return "Basic " + http::Base64(c.basic_auth_username + ":" + password);
  }
  if (!c.authorization_credentials.empty() || !c.authorization_credentials_file.empty()) {
    TYTO_ASSIGN_OR_RETURN(std::string credentials,
                          ReadSecret(c.authorization_credentials, c.authorization_credentials_file, env,
                                     "authorization credentials_file"));
    return (c.authorization_type.empty() ? std::string("Bearer") : c.authorization_type) + " " + credentials;
  }
  if (!c.bearer_token.empty() || !c.bearer_token_file.empty()) {
    TYTO_ASSIGN_OR_RETURN(std::string token, ReadSecret(c.bearer_token, c.bearer_token_file, env, "bearer_token_file"));
    return "Bearer " + token;
  }
  return std::string();
}

std::string RedactedUrl(const http::Url& url) {
  std::string out = url.https ? "https://" : "http://";
  out += url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  if (url.port != (url.https ? 443 : 80)) out += ":" + std::to_string(url.port);
  return out;
}

DeliveryResult PostJson(http::Client& client, const HttpPost& post, http::ClientResponse* response) {
  // ParseUrl's own message would quote the URL, which is a secret here.
  Result<http::Url> url = http::ParseUrl(post.url);
  if (!url.ok()) return {InvalidArgument(post.who + ": the URL is not a valid http(s) URL"), false};
  const std::string shown = RedactedUrl(*url);
  const HttpConfig no_http_config;
  const HttpConfig& hc = post.http_config != nullptr ? *post.http_config : no_http_config;
  if (!hc.proxy_url.empty()) {
    return {FailedPrecondition(post.who + ": http_config proxy_url is not supported yet"), false};
  }
  Result<std::string> authorization = AuthorizationHeader(hc, post.env);
  if (!authorization.ok()) return {authorization.status().WithContext(post.who), false};

  http::ClientRequest req;
  req.method = "POST";
  req.https = url->https;
  req.host = url->host;
  req.port = url->port;
  req.target = url->path + (url->query.empty() ? "" : "?" + url->query);
  req.headers = {{"Content-Type", "application/json"},
                 {"User-Agent", "Tyto/" + std::string(GetBuildInfo().version)}};
  if (!authorization->empty()) req.headers.emplace_back("Authorization", *authorization);
  req.body = post.body;
  req.timeout = post.timeout;
  req.max_body_bytes = kMaxResponseBytes;
  req.tls.ca_file = hc.tls_ca_file;
  req.tls.cert_file = hc.tls_cert_file;
  req.tls.key_file = hc.tls_key_file;
  req.tls.server_name = hc.tls_server_name;
  req.tls.insecure_skip_verify = hc.tls_insecure_skip_verify;

  Result<http::ClientResponse> r = client.SendAndWait(std::move(req));
  if (!r.ok()) {
    const StatusCode code = r.status().code();
    const bool retry = code == StatusCode::kDeadlineExceeded || code == StatusCode::kUnavailable;
    return {Status(code, post.who + ": " + r.status().message()), retry};
  }
  const int s = r->status;
  const std::string what = post.who + ": " + shown + " answered HTTP " + std::to_string(s) +
                           (r->body.empty() ? "" : ": " + Excerpt(r->body));
  if (response != nullptr) *response = std::move(*r);
  if (s >= 200 && s <= 299) return {Status::Ok(), false};
  if (s == 429) return {ResourceExhausted(what), true};
  if (s >= 500) return {Unavailable(what), true};
  if (s >= 300 && s < 400) return {FailedPrecondition(what + " (redirects are not followed)"), false};
  return {InvalidArgument(what), false};
}

}  // namespace tyto::alertmanager
