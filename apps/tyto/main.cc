// The tyto binary: `serve`, `agent`, `version`, `check config|rules|playbooks`, `token new`, `key generate|rotate`,
// `audit verify`, `tsdb`, `simulate`, `query`.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "agent/agent.h"
#include "audit_cmd.h"
#include "auth/auth.h"
#include "common/build_info.h"
#include "common/log.h"
#include "crypto/keyring.h"
#include "playbook/playbook_file.h"
#include "rules/check.h"
#include "server/probe.h"
#include "rules/loader.h"
#include "query_cmd.h"
#include "server/config.h"
#include "server/server.h"
#include "simulate_cmd.h"
#include "tsdb_tools.h"

namespace {

int Serve(const tyto::server::Overrides& overrides) {
  tyto::server::BlockShutdownSignals();
  const tyto::log::Logger log("main");
  tyto::server::Server server(overrides, tyto::Env::Default(), tyto::Clock::Real());
  if (tyto::Status s = server.Start(); !s.ok()) {
    log.Error("cannot start", {{"error", s}});
    std::fprintf(stderr, "tyto: %s\n", s.message().c_str());
    return 1;
  }
  return server.RunUntilSignalled();
}

int RunAgent(const tyto::agent::Overrides& overrides) {
  tyto::server::BlockShutdownSignals();
  const tyto::log::Logger log("main");
  tyto::agent::Agent agent(overrides, tyto::Env::Default(), tyto::Clock::Real());
  if (tyto::Status s = agent.Start(); !s.ok()) {
    log.Error("cannot start", {{"error", s}});
    std::fprintf(stderr, "tyto agent: %s\n", s.message().c_str());
    return 1;
  }
  return agent.RunUntilSignalled();
}

int CheckConfig(const std::string& file, bool connect) {
  auto cfg = tyto::server::LoadConfig(tyto::Env::Default(), file);
  if (!cfg.ok()) {
    std::fprintf(stderr, "%s\n", cfg.status().message().c_str());
    return 1;
  }
  // The files it names, as promtool check config reads them: rule files (the stock ones too)
  // and playbooks.
  if (auto rules = tyto::server::LoadRules(*cfg, tyto::Env::Default()); !rules.ok()) {
    std::fprintf(stderr, "%s\n", rules.status().message().c_str());
    return 1;
  }
  if (!cfg->playbooks.files.empty()) {
    auto files = tyto::rules::ExpandRuleFiles(cfg->playbooks.files, tyto::Env::Default());
    tyto::Status s = files.ok() ? tyto::playbook::LoadPlaybookFiles(*files, tyto::Env::Default()).status() : files.status();
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", s.message().c_str());
      return 1;
    }
  }
  // The file is valid on its own; also say whether `serve` would accept it as it stands.
  if (tyto::Status s = tyto::server::CheckExposure(*cfg, false); !s.ok()) {
    std::fprintf(stderr, "%s: warning: %s\n", file.c_str(), s.message().c_str());
  }
  if (connect) {
    // The scale-out engines it selects, reached as the server would reach them.
    bool all_ok = true;
    for (const tyto::api::DependencyHealth& d : tyto::server::ProbeDependencies(*cfg, tyto::Env::Default())) {
      all_ok = all_ok && d.status.ok();
      if (d.status.ok()) std::printf("%s: %s: reachable\n", file.c_str(), d.name.c_str());
      else std::fprintf(stderr, "%s: %s: %s\n", file.c_str(), d.name.c_str(), d.status.message().c_str());
    }
    if (!all_ok) return 1;
  }
  std::printf("%s: OK\n", file.c_str());
  return 0;
}

