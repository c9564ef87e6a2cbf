#include "server/alerting.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "alertmanager/dispatch.h"
#include "alertmanager/forward.h"
#include "alertmanager/integrations.h"
#include "anomaly/runner.h"
#include "api/alertmanager_handlers.h"
#include "api/incident_handlers.h"
#include "api/playbook_handlers.h"
#include "api/rules_handlers.h"
#include "api/ui_handlers.h"
#include "cluster/group_leases.h"
#include "cluster/playbook_claims.h"
#include "cluster/shared_incidents.h"
#include "cluster/shared_notification_log.h"
#include "cluster/shared_silences.h"
#include "common/log.h"
#include "common/mutex.h"
#include "correlate/correlator.h"
#include "http/client.h"
#include "incident/correlate_hook.h"
#include "incident/tracker.h"
#include "playbook/engine.h"
#include "playbook/playbook_file.h"
#include "promql/engine.h"
#include "rules/loader.h"
#include "rules/manager.h"
#include "rules/stock/stock_rules.h"
#include "tenant/tenant_storage.h"

namespace tyto::server {

namespace {

const log::Logger kLog("alerting");

// Alerts go to every receiver in order: notification, forwarding, incidents.
class Fanout final : public alertmanager::AlertReceiver {
 public:
  void Add(alertmanager::AlertReceiver* r) { to_.push_back(r); }
  void Put(const std::vector<alertmanager::Alert>& alerts) override {
    for (alertmanager::AlertReceiver* r : to_) r->Put(alerts);
  }

