#include "anomaly/config.h"

#include <limits>
#include <set>

namespace tyto::anomaly {

using config::Diagnostics;
using config::Node;
using config::Position;
using config::Section;

namespace {

// Where `key` is written in the mapping `map` (its value), or the mapping itself when absent,
// so that errors found across fields still point at the field.
Position PositionOf(const Node& map, const std::string& key) {
  for (const auto& [k, v] : map.entries()) {
    if (k.IsScalar() && k.scalar() == key) return v.IsNull() ? k.position() : v.position();
  }
  return map.position();
}

bool HasKey(const Node& map, const std::string& key) {
  for (const auto& [k, v] : map.entries()) {
    if (k.IsScalar() && k.scalar() == key) return true;
  }
  return false;
}

}  // namespace

const Section<AnomalyConfig>& AnomalySchema() {
  static const auto* schema_table = [] {
    Section<DetectorConfig> detector("anomaly.detectors", "A detector: a PromQL query whose series are each modelled.");
    detector.String("name", &DetectorConfig::name, "Its name: the `detector` label of the result series.")
        .String("query", &DetectorConfig::query,
                "PromQL evaluated as an instant query every interval; each series of the result is modelled.")
        .Enum("kind", &DetectorConfig::kind, {"seasonal", "trend", "multivariate"},
              "seasonal: median and MAD per hour of week (or of day); trend: Holt's linear trend and a forecast "
              "of the threshold's crossing; multivariate: k-means over recent differenced values (Netdata's way).")
        .Number("sensitivity", &DetectorConfig::sensitivity,
                "A point is anomalous when its score reaches this; 0: the kind's default (seasonal 5, "
                "multivariate 1.5 x the training distances' percentile).",
                0)
        .Number("threshold", &DetectorConfig::threshold, "trend: the value whose crossing is forecast.",
                -std::numeric_limits<double>::max())
        .Enum("direction", &DetectorConfig::direction, {"above", "below"},
              "trend: a breach is going above the threshold, or below it.")
        .Duration("horizon", &DetectorConfig::horizon,
                  "trend: a breach forecast within this long makes the point anomalous.", std::chrono::seconds(1))
        .Number("alpha", &DetectorConfig::alpha, "trend: smoothing of the level, in (0, 1].", 1e-6, 1)
        .Number("beta", &DetectorConfig::beta, "trend: smoothing of the slope, in (0, 1].", 1e-6, 1)
        .Int("values_per_slot", &DetectorConfig::values_per_slot,
             "seasonal: values kept per hour slot (4 bytes each, 192 slots).", 1, 1024)
        .Int("seasons", &DetectorConfig::seasons, "seasonal: the visits of a slot those values cover.", 1, 64)
        .Int("min_seasons", &DetectorConfig::min_seasons,
             "seasonal: a slot scores after this many visits (weeks; days for the hour-of-day fallback).", 1, 64)
        .String("host_label", &DetectorConfig::host_label,
                "multivariate: the label naming a series' host; tyto_anomaly_rate is per value of it.")
        .Int("train_window", &DetectorConfig::train_window,
             "multivariate: values kept for training (evaluations).", 16, 100000)
        .Int("train_every", &DetectorConfig::train_every, "multivariate: a model is trained every this many values.",
             1, 100000)
        .Int("models", &DetectorConfig::models, "multivariate: models kept; all must agree.", 1, 32)
        .Int("lag", &DetectorConfig::lag, "multivariate: earlier values in a feature vector.", 0, 64)
        .Int("smooth", &DetectorConfig::smooth, "multivariate: values averaged after differencing.", 1, 64)
        .Int("diff", &DetectorConfig::diff, "multivariate: times values are differenced.", 0, 4)
        .Number("percentile", &DetectorConfig::percentile,
                "multivariate: the percentile of the training distances that scores 1.", 1, 100)
        .Int("max_series", &DetectorConfig::max_series,
             "Series modelled at most by this detector; 0: the section's max_series.", 0, 10'000'000)
        .Validate([](const DetectorConfig& c, const Node& n, Diagnostics& d) {
          if (c.name.empty()) d.Add(n.position(), "anomaly.detectors: name is required");
          if (c.query.empty()) d.Add(n.position(), "anomaly.detectors: query is required");
          if (c.min_seasons > c.seasons) {
            d.Add(PositionOf(n, "min_seasons"), "anomaly.detectors: min_seasons (" + std::to_string(c.min_seasons) +
                                                    ") is more than seasons (" + std::to_string(c.seasons) + ")");
          }
          if (c.seasons > c.values_per_slot) {
            d.Add(PositionOf(n, "seasons"), "anomaly.detectors: seasons (" + std::to_string(c.seasons) +
                                                ") is more than values_per_slot (" +
                                                std::to_string(c.values_per_slot) + ")");
          }
          if (c.kind == "trend" && !HasKey(n, "threshold")) {
            d.Add(n.position(), "anomaly.detectors: a trend detector needs a threshold");
          }
          if (c.kind == "multivariate" && c.host_label.empty()) {
            d.Add(PositionOf(n, "host_label"), "anomaly.detectors: host_label must not be empty");
          }
          if (c.kind == "multivariate" && c.train_window < 2 * (c.lag + c.smooth + c.diff + 2)) {
            d.Add(PositionOf(n, "train_window"), "anomaly.detectors: train_window is too short for lag, smooth and diff");
          }
        });

    auto* sec = new Section<AnomalyConfig>(
        "anomaly", "Anomaly detection on chosen series; scores are written as series (docs/anomaly.md).");
    sec->Duration("interval", &AnomalyConfig::interval, "How often every detector's query is evaluated.",
                  std::chrono::seconds(1))
        .Int("max_series", &AnomalyConfig::max_series,
             "Series modelled per detector at most; more are refused (counted).", 1, 10'000'000)
        .Duration("series_ttl", &AnomalyConfig::series_ttl,
                  "A series' model is dropped when its query has not returned it for this long.",
                  std::chrono::minutes(1))
        .List("detectors", &AnomalyConfig::detectors, detector)
        .Validate([](const AnomalyConfig& c, const Node& n, Diagnostics& d) {
          std::set<std::string> names;
          const Node list = [&] {
            for (const auto& [k, v] : n.entries()) {
              if (k.IsScalar() && k.scalar() == "detectors") return v;
            }
            return Node();
          }();
          const std::vector<Node> items = list.items();
          for (size_t i = 0; i < c.detectors.size(); ++i) {
            if (!names.insert(c.detectors[i].name).second) {
              const Position where = i < items.size() ? PositionOf(items[i], "name") : n.position();
              d.Add(where, "anomaly.detectors: '" + c.detectors[i].name + "' is listed twice");
            }
          }
        });
    return sec;
  }();
  return *schema_table;
}

}  // namespace tyto::anomaly
