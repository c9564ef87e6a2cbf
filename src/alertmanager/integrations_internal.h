// The integrations' constructors, one per file (webhook.cc, slack.cc, pagerduty.cc, email.cc),
// called by BuildIntegrations (integrations.cc). Private to src/alertmanager.
#pragma once

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>

#include "alertmanager/config.h"
#include "alertmanager/integrations.h"
#include "alertmanager/notify.h"

namespace tyto::alertmanager {

// What every integration built by one BuildIntegrations call shares.
struct IntegrationContext {
  std::shared_ptr<http::Client> client;
  Env* env = nullptr;
  IntegrationOptions options;
};

std::unique_ptr<Integration> NewWebhook(const WebhookConfig& config, int index,
                                        std::shared_ptr<const IntegrationContext> context);
std::unique_ptr<Integration> NewSlack(const SlackConfig& config, int index,
                                      std::shared_ptr<const IntegrationContext> context);
std::unique_ptr<Integration> NewPagerduty(const PagerdutyConfig& config, int index,
                                          std::shared_ptr<const IntegrationContext> context);
std::unique_ptr<Integration> NewEmail(const EmailConfig& config, int index,
                                      std::shared_ptr<const IntegrationContext> context);

// The smaller of the caller's deadline (10 s when not positive) and the config's own timeout (when set).
inline std::chrono::milliseconds DeliveryTimeout(int64_t timeout_ms, std::optional<Duration> configured = {}) {
  int64_t t = timeout_ms > 0 ? timeout_ms : int64_t{10000};
  if (configured && configured->count() > 0) t = std::min<int64_t>(t, configured->count());
  return std::chrono::milliseconds(t);
}

}  // namespace tyto::alertmanager
