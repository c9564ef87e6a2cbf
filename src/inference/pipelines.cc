#include "inference/pipelines.h"

#include <algorithm>

#include "inference/metrics.h"

namespace tyto::inference {

const std::vector<double>& StageDurationBuckets() {
  static const std::vector<double> b = {0.1, 0.5, 1, 5, 10, 30, 60, 300, 600, 1800, 3600, 7200, 21600};
  return b;
}

std::string Describe(const SchemaMismatch& m) {
  if (m.kind == "missing") return "missing field " + m.field + " (" + m.expected_type + ")";
  if (m.kind == "extra") return "extra field " + m.field + " (" + m.actual_type + ")";
  return "field " + m.field + " is " + m.actual_type + ", expected " + m.expected_type;
}

PipelineMonitor::PipelineMonitor(const PipelinesConfig& config, Metrics* metrics)
    : learn_(config.learn_schemas), metrics_(metrics) {
  MutexLock lock(&mu_);
  for (const StageSchema& s : config.schemas) {
    Stage& st = stages_[{s.pipeline, s.stage}];
    st.schema = s.fields;
    st.has_schema = true;
  }
}

std::vector<SchemaMismatch> PipelineMonitor::Observe(const events::PipelineStageEvent& e) {
  MutexLock lock(&mu_);
  Stage& st = stages_[{e.pipeline, e.stage}];
  if (e.end_ms >= e.start_ms && e.start_ms > 0) {
    st.duration.Observe(StageDurationBuckets(), static_cast<double>(e.end_ms - e.start_ms) / 1000);
  }
  if (e.failed) {
    ++st.failed;
  } else {
    ++st.succeeded;
    st.last_success_end_ms = std::max(st.last_success_end_ms, e.end_ms);
  }
  if (e.rows_in >= 0) st.rows_in += static_cast<double>(e.rows_in);
  if (e.rows_out >= 0) st.rows_out += static_cast<double>(e.rows_out);
  if (e.rows_rejected >= 0) st.rows_rejected += static_cast<double>(e.rows_rejected);
  if (e.rows_out >= 0 && e.end_ms > e.start_ms) {
    st.last_rows_per_second = static_cast<double>(e.rows_out) * 1000 / static_cast<double>(e.end_ms - e.start_ms);
  }
  if (e.rows_rejected >= 0 && e.rows_in > 0) {
    st.last_rejected_ratio = static_cast<double>(e.rows_rejected) / static_cast<double>(e.rows_in);
  }

  std::vector<SchemaMismatch> out;
  if (e.fields.empty()) return out;
  if (!st.has_schema) {
    if (!learn_) return out;
    for (const auto& f : e.fields) st.schema[f.name] = f.type;
    st.has_schema = true;
    return out;
  }
  std::map<std::string, std::string> got;
  for (const auto& f : e.fields) got[f.name] = f.type;
  for (const auto& [name, type] : st.schema) {
    auto it = got.find(name);
    if (it == got.end()) {
      out.push_back({"missing", name, type, ""});
    } else if (it->second != type) {
      out.push_back({"retyped", name, type, it->second});
    }
  }
  for (const auto& [name, type] : got) {
    if (st.schema.find(name) == st.schema.end()) out.push_back({"extra", name, "", type});
  }
  for (const SchemaMismatch& m : out) {
    ++st.mismatches[m.kind];
    if (metrics_ != nullptr) metrics_->schema_mismatches.WithLabels({m.kind}).Inc();
  }
  return out;
}

void PipelineMonitor::Flush(int64_t now_ms, SeriesWriter& w) {
  MutexLock lock(&mu_);
  for (const auto& [key, st] : stages_) {
    if (st.succeeded + st.failed == 0) continue;  // a configured schema, no run yet
    Labels base = Labels::Of({"pipeline", key.first, "stage", key.second});
    auto named = [&](std::string_view name, std::string_view label = {}, std::string_view value = {}) {
      LabelsBuilder b(base);
      b.Set(kMetricNameLabel, name);
      if (!label.empty()) b.Set(label, value);
      return b.Build();
    };
    st.duration.Write(w, "tyto_pipeline_stage_duration_seconds", StageDurationBuckets(), base);
    w.Write(named("tyto_pipeline_stage_runs_total", "status", "success"), static_cast<double>(st.succeeded));
    w.Write(named("tyto_pipeline_stage_runs_total", "status", "failed"), static_cast<double>(st.failed));
    w.Write(named("tyto_pipeline_stage_rows_total", "kind", "in"), st.rows_in);
    w.Write(named("tyto_pipeline_stage_rows_total", "kind", "out"), st.rows_out);
    w.Write(named("tyto_pipeline_stage_rows_total", "kind", "rejected"), st.rows_rejected);
    if (st.last_rows_per_second >= 0) w.Write(named("tyto_pipeline_stage_last_run_rows_per_second"), st.last_rows_per_second);
    if (st.last_rejected_ratio >= 0) w.Write(named("tyto_pipeline_stage_last_run_rejected_ratio"), st.last_rejected_ratio);
    if (st.last_success_end_ms > 0) {
      w.Write(named("tyto_pipeline_stage_last_success_timestamp_seconds"),
              static_cast<double>(st.last_success_end_ms) / 1000);
      w.Write(named("tyto_pipeline_stage_freshness_seconds"),
              std::max(0.0, static_cast<double>(now_ms - st.last_success_end_ms) / 1000));
    }
    for (const char* kind : {"missing", "extra", "retyped"}) {
      auto it = st.mismatches.find(kind);
      w.Write(named("tyto_pipeline_schema_mismatches_total", "kind", kind),
              it == st.mismatches.end() ? 0.0 : static_cast<double>(it->second));
    }
  }
}

std::map<std::string, std::string> PipelineMonitor::Schema(const std::string& pipeline, const std::string& stage) const {
  MutexLock lock(&mu_);
  auto it = stages_.find({pipeline, stage});
  return it == stages_.end() ? std::map<std::string, std::string>() : it->second.schema;
}

void DeploymentTracker::Observe(const events::DeploymentEvent& e) {
  MutexLock lock(&mu_);
  auto [it, inserted] = latest_.try_emplace(e.model, e);
  if (!inserted && e.timestamp_ms >= it->second.timestamp_ms) it->second = e;
}

void DeploymentTracker::Flush(SeriesWriter& w) const {
  MutexLock lock(&mu_);
  for (const auto& [model, e] : latest_) {
    LabelsBuilder b;
    b.Set(kMetricNameLabel, "tyto_model_deployment_info");
    b.Set("model", model);
    b.Set("version", e.version);
    b.Set("previous_version", e.previous_version);
    b.Set("action", e.action.empty() ? "deploy" : e.action);
    w.Write(b.Build(), 1);
    LabelsBuilder t;
    t.Set(kMetricNameLabel, "tyto_model_deployment_timestamp_seconds");
    t.Set("model", model);
    t.Set("version", e.version);
    w.Write(t.Build(), static_cast<double>(e.timestamp_ms) / 1000);
  }
}

std::vector<events::DeploymentEvent> DeploymentTracker::Current() const {
  MutexLock lock(&mu_);
  std::vector<events::DeploymentEvent> out;
  for (const auto& [model, e] : latest_) out.push_back(e);
  return out;
}

}  // namespace tyto::inference
