#include "simulate/scenario.h"

#include <algorithm>
#include <cstdlib>
#include <functional>

#include "config/schema.h"
#include "simulate/traffic_models.h"

namespace tyto::simulate {
namespace {

using config::Diagnostics;
using config::Node;
using config::Section;
using std::chrono::milliseconds;

struct KindInfo {
  IncidentKind kind;
  std::string_view name;
  std::vector<std::string> fields;  // what the kind reads besides kind, at and duration
  bool needs_node;
};

const std::vector<KindInfo>& Kinds() {
  static const std::vector<KindInfo>* kinds = new std::vector<KindInfo>{
      {IncidentKind::kTrafficChange, "traffic_change", {"ramp", "requests_per_second", "factor"}, false},
      {IncidentKind::kGpuOverheat, "gpu_overheat", {"ramp", "node", "gpu", "temperature"}, true},
      {IncidentKind::kXidError, "xid_error", {"node", "gpu", "xid"}, true},
      {IncidentKind::kEccErrors, "ecc_errors", {"node", "gpu", "sbe_per_minute", "dbe"}, true},
      {IncidentKind::kLatencyIncrease, "latency_increase", {"ramp", "node", "replica", "factor"}, true},
      {IncidentKind::kQueueBuildup, "queue_buildup", {"ramp", "node", "replica", "slowdown"}, true},
      {IncidentKind::kReplicaDown, "replica_down", {"node", "replica"}, true},
      {IncidentKind::kDataDrift, "data_drift", {"ramp", "model", "feature", "factor"}, false},
      {IncidentKind::kQualityDrop, "quality_drop", {"ramp", "model", "severity"}, false},
  };
  return *kinds;
}

const KindInfo& Info(IncidentKind kind) {
  for (const KindInfo& k : Kinds()) {
    if (k.kind == kind) return k;
  }
  std::abort();  // every kind is in the table
}

// Runs `decode` and names the field in each of its messages:
// "s.yml:4:11: incidents[].node: expected an integer, got 'one'".
template <typename T>
typename Section<T>::Decoder Named(std::string field, typename Section<T>::Decoder decode) {
  return [field = std::move(field), decode = std::move(decode)](const Node& n, T& t, Diagnostics& d) {
    Diagnostics local;
    decode(n, t, local);
    const std::string prefix = n.position().ToString() + ": ";
    for (const std::string& m : local.messages()) {
      d.Add(n.position(), field + ": " + (m.rfind(prefix, 0) == 0 ? m.substr(prefix.size()) : m));
    }
  };
}

template <typename T>
void Number(Section<T>& s, const std::string& where, std::string key, double T::*m, double min, double max,
            std::string help) {
  s.Option(key, "number", std::move(help),
           Named<T>(where + "." + key,
                    [m, min, max](const Node& n, T& t, Diagnostics& d) {
                      config::DecodeNumber(n, min, max, &(t.*m), &d);
                    }),
           [m](const T& t) { return config::FormatNumber(t.*m); });
}

template <typename T>
void Integer(Section<T>& s, const std::string& where, std::string key, int T::*m, int min, int max, std::string help) {
  s.Option(key, "integer", std::move(help), Named<T>(where + "." + key, [m, min, max](const Node& n, T& t, Diagnostics& d) {
             int64_t v = t.*m;
             if (config::DecodeInt(n, min, max, &v, &d)) t.*m = static_cast<int>(v);
           }),
           [m](const T& t) { return std::to_string(t.*m); });
}

template <typename T>
void Text(Section<T>& s, const std::string& where, std::string key, std::string T::*m, std::string help) {
  s.Option(
      key, "string", std::move(help),
      Named<T>(where + "." + key, [m](const Node& n, T& t, Diagnostics& d) { config::DecodeString(n, &(t.*m), &d); }),
      [m](const T& t) { return t.*m; });
}

std::string JoinNames(const std::vector<std::string_view>& names) {
  std::string out;
  for (std::string_view n : names) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

// data_drift and quality_drop name a model of the traffic, and a feature it has.
void CheckModelAndFeature(const Incident& inc, const Node& map, Diagnostics& d) {
  const auto entries = map.entries();  // a copy: the pointers below point into it
  const Node* model_node = nullptr;
  const Node* feature_node = nullptr;
  for (const auto& [k, v] : entries) {
    if (k.scalar() == "model") model_node = &v;
    if (k.scalar() == "feature") feature_node = &v;
  }
  const TrafficModel* model = nullptr;
  if (model_node != nullptr && !inc.model.empty()) {
    model = FindTrafficModel(inc.model);
    if (model == nullptr) {
      std::vector<std::string_view> names;
      for (const TrafficModel& m : TrafficModels()) names.push_back(m.name);
      d.Add(model_node->position(),
            "incidents[].model: the traffic has no model '" + inc.model + "' (its models: " + JoinNames(names) + ")");
      return;
    }
  }
  if (feature_node == nullptr || inc.feature.empty()) return;
  std::vector<std::string_view> features;
  for (const TrafficModel& m : TrafficModels()) {
    if (model != nullptr && model != &m) continue;
    for (std::string_view f : m.features) {
      if (std::find(features.begin(), features.end(), f) == features.end()) features.push_back(f);
    }
  }
  features.push_back(kEmbeddingFeature);
  if (std::find(features.begin(), features.end(), inc.feature) == features.end()) {
    d.Add(feature_node->position(),
          "incidents[].feature: " +
              (model != nullptr ? "model '" + inc.model + "' has" : std::string("the traffic has")) + " no feature '" +
              inc.feature + "' (its features: " + JoinNames(features) + ")");
  }
}

template <typename T>
void Duration(Section<T>& s, const std::string& where, std::string key, milliseconds T::*m, std::string help) {
  s.Option(key, "duration", std::move(help), Named<T>(where + "." + key, [m](const Node& n, T& t, Diagnostics& d) {
             config::DecodeDuration(n, milliseconds(0), &(t.*m), &d);
           }),
           [m](const T& t) { return FormatDuration(t.*m); });
}

const Section<Scenario>& ScenarioSchema() {
  static const Section<Scenario>* schema = [] {
    const std::string in = "incidents[]";
    Section<Incident> incident(in, "One scripted incident.");
    std::vector<std::string> kind_names;
    for (const KindInfo& k : Kinds()) kind_names.emplace_back(k.name);
    std::string kind_type = "one of";
    for (size_t i = 0; i < kind_names.size(); ++i) kind_type += (i ? ", " : " ") + kind_names[i];
    incident.Option(
        "kind", kind_type, "What happens.",
        Named<Incident>(in + ".kind",
                        [kind_names](const Node& n, Incident& inc, Diagnostics& d) {
                          std::string name;
                          if (!config::DecodeEnum(n, kind_names, &name, &d)) return;
                          for (const KindInfo& k : Kinds()) {
                            if (k.name == name) inc.kind = k.kind;
                          }
                        }),
        [](const Incident& inc) { return std::string(IncidentKindName(inc.kind)); });
    Duration(incident, in, "at", &Incident::at, "When it starts, after the simulator's start.");
    Duration(incident, in, "duration", &Incident::duration, "How long it lasts; 0 or absent: to the end.");
    Duration(incident, in, "ramp", &Incident::ramp, "Time to full effect (traffic, temperature, latency, slowdown).");
    Integer(incident, in, "node", &Incident::node, 0, 1 << 20, "The node (0-based).");
    Integer(incident, in, "gpu", &Incident::gpu, 0, 1024, "The GPU on the node (0-based).");
    Integer(incident, in, "replica", &Incident::replica, 0, 1024, "The model-server replica on the node (0-based).");
    Number(incident, in, "requests_per_second", &Incident::requests_per_second, 0, 1e7,
           "traffic_change: the new fleet-wide level; 0 or absent: factor times the base level.");
    Number(incident, in, "factor", &Incident::factor, 0, 1000,
           "traffic_change: multiplier of the base traffic; latency_increase: of the latencies; data_drift: how far "
           "numeric features move, in standard deviations (categories and embeddings move with it).");
    Integer(incident, in, "xid", &Incident::xid, 1, 1000, "xid_error: the XID code (e.g. 79, 48, 63, 13).");
    Number(incident, in, "sbe_per_minute", &Incident::sbe_per_minute, 0, 1e6,
           "ecc_errors: single-bit errors per minute.");
    Integer(incident, in, "dbe", &Incident::dbe, 0, 1 << 20, "ecc_errors: double-bit errors counted at the start.");
    Number(incident, in, "temperature", &Incident::temperature, 40, 120, "gpu_overheat: peak temperature, degrees C.");
    Number(incident, in, "slowdown", &Incident::slowdown, 1, 1000,
           "queue_buildup: the replica serves 1/slowdown of its capacity.");
    Text(incident, in, "model", &Incident::model,
         "data_drift, quality_drop: the traffic's model it changes (meta-llama/Llama-3.1-70B-Instruct, "
         "intent-router, escalation-classifier); absent: every one.");
    Text(incident, in, "feature", &Incident::feature,
         "data_drift: the one feature that shifts (a feature of the model, or embedding); absent: all of them.");
    Number(incident, in, "severity", &Incident::severity, 0, 1,
           "quality_drop: how much worse at full effect, 0 to 1 (1: accuracy about 0.5, half the answers bad).");
    incident.Validate([](const Incident& inc, const Node& map, Diagnostics& d) {
      const KindInfo& info = Info(inc.kind);
      bool has_kind = false, has_at = false;
      for (const auto& [k, v] : map.entries()) {
        has_kind |= k.scalar() == "kind";
        has_at |= k.scalar() == "at";
      }
      for (const auto& [k, v] : map.entries()) {
        const std::string& key = k.scalar();
        if (!has_kind || key == "kind" || key == "at" || key == "duration") continue;
        if (std::find(info.fields.begin(), info.fields.end(), key) == info.fields.end()) {
          d.Add(k.position(), "incidents[]." + key + ": does not apply to kind '" + std::string(info.name) + "'");
        }
      }
      if (!has_kind) d.Add(map.position(), "incidents[]: missing 'kind'");
      if (!has_at) d.Add(map.position(), "incidents[]: missing 'at'");
      if (has_kind && (inc.kind == IncidentKind::kDataDrift || inc.kind == IncidentKind::kQualityDrop)) {
        CheckModelAndFeature(inc, map, d);
      }
      if (inc.ramp > inc.duration && inc.duration.count() > 0) {
        d.Add(map.position(), "incidents[]: ramp " + FormatDuration(inc.ramp) + " is longer than duration " +
                                  FormatDuration(inc.duration));
      }
    });

    Section<Traffic> traffic("traffic", "Fleet-wide request traffic.");
    Number(traffic, "traffic", "requests_per_second", &Traffic::requests_per_second, 0, 1e7,
           "Requests per second over the fleet at the daily mean; 0 or absent: `load` of capacity.");
    Number(traffic, "traffic", "load", &Traffic::load, 0, 2, "Fraction of the fleet's capacity, when no rate is given.");
    Number(traffic, "traffic", "diurnal_amplitude", &Traffic::diurnal_amplitude, 0, 1,
           "The daily swing as a fraction of the mean (peak at 14:00 UTC).");
    Number(traffic, "traffic", "noise", &Traffic::noise, 0, 1, "Traffic noise, as a fraction of the mean.");

    auto* root = new Section<Scenario>("", "A scenario file.");
    root->String("name", &Scenario::name, "Shown in tyto_simulator_info.")
        .Nested("traffic", &Scenario::traffic, traffic)
        .List("incidents", &Scenario::incidents, incident);
    return root;
  }();
  return *schema;
}

}  // namespace

std::string_view IncidentKindName(IncidentKind kind) { return Info(kind).name; }

double Incident::RampAt(milliseconds t) const {
  if (t < at) return 0;
  if (ramp.count() == 0 || t >= at + ramp) return 1;
  return static_cast<double>((t - at).count()) / static_cast<double>(ramp.count());
}

Result<Scenario> ParseScenario(std::string_view text, const std::string& file) {
  auto root = config::ParseYaml(text, file);
  if (!root.ok()) return root.status();
  Scenario s;
  s.name.clear();
  Diagnostics diags;
  if (root->IsNull()) {
    diags.Add(root->position(), "the scenario is empty");
  } else {
    ScenarioSchema().Decode(*root, &s, &diags);
  }
  // The position of each incident, for CheckScenario's messages.
  if (diags.empty()) {
    for (const auto& [k, v] : root->entries()) {
      if (k.scalar() != "incidents") continue;
      std::vector<Node> items = v.items();
      for (size_t i = 0; i < items.size() && i < s.incidents.size(); ++i) s.incidents[i].position = items[i].position();
    }
  }
  if (!diags.empty()) return diags.ToStatus();
  if (s.name.empty()) s.name = file;
  return s;
}

Status CheckScenario(const Scenario& scenario, int gpus_per_node, const std::vector<int>& replicas_per_node) {
  const int nodes = static_cast<int>(replicas_per_node.size());
  std::string errors;
  auto add = [&](const Incident& inc, const std::string& msg) {
    if (!errors.empty()) errors += '\n';
    errors += (inc.position.line > 0 ? inc.position.ToString() + ": " : std::string()) + "incident '" +
              std::string(IncidentKindName(inc.kind)) + "': " + msg;
  };
  for (const Incident& inc : scenario.incidents) {
    const KindInfo& info = Info(inc.kind);
    if (!info.needs_node) continue;
    if (inc.node >= nodes) {
      add(inc, "node " + std::to_string(inc.node) + " does not exist (the fleet has " + std::to_string(nodes) +
                   " nodes, 0 to " + std::to_string(nodes - 1) + ")");
      continue;
    }
    auto uses = [&](const char* f) { return std::find(info.fields.begin(), info.fields.end(), f) != info.fields.end(); };
    if (uses("gpu") && inc.gpu >= gpus_per_node) {
      add(inc, "gpu " + std::to_string(inc.gpu) + " does not exist (nodes have " + std::to_string(gpus_per_node) +
                   " GPUs)");
    }
    if (uses("replica") && inc.replica >= replicas_per_node[inc.node]) {
      add(inc, "replica " + std::to_string(inc.replica) + " does not exist (node " + std::to_string(inc.node) +
                   " runs " + std::to_string(replicas_per_node[inc.node]) + " replicas)");
    }
  }
  return errors.empty() ? Status::Ok() : InvalidArgument(errors);
}

Scenario DefaultScenario(int nodes, int gpus_per_node) {
  using std::chrono::minutes;
  using std::chrono::seconds;
  auto node = [nodes](int i) { return std::min(i, std::max(0, nodes - 1)); };
  auto gpu = [gpus_per_node](int i) { return std::min(i, std::max(0, gpus_per_node - 1)); };
  Scenario s;
  s.name = "default";
  auto add = [&s](IncidentKind kind, milliseconds at, milliseconds duration, milliseconds ramp) -> Incident& {
    Incident inc;
    inc.kind = kind;
    inc.at = at;
    inc.duration = duration;
    inc.ramp = ramp;
    s.incidents.push_back(inc);
    return s.incidents.back();
  };
  // In the order a demo sees them.
  Incident& overheat = add(IncidentKind::kGpuOverheat, minutes(1), minutes(8), minutes(3));
  overheat.node = node(1), overheat.gpu = gpu(3), overheat.temperature = 94;
  Incident& traffic = add(IncidentKind::kTrafficChange, minutes(2), milliseconds(0), seconds(30));
  traffic.factor = 1.6;  // 200 -> 320 requests/s on the default 4 x 8 GPU fleet
  Incident& xid = add(IncidentKind::kXidError, minutes(3), minutes(2), milliseconds(0));
  xid.node = node(0), xid.gpu = gpu(5), xid.xid = 79;
  Incident& ecc = add(IncidentKind::kEccErrors, minutes(3), minutes(4), milliseconds(0));
  ecc.node = node(0), ecc.gpu = gpu(5), ecc.sbe_per_minute = 12, ecc.dbe = 2;
  Incident& latency = add(IncidentKind::kLatencyIncrease, minutes(4), minutes(6), minutes(4));
  latency.node = node(0), latency.replica = 0, latency.factor = 3;
  Incident& queue = add(IncidentKind::kQueueBuildup, minutes(5), minutes(4), minutes(1));
  queue.node = node(2), queue.replica = 0, queue.slowdown = 3;
  Incident& down = add(IncidentKind::kReplicaDown, minutes(7), minutes(1), milliseconds(0));
  down.node = node(3), down.replica = 0;
  // Then the traffic's models: a wave of new users shifts every model's inputs, and later their
  // answers and predictions get worse for a while.
  Incident& drift = add(IncidentKind::kDataDrift, minutes(15), minutes(30), minutes(5));
  drift.factor = 1.5;
  Incident& drop = add(IncidentKind::kQualityDrop, minutes(25), minutes(15), minutes(2));
  drop.severity = 0.8;
  return s;
}

}  // namespace tyto::simulate
