// The `inference:` section of tyto.yml: which dimensions the derived metrics carry and how many
// sets of them, how often they are written, what is sampled into the event store, the price
// table, and the data pipelines' registered schemas. docs/inference.md explains each.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "config/schema.h"

namespace tyto::inference {

// The labels an inference event can give its derived series, by configuration name.
//   model, model_version, endpoint, tenant, service, node, operation (gen_ai_operation_name),
//   provider (gen_ai_provider_name)
inline constexpr const char* kDimensionNames[] = {"model",   "model_version", "endpoint",  "tenant",
                                                  "service", "node",          "operation", "provider"};

struct SamplingConfig {
  double rate = 0.1;  // head sampling: the share of ordinary requests and traces kept
  bool keep_errors = true;
  std::chrono::milliseconds slow_threshold{std::chrono::seconds(30)};  // slower ones are always kept
  std::chrono::milliseconds decision_wait{std::chrono::seconds(5)};   // spans wait this long for their trace
  int64_t max_pending_spans = 200000;  // spans held for a decision; beyond, the oldest traces are decided early
  friend bool operator==(const SamplingConfig&, const SamplingConfig&) = default;
};

struct ModelPrice {
  std::string model;
  double input_per_1k_tokens = 0;
  double output_per_1k_tokens = 0;
  friend bool operator==(const ModelPrice&, const ModelPrice&) = default;
};

// The hourly price of a GPU: the first entry whose non-empty fields all match wins.
struct GpuPrice {
  std::string node;       // the GPU's Hostname label (dcgm-exporter's) / the events' node
  std::string gpu_model;  // dcgm-exporter's modelName label, e.g. "NVIDIA H100 80GB HBM3"
  double per_hour = 0;
  friend bool operator==(const GpuPrice&, const GpuPrice&) = default;
};

struct CostConfig {
  std::string currency = "USD";
  std::vector<ModelPrice> models;
  std::vector<GpuPrice> gpus;
  double default_gpu_per_hour = 0;  // for GPUs no entry matches; 0: no GPU cost for them
  friend bool operator==(const CostConfig&, const CostConfig&) = default;
};

struct StageSchema {
  std::string pipeline;
  std::string stage;
  std::map<std::string, std::string> fields;  // name -> type, as the stage's events write them
  friend bool operator==(const StageSchema&, const StageSchema&) = default;
};

struct PipelinesConfig {
  std::vector<StageSchema> schemas;
  bool learn_schemas = true;  // a stage without a registered schema registers its first run's fields
  friend bool operator==(const PipelinesConfig&, const PipelinesConfig&) = default;
};

struct InferenceConfig {
  std::vector<std::string> dimensions = {"model", "model_version", "endpoint", "tenant"};
  int64_t max_dimension_sets = 10000;
  std::chrono::milliseconds flush_interval{std::chrono::seconds(10)};
  std::chrono::milliseconds idle_timeout{std::chrono::hours(1)};  // sets idle this long are dropped
  SamplingConfig sampling;
  CostConfig cost;
  PipelinesConfig pipelines;
  friend bool operator==(const InferenceConfig&, const InferenceConfig&) = default;
};

// Checks dimension names, the sampling rate (0 to 1), duplicate prices and schemas.
const config::Section<InferenceConfig>& InferenceSchema();

}  // namespace tyto::inference
