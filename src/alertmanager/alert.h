// Alert: what an alerting rule hands to notification, incidents and playbooks, in the shape
// Prometheus posts to Alertmanager (POST /api/v2/alerts): labels, annotations, startsAt, endsAt,
// generatorURL. An alert is identified by its labels (Fingerprint).
//
// Tenants: an alert of a tenant other than "default" carries the reserved label __tenant__
// (kTenantLabel) naming it, as the tenant's series do in storage; an alert without it belongs to
// "default". The label is set by the server (the rule group's tenant, the tenant of the request
// that posted the alert), never taken from a client. Being a label, the tenant separates
// fingerprints, aggregation groups (Route::GroupLabels keeps it), silences (Silence::Mutes),
// inhibition (Inhibitor) and the notification log, and routes can match it:
// `matchers: ['__tenant__="acme"']`.
//
// As in Prometheus, a firing alert is re-sent while it fires with ends_at in the near future
// (now + 4 x max(resend delay, group interval)), so that a receiver that stops hearing of it
// resolves it on its own; a resolved alert is sent with ends_at at its resolution time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "alertmanager/matchers.h"

namespace tyto::alertmanager {

struct Alert {
  LabelSet labels;  // alertname included
  LabelSet annotations;
  int64_t starts_at_ms = 0;
  int64_t ends_at_ms = 0;  // 0: not known (still firing, no timeout given)
  std::string generator_url;

  // Resolved at `now_ms`: it has an end and that end is not in the future.
  bool ResolvedAt(int64_t now_ms) const { return ends_at_ms != 0 && ends_at_ms <= now_ms; }
};

// The label naming an alert's tenant, absent for the default tenant.
inline constexpr char kTenantLabel[] = "__tenant__";
// The tenant of alerts without kTenantLabel (auth::kDefaultTenant; this library does not depend on auth).
inline constexpr std::string_view kDefaultTenant = "default";

// The tenant `labels` belong to: kTenantLabel's value, or kDefaultTenant.
std::string_view AlertTenant(const LabelSet& labels);
// Makes `labels` belong to `tenant` (kTenantLabel set, or removed for the default tenant).
void SetAlertTenant(LabelSet* labels, std::string_view tenant);
// `labels` without kTenantLabel, as an API that answers for one tenant shows them.
LabelSet WithoutTenant(const LabelSet& labels);

// 64-bit FNV-1a over the sorted label pairs (name, 0xff, value, 0xff, ...): equal label sets
// give equal fingerprints in this process and across restarts.
uint64_t Fingerprint(const LabelSet& labels);

// Where alerts go: the notification dispatcher, the incident tracker, a forwarder. Put may be
// called from any thread; an implementation must not block for long (queue and return).
class AlertReceiver {
 public:
  virtual ~AlertReceiver() = default;
  virtual void Put(const std::vector<Alert>& alerts) = 0;
};

}  // namespace tyto::alertmanager
