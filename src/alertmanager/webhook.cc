// The webhook integration: Alertmanager's webhook message (version "4"), posted as JSON.
#include <cstdio>
#include <memory>
#include <string>

#include "alertmanager/default_templates.h"
#include "alertmanager/go_json.h"
#include "alertmanager/integration_http.h"
#include "alertmanager/integrations_internal.h"
#include "common/units.h"

namespace tyto::alertmanager {

namespace {

std::string Fingerprint16(const LabelSet& labels) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(Fingerprint(labels)));
  return buf;
}

class Webhook : public Integration {
 public:
  Webhook(WebhookConfig config, int index, std::shared_ptr<const IntegrationContext> context)
      : config_(std::move(config)), index_(index), context_(std::move(context)) {}

  std::string_view Kind() const override { return "webhook"; }
  int Index() const override { return index_; }
  bool SendResolved() const override { return config_.send_resolved; }

  DeliveryResult Deliver(const Notification& n, int64_t timeout_ms) override {
    HttpPost post;
    post.who = IntegrationName("webhook", index_);
    Result<std::string> url = ReadSecret(config_.url, config_.url_file, context_->env, "url_file");
    if (!url.ok()) return {url.status().WithContext(post.who), false};
    post.url = std::move(*url);
    post.http_config = &config_.http_config;
    post.env = context_->env;
    post.body = WebhookMessage(Prepare(n, config_.send_resolved), config_.max_alerts);
    post.timeout = DeliveryTimeout(timeout_ms, config_.timeout);
    return PostJson(*context_->client, post);
  }

 private:
  const WebhookConfig config_;
  const int index_;
  const std::shared_ptr<const IntegrationContext> context_;
};

}  // namespace

std::string WebhookMessage(const Notification& notification, uint64_t max_alerts) {
  uint64_t cut = 0;
  const Notification n = Prepare(notification, /*send_resolved=*/true, max_alerts, &cut);
  std::string out;
  out += '{';
  AppendJsonKey(&out, "receiver");
  AppendJsonString(&out, QuoteMeta(n.receiver));
  out += ',';
  AppendJsonKey(&out, "status");
  AppendJsonString(&out, GroupState(n));
  out += ',';
  AppendJsonKey(&out, "alerts");
  out += '[';
  for (size_t i = 0; i < n.alerts.size(); ++i) {
    const Alert& a = n.alerts[i];
    const bool resolved = a.ResolvedAt(n.now_ms);
    if (i > 0) out += ',';
    out += '{';
    AppendJsonKey(&out, "status");
    AppendJsonString(&out, resolved ? "resolved" : "firing");
    out += ',';
    AppendJsonKey(&out, "labels");
    AppendJsonObject(&out, a.labels);
    out += ',';
    AppendJsonKey(&out, "annotations");
    AppendJsonObject(&out, a.annotations);
    out += ',';
    AppendJsonKey(&out, "startsAt");
    AppendJsonString(&out, GoTime(a.starts_at_ms));
    out += ',';
    // As Alertmanager does, the end of an alert still firing is not shown.
    AppendJsonKey(&out, "endsAt");
    AppendJsonString(&out, GoTime(resolved ? a.ends_at_ms : 0));
    out += ',';
    AppendJsonKey(&out, "generatorURL");
    AppendJsonString(&out, a.generator_url);
    out += ',';
    AppendJsonKey(&out, "fingerprint");
    AppendJsonString(&out, Fingerprint16(a.labels));
    out += '}';
  }
  out += "],";
  AppendJsonKey(&out, "groupLabels");
  AppendJsonObject(&out, n.group_labels);
  out += ',';
  AppendJsonKey(&out, "commonLabels");
  AppendJsonObject(&out, n.common_labels);
  out += ',';
  AppendJsonKey(&out, "commonAnnotations");
  AppendJsonObject(&out, n.common_annotations);
  out += ',';
  AppendJsonKey(&out, "externalURL");
  AppendJsonString(&out, n.external_url);
  out += ',';
  AppendJsonKey(&out, "version");
  AppendJsonString(&out, "4");
  out += ',';
  AppendJsonKey(&out, "groupKey");
  AppendJsonString(&out, n.group_key);
  out += ',';
  AppendJsonKey(&out, "truncatedAlerts");
  out += std::to_string(n.truncated_alerts + cut);
  out += "}\n";  // json.Encoder ends each value with a newline
  return out;
}

std::unique_ptr<Integration> NewWebhook(const WebhookConfig& config, int index,
                                        std::shared_ptr<const IntegrationContext> context) {
  return std::make_unique<Webhook>(config, index, std::move(context));
}

}  // namespace tyto::alertmanager
