// The email integration: a MIME message (a text and an HTML part, quoted-printable) with
// Alertmanager's default subject, sent with SmtpSend.
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <random>
#include <string>

#include "alertmanager/default_templates.h"
#include "alertmanager/integration_http.h"
#include "alertmanager/integrations_internal.h"
#include "alertmanager/smtp.h"

namespace tyto::alertmanager {

namespace {

// "content-TYPE" -> "Content-Type", as Go's textproto.CanonicalMIMEHeaderKey.
std::string CanonicalHeader(std::string_view name) {
  std::string out(name);
  bool upper = true;
  for (char& c : out) {
    c = static_cast<char>(upper ? std::toupper(static_cast<unsigned char>(c)) : std::tolower(static_cast<unsigned char>(c)));
    upper = c == '-';
  }
  return out;
}

// A header value as Go's mime.QEncoding.Encode("utf-8", v) writes it: as is when it is
// printable ASCII, else RFC 2047 encoded words of at most 75 characters. Encoding also keeps
// CR and LF out of the header.
std::string EncodeHeaderValue(std::string_view v) {
  bool plain = true;
  for (char ch : v) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < ' ' && c != '\t') || c > '~') plain = false;
  }
  if (plain) return std::string(v);
  static constexpr char kHex[] = "0123456789ABCDEF";
  static constexpr std::string_view kStart = "=?utf-8?q?";
  constexpr size_t kMaxWord = 75;
  std::string out, word;
  const auto flush = [&] {
    if (!out.empty()) out += ' ';
    out += std::string(kStart) + word + "?=";
    word.clear();
  };
  size_t i = 0;
  while (i < v.size()) {
    // One UTF-8 sequence at a time, so that no character is split across encoded words.
    size_t len = 1;
    while (i + len < v.size() && (static_cast<unsigned char>(v[i + len]) & 0xC0) == 0x80) ++len;
    std::string enc;
    for (size_t k = i; k < i + len; ++k) {
      const auto c = static_cast<unsigned char>(v[k]);
      if (c == ' ') {
        enc += '_';
      } else if (c >= '!' && c <= '~' && c != '=' && c != '?' && c != '_') {
        enc += static_cast<char>(c);
      } else {
        enc += '=';
        enc += kHex[c >> 4];
        enc += kHex[c & 15];
      }
    }
    if (!word.empty() && kStart.size() + word.size() + enc.size() + 2 > kMaxWord) flush();
    word += enc;
    i += len;
  }
  flush();
  return out;
}

// Quoted-printable (RFC 2045) as Go's mime/quotedprintable.Writer writes text: lines of at most
// 76 characters with soft breaks, CRLF line ends, '=' and non-printable bytes as =XX, and a
// space or tab before a line end encoded.
std::string QuotedPrintable(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out, line;
  // A space or tab ending a line would be lost in transport: encode it.
  const auto protect_end = [&] {
    if (!line.empty() && (line.back() == ' ' || line.back() == '\t')) {
      const char c = line.back();
      line.pop_back();
      line += c == ' ' ? "=20" : "=09";
    }
  };
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '\n' || (c == '\r' && i + 1 < s.size() && s[i + 1] == '\n')) {
      if (c == '\r') ++i;
      protect_end();
      out += line + "\r\n";
      line.clear();
      continue;
    }
    std::string enc;
    if ((c >= '!' && c <= '~' && c != '=') || c == ' ' || c == '\t') {
      enc = std::string(1, static_cast<char>(c));
    } else {
      enc = {'=', kHex[c >> 4], kHex[c & 15]};
    }
    if (line.size() + enc.size() > 75) {  // a soft break: at most 76 characters with the '='
      out += line + "=\r\n";
      line.clear();
    }
    line += enc;
  }
  protect_end();
  out += line;
  return out;
}

