// Inference-server discovery: finds the vLLM, TGI, Triton, SGLang and Ollama servers running on
// this machine, adds the configured `static` list, and turns them into Prometheus scrape jobs
// that scrape::Manager::ApplyConfig runs beside the user's own scrape_configs.
//
// A scan (Discoverer::FindServers), reading everything through Env under proc_path:
//   1. <proc>/[0-9]*/cmdline, each read by ParseLaunch (launch.h): which server, its model and
//      the port argv names (or the project's default).
//   2. A process whose parent is a server of the same kind is the same server (a forked worker)
//      and is left out; a TGI launcher whose router child was found is left out for the router.
//   3. Its listening ports: the inodes of <proc>/<pid>/fd/* links ("socket:[INODE]"), matched
//      with the LISTEN entries of <proc>/<pid>/net/tcp and tcp6 (the process's own network
//      namespace). The port argv names is used when it listens; otherwise a server whose
//      metrics share its API port (all but Triton) listening on exactly one port is scraped
//      there. A process whose descriptors can be read but that listens on no fitting port is
//      reported, not scraped (still loading, or a worker). When <proc>/<pid>/fd cannot be read
//      (another user's process and no root), argv's or the default port is trusted.
//   4. Its address: 127.0.0.1 (or [::1], or the address it is bound to) in Tyto's own network
//      namespace; in another namespace (a container with its own network), the namespace's own
//      IPv4 address from its fib_trie, which the host can reach. Without root the namespace
//      cannot be told, and 127.0.0.1 is used (right for `docker run -p PORT:PORT`).
//
// Jobs (BuildScrapeConfigs): one per kind, named "vllm", "tgi", "triton", "sglang", "ollama",
// or "<kind>-discovered" when the user has a job of that name. Targets get `job` and `instance`
// as any Prometheus target, a `model` label when the model is known, the static entry's labels,
// and __meta_inference_* labels (shown as discovered labels in /api/v1/targets, not stored).
// A server whose address a user job's static_configs already lists is not scraped twice.
//
// docs/discovery.md describes all of it for users.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "collect/collector.h"
#include "collect/discovery/config.h"
#include "collect/discovery/launch.h"
#include "scrape/config.h"
#include "tyto/env.h"
#include "tyto/status.h"

namespace tyto::collect::discovery {

// The target of a symbolic link, as readlink(2) returns it (not resolved further).
using ReadLinkFn = std::function<Result<std::string>(const std::string& path)>;
// readlink(2): the default of DiscoveryOptions.
Result<std::string> ReadLink(const std::string& path);

struct DiscoveryOptions {
  InferenceServersConfig config;
  Env* env = nullptr;               // null: Env::Default()
  std::string proc_path = "/proc";  // the host's /proc; "/host/proc" when Tyto runs in a container
  ReadLinkFn read_link;             // empty: ReadLink
};

// Where a server's port came from.
enum class PortSource {
  kListening,   // a LISTEN socket the process holds
  kArgv,        // argv, unconfirmed (the process's descriptors could not be read)
  kDefault,     // the project's default, unconfirmed
  kConfigured,  // the static list
};
std::string_view PortSourceName(PortSource source);  // "listening", "argv", "default", "configured"

struct Server {
  ServerKind kind = ServerKind::kVllm;
  std::string address;  // host:port of the metrics ("[v6]:port" for IPv6)
  std::string model;    // empty: unknown
  std::string metrics_path = "/metrics";
  std::map<std::string, std::string> labels;  // from a static entry
  bool from_static = false;
  int64_t pid = 0;  // 0 for a static entry
  PortSource port_source = PortSource::kDefault;
  // Empty when it is scraped; otherwise why not: Launch::not_scraped's reasons, or
  // "not_listening" (descriptors readable, no listening socket), "port_unknown" (listens, but
  // not on a port known to serve the metrics), "unreachable_namespace" (another network
  // namespace, listening on loopback only or with no address), "scraped_by_user_job".
  std::string not_scraped;
  // The scrape job it is in (empty when not scraped); set by AssignJobs.
  std::string job;
};

// Names a job for each server to scrape and marks those a user job already scrapes, as the
// header describes. `local_hosts`: more host names that mean this machine ("gpu-node-7",
// "10.0.0.5"), besides localhost and the loopback and wildcard addresses.
void AssignJobs(const std::vector<scrape::ScrapeConfig>& user_jobs, const std::vector<std::string>& local_hosts,
                std::vector<Server>* servers);

// One job per job name of `servers` (after AssignJobs), in kind order, targets sorted by
// address, each in a static_configs group of its own with its labels. The jobs' scrape_timeout
// is 0: the global default, as ApplyDefaults fills it.
std::vector<scrape::ScrapeConfig> BuildScrapeConfigs(const std::vector<Server>& servers,
                                                     std::chrono::milliseconds scrape_interval);

// tyto_inference_server_info{kind, model, address, source, scrape_job, not_scraped} 1 for each
// server, so servers that are found but not scraped (Ollama, SGLang without metrics) show.
void WriteServerInfo(const std::vector<Server>& servers, Sink* sink);

// Thread-safe (each call scans on its own) when the options' read_link is; the options do not
// change after construction.
class Discoverer {
 public:
  explicit Discoverer(DiscoveryOptions options);

  const InferenceServersConfig& config() const { return opt_.config; }

  // Scans processes (when config.discover) and adds the static list; a static entry replaces a
  // found server at the same address. Sorted by kind, then address, then PID. Fails with
  // kUnavailable only when <proc_path> cannot be listed; anything one process's files say is
  // skipped or reported in its Server, never an error.
  Result<std::vector<Server>> FindServers() const;

  // FindServers, AssignJobs (with this machine's host name and addresses read under
  // proc_path) and BuildScrapeConfigs: the jobs to pass to scrape::Manager::ApplyConfig
  // together with `user_jobs`. `servers`, when not null, receives the servers with their jobs.
  Result<std::vector<scrape::ScrapeConfig>> Discover(const std::vector<scrape::ScrapeConfig>& user_jobs = {},
                                                     std::vector<Server>* servers = nullptr) const;

 private:
  class Scan;

  DiscoveryOptions opt_;
};

}  // namespace tyto::collect::discovery
