// The Slack integration: an incoming-webhook message with one attachment, with Alertmanager's
// default title, link, fallback, username and colour for the fields a config leaves out.
#include <memory>
#include <string>

#include "alertmanager/default_templates.h"
#include "alertmanager/go_json.h"
#include "alertmanager/integration_http.h"
#include "alertmanager/integrations_internal.h"
#include "http/client.h"

namespace tyto::alertmanager {

namespace {

// Alertmanager's maxTitleLenRunes.
constexpr size_t kMaxTitleRunes = 1024;

// Slack answers an incoming webhook with "ok" (text/plain), or with {"ok":true} from its web
// API; both can carry an error with a 200.
DeliveryResult CheckAnswer(const std::string& who, const http::ClientResponse& r) {
  if (r.content_type.starts_with("application/json")) {
    std::string compact;
    for (char c : r.body) {
      if (c != ' ' && c != '\n' && c != '\r' && c != '\t') compact += c;
    }
    if (compact.find("\"ok\":true") != std::string::npos) return {Status::Ok(), false};
    std::string error = "unknown error";
    const size_t e = r.body.find("\"error\"");
    if (e != std::string::npos) {
      const size_t open = r.body.find('"', r.body.find(':', e) + 1);
      const size_t close = open == std::string::npos ? open : r.body.find('"', open + 1);
      if (close != std::string::npos) error = r.body.substr(open + 1, std::min<size_t>(close - open - 1, 200));
    }
    return {FailedPrecondition(who + ": error response from Slack: " + error), false};
  }
  if (r.body == "ok") return {Status::Ok(), false};
  return {FailedPrecondition(who + ": received an error response from Slack: " + r.body.substr(0, 200)), false};
}

class Slack : public Integration {
 public:
  Slack(SlackConfig config, int index, std::shared_ptr<const IntegrationContext> context)
      : config_(std::move(config)), index_(index), context_(std::move(context)) {}

  std::string_view Kind() const override { return "slack"; }
  int Index() const override { return index_; }
  bool SendResolved() const override { return config_.send_resolved; }

  DeliveryResult Deliver(const Notification& n, int64_t timeout_ms) override {
    HttpPost post;
    post.who = IntegrationName("slack", index_);
    Result<std::string> url = ReadSecret(config_.api_url, config_.api_url_file, context_->env, "api_url_file");
    if (!url.ok()) return {url.status().WithContext(post.who), false};
    post.url = std::move(*url);
    post.http_config = &config_.http_config;
    post.env = context_->env;
    post.body = SlackMessage(config_, Prepare(n, config_.send_resolved));
    post.timeout = DeliveryTimeout(timeout_ms);
    http::ClientResponse response;
    DeliveryResult r = PostJson(*context_->client, post, &response);
    if (!r.status.ok()) {
      if (!config_.channel.empty()) r.status = r.status.WithContext("channel \"" + config_.channel + "\"");
      return r;
    }
    return CheckAnswer(post.who, response);
  }

 private:
  const SlackConfig config_;
  const int index_;
  const std::shared_ptr<const IntegrationContext> context_;
};

}  // namespace

std::string SlackMessage(const SlackConfig& c, const Notification& n) {
  const std::string subject = Subject(n);
  const std::string link = AlertListUrl(n);
  const std::string title = TruncateInRunes(Render(c.title, subject, n), kMaxTitleRunes);
  const std::string title_link = Render(c.title_link, link, n);
  std::string out = "{";
  AppendJsonMember(&out, "channel", Render(c.channel, "", n), true);
  AppendJsonMember(&out, "username", Render(c.username, "Alertmanager", n), true);
  AppendJsonMember(&out, "icon_emoji", Render(c.icon_emoji, "", n), true);
  AppendJsonMember(&out, "icon_url", Render(c.icon_url, "", n), true);
  if (out.back() != '{') out += ',';
  AppendJsonKey(&out, "attachments");
  out += "[{";
  AppendJsonMember(&out, "title", title, true);
  AppendJsonMember(&out, "title_link", title_link, true);
  AppendJsonMember(&out, "pretext", Render(c.pretext, "", n), true);
  AppendJsonMember(&out, "text", Render(c.text, "", n), false);
  // Alertmanager's default fallback: "<title> | <title link>", from its default templates.
  AppendJsonMember(&out, "fallback", subject + " | " + link, false);
  AppendJsonMember(&out, "callback_id", "", false);
  AppendJsonMember(&out, "footer", Render(c.footer, "", n), false);
  AppendJsonMember(&out, "color", Render(c.color, GroupState(n) == "firing" ? "danger" : "good", n), true);
  out += ",\"mrkdwn_in\":[\"fallback\",\"pretext\",\"text\"]}]}\n";
  return out;
}

std::unique_ptr<Integration> NewSlack(const SlackConfig& config, int index,
                                      std::shared_ptr<const IntegrationContext> context) {
  return std::make_unique<Slack>(config, index, std::move(context));
}

}  // namespace tyto::alertmanager
