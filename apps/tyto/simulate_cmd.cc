#include "simulate_cmd.h"

#include <signal.h>

#include <cstdio>

#include "common/log.h"
#include "common/units.h"
#include "http/server.h"
#include "scrape/config.h"
#include "server/server.h"
#include "simulate/fleet.h"
#include "tyto/env.h"

namespace tyto::tools {

int Simulate(const SimulateFlags& flags) {
  server::BlockShutdownSignals();  // before the network threads start
  const log::Logger log("simulate");
  auto listen = http::ParseHostPort(flags.listen_base);
  if (!listen.ok()) {
    std::fprintf(stderr, "tyto simulate: --listen-base: %s\n", listen.status().message().c_str());
    return 2;
  }
  simulate::FleetOptions options;
  options.nodes = flags.nodes;
  options.gpus_per_node = flags.gpus_per_node;
  options.seed = flags.seed;
  options.listen_host = listen->host.empty() ? "0.0.0.0" : listen->host;
  options.base_port = listen->port;
  options.threads = flags.threads;
  if (flags.scenario_file.empty()) {
    options.scenario = simulate::DefaultScenario(flags.nodes, flags.gpus_per_node);
  } else {
    auto text = Env::Default()->ReadFile(flags.scenario_file);
    if (!text.ok()) {
      std::fprintf(stderr, "tyto simulate: cannot read the scenario: %s\n", text.status().message().c_str());
      return 2;
    }
    auto scenario = simulate::ParseScenario(*text, flags.scenario_file);
    if (!scenario.ok()) {
      std::fprintf(stderr, "%s\n", scenario.status().message().c_str());
      return 2;
    }
    options.scenario = std::move(scenario).value();
  }
  auto fleet = simulate::Fleet::Create(options, Clock::Real());
  if (!fleet.ok()) {
    std::fprintf(stderr, "tyto simulate: %s\n", fleet.status().message().c_str());
    return 2;
  }
  if (Status s = (*fleet)->Start(); !s.ok()) {
    std::fprintf(stderr, "tyto simulate: %s\n", s.message().c_str());
    return 1;
  }
  for (const simulate::Endpoint& e : (*fleet)->endpoints()) {
    std::string where = e.hostname + (e.replica >= 0 ? " replica " + std::to_string(e.replica) : "");
    std::printf("%-7s %-23s http://%s/metrics\n", e.job().c_str(), where.c_str(), e.address.c_str());
  }
  std::fflush(stdout);
  if (!flags.targets_file.empty()) {
    if (Status s = (*fleet)->WriteTargetsFile(Env::Default(), flags.targets_file); !s.ok()) {
      std::fprintf(stderr, "tyto simulate: %s\n", s.message().c_str());
      return 1;
    }
  }
  if (!flags.send_to.empty()) {
    simulate::TrafficOptions traffic;
    traffic.requests_per_second = flags.inference_rate;
    traffic.feedback_share = flags.feedback_share;
    const size_t dash = flags.feedback_delay.find('-');
    Result<std::chrono::milliseconds> lo = dash == std::string::npos
                                               ? Result<std::chrono::milliseconds>(InvalidArgument("no '-'"))
                                               : ParseDuration(std::string_view(flags.feedback_delay).substr(0, dash));
    Result<std::chrono::milliseconds> hi =
        dash == std::string::npos ? lo : ParseDuration(std::string_view(flags.feedback_delay).substr(dash + 1));
    if (!lo.ok() || !hi.ok()) {
      std::fprintf(stderr, "tyto simulate: --feedback-delay: expected MIN-MAX durations such as 20s-2m\n");
      return 2;
    }
    traffic.feedback_delay_min = *lo;
    traffic.feedback_delay_max = *hi;
    simulate::TrafficSenderOptions sender;
    sender.base_url = flags.send_to;
    if (!flags.token_file.empty()) {
      auto token = scrape::ReadSecret(Env::Default(), "", flags.token_file, "--token-file");
      if (!token.ok()) {
        std::fprintf(stderr, "tyto simulate: %s\n", token.status().message().c_str());
        return 2;
      }
      sender.bearer_token = std::move(token).value();
    }
    if (Status s = (*fleet)->StartTraffic(traffic, std::move(sender)); !s.ok()) {
      std::fprintf(stderr, "tyto simulate: %s\n", s.message().c_str());
      return 2;
    }
    std::printf("%-7s %-23s %s (%g requests/s at the daily mean; OTLP traces and logs, JSON-lines events)\n",
                "traffic", "gateway + vllm", flags.send_to.c_str(), flags.inference_rate);
    std::fflush(stdout);
  }
  log.Info("simulator started", {{"endpoints", (*fleet)->endpoints().size()},
                                 {"first", (*fleet)->endpoints().front().address},
                                 {"targets_file", flags.targets_file}});

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    if (sig == SIGHUP) continue;  // nothing to reload
    log.Info("stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    break;
  }
  (*fleet)->Stop();
  if (!flags.send_to.empty()) {
    const simulate::TrafficStats st = (*fleet)->traffic_stats();
    log.Info("simulated inference traffic sent", {{"requests_sent", st.requests_sent},
                                                  {"requests_failed", st.requests_failed},
                                                  {"requests_dropped", st.requests_dropped},
                                                  {"spans", st.spans_sent},
                                                  {"logs", st.logs_sent},
                                                  {"events", st.events_sent}});
  }
  return 0;
}

}  // namespace tyto::tools
