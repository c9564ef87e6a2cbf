// Alerting: the rule engine, notification, incidents, playbooks and anomaly detection, built from
// the configuration and wired together (docs/ARCHITECTURE.md, "The life of an alert"):
//
//   rules::Manager ──alerts──> Fanout ──> alertmanager::Dispatcher  (routes, silences, inhibition,
//                                     │                               receivers; POST /api/v2/alerts
//                                     │                               also lands in the Fanout)
//                                     ├─> AlertmanagerForwarder     (alerting.alertmanagers)
//                                     └─> incident::Tracker ──listener──> playbook::Engine
//   Dispatcher deliveries, playbook steps and correlations go into the incident's timeline;
//   a playbook's escalation is an alert into the Fanout; the Tracker's correlate hook and the
//   rules' enrich hook rank series with correlate::Correlator; anomaly::Runner writes the
//   tyto_anomaly* series that rules read.
//
// Life: Open builds everything with no rules and no threads; Apply (at start and on each reload)
// reads rule files, stock rules, alertmanager configuration and playbooks, atomically: a bad file
// changes nothing; Start starts the threads; Stop stops them, rules first.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "auth/auth.h"
#include "http/router.h"
#include "rules/rule_file.h"
#include "server/config.h"
#include "tyto/clock.h"
#include "tyto/env.h"
#include "tyto/status.h"
#include "tyto/storage.h"

namespace tyto::instrumentation {
class Registry;
}
namespace tyto::promql {
class Engine;
}
namespace tyto::api {
struct UiSources;
}
namespace tyto::cluster {
class KeyValue;
}
namespace tyto::tenant {
class Limiter;
}

namespace tyto::server {

struct AlertingDeps {
  Env* env = nullptr;
  Clock* clock = nullptr;
  Storage* storage = nullptr;
  promql::Engine* engine = nullptr;
  instrumentation::Registry* registry = nullptr;
  std::string data_dir;      // the storage's data_dir: alerting/, incidents/, playbooks/ go below
  std::string external_url;  // links in notifications and generator URLs
  // A model's {current, previous} versions from the deployment events (for rollback steps).
  std::function<std::optional<std::pair<std::string, std::string>>(const std::string& model)> deployment_lookup;
  // Several servers as one (storage.shared_state; docs/cluster.md): the shared store, and this
  // server's host:port (skipped in cluster.peers). Null: this server alone.
  cluster::KeyValue* shared_state = nullptr;
  std::string self_address;
  // The tenants' limits, which recording rules' and ALERTS series count against as any write
  // does (active series, ingest rate). Null: none.
  tenant::Limiter* limiter = nullptr;
};

class Alerting {
 public:
  static Result<std::unique_ptr<Alerting>> Open(const Config& cfg, AlertingDeps deps);
  ~Alerting();
  Alerting(const Alerting&) = delete;
  Alerting& operator=(const Alerting&) = delete;

  // /api/v1/rules, /api/v1/alerts, the Alertmanager v2 API, /api/v1/notifications,
  // /api/v1/incidents and /api/v1/playbooks.
  void AddRoutes(http::Router* router, auth::Guard* guard);
  // What the UI's live stream counts (/api/v1/stream): the rules' alerts and the incidents.
  // Valid while this object lives.
  void FillUiSources(api::UiSources* sources) const;

  // Everything a configuration names that is read from files, parsed and checked without
  // changing anything running.
  struct Prepared;
  Result<std::shared_ptr<Prepared>> Prepare(const Config& cfg) const;
  // Puts a prepared configuration in place. Options that only take effect at a restart are
  // added to `restart_required` when they differ from those the alerting was opened with.
  void Commit(const Config& cfg, std::shared_ptr<Prepared> prepared, std::vector<std::string>* restart_required);

  void Start();
  void Stop();

 private:
  struct Parts;
  explicit Alerting(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

// The rule files a configuration runs: its rule_files, then Tyto's stock rules when rules.stock.
// Errors list every problem, each "file:line:column: reason".
Result<std::vector<rules::RuleFile>> LoadRules(const Config& cfg, Env* env);

}  // namespace tyto::server