 private:
  std::vector<alertmanager::AlertReceiver*> to_;  // fixed before any Put
};

// With no `alertmanager:` section alerts are kept, routed and shown, and sent nowhere.
alertmanager::Config NoReceivers() {
  auto c = alertmanager::ParseConfig("route: {receiver: none}\nreceivers: [{name: none}]\n",
                                     {.file = "(built in)", .env = nullptr});
  return std::move(c).value();
}

alertmanager::ForwarderOptions ForwarderOptionsFrom(const AlertmanagerTargets& t, Env* env) {
  alertmanager::ForwarderOptions o;
  for (const auto& sc : t.static_configs) o.targets.insert(o.targets.end(), sc.targets.begin(), sc.targets.end());
  o.scheme = t.scheme;
  o.path_prefix = t.path_prefix;
  o.timeout = t.timeout;
  o.basic_auth_username = t.basic_auth.username;
  o.basic_auth_password = t.basic_auth.password;
  if (!t.basic_auth.password_file.empty()) {
    if (auto s = scrape::ReadSecret(env, "", t.basic_auth.password_file, "alerting basic_auth.password_file"); s.ok()) {
      o.basic_auth_password = *s;
    }
  }
  std::string credentials = t.authorization.credentials;
  if (!t.authorization.credentials_file.empty()) {
    if (auto s = scrape::ReadSecret(env, "", t.authorization.credentials_file, "alerting credentials_file"); s.ok()) {
      credentials = *s;
    }
  }
  o.bearer_token = credentials;
  o.tls_ca_file = t.tls_config.ca_file;
  o.tls_cert_file = t.tls_config.cert_file;
  o.tls_key_file = t.tls_config.key_file;
  o.tls_server_name = t.tls_config.server_name;
  o.tls_insecure_skip_verify = t.tls_config.insecure_skip_verify;
  return o;
}

std::vector<alertmanager::Alert> FiringAlertsOf(const incident::Incident& inc) {
  std::vector<alertmanager::Alert> out;
  for (const incident::IncidentAlert& a : inc.alerts) {
    if (!a.firing) continue;
    out.push_back({a.labels, a.annotations, a.starts_at_ms, 0, a.generator_url});
  }
  return out;
}

// "DCGM_FI_DEV_GPU_TEMP{Hostname="node-1",gpu="0"} up 61 -> 93"
std::string Describe(const correlate::Correlation& c) {
  char values[96];
  std::snprintf(values, sizeof(values), " %s %.4g -> %.4g", c.direction.c_str(), c.before, c.after);
  return c.labels.ToString() + values;
}

std::string AnomalyModelsPath(const std::string& data_dir) { return data_dir + "/alerting/anomaly/models"; }

}  // namespace

struct Alerting::Prepared {
  std::vector<rules::RuleFile> rules;
  playbook::PlaybookList playbooks;
};

struct Alerting::Parts {
  AlertingDeps deps;
  Config opened;  // the configuration Open saw, for restart_required
  // Alerts from the API (clients, other servers) go to `fanout`; the rule manager's and the
  // playbooks' escalations go to `own`: `fanout` and, with several servers, the peers too (never
  // back from a peer, so alerts do not travel in circles).
  Fanout fanout;
  Fanout own;
  std::unique_ptr<alertmanager::AlertmanagerForwarder> peers;
  // Several servers as one (docs/cluster.md); null when alone.
  std::unique_ptr<cluster::GroupLeases> leases;
  std::unique_ptr<cluster::SharedNotificationLog> nflog;
  std::unique_ptr<cluster::SharedSilences> silences;
  std::unique_ptr<cluster::PlaybookClaims> claims;
  std::unique_ptr<cluster::SharedIncidents> shared_incidents;
  std::unique_ptr<alertmanager::Dispatcher> dispatcher;
  std::vector<std::unique_ptr<alertmanager::AlertmanagerForwarder>> forwarders;
  std::unique_ptr<incident::Tracker> incidents;
  std::unique_ptr<playbook::Engine> playbooks;
  std::unique_ptr<rules::Manager> rules;
  std::unique_ptr<anomaly::Runner> anomaly;
  bool stopped = false;  // Stop ran (it is called from one thread: the server's shutdown)
  Mutex config_mu;
  std::string config_text GUARDED_BY(config_mu);  // the alertmanager section, for /api/v2/status
};

Result<std::vector<rules::RuleFile>> LoadRules(const Config& cfg, Env* env) {
  std::vector<rules::RuleFile> files;
  std::string errors;
  if (!cfg.rule_files.empty()) {
    auto loaded = rules::LoadRuleFiles(cfg.rule_files, env);
    if (loaded.ok()) {
      files = std::move(loaded).value();
    } else {
      errors = loaded.status().message();
    }
  }
  // Each tenant's own rule files: its groups query and write its series only (rules::Manager).
  for (const tenant::TenantConfig& t : cfg.tenants) {
    if (t.rule_files.empty()) continue;
    auto loaded = rules::LoadRuleFiles(t.rule_files, env);
    if (!loaded.ok()) {
      errors += (errors.empty() ? "" : "\n") + ("tenants." + t.name + ".rule_files: " + loaded.status().message());
      continue;
    }
    for (rules::RuleFile& f : *loaded) {
      f.tenant = t.name;
      files.push_back(std::move(f));
    }
  }
  if (cfg.rules.stock) {
    for (const rules::StockFile& f : rules::StockRuleFiles()) {
      auto parsed = rules::ParseRuleFile(f.contents, "stock/" + f.name);
      if (!parsed.ok()) {
        errors += (errors.empty() ? "" : "\n") + parsed.status().message();
        continue;
      }
      files.push_back(std::move(parsed).value());
    }
  }
  if (!errors.empty()) return InvalidArgument(errors);
  return files;
}

Result<std::unique_ptr<Alerting>> Alerting::Open(const Config& cfg, AlertingDeps deps) {
  auto p = std::make_unique<Parts>();
  p->deps = deps;
  p->opened = cfg;
  Env* env = deps.env;
  const std::string dir = deps.data_dir + "/alerting";

  // Notification: the dispatcher (always: it shows alerts even with nowhere to send them).
  alertmanager::DispatcherOptions dopt;
  dopt.clock = deps.clock;
  dopt.env = env;
  dopt.data_dir = dir + "/notify";
  dopt.external_url = deps.external_url;
  dopt.metrics = deps.registry;
  Parts* parts = p.get();
  dopt.on_delivery = [parts](const alertmanager::DeliveryRecord& r) {
    if (!parts->incidents) return;
    std::vector<uint64_t> ids;
    for (const alertmanager::LabelSet& labels : r.alert_labels) {
      if (auto id = parts->incidents->IncidentOf(labels); id && std::find(ids.begin(), ids.end(), *id) == ids.end()) {
        ids.push_back(*id);
      }
    }
    for (uint64_t id : ids) {
      std::string text = r.integration + " to " + r.receiver + ": " + r.state + ", " + std::to_string(r.alerts) +
                         " alert(s), " + r.outcome + (r.error.empty() ? "" : " (" + r.error + ")");
      (void)parts->incidents->AddEntry(id, incident::EntryKind::kNotification, "", std::move(text),
                                       {{"receiver", r.receiver},
                                        {"integration", r.integration},
                                        {"outcome", r.outcome},
                                        {"attempts", std::to_string(r.attempts)}});
    }
  };
  cluster::KeyValue* kv = deps.shared_state;
  const std::string node = cluster::ResolveNode(cfg.cluster);
  if (kv != nullptr) {
    p->nflog = std::make_unique<cluster::SharedNotificationLog>(
        kv, deps.clock, cluster::SharedNotificationLogOptions{.node = node, .claim_grace = cfg.cluster.notification_claim_grace});
    dopt.shared_nflog = p->nflog.get();
    p->silences = std::make_unique<cluster::SharedSilences>(
        kv, deps.clock, cluster::SharedSilencesOptions{.poll_interval = cfg.cluster.poll_interval});
    cluster::SharedSilences* silences = p->silences.get();
    dopt.on_silence = [silences](const alertmanager::Silence& s) {
      if (Status st = silences->Publish(s); !st.ok()) {
        kLog.Warn("silence not shared with the other servers yet (written at the next poll)", {{"error", st}});
      }
    };
  }
  alertmanager::Config am = cfg.alertmanager.config ? *cfg.alertmanager.config : NoReceivers();
  // One HTTP client serves every integration; receivers carry their global defaults already
  // (ParseConfig fills them in).
  alertmanager::IntegrationOptions iopt;
  iopt.client = std::make_shared<http::Client>(2);
  auto factory = [env, iopt](const alertmanager::Receiver& r) {
    return alertmanager::BuildIntegrations(r, alertmanager::GlobalConfig{}, env, iopt);
  };
  p->dispatcher = std::make_unique<alertmanager::Dispatcher>(std::move(am), factory, std::move(dopt));
  TYTO_RETURN_IF_ERROR(p->dispatcher->Open().WithContext("notification state"));
  p->fanout.Add(p->dispatcher.get());
  p->own.Add(&p->fanout);

  // Forwarding to external Alertmanagers, as Prometheus does.
  for (size_t i = 0; i < cfg.alerting.alertmanagers.size(); ++i) {
    auto f = alertmanager::AlertmanagerForwarder::Create(ForwarderOptionsFrom(cfg.alerting.alertmanagers[i], env),
                                                         i == 0 ? deps.registry : nullptr);
    if (!f.ok()) return f.status().WithContext("alerting.alertmanagers[" + std::to_string(i) + "]");
    p->fanout.Add(f->get());
    p->forwarders.push_back(std::move(f).value());
  }

  // Incidents, with correlation over the metrics storage (within each alert's tenant).
  incident::TrackerOptions topt;
  topt.data_dir = dir + "/incidents";
  topt.group_by = cfg.incidents.group_by;
  topt.group_window = cfg.incidents.group_window;
  topt.max_incidents = static_cast<size_t>(cfg.incidents.max_incidents);
  topt.max_timeline_entries = 200;  // bounds the worst case: max_incidents x entries in memory
  TYTO_ASSIGN_OR_RETURN(p->incidents, incident::Tracker::Open(env, deps.clock, topt, deps.registry));
  p->incidents->SetCorrelateHook(incident::MakeCorrelateHook(deps.storage, deps.clock, correlate::Options{}));
  p->fanout.Add(p->incidents.get());
  if (kv != nullptr) {
    p->shared_incidents = std::make_unique<cluster::SharedIncidents>(
        kv, deps.clock, cluster::SharedIncidentsOptions{.node = node, .poll_interval = cfg.cluster.poll_interval});
    cluster::SharedIncidents* shared = p->shared_incidents.get();
    p->incidents->SetActionListener([shared](const incident::Incident& i, const incident::TimelineEntry& e) {
      if (Status st = shared->Publish(i, e); !st.ok()) {
        kLog.Warn("incident action not shared with the other servers", {{"error", st}});
      }
    });
    // Every server's dispatcher and incidents hold every alert: the rule manager's go to the
    // peers' Alertmanager API too.
    alertmanager::ForwarderOptions fo;
    for (const std::string& peer : cfg.cluster.peers) {
      if (peer != deps.self_address) fo.targets.push_back(peer);
    }
    if (!cfg.cluster.peer_credentials_file.empty()) {
      TYTO_ASSIGN_OR_RETURN(fo.bearer_token, scrape::ReadSecret(env, "", cfg.cluster.peer_credentials_file,
                                                                "cluster.peer_credentials_file"));
    }
    if (!fo.targets.empty()) {
      auto f = alertmanager::AlertmanagerForwarder::Create(fo, cfg.alerting.alertmanagers.empty() ? deps.registry : nullptr);
      if (!f.ok()) return f.status().WithContext("cluster.peers");
      p->peers = std::move(f).value();
      p->own.Add(p->peers.get());
    }
  }

  // Playbooks, triggered by incidents.
  playbook::EngineOptions popt;
  popt.data_dir = dir + "/playbooks";
  popt.dry_run = cfg.playbooks.dry_run;
  playbook::Hooks hooks;
  promql::Engine* engine = deps.engine;
  Clock* clock = deps.clock;
  Storage* storage = deps.storage;
  hooks.verify = [engine, clock, storage](const std::string& q, const std::string& tenant) -> Result<bool> {
    // The run's tenant's metrics only (tenant/tenant_storage.h).
    tenant::TenantStorage view(storage, tenant);
    promql::QueryContext ctx;
    ctx.storage = &view;
    TYTO_ASSIGN_OR_RETURN(promql::QueryResult r, engine->Instant(q, clock->NowMillis(), ctx));
    if (r.type == promql::ValueType::kScalar) return r.scalar != 0 && !std::isnan(r.scalar);
    return !r.vector.empty() || !r.matrix.empty();
  };
  hooks.deployment_lookup = deps.deployment_lookup;
  hooks.escalate = [parts](const alertmanager::Alert& a) { parts->own.Put({a}); };
  if (kv != nullptr) {
    p->claims = std::make_unique<cluster::PlaybookClaims>(
        kv, deps.clock, cluster::PlaybookClaimsOptions{.node = node, .run_ttl = cfg.cluster.playbook_claim_ttl});
    cluster::PlaybookClaims* claims = p->claims.get();
    hooks.claim_run = [claims](const std::string& playbook, const std::string& incident_id,
                               const alertmanager::Alert& alert, std::chrono::milliseconds cooldown) {
      return claims->Claim(playbook, incident_id, alert, cooldown);
    };
    hooks.run_finished = [claims](const std::string& playbook, const alertmanager::LabelSet& labels,
                                  std::chrono::milliseconds cooldown) { claims->Finished(playbook, labels, cooldown); };
  }
  hooks.timeline = [parts](const std::string& incident_id, const playbook::TimelineEntry& e) {
    uint64_t id = 0;
    if (std::sscanf(incident_id.c_str(), "%lu", &id) != 1) return;
    (void)parts->incidents->AddEntry(id, incident::EntryKind::kPlaybookStep, "", e.text,
                                     {{"run", e.run_id},
                                      {"playbook", e.playbook},
                                      {"kind", e.kind},
                                      {"step", e.step},
                                      {"outcome", e.outcome}});
  };
  p->playbooks = std::make_unique<playbook::Engine>(playbook::PlaybookList{}, popt, deps.clock, env, deps.registry,
                                                    std::move(hooks));
  p->incidents->SetListener([parts](const incident::Incident& inc) {
    if (inc.state == incident::State::kResolved) return;
    (void)parts->playbooks->Trigger(std::to_string(inc.id), FiringAlertsOf(inc));
  });

  // The rules, whose alerts go to the fanout; a firing alert gets its top correlated series.
  rules::ManagerOptions ropt;
  ropt.evaluation_interval = cfg.global.evaluation_interval;
  ropt.query_offset = cfg.global.rule_query_offset;
  ropt.resend_delay = cfg.rules.resend_delay;
  ropt.outage_tolerance = cfg.rules.outage_tolerance;
  ropt.for_grace_period = cfg.rules.for_grace_period;
  ropt.external_labels = alertmanager::LabelSet(cfg.global.external_labels.begin(), cfg.global.external_labels.end());
  ropt.external_url = deps.external_url;
  // Every group, the default tenant's included, through its tenant's view: one tenant's rules
  // never read or write another's series.
  Storage* rule_storage = deps.storage;
  ropt.tenant_storage = [rule_storage, limiter = deps.limiter](const std::string& t) -> std::unique_ptr<Storage> {
    return std::make_unique<tenant::TenantStorage>(rule_storage, t, limiter);
  };
  ropt.enrich = [rule_storage, clock = deps.clock](const alertmanager::LabelSet& labels, int64_t active_at_ms,
                                                   alertmanager::LabelSet* annotations) {
    correlate::Options o;
    o.top_n = 3;
    o.deadline = std::chrono::milliseconds(500);
    o.min_score = o.change_point_score;
    // Among the alert's tenant's series only (its __tenant__ label).
    auto ranked = incident::RankInTenant(rule_storage, clock, labels, active_at_ms, o);
    if (!ranked.ok() || ranked->empty()) return;
    std::string text;
    for (const correlate::Correlation& c : *ranked) text += (text.empty() ? "" : "; ") + Describe(c);
    (*annotations)["tyto_correlated"] = text;
  };
  if (kv != nullptr) {
    // One server evaluates each rule group at a time (a lease per group, docs/cluster.md).
    p->leases = std::make_unique<cluster::GroupLeases>(
        kv, deps.clock,
        cluster::GroupLeasesOptions{.node = node, .advertise_url = cfg.cluster.advertise_url, .ttl = cfg.cluster.lease_ttl});
    cluster::GroupLeases* leases = p->leases.get();
    ropt.may_evaluate = [leases](const std::string& file, const std::string& group) {
      return leases->MayEvaluate(file, group);
    };
  }
  p->rules = std::make_unique<rules::Manager>(deps.engine, deps.storage, deps.clock, deps.registry, &p->own,
                                              std::move(ropt));

  // Anomaly detectors, when any is configured.
  if (!cfg.anomaly.detectors.empty()) {
    TYTO_ASSIGN_OR_RETURN(p->anomaly,
                          anomaly::Runner::Create(cfg.anomaly, deps.engine, deps.storage, deps.clock, deps.registry));
    // What the detectors learned before a restart (docs/format/anomaly_models.md).
    TYTO_RETURN_IF_ERROR(env->CreateDirs(dir + "/anomaly").WithContext("anomaly models"));
    auto loaded = p->anomaly->LoadModels(env, AnomalyModelsPath(deps.data_dir));
    if (!loaded.ok() && loaded.status().code() != StatusCode::kNotFound) {
      kLog.Warn("anomaly models not restored; learning afresh", {{"error", loaded.status()}});
    }
  }
  return std::unique_ptr<Alerting>(new Alerting(std::move(p)));
}

Alerting::Alerting(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

Alerting::~Alerting() { Stop(); }

void Alerting::AddRoutes(http::Router* router, auth::Guard* guard) {
  api::AddRulesRoutes(router, guard, parts_->rules.get());
  api::AlertmanagerApiOptions aopt;
  Parts* parts = parts_.get();
  aopt.receiver = &parts->fanout;
  aopt.config_text = [parts] {
    MutexLock lock(&parts->config_mu);
    return parts->config_text;
  };
  api::AddAlertmanagerRoutes(router, guard, parts_->dispatcher.get(), std::move(aopt));
  api::AddIncidentRoutes(router, guard, parts_->incidents.get());
  api::AddPlaybookRoutes(router, guard, parts_->playbooks.get());
}

void Alerting::FillUiSources(api::UiSources* sources) const {
  sources->rules = parts_->rules.get();
  const incident::Tracker* tracker = parts_->incidents.get();
  sources->incidents = [tracker](std::string_view tenant) {
    api::IncidentCounts c;
    c.open = tracker->List(incident::State::kOpen, SIZE_MAX, tenant).size();
    c.acknowledged = tracker->List(incident::State::kAcknowledged, SIZE_MAX, tenant).size();
    return c;
  };
}

Result<std::shared_ptr<Alerting::Prepared>> Alerting::Prepare(const Config& cfg) const {
  auto prepared = std::make_shared<Prepared>();
  TYTO_ASSIGN_OR_RETURN(prepared->rules, LoadRules(cfg, parts_->deps.env));
  if (!cfg.playbooks.files.empty()) {
    std::vector<std::string> files;
    TYTO_ASSIGN_OR_RETURN(files, rules::ExpandRuleFiles(cfg.playbooks.files, parts_->deps.env));
    TYTO_ASSIGN_OR_RETURN(prepared->playbooks, playbook::LoadPlaybookFiles(files, parts_->deps.env));
  }
  return prepared;
}

void Alerting::Commit(const Config& cfg, std::shared_ptr<Prepared> prepared,
                      std::vector<std::string>* restart_required) {
  Parts& p = *parts_;
  if (Status s = p.rules->Update(std::move(prepared->rules)); !s.ok()) {
    kLog.Error("rule groups not updated", {{"error", s}});
  }
  p.playbooks->Update(std::move(prepared->playbooks));
  p.dispatcher->Update(cfg.alertmanager.config ? *cfg.alertmanager.config : NoReceivers());
  {
    MutexLock lock(&p.config_mu);
    p.config_text = AlertmanagerYaml(cfg);
  }
  const Config& o = p.opened;
  auto differs = [restart_required](bool changed, const char* key) {
    if (changed && restart_required != nullptr) restart_required->push_back(key);
  };
  differs(cfg.global.evaluation_interval != o.global.evaluation_interval, "global.evaluation_interval");
  differs(cfg.global.rule_query_offset != o.global.rule_query_offset, "global.rule_query_offset");
  differs(cfg.global.external_labels != o.global.external_labels, "global.external_labels");
  differs(cfg.rules.resend_delay != o.rules.resend_delay || cfg.rules.outage_tolerance != o.rules.outage_tolerance ||
              cfg.rules.for_grace_period != o.rules.for_grace_period,
          "rules");
  differs(cfg.http.external_url != o.http.external_url, "http.external_url");
  differs(cfg.playbooks.dry_run != o.playbooks.dry_run, "playbooks.dry_run");
  differs(!(cfg.incidents == o.incidents), "incidents");
  differs(!(cfg.anomaly == o.anomaly), "anomaly");
  bool same_targets = cfg.alerting.alertmanagers.size() == o.alerting.alertmanagers.size();
  for (size_t i = 0; same_targets && i < cfg.alerting.alertmanagers.size(); ++i) {
    auto a = ForwarderOptionsFrom(cfg.alerting.alertmanagers[i], p.deps.env);
    auto b = ForwarderOptionsFrom(o.alerting.alertmanagers[i], p.deps.env);
    same_targets = a.targets == b.targets && a.scheme == b.scheme && a.path_prefix == b.path_prefix &&
                   a.timeout == b.timeout && a.basic_auth_username == b.basic_auth_username &&
                   a.basic_auth_password == b.basic_auth_password && a.bearer_token == b.bearer_token &&
                   a.tls_ca_file == b.tls_ca_file && a.tls_cert_file == b.tls_cert_file &&
                   a.tls_key_file == b.tls_key_file && a.tls_server_name == b.tls_server_name &&
                   a.tls_insecure_skip_verify == b.tls_insecure_skip_verify;
  }
  differs(!same_targets, "alerting");
}

void Alerting::Start() {
  Parts& p = *parts_;
  p.dispatcher->Start();
  if (p.silences) p.silences->Start(p.dispatcher.get());
  if (p.shared_incidents) p.shared_incidents->Start(p.incidents.get());
  if (Status s = p.playbooks->Start(); !s.ok()) kLog.Error("playbooks cannot run", {{"error", s}});
  if (p.leases) p.leases->Start();
  p.rules->Start();
  if (p.anomaly) {
    if (Status s = p.anomaly->Start(); !s.ok()) kLog.Error("anomaly detection not started", {{"error", s}});
  }
}

void Alerting::Stop() {
  if (!parts_ || parts_->stopped) return;
  Parts& p = *parts_;
  p.stopped = true;
  // Producers first: rules and detectors, then what they feed.
  if (p.anomaly) {
    p.anomaly->Stop();
    if (Status s = p.anomaly->SaveModels(p.deps.env, AnomalyModelsPath(p.deps.data_dir)); !s.ok()) {
      kLog.Error("anomaly models not saved", {{"error", s}});
    }
  }
  if (p.rules) p.rules->Stop();
  // Releases the groups held, so that another server takes them at once.
  if (p.leases) p.leases->Stop();
  if (p.playbooks) p.playbooks->Stop();
  if (p.shared_incidents) p.shared_incidents->Stop();
  if (p.silences) p.silences->Stop();
  for (auto& f : p.forwarders) f->Stop();
  if (p.peers) p.peers->Stop();
  if (p.dispatcher) p.dispatcher->Stop();
}

}  // namespace tyto::server
