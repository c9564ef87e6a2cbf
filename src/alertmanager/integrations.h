// Integrations: a receiver's webhook, Slack, PagerDuty and email configs turned into
// Integration objects (notify.h) that deliver one Notification each, with the payloads
// Alertmanager 0.27 sends, so receivers built for Alertmanager work unchanged:
//
//   webhook    POST JSON {"receiver","status","alerts",...,"version":"4","groupKey","truncatedAlerts"}
//   slack      an incoming-webhook message with one attachment (title "[FIRING:2] ...")
//   pagerduty  Events API v2 (routing_key; trigger/resolve, dedup_key = SHA-256 of the group
//              key), or v1 (service_key); 2xx is success
//   email      SMTP (smtp.h): STARTTLS, or implicit TLS on port 465; AUTH; a MIME message with a
//              text and an HTML part
//
// Each Deliver tries once; the caller retries while DeliveryResult.retry says it may help.
// Secret files (url_file, api_url_file, http_config's *_file) are read through Env at each
// delivery, so a rotated file is picked up; an unreadable one fails that delivery, naming the
// file. Messages never show a secret: URLs appear as scheme://host only.
//
// Receivers' templates are rendered when they use the simple forms RenderTemplate knows
// ({{ .CommonLabels.x }}, {{ .Status | toUpper }}, {{ template "slack.default.title" . }}, ...);
// a field with any other template gets Alertmanager's default (default_templates.h), and a
// warning is logged when the integration is built.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "alertmanager/config.h"
#include "alertmanager/notify.h"
#include "tyto/env.h"

namespace tyto::http {
class Client;
}

namespace tyto::alertmanager {

struct IntegrationOptions {
  // Sends the HTTP integrations' requests; null: one client (one network thread) is made and
  // shared by the integrations of this call.
  std::shared_ptr<http::Client> client;
  // Where PagerDuty service_key (Events API v1) configs post.
  std::string pagerduty_v1_url = "https://events.pagerduty.com/generic/2010-04-15/create_event.json";
  // A PEM file of extra certificate authorities for SMTP TLS (email_configs' tls_config is not
  // supported yet); empty: the system's trust store only.
  std::string smtp_ca_file;
  // The host name in email Message-Ids; empty: this machine's name.
  std::string hostname;
};

// One Integration per config of `receiver`, in the order webhook, Slack, PagerDuty, email, each
// with its index among the configs of its kind. `global` supplies what the receiver leaves out
// (ParseConfig has already copied most of it). `env` (null: Env::Default()) reads secret files
// and must outlive the integrations.
std::vector<std::unique_ptr<Integration>> BuildIntegrations(const Receiver& receiver, const GlobalConfig& global,
                                                            Env* env, const IntegrationOptions& options = {});

// The payloads, for tests and for tools that show what would be sent.
std::string WebhookMessage(const Notification& n, uint64_t max_alerts);
std::string SlackMessage(const SlackConfig& config, const Notification& n);
// `v1`: the Events API v1 form (service_key) instead of v2 (routing_key).
std::string PagerdutyMessage(const PagerdutyConfig& config, const Notification& n, bool v1);

}  // namespace tyto::alertmanager
