// `tyto simulate`: serves a simulated AI fleet (src/simulate) on local ports until SIGTERM or
// SIGINT. docs/simulate.md describes what it serves and the scenario format.
#pragma once

#include <cstdint>
#include <string>

namespace tyto::tools {

struct SimulateFlags {
  int nodes = 4;
  int gpus_per_node = 8;
  std::string listen_base = "127.0.0.1:0";  // HOST:PORT; port 0: the kernel picks each port
  std::string scenario_file;                // empty: the built-in demo scenario
  uint64_t seed = 42;
  std::string targets_file;  // empty: none written
  int threads = 2;
  // Simulated inference traffic (src/simulate/traffic.h): sent to this Tyto base URL when set.
  std::string send_to;
  double inference_rate = 20;  // requests/s over the vLLM replicas at the daily mean
  std::string token_file;      // the receiver's API token (write scope); empty: none
  double feedback_share = 0.3;           // share of predictions whose true label is posted later
  std::string feedback_delay = "20s-2m";  // MIN-MAX after a request its feedback comes
};

// Returns the exit code: 0 after a signal, 1 when the fleet cannot start, 2 on bad flags or a
// bad scenario file (its errors name file:line:column).
int Simulate(const SimulateFlags& flags);

}  // namespace tyto::tools
