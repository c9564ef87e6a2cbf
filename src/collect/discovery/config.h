// The `inference_servers:` section of tyto.yml: whether to look for inference servers among
// local processes, how often, how often to scrape what is found, and a list of servers to
// scrape that a process scan cannot see (other machines, containers with their own network).
//
//   inference_servers:
//     discover: true
//     refresh_interval: 30s
//     scrape_interval: 15s
//     static:
//       - kind: vllm
//         address: 10.0.0.7:8000
//         model: llama-3.1-8b
//         labels: {pool: chat}
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace tyto::config {
template <typename T>
class Section;
}

namespace tyto::collect::discovery {

// One entry of `static`.
struct StaticServerConfig {
  std::string kind;          // vllm, tgi, triton, sglang, ollama
  std::string address;       // host:port of the metrics
  std::string model;         // the `model` target label; none when empty
  std::string metrics_path;  // empty: /metrics. An ollama entry is scraped only when it is set.
  std::map<std::string, std::string> labels;  // more target labels
  friend bool operator==(const StaticServerConfig&, const StaticServerConfig&) = default;
};

struct InferenceServersConfig {
  bool discover = true;
  std::chrono::milliseconds refresh_interval{std::chrono::seconds(30)};
  std::chrono::milliseconds scrape_interval{std::chrono::seconds(15)};
  std::vector<StaticServerConfig> static_servers;  // the `static` key
  friend bool operator==(const InferenceServersConfig&, const InferenceServersConfig&) = default;
};

// Checks kinds, addresses (host:port), metrics paths (absolute), label names (valid, not
// starting with "__"), addresses listed twice, and intervals of at least one second.
const config::Section<InferenceServersConfig>& InferenceServersSchema();

}  // namespace tyto::collect::discovery
