// What the HTTP integrations (webhook, Slack, PagerDuty) share: reading secrets given inline or
// by file, the Authorization header from http_config, posting JSON with a deadline, and turning
// the outcome into a DeliveryResult (network errors, timeouts, 429 and 5xx may be retried; other
// answers are final). URLs are secrets (webhook and Slack URLs carry tokens), so messages show
// only scheme://host[:port]. Private to src/alertmanager.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "alertmanager/config.h"
#include "alertmanager/notify.h"
#include "tyto/env.h"
#include "tyto/status.h"

namespace tyto::http {
class Client;
struct ClientResponse;
struct Url;
}  // namespace tyto::http

namespace tyto::alertmanager {

// The value given inline, else the file's content with surrounding whitespace removed (as
// Alertmanager reads url_file and Prometheus's http_config reads its *_file options). An
// unreadable file is an error naming `what` and the path, never the value.
Result<std::string> ReadSecret(const Secret& value, const std::string& file, Env* env, std::string_view what);

// The Authorization header's value for http_config (basic_auth, authorization, bearer_token),
// or "" when it sets none.
Result<std::string> AuthorizationHeader(const HttpConfig& config, Env* env);

// "https://hooks.slack.com": what a message may show of a URL.
std::string RedactedUrl(const http::Url& url);

struct HttpPost {
  std::string who;  // "webhook_configs[0]" (names the integration in messages)
  std::string url;  // a secret: never printed whole
  const HttpConfig* http_config = nullptr;
  Env* env = nullptr;
  std::string body;  // JSON
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};
};

// Posts once. A 2xx answer gives an OK result; anything else gives the failure, retryable for
// network errors, timeouts, 429 and 5xx. *response (optional) receives any answer received.
DeliveryResult PostJson(http::Client& client, const HttpPost& post, http::ClientResponse* response = nullptr);

// "webhook_configs[0]": the config list's key and the integration's index.
std::string IntegrationName(std::string_view kind, int index);

}  // namespace tyto::alertmanager
