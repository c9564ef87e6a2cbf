// Scenario: what happens to a simulated fleet and when: its traffic and a script of incidents
// (a GPU overheating, XID and ECC errors, latency creeping up, a queue building, a traffic jump,
// a replica down, a model's input data drifting, a model's answers getting worse). Read from a YAML file (docs/simulate.md describes the format; an example is
// examples/scenario.yml); DefaultScenario() is what `tyto simulate` runs without one.
//
// Times are offsets from the fleet's start. Node, GPU and replica indexes are 0-based; they are
// checked against the fleet's shape by CheckScenario, so errors still name file:line:column.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/yaml.h"
#include "tyto/status.h"

namespace tyto::simulate {

enum class IncidentKind {
  kTrafficChange,    // fleet-wide request rate moves to a new level (and stays there)
  kGpuOverheat,      // one GPU's temperature climbs; clocks drop; thermal throttle reasons set
  kXidError,         // one GPU reports an XID error (DCGM_FI_DEV_XID_ERRORS holds its code)
  kEccErrors,        // one GPU counts single-bit (and optionally double-bit) ECC errors
  kLatencyIncrease,  // one replica's latencies grow by `factor` over `ramp`
  kQueueBuildup,     // one replica slows down so its queue of waiting requests grows
  kReplicaDown,      // one model-server replica stops answering (503); restarts afterwards
  kDataDrift,        // a model's request features (and embeddings) shift away from their usual mix
  kQualityDrop,      // a model's answers and predictions get worse; users rate them lower
};

// "traffic_change", "gpu_overheat", ...: the names the scenario file uses.
std::string_view IncidentKindName(IncidentKind kind);

struct Incident {
  IncidentKind kind = IncidentKind::kTrafficChange;
  std::chrono::milliseconds at{0};        // start, after the fleet's start
  std::chrono::milliseconds duration{0};  // 0: lasts to the end (traffic_change always does)
  std::chrono::milliseconds ramp{0};      // time to reach full effect (traffic, temperature, latency)
  int node = 0;
  int gpu = 0;
  int replica = 0;
  // traffic_change: the new level, either absolute or as a factor of the base level.
  double requests_per_second = 0;  // 0: use factor
  double factor = 1;               // also latency_increase's latency multiplier
  int xid = 79;                    // xid_error: the XID code (79: GPU has fallen off the bus)
  double sbe_per_minute = 0;       // ecc_errors
  int dbe = 0;                     // ecc_errors: double-bit errors counted at the start
  double temperature = 94;         // gpu_overheat: peak GPU temperature, degrees C
  double slowdown = 3;             // queue_buildup: the replica serves 1/slowdown of its capacity
  // data_drift, quality_drop: the model of the simulated traffic (traffic_models.h) they change;
  // empty: every one.
  std::string model;
  // data_drift: the one feature that shifts (a name in the model's `features`, or "embedding");
  // empty: all of them. `factor` is how far numeric features move, in standard deviations.
  std::string feature;
  double severity = 1;             // quality_drop: 0..1, how much worse at full effect
  config::Position position;       // where the incident is written, for later errors

  bool ActiveAt(std::chrono::milliseconds t) const {
    return t >= at && (duration.count() == 0 || t < at + duration);
  }
  // 0 before `at`, rising linearly to 1 over `ramp`, 1 afterwards (also after the end).
  double RampAt(std::chrono::milliseconds t) const;
};

struct Traffic {
  // Fleet-wide requests per second at the daily mean. 0: `load` of the fleet's capacity.
  double requests_per_second = 0;
  double load = 0.6;                // fraction of capacity, used when requests_per_second is 0
  double diurnal_amplitude = 0.25;  // the daily swing, as a fraction of the mean
  double noise = 0.04;              // standard deviation of the traffic noise, as a fraction
};

struct Scenario {
  std::string name = "default";
  Traffic traffic;
  std::vector<Incident> incidents;
};

// Parses a scenario file. Errors name file:line:column and the field, e.g.
// "s.yml:7:12: invalid duration 'soon'" or "s.yml:5:5: unknown key 'nod' in section
// 'incidents[]', did you mean 'node'?"; every error found is reported, one per line.
Result<Scenario> ParseScenario(std::string_view text, const std::string& file);

// Checks node, GPU and replica indexes against a fleet's shape; errors name the incident's
// position. `replicas_per_node[i]` is node i's model-server replica count.
Status CheckScenario(const Scenario& scenario, int gpus_per_node, const std::vector<int>& replicas_per_node);

// A lively first half hour for demos: in the first ten minutes a traffic jump (x1.6), a GPU
// overheating, an XID 79 and ECC errors, latency creeping up, a queue building, and a replica down
// and restarting; then the traffic's data drifting (from 15 minutes) and its models' quality
// dropping (from 25 minutes). Indexes are clamped to the fleet's shape, so it runs on any fleet.
Scenario DefaultScenario(int nodes, int gpus_per_node);

}  // namespace tyto::simulate
