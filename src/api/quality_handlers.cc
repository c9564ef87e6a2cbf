#include "api/quality_handlers.h"

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "api/json.h"
#include "api/json_lines.h"
#include "evaluate/registry.h"
#include "events/decode_limits.h"
#include "events/jsonl_decode.h"
#include "quality/monitor.h"

namespace tyto::api {
namespace {

using http::Request;
using http::Response;

// StatusError, but a precondition or a limit the data does not meet is 422 execution.
Response Failure(const Status& st) {
  if (st.code() == StatusCode::kFailedPrecondition || st.code() == StatusCode::kResourceExhausted) {
    return Response::Error(422, "execution", st.message());
  }
  return StatusError(st);
}

// A number, or null when it is not one (JSON has no NaN).
void Number(JsonWriter& w, std::string_view key, double v) {
  Key(w, key);
  if (std::isfinite(v)) {
    w.Double(v);
  } else {
    w.Null();
  }
}

void Feedback(quality::QualityMonitor* m, const events::DecodeLimits* limits, Clock* clock, Request& req,
              Response* out) {
  std::string inflated;
  std::string_view body;
  if (std::optional<Response> refused = ReadJsonLinesBody(req, limits->max_decoded_bytes, &inflated, &body)) {
    *out = std::move(*refused);
    return;
  }
  events::DecodedFeedback d = events::DecodeFeedbackJsonLines(body, clock->NowMillis(), *limits);
  Result<quality::FeedbackResult> r = m->IngestFeedback(std::move(d.items), clock->NowMillis());
  if (!r.ok()) {
    Response resp = Failure(r.status());
    if (resp.status == 503) resp.headers.emplace_back("Retry-After", "5");
    *out = std::move(resp);
    return;
  }
  *out = JsonLinesReport(d.report, JsonLinesStatus(d.report), {}, [&](JsonWriter& w) {
    Key(w, "matched");
    w.Uint64(r->matched);
    Key(w, "unmatched");
    w.Uint64(r->unmatched);
    Key(w, "duplicate");
    w.Uint64(r->duplicate);
  });
}

void WriteOptions(JsonWriter& w, const evaluate::Descriptor& d) {
  Key(w, "options");
  w.StartArray();
  for (const evaluate::OptionSpec& o : d.options) {
    w.StartObject();
    String(w, "name", o.name);
    static constexpr const char* kTypes[] = {"string", "number", "bool", "list", "duration"};
    String(w, "type", kTypes[static_cast<int>(o.type)]);
    String(w, "default", o.default_value);
    Key(w, "required");
    w.Bool(o.required);
    String(w, "help", o.help);
    w.EndObject();
  }
  w.EndArray();
}

Response Evaluators(quality::QualityMonitor* m, const evaluate::Registry* registry) {
  return Success([&](JsonWriter& w) {
    Key(w, "plugins");
    w.StartArray();
    for (const evaluate::Descriptor& d : registry->List()) {
      w.StartObject();
      String(w, "name", d.name);
      String(w, "description", d.description);
      Key(w, "remote");
      w.Bool(d.remote);
      WriteOptions(w, d);
      w.EndObject();
    }
    w.EndArray();
    Key(w, "in_use");
    w.StartArray();
    for (const quality::Evaluations::Info& i : m->evaluations().evaluators()) {
      w.StartObject();
      String(w, "name", i.name);
      String(w, "type", i.type);
      Key(w, "remote");
      w.Bool(i.remote);
      Number(w, "weight", i.weight);
      w.EndObject();
    }
    w.EndArray();
  });
}

Response GroundTruth(quality::QualityMonitor* m, Clock* clock) {
  if (m->ground_truth() == nullptr) return Failure(FailedPrecondition("quality.ground_truth.enabled is false"));
  const std::vector<quality::GroundTruth::Summary> all = m->ground_truth()->Summaries(clock->NowMillis());
  return SuccessValue([&](JsonWriter& w) {
    w.StartArray();
    for (const quality::GroundTruth::Summary& s : all) {
      w.StartObject();
      String(w, "model", s.model);
      String(w, "version", s.version);
      Key(w, "labelled");
      w.Uint64(s.labelled);
      Number(w, "accuracy", s.accuracy);
      Number(w, "macro_f1", s.macro_f1);
      Number(w, "calibration_error", s.calibration_error);
      Key(w, "ratings");
      w.Uint64(s.ratings);
      Number(w, "mean_rating", s.mean_rating);
      w.EndObject();
    }
    w.EndArray();
  });
}

void WriteModel(JsonWriter& w, const quality::ModelDrift& d, bool columns) {
  String(w, "model", d.model);
  String(w, "state", d.state);
  String(w, "reference_source", d.reference_source);
  Key(w, "reference_created");
  if (d.reference_created_ms > 0) {
    Timestamp(w, d.reference_created_ms);
  } else {
    w.Null();
  }
  Key(w, "reference_rows");
  w.Uint64(d.reference_rows);
  Key(w, "current_rows");
  w.Uint64(d.current_rows);
  Key(w, "computed");
  if (d.computed_ms > 0) {
    Timestamp(w, d.computed_ms);
  } else {
    w.Null();
  }
  Key(w, "dataset_drift");
  w.Bool(d.dataset_drift);
  Number(w, "drift_share", d.drift_share);
  if (!columns) return;
  Key(w, "columns");
  w.StartArray();
  for (const quality::ColumnResult& c : d.columns) {
    w.StartObject();
    String(w, "feature", c.column);
    String(w, "kind", c.kind);
    String(w, "test", c.test);
    Number(w, "statistic", c.statistic);
    Number(w, "p_value", c.p_value);
    Number(w, "corrected_p_value", c.corrected_p_value);
    Number(w, "threshold", c.threshold);
    Key(w, "drift");
    w.Bool(c.drift);
    Key(w, "current_rows");
    w.Uint64(c.current_rows);
    Key(w, "reference_rows");
    w.Uint64(c.reference_rows);
    if (!c.note.empty()) String(w, "note", c.note);
    w.EndObject();
  }
  w.EndArray();
}

void Doubles(JsonWriter& w, std::string_view key, const std::vector<double>& v) {
  Key(w, key);
  w.StartArray();
  for (double x : v) {
    if (std::isfinite(x)) {
      w.Double(x);
    } else {
      w.Null();
    }
  }
  w.EndArray();
}

Response Drift(quality::QualityMonitor* m, Clock* clock, const Request& req) {
  const std::string model(req.Param("model").value_or(""));
  if (model.empty()) {
    const std::vector<quality::ModelDrift> all = m->drift().Models(clock->NowMillis());
    return SuccessValue([&](JsonWriter& w) {
      w.StartArray();
      for (const quality::ModelDrift& d : all) {
        w.StartObject();
        WriteModel(w, d, false);
        w.EndObject();
      }
      w.EndArray();
    });
  }
  Result<quality::ModelDrift> d = m->drift().Model(model, clock->NowMillis());
  if (!d.ok()) return Failure(d.status());
  Result<std::vector<quality::ColumnHistogram>> h = m->drift().Histograms(model, clock->NowMillis());
  if (!h.ok()) return Failure(h.status());
  return Success([&](JsonWriter& w) {
    WriteModel(w, *d, true);
    Key(w, "histograms");
    w.StartArray();
    for (const quality::ColumnHistogram& c : *h) {
      w.StartObject();
      String(w, "feature", c.column);
      if (!c.histogram.categories.empty()) {
        Key(w, "categories");
        w.StartArray();
        for (const std::string& s : c.histogram.categories)
          w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
        w.EndArray();
      } else {
        Doubles(w, "edges", c.histogram.edges);
      }
      Doubles(w, "reference", c.histogram.reference);
      Doubles(w, "current", c.histogram.current);
      w.EndObject();
    }
    w.EndArray();
  });
}

Response SetReference(quality::QualityMonitor* m, const events::DecodeLimits* limits, Clock* clock, Request& req) {
  const std::string model(req.Param("model").value_or(""));
  if (model.empty()) return Response::Error(400, "bad_data", "model: required (?model=NAME)");
  const std::string from(req.Param("from").value_or(""));
  const int64_t now = clock->NowMillis();
  if (!from.empty()) {
    if (from != "current") return Response::Error(400, "bad_data", "from: expected \"current\"");
    if (!req.body.empty()) return Response::Error(400, "bad_data", "from=current takes no body");
    Result<quality::ModelDrift> d = m->drift().SetReferenceFromCurrent(model, now);
    if (!d.ok()) return Failure(d.status());
    return Success([&](JsonWriter& w) { WriteModel(w, *d, false); });
  }
  std::string inflated;
  std::string_view body;
  if (std::optional<Response> refused = ReadJsonLinesBody(req, limits->max_decoded_bytes, &inflated, &body)) {
    return std::move(*refused);
  }
  events::DecodedEvents rows = events::DecodeReferenceJsonLines(body, model, now, *limits);
  if (rows.inferences.empty()) {
    if (rows.report.lines == 0) {
      return Response::Error(400, "bad_data", "no rows: send ?from=current, or JSON lines of reference rows");
    }
    return JsonLinesReport(rows.report, 400, {});
  }
  Result<quality::ModelDrift> d = m->drift().SetReferenceFromRows(model, rows.inferences, now);
  if (!d.ok()) return Failure(d.status());
  return JsonLinesReport(rows.report, 200, {}, [&](JsonWriter& w) {
    Key(w, "reference");
    w.StartObject();
    WriteModel(w, *d, false);
    w.EndObject();
  });
}

}  // namespace

// Quality (feedback, ground truth, drift) is kept per model, not per tenant: its routes are the
// server's, for callers acting for the default tenant (docs/security.md).
void AddQualityRoutes(http::Router* router, auth::Guard* guard, quality::QualityMonitor* monitor,
                      const evaluate::Registry* registry, const events::DecodeLimits* limits, Clock* clock) {
  router->Add({"POST"}, "/api/v1/feedback", "/api/v1/feedback",
              guard->RequireServerWide(auth::Scope::kWrite, [monitor, limits, clock](Request& req) {
                Response out;
                Feedback(monitor, limits, clock, req, &out);
                return out;
              }));
  router->Add(
      {"GET"}, "/api/v1/quality/evaluators", "/api/v1/quality/evaluators",
      guard->RequireServerWide(auth::Scope::kRead, [monitor, registry](Request&) { return Evaluators(monitor, registry); }));
  router->Add({"GET"}, "/api/v1/quality/ground_truth", "/api/v1/quality/ground_truth",
              guard->RequireServerWide(auth::Scope::kRead, [monitor, clock](Request&) { return GroundTruth(monitor, clock); }));
  router->Add(
      {"GET"}, "/api/v1/drift", "/api/v1/drift",
      guard->RequireServerWide(auth::Scope::kRead, [monitor, clock](Request& req) { return Drift(monitor, clock, req); }));
  router->Add({"POST"}, "/api/v1/drift/reference", "/api/v1/drift/reference",
              guard->RequireServerWide(auth::Scope::kEdit, [monitor, limits, clock](Request& req) {
                return SetReference(monitor, limits, clock, req);
              }));
  router->Add({"DELETE"}, "/api/v1/drift/reference", "/api/v1/drift/reference",
              guard->RequireServerWide(auth::Scope::kEdit, [monitor, clock](Request& req) {
                const std::string model(req.Param("model").value_or(""));
                if (model.empty()) return Response::Error(400, "bad_data", "model: required (?model=NAME)");
                Status st = monitor->drift().ResetReference(model, clock->NowMillis());
                if (!st.ok()) return Failure(st);
                return Success([&](JsonWriter& w) { String(w, "model", model); });
              }));
}

}  // namespace tyto::api
