// The PagerDuty integration: Events API v2 (routing_key) or v1 (service_key), with
// Alertmanager's defaults for summary, client, client URL, source, severity and details.
#include <map>
#include <memory>
#include <string>

#include "alertmanager/default_templates.h"
#include "http/encoding.h"
#include "alertmanager/go_json.h"
#include "alertmanager/integration_http.h"
#include "alertmanager/integrations_internal.h"
#include "http/client.h"

namespace tyto::alertmanager {

namespace {

// Alertmanager's limits: summary (v2) and description (v1) in runes, the whole v2 event in bytes.
constexpr size_t kMaxSummaryRunes = 1024;
constexpr size_t kMaxEventBytes = 512000;

// The details: Alertmanager's four defaults, overridden or extended by the config's.
LabelSet Details(const PagerdutyConfig& c, const Notification& n) {
  LabelSet details;
  details["firing"] = TextAlertList(FiringAlerts(n));
  details["resolved"] = TextAlertList(ResolvedAlerts(n));
  details["num_firing"] = std::to_string(FiringAlerts(n).size());
  details["num_resolved"] = std::to_string(ResolvedAlerts(n).size());
  for (const auto& [k, v] : c.details) details[k] = Render(v, v, n);
  return details;
}

class Pagerduty : public Integration {
 public:
  Pagerduty(PagerdutyConfig config, int index, std::shared_ptr<const IntegrationContext> context)
      : config_(std::move(config)), index_(index), context_(std::move(context)) {}

  std::string_view Kind() const override { return "pagerduty"; }
  int Index() const override { return index_; }
  bool SendResolved() const override { return config_.send_resolved; }

  DeliveryResult Deliver(const Notification& n, int64_t timeout_ms) override {
    const bool v1 = config_.routing_key.empty();
    HttpPost post;
    post.who = IntegrationName("pagerduty", index_);
    post.url = v1 ? context_->options.pagerduty_v1_url : config_.url;
    post.http_config = &config_.http_config;
    post.env = context_->env;
    post.body = PagerdutyMessage(config_, Prepare(n, config_.send_resolved), v1);
    post.timeout = DeliveryTimeout(timeout_ms);
    http::ClientResponse response;
    DeliveryResult r = PostJson(*context_->client, post, &response);
    // The v1 API answers 403 when it rate-limits.
    if (v1 && response.status == 403) r.retry = true;
    return r;
  }

 private:
  const PagerdutyConfig config_;
  const int index_;
  const std::shared_ptr<const IntegrationContext> context_;
};

}  // namespace

std::string PagerdutyMessage(const PagerdutyConfig& c, const Notification& n, bool v1) {
  const bool resolved = GroupState(n) == "resolved";
  const std::string event = resolved ? "resolve" : "trigger";
  const std::string summary = TruncateInRunes(Render(c.description, Subject(n), n), kMaxSummaryRunes);
  const std::string client = Render(c.client, "Alertmanager", n);
  const std::string client_url = Render(c.client_url, AlertListUrl(n), n);
  const LabelSet details = Details(c, n);
  std::string out = "{";
  if (v1) {
    AppendJsonMember(&out, "service_key", c.service_key.value(), true);
    AppendJsonMember(&out, "incident_key", http::Sha256Hex(n.group_key), true);
    AppendJsonMember(&out, "event_type", event, true);
    AppendJsonMember(&out, "description", summary, true);
    out += ",\"event_action\":\"\",\"payload\":null";
    if (!resolved) {
      AppendJsonMember(&out, "client", client, true);
      AppendJsonMember(&out, "client_url", client_url, true);
    }
    if (!details.empty()) {
      out += ",";
      AppendJsonKey(&out, "details");
      AppendJsonObject(&out, details);
    }
    out += "}\n";
    return out;
  }
  const auto build = [&](bool with_details) {
    std::string m = "{";
    AppendJsonMember(&m, "routing_key", c.routing_key.value(), true);
    // Alertmanager's notify.Key.Hash: the group key's SHA-256.
    AppendJsonMember(&m, "dedup_key", http::Sha256Hex(n.group_key), true);
    AppendJsonMember(&m, "event_action", event, false);
    m += ",";
    AppendJsonKey(&m, "payload");
    m += "{";
    AppendJsonMember(&m, "summary", summary, false);
    AppendJsonMember(&m, "source", Render(c.source, client, n), false);
    AppendJsonMember(&m, "severity", Render(c.severity, "error", n), false);
    AppendJsonMember(&m, "class", Render(c.class_name, "", n), true);
    AppendJsonMember(&m, "component", Render(c.component, "", n), true);
    AppendJsonMember(&m, "group", Render(c.group, "", n), true);
    m += ",";
    AppendJsonKey(&m, "custom_details");
    if (with_details) {
      AppendJsonObject(&m, details);
    } else {
      AppendJsonObject(&m, {{"error",
                             "Custom details have been removed because the original event exceeds the maximum "
                             "size of 512KB"}});
    }
    m += "}";
    AppendJsonMember(&m, "client", client, true);
    AppendJsonMember(&m, "client_url", client_url, true);
    m += "}\n";
    return m;
  };
  out = build(true);
  if (out.size() > kMaxEventBytes) out = build(false);
  return out;
}

std::unique_ptr<Integration> NewPagerduty(const PagerdutyConfig& config, int index,
                                          std::shared_ptr<const IntegrationContext> context) {
  return std::make_unique<Pagerduty>(config, index, std::move(context));
}

}  // namespace tyto::alertmanager