std::string HtmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string AlertsHtml(std::string_view heading, const std::vector<const Alert*>& alerts) {
  if (alerts.empty()) return "";
  std::string out = "<h3>[" + std::to_string(alerts.size()) + "] " + std::string(heading) + "</h3>\n";
  for (const Alert* a : alerts) {
    out += "<p><strong>Labels</strong><br>\n";
    for (const auto& [k, v] : a->labels) out += HtmlEscape(k) + " = " + HtmlEscape(v) + "<br>\n";
    if (!a->annotations.empty()) {
      out += "<strong>Annotations</strong><br>\n";
      for (const auto& [k, v] : a->annotations) out += HtmlEscape(k) + " = " + HtmlEscape(v) + "<br>\n";
    }
    out += "<a href=\"" + HtmlEscape(a->generator_url) + "\">Source</a></p>\n";
  }
  return out;
}

std::string Headline(const Notification& n) {
  std::string out = std::to_string(n.alerts.size()) + (n.alerts.size() == 1 ? " alert" : " alerts") + " for ";
  for (const auto& [k, v] : n.group_labels) out += k + "=" + v + " ";
  return out;
}

// The HTML part when the config gives none: what Alertmanager's default email shows (a headline,
// a link to the alert list, firing and resolved alerts with labels, annotations and source).
std::string DefaultHtml(const Notification& n) {
  std::string out = "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"UTF-8\">\n<title>" + HtmlEscape(Subject(n)) +
                    "</title>\n</head>\n<body>\n";
  out += "<h2>" + HtmlEscape(Headline(n)) + "</h2>\n";
  out += "<p><a href=\"" + HtmlEscape(AlertListUrl(n)) + "\">View in Alertmanager</a></p>\n";
  out += AlertsHtml("Firing", FiringAlerts(n));
  out += AlertsHtml("Resolved", ResolvedAlerts(n));
  out += "</body>\n</html>\n";
  return out;
}

std::string DefaultText(const Notification& n) {
  std::string out = Subject(n) + "\n\n" + Headline(n) + "\n\nView in Alertmanager: " + AlertListUrl(n) + "\n";
  const auto firing = FiringAlerts(n), resolved = ResolvedAlerts(n);
  if (!firing.empty()) out += "\n[" + std::to_string(firing.size()) + "] Firing\n" + TextAlertList(firing);
  if (!resolved.empty()) out += "\n[" + std::to_string(resolved.size()) + "] Resolved\n" + TextAlertList(resolved);
  return out;
}