int NewToken(const std::string& name, const std::vector<std::string>& scopes, const std::string& role,
             const std::vector<std::string>& tenants) {
  if (scopes.empty() && role.empty()) {
    std::fprintf(stderr, "tyto: token new: give --scope or --role\n");
    return 2;
  }
  for (const std::string& s : scopes) {
    if (auto r = tyto::auth::ParseScope(s); !r.ok()) {
      std::fprintf(stderr, "tyto: %s\n", r.status().message().c_str());
      return 2;
    }
  }
  if (!role.empty()) {
    if (auto r = tyto::auth::RoleScopes(role); !r.ok()) {
      std::fprintf(stderr, "tyto: %s\n", r.status().message().c_str());
      return 2;
    }
  }
  for (const std::string& t : tenants) {
    if (t != "*" && !tyto::auth::ValidTenant(t)) {
      std::fprintf(stderr, "tyto: tenant '%s' is not a tenant name ([A-Za-z0-9_-], 1 to 64 characters, or *)\n",
                   t.c_str());
      return 2;
    }
  }
  auto join = [](const std::vector<std::string>& v) {
    std::string out;
    for (const std::string& s : v) out += (out.empty() ? "" : ", ") + (s == "*" ? "\"*\"" : s);
    return out;
  };
  std::string secret = tyto::auth::NewSecret();
  std::printf(
      "# Give this secret to the client (it is shown only once):\n"
      "#   %s\n"
      "# Add this to tyto.yml under auth.tokens:\n"
      "    - name: %s\n"
      "      secret_sha256: %s\n",
      secret.c_str(), name.c_str(), tyto::auth::HashSecret(secret).c_str());
  if (!scopes.empty()) std::printf("      scopes: [%s]\n", join(scopes).c_str());
  if (!role.empty()) std::printf("      role: %s\n", role.c_str());
  if (!tenants.empty()) std::printf("      tenants: [%s]\n", join(tenants).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Tyto: monitoring for GPU fleets and the models they serve"};
  app.require_subcommand(1);

  tyto::server::Overrides overrides;
  std::string config_file, data_dir, listen, log_level;
  auto* serve = app.add_subcommand("serve", "Run the server");
  serve->add_option("--config", config_file, "Configuration file (tyto.yml); defaults apply without one");
  serve->add_option("--data-dir", data_dir, "Data directory (overrides storage.data_dir; default ./data)");
  serve->add_option("--listen", listen, "HOST:PORT to serve HTTP on (overrides http.listen; default 127.0.0.1:9800)");
  serve->add_option("--log-level", log_level, "debug, info, warn or error (overrides log.level)");
  serve->add_flag("--demo", overrides.demo,
                  "Also run a simulated AI fleet (as `tyto simulate`) and scrape it, so there is live data at once");
  serve->add_flag("--insecure-no-auth", overrides.insecure_no_auth,
                  "Allow a non-loopback listen address without auth tokens");

  tyto::agent::Overrides agent_overrides;
  std::string agent_config, agent_server, agent_data_dir, agent_listen, agent_log_level, agent_token_file;
  auto* agent = app.add_subcommand(
      "agent", "Collect this node (GPUs, host, scrape jobs, inference servers) and forward it to a central Tyto");
  agent->add_option("--server", agent_server,
                    "Where to forward: a Tyto's URL (http://central:9800) or any remote-write URL (overrides agent.server)");
  agent->add_option("--config", agent_config, "Configuration file (tyto.yml: collectors, scrape_configs, agent)");
  agent->add_option("--data-dir", agent_data_dir, "Directory of the on-disk queue (default ./agent-data)");
  agent->add_option("--listen", agent_listen,
                    "HOST:PORT of the agent's own /metrics (overrides agent.listen; default 127.0.0.1:9801)");
  agent->add_option("--token-file", agent_token_file,
                    "A file holding the central server's API token (write scope), sent as Authorization: Bearer");
  agent->add_option("--log-level", agent_log_level, "debug, info, warn or error (overrides log.level)");
  agent->add_flag("--insecure-no-auth", agent_overrides.insecure_no_auth,
                  "Allow a non-loopback --listen address without auth tokens");

  auto* version = app.add_subcommand("version", "Print the version");

  auto* check = app.add_subcommand("check", "Validate files without starting anything");
  check->require_subcommand(1);
  std::string check_file;
  auto* check_config = check->add_subcommand("config", "Validate a configuration file; print every error with file:line:column");
  check_config->add_option("FILE", check_file, "The configuration file")->required();
  bool check_connect = false;
  check_config->add_flag("--connect", check_connect,
                         "Also reach the scale-out engines it selects (ClickHouse, the remote metrics store, NATS) and "
                         "say whether each answers; changes nothing there");
  std::vector<std::string> check_files;
  auto* check_rules = check->add_subcommand(
      "rules", "Validate Prometheus rule files as promtool check rules does; every error with file:line:column");
  check_rules->add_option("FILE", check_files, "Rule files")->required();
  auto* check_playbooks =
      check->add_subcommand("playbooks", "Validate playbook files; every error with file:line:column");
  check_playbooks->add_option("FILE", check_files, "Playbook files")->required();

  auto* token = app.add_subcommand("token", "Manage API tokens");
  token->require_subcommand(1);
  std::string token_name;
  std::vector<std::string> token_scopes, token_tenants;
  std::string token_role;
  auto* token_new = token->add_subcommand("new", "Make a random token secret and print its config entry");
  token_new->add_option("--name", token_name, "Who will hold the token")->required();
  token_new->add_option("--scope", token_scopes, "read, write, edit, operate, admin (repeat for several)")
      ->delimiter(',');
  token_new->add_option("--role", token_role, "viewer, editor, operator or admin");
  token_new->add_option("--tenant", token_tenants, "Tenants it acts for (repeat for several; * for any); default: default")
      ->delimiter(',');

  auto* key = app.add_subcommand("key", "Manage the key file that encrypts prompts and sensitive fields at rest");
  key->require_subcommand(1);
  std::string key_file;
  auto* key_generate = key->add_subcommand("generate", "Create a key file (mode 0600) holding one new random key");
  key_generate->add_option("--file", key_file, "The key file to create (refused when it exists)")->required();
  auto* key_rotate =
      key->add_subcommand("rotate", "Put a new current key first in the key file, keeping the older keys for reading");
  key_rotate->add_option("--file", key_file, "The key file (security.encryption_key_file)")->required();

  auto* audit = app.add_subcommand("audit", "Check the audit trail (docs/format/audit.md)");
  audit->require_subcommand(1);
  std::string audit_data_dir, audit_file;
  auto* audit_verify = audit->add_subcommand(
      "verify", "Check the hash chains of the audit logs: exit 0 when intact, 1 naming the first broken record");
  auto* audit_dir_opt = audit_verify->add_option("--data-dir", audit_data_dir, "A data directory: checks its trail and playbook log");
  audit_verify->add_option("--file", audit_file, "One audit log file")->excludes(audit_dir_opt);
  auto* tsdb = app.add_subcommand("tsdb", "Look into a data directory (read-only)");
  tsdb->require_subcommand(1);
  std::string tsdb_dir, dump_selector;
  size_t analyze_top = 10;
  int64_t dump_min = INT64_MIN, dump_max = INT64_MAX;
  auto* analyze = tsdb->add_subcommand("analyze", "Series, samples, bytes per sample, and the highest cardinalities");
  analyze->add_option("DIR", tsdb_dir, "The data directory (as given to --data-dir)")->required();
  analyze->add_option("--top", analyze_top, "Entries per ranking");
  std::string import_file, import_dir = "./data";
  bool import_prometheus_text = false;
  auto* import = tsdb->add_subcommand("import", "Backfill an OpenMetrics file (samples with timestamps) into blocks");
  import->add_option("FILE", import_file, "The OpenMetrics text file")->required();
  import->add_option("--data-dir", import_dir, "The data directory to import into (the server must be stopped)");
  import->add_flag("--prometheus-text", import_prometheus_text, "The file is in the Prometheus text format 0.0.4");
  auto* dump = tsdb->add_subcommand("dump", "Print samples: labels value timestamp");
  dump->add_option("DIR", tsdb_dir, "The data directory (as given to --data-dir)")->required();
  dump->add_option("SELECTOR", dump_selector, "A series selector, e.g. 'up{job=\"node\"}' (default: all)");
  dump->add_option("--min-time", dump_min, "Earliest timestamp, ms since the epoch");
  dump->add_option("--max-time", dump_max, "Latest timestamp, ms since the epoch");

  tyto::tools::SimulateFlags sim;
  auto* simulate = app.add_subcommand(
      "simulate", "Serve a simulated AI fleet (dcgm-exporter, node_exporter, vLLM, TGI, Triton) for demos and tests");
  simulate->add_option("--nodes", sim.nodes, "Simulated nodes (default 4)");
  simulate->add_option("--gpus-per-node", sim.gpus_per_node, "GPUs per node (default 8)");
  simulate->add_option("--listen-base", sim.listen_base,
                       "HOST:PORT of the first endpoint; the others take the next ports (port 0: free ports)");
  simulate->add_option("--scenario", sim.scenario_file, "Scenario YAML file (default: the built-in demo incidents)");
  simulate->add_option("--seed", sim.seed, "Random seed: the same seed gives the same fleet (default 42)");
  simulate->add_option("--targets-file", sim.targets_file, "Write a Prometheus file_sd JSON file listing every endpoint");
  auto* send_to = simulate->add_option(
      "--send-to", sim.send_to,
      "Also send the vLLM replicas' simulated inference traffic (OTLP traces and logs, JSON-lines events) to this "
      "Tyto base URL, e.g. http://127.0.0.1:9800");
  simulate->add_option("--inference-rate", sim.inference_rate,
                       "Requests/s of that traffic over all vLLM replicas at the daily mean (default 20)")
      ->needs(send_to);
  simulate->add_option("--token-file", sim.token_file,
                       "A file holding the receiving Tyto's API token (write scope), sent as Authorization: Bearer")
      ->needs(send_to);
  simulate
      ->add_option("--feedback-share", sim.feedback_share,
                   "Share of the classifiers' predictions whose true label is posted later to /api/v1/feedback "
                   "(default 0.3)")
      ->check(CLI::Range(0.0, 1.0))
      ->needs(send_to);
  simulate
      ->add_option("--feedback-delay", sim.feedback_delay,
                   "MIN-MAX after a request its label or rating comes, log-uniform (default 20s-2m; e.g. 5m-4h)")
      ->needs(send_to);

  tyto::tools::QueryFlags query_flags;
  auto* query = app.add_subcommand(
      "query", "Run a PromQL query on a running Tyto (or Prometheus) and print the result");
  query->add_option("EXPR", query_flags.expr, "The PromQL expression, e.g. 'rate(up[5m])'")->required();
  query->add_option("--time", query_flags.time,
                    "Evaluation time of an instant query: RFC 3339 or Unix seconds (default: the server's now)");
  query->add_option("--start", query_flags.start, "A range query's start: RFC 3339 or Unix seconds (with --end, --step)");
  query->add_option("--end", query_flags.end, "A range query's end: RFC 3339 or Unix seconds");
  query->add_option("--step", query_flags.step, "A range query's resolution: a duration (15s, 1m) or seconds");
  query->add_option("--server", query_flags.server,
                    "Base URL of the server, http:// or https:// (default " + query_flags.server + ")");
  query->add_option("--token", query_flags.token, "API token, sent as Authorization: Bearer")
      ->envname("TYTO_TOKEN");
  query->add_option("--ca-file", query_flags.ca_file, "https: CA certificates (PEM) to verify the server with");
  query->add_flag("--insecure-skip-verify", query_flags.insecure_skip_verify,
                  "https: accept any server certificate (self-signed test setups only)");
  query->add_option("--timeout", query_flags.timeout, "Give up after this long (default 2m)");
  query->add_flag("--json", query_flags.json,
                  "Print the server's JSON response as it came ({\"status\":\"success\",\"data\":...}), for jq");

  CLI11_PARSE(app, argc, argv);

  if (serve->parsed()) {
    if (!config_file.empty()) overrides.config_file = config_file;
    if (!data_dir.empty()) overrides.data_dir = data_dir;
    if (!listen.empty()) overrides.listen = listen;
    if (!log_level.empty()) overrides.log_level = log_level;
    return Serve(overrides);
  }
  if (agent->parsed()) {
    auto set = [](std::optional<std::string>* o, const std::string& v) {
      if (!v.empty()) *o = v;
    };
    set(&agent_overrides.config_file, agent_config);
    set(&agent_overrides.server, agent_server);
    set(&agent_overrides.data_dir, agent_data_dir);
    set(&agent_overrides.listen, agent_listen);
    set(&agent_overrides.log_level, agent_log_level);
    set(&agent_overrides.token_file, agent_token_file);
    return RunAgent(agent_overrides);
  }
  if (version->parsed()) {
    const tyto::BuildInfo& b = tyto::GetBuildInfo();
    std::printf("tyto %.*s (revision %.*s, %.*s, %.*s)\n", static_cast<int>(b.version.size()), b.version.data(),
                static_cast<int>(b.revision.size()), b.revision.data(), static_cast<int>(b.compiler.size()),
                b.compiler.data(), static_cast<int>(b.build_type.size()), b.build_type.data());
    return 0;
  }
  if (check_config->parsed()) return CheckConfig(check_file, check_connect);
  if (check_rules->parsed()) return tyto::rules::CheckRules(check_files, tyto::Env::Default(), std::cout, std::cerr);
  if (check_playbooks->parsed()) {
    return tyto::playbook::CheckPlaybookFiles(check_files, tyto::Env::Default(), std::cout, std::cerr);
  }
  if (token_new->parsed()) return NewToken(token_name, token_scopes, token_role, token_tenants);
  if (audit_verify->parsed()) {
    if (audit_data_dir.empty() && audit_file.empty()) {
      std::fprintf(stderr, "tyto: audit verify needs --data-dir or --file\n");
      return 2;
    }
    return tyto::tools::AuditVerify(audit_data_dir, audit_file, std::cout, std::cerr);
  }
  if (key_generate->parsed() || key_rotate->parsed()) {
    auto id = key_generate->parsed() ? tyto::crypto::GenerateKeyFile(key_file) : tyto::crypto::RotateKeyFile(key_file);
    if (!id.ok()) {
      std::fprintf(stderr, "tyto: %s\n", id.status().message().c_str());
      return 1;
    }
    std::printf("%s: current key %s\n", key_file.c_str(), id->c_str());
    return 0;
  }
  if (analyze->parsed()) return tyto::tools::Analyze(tsdb_dir, analyze_top);
  if (import->parsed()) return tyto::tools::Import(import_file, import_dir, import_prometheus_text);
  if (dump->parsed()) return tyto::tools::Dump(tsdb_dir, dump_selector, dump_min, dump_max);
  if (simulate->parsed()) return tyto::tools::Simulate(sim);
  if (query->parsed()) return tyto::tools::Query(query_flags);
  return 2;
}
