#include "inference/config.h"

#include <algorithm>
#include <set>
#include <utility>

namespace tyto::inference {

using config::Diagnostics;
using config::Node;
using config::Section;

const Section<InferenceConfig>& InferenceSchema() {
  static const auto* schema_table = [] {
    Section<SamplingConfig> sampling("inference.sampling",
                                     "What is kept in the event store; metrics are derived from every request first.");
    sampling
        .Number("rate", &SamplingConfig::rate,
                "Share of ordinary requests (and of traces) kept, decided on a hash of the trace id (or the request "
                "id) so that every span of a trace and its event agree.",
                0, 1)
        .Bool("keep_errors", &SamplingConfig::keep_errors, "Keep every failed request and every trace with an error.")
        .Duration("slow_threshold", &SamplingConfig::slow_threshold,
                  "Keep every request (and trace) at least this slow; 0 keeps none for being slow.")
        .Duration("decision_wait", &SamplingConfig::decision_wait,
                  "How long a trace's spans wait for the rest of the trace before it is decided (with rate 1 every "
                  "trace is kept and its spans are stored at once).",
                  std::chrono::milliseconds(100))
        .Int("max_pending_spans", &SamplingConfig::max_pending_spans,
             "Spans held while their trace waits; beyond it the oldest traces are decided at once.", 1);

    Section<ModelPrice> model_price("inference.cost.models", "Per-token prices of a model.");
    model_price.String("model", &ModelPrice::model, "The model, as events and spans name it.")
        .Number("input_per_1k_tokens", &ModelPrice::input_per_1k_tokens, "Price of 1,000 input tokens.")
        .Number("output_per_1k_tokens", &ModelPrice::output_per_1k_tokens, "Price of 1,000 output tokens.")
        .Validate([](const ModelPrice& p, const Node& n, Diagnostics& d) {
          if (p.model.empty()) d.Add(n.position(), "inference.cost.models: model is required");
        });
    Section<GpuPrice> gpu_price("inference.cost.gpus",
                                "Hourly price of GPUs; the first entry whose given fields all match a GPU applies.");
    gpu_price.String("node", &GpuPrice::node, "The node (dcgm-exporter's Hostname label); empty matches any.")
        .String("gpu_model", &GpuPrice::gpu_model, "The GPU model (dcgm-exporter's modelName); empty matches any.")
        .Number("per_hour", &GpuPrice::per_hour, "Price of one GPU for one hour.");
    Section<CostConfig> cost("inference.cost", "Prices, to turn tokens and GPU time into cost.");
    cost.String("currency", &CostConfig::currency, "The currency of every price (a label on the cost series).")
        .List("models", &CostConfig::models, model_price)
        .List("gpus", &CostConfig::gpus, gpu_price)
        .Number("default_gpu_per_hour", &CostConfig::default_gpu_per_hour,
                "Hourly price of a GPU no `gpus` entry matches; 0 gives such GPUs no cost.")
        .Validate([](const CostConfig& c, const Node& n, Diagnostics& d) {
          std::set<std::string> seen;
          for (const ModelPrice& p : c.models) {
            if (!seen.insert(p.model).second) {
              d.Add(n.position(), "inference.cost.models: model '" + p.model + "' is priced twice");
            }
          }
        });

    Section<StageSchema> schema("inference.pipelines.schemas", "The expected output fields of a pipeline stage.");
    schema.String("pipeline", &StageSchema::pipeline, "The pipeline.")
        .String("stage", &StageSchema::stage, "The stage.")
        .StringMap("fields", &StageSchema::fields, "Field name to type, as the stage's events write them.")
        .Validate([](const StageSchema& s, const Node& n, Diagnostics& d) {
          if (s.pipeline.empty() || s.stage.empty()) {
            d.Add(n.position(), "inference.pipelines.schemas: pipeline and stage are required");
          }
        });
    Section<PipelinesConfig> pipelines("inference.pipelines", "Data-pipeline health.");
    pipelines.List("schemas", &PipelinesConfig::schemas, schema)
        .Bool("learn_schemas", &PipelinesConfig::learn_schemas,
              "A stage with no schema here registers the fields of its first run as its schema.")
        .Validate([](const PipelinesConfig& p, const Node& n, Diagnostics& d) {
          std::set<std::pair<std::string, std::string>> seen;
          for (const StageSchema& s : p.schemas) {
            if (!seen.insert({s.pipeline, s.stage}).second) {
              d.Add(n.position(),
                    "inference.pipelines.schemas: stage '" + s.pipeline + "/" + s.stage + "' is listed twice");
            }
          }
        });

    auto* sec = new Section<InferenceConfig>(
        "inference", "Metrics derived from inference requests, sampling into the event store, cost and pipelines.");
    sec->StringList("dimensions", &InferenceConfig::dimensions,
                    "Labels of the derived series, from: model, model_version, endpoint, tenant, service, node, "
                    "operation, provider.")
        .Int("max_dimension_sets", &InferenceConfig::max_dimension_sets,
             "Distinct label sets kept; requests beyond it are counted under the label values \"_overflow\".", 1)
        .Duration("flush_interval", &InferenceConfig::flush_interval,
                  "How often the derived series are written to the metrics engine.", std::chrono::seconds(1))
        .Duration("idle_timeout", &InferenceConfig::idle_timeout,
                  "A label set with no request for this long is dropped (its series end with a staleness marker).",
                  std::chrono::minutes(1))
        .Nested("sampling", &InferenceConfig::sampling, sampling)
        .Nested("cost", &InferenceConfig::cost, cost)
        .Nested("pipelines", &InferenceConfig::pipelines, pipelines)
        .Validate([](const InferenceConfig& c, const Node& n, Diagnostics& d) {
          std::set<std::string> seen;
          for (const std::string& dim : c.dimensions) {
            if (std::find(std::begin(kDimensionNames), std::end(kDimensionNames), dim) == std::end(kDimensionNames)) {
              std::string msg = "inference.dimensions: unknown dimension '" + dim + "'";
              std::string guess = config::DidYouMean(
                  dim, std::vector<std::string>(std::begin(kDimensionNames), std::end(kDimensionNames)));
              if (!guess.empty()) msg += ", did you mean '" + guess + "'?";
              d.Add(n.position(), msg);
            } else if (!seen.insert(dim).second) {
              d.Add(n.position(), "inference.dimensions: '" + dim + "' is listed twice");
            }
          }
        });
    return sec;
  }();
  return *schema_table;
}

}  // namespace tyto::inference
