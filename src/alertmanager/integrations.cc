#include "alertmanager/integrations.h"

#include "alertmanager/default_templates.h"
#include "alertmanager/integrations_internal.h"
#include "common/log.h"
#include "http/client.h"

namespace tyto::alertmanager {

namespace {

const log::Logger& Log() {
  static const log::Logger logger("alertmanager");
  return logger;
}

// Whether `s` holds a template that RenderTemplate cannot expand (support depends on the
// actions only, not on the data).
bool HasTemplate(const std::string& s) { return !RenderTemplate(s, Notification{}).has_value(); }

// Says once, at build time, that a field falls back to its default because its template is
// beyond what is rendered.
void WarnTemplates(const std::string& receiver, const std::string& who, std::initializer_list<const std::string*> fields) {
  for (const std::string* f : fields) {
    if (HasTemplate(*f)) {
      Log().Warn("a template in a receiver field uses more than Tyto renders; the default text is used instead",
                 {{"receiver", receiver}, {"integration", who}});
      return;
    }
  }
}

}  // namespace

std::vector<std::unique_ptr<Integration>> BuildIntegrations(const Receiver& receiver, const GlobalConfig& global,
                                                            Env* env, const IntegrationOptions& options) {
  auto context = std::make_shared<IntegrationContext>();
  context->options = options;
  context->env = env != nullptr ? env : Env::Default();
  context->client = options.client != nullptr ? options.client : std::make_shared<http::Client>(1);
  std::vector<std::unique_ptr<Integration>> out;
  int i = 0;
  for (const WebhookConfig& c : receiver.webhook_configs) out.push_back(NewWebhook(c, i++, context));
  i = 0;
  for (SlackConfig c : receiver.slack_configs) {
    if (c.api_url.empty() && c.api_url_file.empty()) c.api_url = global.slack_api_url;
    WarnTemplates(receiver.name, "slack", {&c.title, &c.title_link, &c.text, &c.color, &c.pretext, &c.footer,
                                           &c.channel, &c.username, &c.icon_emoji, &c.icon_url});
    out.push_back(NewSlack(c, i++, context));
  }
  i = 0;
  for (PagerdutyConfig c : receiver.pagerduty_configs) {
    if (c.url.empty()) c.url = global.pagerduty_url;
    WarnTemplates(receiver.name, "pagerduty",
                  {&c.description, &c.client, &c.client_url, &c.severity, &c.source, &c.component, &c.group,
                   &c.class_name});
    out.push_back(NewPagerduty(c, i++, context));
  }
  i = 0;
  for (EmailConfig c : receiver.email_configs) {
    if (c.smarthost.empty()) c.smarthost = global.smtp_smarthost;
    if (c.from.empty()) c.from = global.smtp_from;
    if (c.hello.empty()) c.hello = global.smtp_hello;
    WarnTemplates(receiver.name, "email", {&c.html, &c.text, &c.to, &c.from});
    out.push_back(NewEmail(c, i++, context));
  }
  return out;
}

}  // namespace tyto::alertmanager
