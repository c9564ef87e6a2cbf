// POST /api/v1/events: inference, pipeline-stage and deployment events, one JSON object per line
// (jsonl_decode.h; every field in docs/events-api.md).
#include <rapidjson/document.h>

#include <cmath>
#include <string>
#include <string_view>
#include <utility>

#include "events/ids.h"
#include "events/jsonl_common.h"
#include "events/jsonl_decode.h"
#include "scrape/text_lexing.h"

namespace tyto::events {
namespace {

using jsonl::Fields;
using rapidjson::Value;

constexpr int64_t kNanosPerMilli = 1'000'000;

// "status": "ok" | "error" | an HTTP status code (100-599; >= 400 is an error). *code is the
// code, or 0 for the words; *present says whether there was a status.
Status ReadStatus(Fields& f, bool* error, int* code, bool* present) {
  *present = false;
  const Value* v = f.Get("status");
  if (v == nullptr) return Status::Ok();
  *present = true;
  if (v->IsString()) {
    const std::string_view s(v->GetString(), v->GetStringLength());
    if (s == "ok" || s == "error") {
      *error = s == "error";
      return Status::Ok();
    }
  } else if (v->IsInt() && v->GetInt() >= 100 && v->GetInt() <= 599) {
    *code = v->GetInt();
    *error = *code >= 400;
    return Status::Ok();
  }
  return InvalidArgument("status: expected \"ok\", \"error\" or an HTTP status code (100 to 599)");
}

// A number or a string (a category) as a Field.
Status FieldValue(const Value& v, std::string name, const std::string& where, Field* out) {
  out->name = std::move(name);
  if (v.IsNumber()) {
    out->is_number = true;
    out->number = v.GetDouble();
    return Status::Ok();
  }
  if (v.IsString()) {
    out->is_number = false;
    out->text.assign(v.GetString(), v.GetStringLength());
    return Status::Ok();
  }
  return InvalidArgument(where + ": expected a number or a string");
}

// "features": {"name": number | string, ...}; at most max_attributes kept (the rest counted as
// dropped attributes).
Status ReadFeatures(Fields& f, const char* member, std::vector<Field>* out) {
  const Value* v = f.Get(member);
  if (v == nullptr) return Status::Ok();
  if (!v->IsObject())
    return InvalidArgument(std::string(member) + ": expected an object of names to numbers or strings");
  for (auto it = v->MemberBegin(); it != v->MemberEnd(); ++it) {
    std::string name(it->name.GetString(), it->name.GetStringLength());
    if (out->size() >= f.limits().max_attributes) {
      ++f.stats()->attributes_dropped;
      continue;
    }
    Field field;
    TYTO_RETURN_IF_ERROR(FieldValue(it->value, name, std::string(member) + "." + scrape::Printable(name, 64), &field));
    LimitText(&field.name, f.limits(), f.stats());
    LimitText(&field.text, f.limits(), f.stats());
    out->push_back(std::move(field));
  }
  return Status::Ok();
}

// "prediction": a number or a string (one unnamed Field), or an object like "features".
Status ReadPrediction(Fields& f, std::vector<Field>* out) {
  const Value* v = f.Get("prediction");
  if (v == nullptr) return Status::Ok();
  if (v->IsObject()) return ReadFeatures(f, "prediction", out);
  Field field;
  if (!v->IsNumber() && !v->IsString()) {
    return InvalidArgument("prediction: expected a number, a string or an object of names to numbers or strings");
  }
  TYTO_RETURN_IF_ERROR(FieldValue(*v, "", "prediction", &field));
  LimitText(&field.text, f.limits(), f.stats());
  out->push_back(std::move(field));
  return Status::Ok();
}

// "embedding": an array of finite numbers, at most max_embedding_dims of them.
Status ReadEmbedding(Fields& f, std::vector<float>* out) {
  const Value* v = f.Get("embedding");
  if (v == nullptr) return Status::Ok();
  if (!v->IsArray()) return InvalidArgument("embedding: expected an array of numbers");
  if (v->Size() > f.limits().max_embedding_dims) {
    return InvalidArgument("embedding: " + std::to_string(v->Size()) + " numbers, more than the limit of " +
                           std::to_string(f.limits().max_embedding_dims));
  }
  out->reserve(v->Size());
  for (rapidjson::SizeType i = 0; i < v->Size(); ++i) {
    const Value& e = (*v)[i];
    const double d = e.IsNumber() ? e.GetDouble() : std::nan("");
    if (!std::isfinite(d) || std::fabs(d) > 3.4e38) {
      return InvalidArgument("embedding[" + std::to_string(i) + "]: expected a finite number");
    }
    out->push_back(static_cast<float>(d));
  }
  return Status::Ok();
}

// "finish_reasons": an array of strings, or one string.
Status ReadFinishReasons(Fields& f, std::vector<std::string>* out) {
  const Value* v = f.Get("finish_reasons");
  if (v == nullptr) return Status::Ok();
  if (v->IsString()) {
    out->emplace_back(v->GetString(), v->GetStringLength());
  } else if (v->IsArray()) {
    for (const Value& e : v->GetArray()) {
      if (!e.IsString()) return InvalidArgument("finish_reasons: expected an array of strings");
      out->emplace_back(e.GetString(), e.GetStringLength());
    }
  } else {
    return InvalidArgument("finish_reasons: expected an array of strings or a string");
  }
  for (std::string& r : *out) LimitText(&r, f.limits(), f.stats());
  return Status::Ok();
}

// "timestamp" in Unix milliseconds; `now_ms` (the receive time) when absent.
Status TimestampMs(Fields& f, int64_t now_ms, int64_t* ms) {
  int64_t ns = 0;
  bool has_time = false;
  TYTO_RETURN_IF_ERROR(f.Timestamp("timestamp", &ns, &has_time));
  *ms = has_time ? ns / kNanosPerMilli : now_ms;
  return Status::Ok();
}

Status Required(std::string_view name, const std::string& value) {
  return value.empty() ? InvalidArgument(std::string(name) + ": required") : Status::Ok();
}

// `model`, when given, is the model of every line: a line may leave it out, or name the same.
Status Inference(Fields& f, int64_t now_ms, InferenceEvent* e, const std::string* model = nullptr) {
  TYTO_RETURN_IF_ERROR(TimestampMs(f, now_ms, &e->timestamp_ms));
  TYTO_RETURN_IF_ERROR(f.Text("model", &e->model));
  if (model != nullptr) {
    if (!e->model.empty() && e->model != *model) {
      return InvalidArgument("model: \"" + scrape::Printable(e->model, 64) + "\" is not the reference's model \"" +
                             scrape::Printable(*model, 64) + "\"");
    }
    e->model = *model;
  }
  TYTO_RETURN_IF_ERROR(Required("model", e->model));
  TYTO_RETURN_IF_ERROR(f.Text("request_id", &e->request_id));
  TYTO_RETURN_IF_ERROR(f.Text("model_version", &e->model_version));
  TYTO_RETURN_IF_ERROR(f.Text("endpoint", &e->endpoint));
  TYTO_RETURN_IF_ERROR(f.Text("tenant", &e->tenant));
  TYTO_RETURN_IF_ERROR(f.Text("user", &e->user));
  TYTO_RETURN_IF_ERROR(f.Text("service", &e->service));
  TYTO_RETURN_IF_ERROR(f.Text("provider", &e->provider));
  TYTO_RETURN_IF_ERROR(f.Text("operation", &e->operation));
  TYTO_RETURN_IF_ERROR(f.Text("node", &e->node));
  TYTO_RETURN_IF_ERROR(f.Text("conversation_id", &e->conversation_id));

  bool error = false, has_status = false;
  int code = 0;
  TYTO_RETURN_IF_ERROR(ReadStatus(f, &error, &code, &has_status));
  TYTO_RETURN_IF_ERROR(f.Text("error_type", &e->error_type));
  if (!e->error_type.empty()) {
    if (has_status && !error) return InvalidArgument("error_type: given with a status that is not an error");
    error = true;
  }
  e->error = error;
  if (error && e->error_type.empty()) e->error_type = code != 0 ? std::to_string(code) : "_OTHER";

  TYTO_RETURN_IF_ERROR(f.Duration("latency_ms", "latency_s", &e->latency_s));
  TYTO_RETURN_IF_ERROR(f.Duration("queue_ms", "queue_s", &e->queue_s));
  TYTO_RETURN_IF_ERROR(f.Duration("ttft_ms", "ttft_s", &e->ttft_s));
  TYTO_RETURN_IF_ERROR(f.Count("input_tokens", &e->input_tokens));
  TYTO_RETURN_IF_ERROR(f.Count("output_tokens", &e->output_tokens));
  TYTO_RETURN_IF_ERROR(ReadFinishReasons(f, &e->finish_reasons));
  TYTO_RETURN_IF_ERROR(f.Content("prompt", &e->prompt));
  TYTO_RETURN_IF_ERROR(f.Content("response", &e->response));
  TYTO_RETURN_IF_ERROR(ReadFeatures(f, "features", &e->features));
  TYTO_RETURN_IF_ERROR(ReadPrediction(f, &e->prediction));
  TYTO_RETURN_IF_ERROR(ReadEmbedding(f, &e->embedding));
  TYTO_RETURN_IF_ERROR(f.Id("trace_id", kTraceIdBytes, &e->trace_id));
  TYTO_RETURN_IF_ERROR(f.Id("span_id", kSpanIdBytes, &e->span_id));
  return Status::Ok();
}

Status PipelineStage(Fields& f, int64_t now_ms, PipelineStageEvent* e) {
  TYTO_RETURN_IF_ERROR(f.Text("pipeline", &e->pipeline));
  TYTO_RETURN_IF_ERROR(Required("pipeline", e->pipeline));
  TYTO_RETURN_IF_ERROR(f.Text("stage", &e->stage));
  TYTO_RETURN_IF_ERROR(Required("stage", e->stage));
  TYTO_RETURN_IF_ERROR(f.Text("run_id", &e->run_id));
  int64_t start = 0, end = 0;
  bool has_start = false, has_end = false;
  TYTO_RETURN_IF_ERROR(f.Timestamp("start_time", &start, &has_start));
  TYTO_RETURN_IF_ERROR(f.Timestamp("end_time", &end, &has_end));
  e->end_ms = has_end ? end / kNanosPerMilli : now_ms;
  e->start_ms = has_start ? start / kNanosPerMilli : e->end_ms;
  if (e->end_ms < e->start_ms) return InvalidArgument("end_time: before start_time");
  TYTO_RETURN_IF_ERROR(f.Count("rows_in", &e->rows_in));
  TYTO_RETURN_IF_ERROR(f.Count("rows_out", &e->rows_out));
  TYTO_RETURN_IF_ERROR(f.Count("rows_rejected", &e->rows_rejected));
  TYTO_RETURN_IF_ERROR(f.Text("schema_fingerprint", &e->schema_fingerprint));
  if (const Value* fields = f.Get("fields")) {
    if (!fields->IsObject()) return InvalidArgument("fields: expected an object of field names to type names");
    for (auto it = fields->MemberBegin(); it != fields->MemberEnd(); ++it) {
      PipelineStageEvent::FieldType ft;
      ft.name.assign(it->name.GetString(), it->name.GetStringLength());
      if (!it->value.IsString()) {
        return InvalidArgument("fields." + scrape::Printable(ft.name, 64) + ": expected a type name (a string)");
      }
      if (e->fields.size() >= f.limits().max_attributes) {
        ++f.stats()->attributes_dropped;
        continue;
      }
      ft.type.assign(it->value.GetString(), it->value.GetStringLength());
      LimitText(&ft.name, f.limits(), f.stats());
      LimitText(&ft.type, f.limits(), f.stats());
      e->fields.push_back(std::move(ft));
    }
  }
  bool error = false, has_status = false;
  int code = 0;
  TYTO_RETURN_IF_ERROR(ReadStatus(f, &error, &code, &has_status));
  if (code != 0) return InvalidArgument("status: expected \"ok\" or \"error\"");
  TYTO_RETURN_IF_ERROR(f.Text("error", &e->error));
  if (!e->error.empty()) {
    if (has_status && !error) return InvalidArgument("error: given with status \"ok\"");
    error = true;
  }
  e->failed = error;
  return Status::Ok();
}

Status Deployment(Fields& f, int64_t now_ms, DeploymentEvent* e) {
  TYTO_RETURN_IF_ERROR(TimestampMs(f, now_ms, &e->timestamp_ms));
  TYTO_RETURN_IF_ERROR(f.Text("model", &e->model));
  TYTO_RETURN_IF_ERROR(Required("model", e->model));
  TYTO_RETURN_IF_ERROR(f.Text("version", &e->version));
  TYTO_RETURN_IF_ERROR(Required("version", e->version));
  TYTO_RETURN_IF_ERROR(f.Text("previous_version", &e->previous_version));
  e->action = "deploy";
  TYTO_RETURN_IF_ERROR(f.Text("action", &e->action));
  if (e->action != "deploy" && e->action != "rollback") {
    return InvalidArgument("action: expected \"deploy\" or \"rollback\"");
  }
  TYTO_RETURN_IF_ERROR(f.Text("who", &e->who));
  TYTO_RETURN_IF_ERROR(f.Text("note", &e->note));
  return Status::Ok();
}

Status FeedbackLine(Fields& f, int64_t now_ms, Feedback* fb) {
  TYTO_RETURN_IF_ERROR(TimestampMs(f, now_ms, &fb->timestamp_ms));
  TYTO_RETURN_IF_ERROR(f.Text("request_id", &fb->request_id));
  TYTO_RETURN_IF_ERROR(Required("request_id", fb->request_id));
  TYTO_RETURN_IF_ERROR(f.Text("model", &fb->model));
  if (const Value* v = f.Get("label")) {
    if (v->IsBool()) {
      fb->label.is_number = false;
      fb->label.text = v->GetBool() ? "true" : "false";
    } else {
      TYTO_RETURN_IF_ERROR(FieldValue(*v, "", "label", &fb->label));
      LimitText(&fb->label.text, f.limits(), f.stats());
    }
    fb->has_label = true;
  }
  if (const Value* v = f.Get("rating")) {
    if (!v->IsNumber() || !std::isfinite(v->GetDouble())) return InvalidArgument("rating: expected a number");
    fb->rating = v->GetDouble();
  }
  TYTO_RETURN_IF_ERROR(f.Content("correction", &fb->correction));
  if (!fb->has_label && std::isnan(fb->rating) && fb->correction.empty()) {
    return InvalidArgument("label, rating or correction: required (at least one)");
  }
  return Status::Ok();
}

}  // namespace

DecodedFeedback DecodeFeedbackJsonLines(std::string_view body, int64_t now_ms, const DecodeLimits& limits) {
  DecodedFeedback out;
  jsonl::DecodeLines(
      body, limits, /*warn_unknown=*/true,
      [&](Fields& f) -> Status {
        Feedback fb;
        TYTO_RETURN_IF_ERROR(FeedbackLine(f, now_ms, &fb));
        out.items.push_back(std::move(fb));
        return Status::Ok();
      },
      &out.report);
  return out;
}

DecodedEvents DecodeReferenceJsonLines(std::string_view body, const std::string& model, int64_t now_ms,
                                       const DecodeLimits& limits) {
  DecodedEvents out;
  jsonl::DecodeLines(
      body, limits, /*warn_unknown=*/true,
      [&](Fields& f) -> Status {
        std::string type = "inference";
        TYTO_RETURN_IF_ERROR(f.Text("type", &type));
        if (type != "inference") return InvalidArgument("type: expected \"inference\" (a reference row)");
        InferenceEvent e;
        TYTO_RETURN_IF_ERROR(Inference(f, now_ms, &e, &model));
        out.inferences.push_back(std::move(e));
        return Status::Ok();
      },
      &out.report);
  return out;
}

DecodedEvents DecodeEventsJsonLines(std::string_view body, int64_t now_ms, const DecodeLimits& limits) {
  DecodedEvents out;
  jsonl::DecodeLines(
      body, limits, /*warn_unknown=*/true,
      [&](Fields& f) -> Status {
        std::string type = "inference";
        TYTO_RETURN_IF_ERROR(f.Text("type", &type));
        if (type == "inference") {
          InferenceEvent e;
          TYTO_RETURN_IF_ERROR(Inference(f, now_ms, &e));
          out.inferences.push_back(std::move(e));
        } else if (type == "pipeline_stage") {
          PipelineStageEvent e;
          TYTO_RETURN_IF_ERROR(PipelineStage(f, now_ms, &e));
          out.pipeline_stages.push_back(std::move(e));
        } else if (type == "deployment") {
          DeploymentEvent e;
          TYTO_RETURN_IF_ERROR(Deployment(f, now_ms, &e));
          out.deployments.push_back(std::move(e));
        } else {
          return InvalidArgument("type: unknown value \"" + scrape::Printable(type, 64) +
                                 "\" (expected inference, pipeline_stage or deployment)");
        }
        return Status::Ok();
      },
      &out.report);
  return out;
}

}  // namespace tyto::events