// "Mon, 02 Jan 2006 15:04:05 +0000" (RFC 1123 with a numeric zone), in UTC.
std::string MailDate(int64_t unix_millis) {
  const time_t t = static_cast<time_t>(unix_millis / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[64];
  strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

std::string Hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

Status SplitSmarthost(const std::string& smarthost, std::string* host, uint16_t* port) {
  const size_t colon = smarthost.rfind(':');
  if (colon == std::string::npos || colon + 1 == smarthost.size()) {
    return InvalidArgument("smarthost \"" + smarthost + "\" needs host:port");
  }
  *host = smarthost.substr(0, colon);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']') *host = host->substr(1, host->size() - 2);
  unsigned long p = 0;
  for (char c : smarthost.substr(colon + 1)) {
    if (c < '0' || c > '9' || (p = p * 10 + static_cast<unsigned long>(c - '0')) > 65535) {
      return InvalidArgument("smarthost \"" + smarthost + "\" has a bad port");
    }
  }
  if (host->empty() || p == 0) return InvalidArgument("smarthost \"" + smarthost + "\" needs host:port");
  *port = static_cast<uint16_t>(p);
  return Status::Ok();
}

class Email : public Integration {
 public:
  Email(EmailConfig config, int index, std::shared_ptr<const IntegrationContext> context)
      : config_(std::move(config)), index_(index), context_(std::move(context)),
        hostname_(context_->options.hostname.empty() ? Hostname() : context_->options.hostname) {}

  std::string_view Kind() const override { return "email"; }
  int Index() const override { return index_; }
  bool SendResolved() const override { return config_.send_resolved; }

  DeliveryResult Deliver(const Notification& notification, int64_t timeout_ms) override {
    const std::string who = IntegrationName("email", index_);
    const Notification n = Prepare(notification, config_.send_resolved);
    SmtpOptions o;
    if (Status s = SplitSmarthost(config_.smarthost, &o.host, &o.port); !s.ok()) return {s.WithContext(who), false};
    const std::optional<std::string> to_header = RenderTemplate(config_.to, n);
    const std::optional<std::string> from_header = RenderTemplate(config_.from, n);
    if (!to_header || !from_header) {
      return {FailedPrecondition(who + ": the template in to or from is not supported yet"), false};
    }
    Result<std::vector<std::string>> to = ParseAddressList(*to_header);
    if (!to.ok()) return {to.status().WithContext(who + ": to"), false};
    Result<std::vector<std::string>> from = ParseAddressList(*from_header);
    if (!from.ok()) return {from.status().WithContext(who + ": from"), false};
    o.hello = config_.hello.empty() ? "localhost" : config_.hello;
    o.implicit_tls = o.port == 465;
    o.require_tls = config_.require_tls;
    o.ca_file = config_.tls_ca_file.empty() ? context_->options.smtp_ca_file : config_.tls_ca_file;
    if (!config_.tls_server_name.empty()) o.server_name = config_.tls_server_name;
    o.insecure_skip_verify = config_.tls_insecure_skip_verify;
    o.username = config_.auth_username;
    o.password = config_.auth_password.value();
    o.identity = config_.auth_identity;
    o.secret = config_.auth_secret.value();
    o.timeout = DeliveryTimeout(timeout_ms);
    SmtpMessage m;
    m.from = (*from)[0];
    m.to = std::move(*to);
    m.data = Message(n, *to_header, *from_header);
    SmtpResult r = SmtpSend(o, m);
    if (!r.status.ok()) return {r.status.WithContext(who + " via " + config_.smarthost), r.retry};
    return {Status::Ok(), false};
  }

 private:
  std::string Message(const Notification& n, const std::string& to, const std::string& from) {
    std::map<std::string, std::string> headers;
    // Headers whose templates cannot be rendered keep their text, except the Subject, which
    // falls back to the default.
    for (const auto& [k, v] : config_.headers) headers[CanonicalHeader(k)] = Render(v, v, n);
    auto subject = headers.find("Subject");
    if (subject == headers.end()) {
      headers["Subject"] = Subject(n);
    } else {
      const auto configured = std::find_if(config_.headers.begin(), config_.headers.end(),
                                           [](const auto& h) { return CanonicalHeader(h.first) == "Subject"; });
      subject->second = Render(configured->second, Subject(n), n);
    }
    headers["To"] = to;
    headers["From"] = from;
    std::string out;
    for (const auto& [k, v] : headers) out += k + ": " + EncodeHeaderValue(v) + "\r\n";
    std::mt19937_64 random(std::random_device{}());
    if (headers.count("Message-Id") == 0) {
      out += "Message-Id: <" + std::to_string(n.now_ms * 1000000) + "." + std::to_string(random()) + "@" +
             hostname_ + ">\r\n";
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string boundary;
    for (int i = 0; i < 30; ++i) {
      const auto b = static_cast<unsigned>(random() & 0xff);
      boundary += kHex[b >> 4];
      boundary += kHex[b & 15];
    }
    out += "Date: " + MailDate(n.now_ms) + "\r\n";
    out += "Content-Type: multipart/alternative;  boundary=" + boundary + "\r\n";
    out += "MIME-Version: 1.0\r\n\r\n";
    const std::string text = Render(config_.text, DefaultText(n), n);
    const std::string html = Render(config_.html, DefaultHtml(n), n);
    // The preferred alternative last (RFC 2046 section 5.1.4).
    out += "--" + boundary + "\r\n";
    out += "Content-Transfer-Encoding: quoted-printable\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n";
    out += QuotedPrintable(text);
    out += "\r\n--" + boundary + "\r\n";
    out += "Content-Transfer-Encoding: quoted-printable\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n";
    out += QuotedPrintable(html);
    out += "\r\n--" + boundary + "--\r\n";
    return out;
  }

  const EmailConfig config_;
  const int index_;
  const std::shared_ptr<const IntegrationContext> context_;
  const std::string hostname_;
};

}  // namespace

std::unique_ptr<Integration> NewEmail(const EmailConfig& config, int index,
                                      std::shared_ptr<const IntegrationContext> context) {
  return std::make_unique<Email>(config, index, std::move(context));
}

}  // namespace tyto::alertmanager
