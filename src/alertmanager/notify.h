// Notify: the contract between the dispatcher (dispatch.h: aggregation groups, timers,
// inhibition, silences, the notification log) and the integrations that deliver one
// notification (integrations.h: webhook, Slack, PagerDuty, email, and forwarding to an external
// Alertmanager).
//
// The dispatcher builds one Notification per aggregation group flush and per receiver, and hands
// it to each of the receiver's integrations through a Notifier, which retries with backoff until
// the deadline. Everything here is plain data; no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "alertmanager/alert.h"
#include "alertmanager/matchers.h"
#include "tyto/status.h"

namespace tyto::alertmanager {

// What an integration sends: Alertmanager's template data (the webhook payload's fields).
struct Notification {
  std::string receiver;      // the receiver's name
  std::string group_key;     // Route::GroupKey of the group
  LabelSet group_labels;     // Route::GroupLabels
  LabelSet common_labels;    // labels equal in every alert of the group
  LabelSet common_annotations;
  std::string external_url;  // Tyto's URL (for links back)
  std::vector<Alert> alerts;  // firing and resolved, as of `now_ms`
  uint64_t truncated_alerts = 0;  // alerts left out by max_alerts (the webhook's field)
  int64_t now_ms = 0;

  // "firing" when any alert is firing at now_ms, else "resolved".
  std::string State() const;
};

// The outcome of one delivery attempt. `retry` says whether trying again may help (network
// errors, 5xx, 429); a 4xx other than 429 is final.
struct DeliveryResult {
  tyto::Status status;
  bool retry = false;
};

// One configured destination (one entry of webhook_configs, slack_configs, ...).
class Integration {
 public:
  virtual ~Integration() = default;
  // "webhook", "slack", "pagerduty", "email", "alertmanager".
  virtual std::string_view Kind() const = 0;
  // Its index among the receiver's configs of that kind (Alertmanager's integration index).
  virtual int Index() const = 0;
  // Whether to notify when every alert of the group is resolved.
  virtual bool SendResolved() const = 0;
  // Delivers once, within `timeout_ms`. Thread-safe: several groups may notify at once.
  virtual DeliveryResult Deliver(const Notification& n, int64_t timeout_ms) = 0;
};

}  // namespace tyto::alertmanager
