// Alertmanager's template data and default templates (its default.tmpl, which is Go
// text/template), computed in plain code: the subject line "[FIRING:2] HighLatency (api prod)",
// the link back to the alert list, the text alert list. The integrations use them where a
// receiver leaves a field out, so notifications read as Alertmanager 0.27's do.
//
// Templates written in receivers' fields are rendered when they use only the simple forms that
// RenderTemplate knows; any other template falls back to the default (see Render).
// Private to src/alertmanager.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alertmanager/notify.h"

namespace tyto::alertmanager {

// The notification as an integration sends it: without resolved alerts when the integration
// does not send them, cut to `max_alerts` (0 = all), and, when that removed any alert, with
// status, common labels and common annotations computed again over what is left (as
// Alertmanager computes its template data over the alerts it sends). `*truncated` (optional)
// receives the number cut by max_alerts.
Notification Prepare(const Notification& n, bool send_resolved, uint64_t max_alerts = 0, uint64_t* truncated = nullptr);

// Go's regexp.QuoteMeta: Alertmanager passes the receiver name through it ("a.b" -> "a\.b").
std::string QuoteMeta(std::string_view s);

// Go's url.QueryEscape (the template function urlquery).
std::string QueryEscape(std::string_view s);


// "firing" when any alert fires at n.now_ms, else "resolved" (Notification::State, which is
// defined with the dispatcher; computed here so that the integrations need not link it).
std::string GroupState(const Notification& n);

// Alerts firing / resolved at n.now_ms.
std::vector<const Alert*> FiringAlerts(const Notification& n);
std::vector<const Alert*> ResolvedAlerts(const Notification& n);

// "__subject": "[FIRING:2] <group label values> (<other common label values>)", or
// "[RESOLVED] ...". Like Alertmanager's, it ends with a space when there are no other common
// labels.
std::string Subject(const Notification& n);

// "__alertmanagerURL": external URL + "/#/alerts?receiver=" + the receiver, query-escaped.
std::string AlertListUrl(const Notification& n);

// "__text_alert_list": for each alert, "Labels:\n - name = value\n...Annotations:\n...Source: url\n".
std::string TextAlertList(const std::vector<const Alert*>& alerts);

// Expands a template over the notification's data when every action in it is one of these
// (Go text/template syntax, "{{-" and "-}}" trimming included; missing keys read as ""):
//   {{ .Status }} {{ .Receiver }} {{ .ExternalURL }}
//   {{ .GroupLabels.NAME }} {{ .CommonLabels.NAME }} {{ .CommonAnnotations.NAME }}
//   {{ index .CommonLabels "NAME" }} (also GroupLabels, CommonAnnotations)
//   {{ .Alerts | len }} {{ len .Alerts.Firing }} {{ .Alerts.Resolved | len }}
//   any of the above piped to toUpper, toLower or title, or called as `toUpper .Status`
//   {{ template "NAME" . }} for Alertmanager's default templates of the title, link, text,
//   subject and the like ("slack.default.title", "__subject", "email.default.subject", ...)
//   {{/* comments */}}
// nullopt for anything else (if, range, with, variables, other functions).
std::optional<std::string> RenderTemplate(std::string_view text, const Notification& n);

// `configured` rendered (a literal is its own rendering) when it is set and RenderTemplate
// knows its actions; otherwise `fallback`.
std::string Render(const std::string& configured, const std::string& fallback, const Notification& n);

// Cuts `s` to at most `max_runes` UTF-8 characters, the last one "…" when cut (Alertmanager's
// notify.TruncateInRunes). Sets *truncated when it cut.
std::string TruncateInRunes(std::string_view s, size_t max_runes, bool* truncated = nullptr);

}  // namespace tyto::alertmanager
