// libFuzzer target: any bytes as a JSON-lines body, decoded as POST /api/v1/events, as POST
// /api/v1/logs and as POST /api/v1/feedback. Never a crash or a hang; every non-blank line is
// accepted or rejected, the items match the accepted lines, listed errors and warnings stay within max_listed_lines, and
// every item holds the invariants of fuzz_checks.h. Seeds: testdata/fuzz_seeds/events_jsonl_fuzz/.
#include <cmath>

#include "events/fuzz_checks.h"
#include "events/jsonl_decode.h"

namespace {

void CheckReport(const tyto::events::LineReport& r, size_t items, const tyto::events::DecodeLimits& l) {
  using tyto::events::fuzz::Check;
  Check(r.accepted + r.rejected == r.lines);
  Check(r.accepted == items);
  Check(r.errors.size() <= l.max_listed_lines && r.errors.size() <= r.rejected);
  Check(r.warnings.size() <= l.max_listed_lines && r.warnings.size() <= r.warnings_total);
  size_t last = 0;
  for (const auto& e : r.errors) {
    Check(e.line > last);  // in line order, one error per line
    last = e.line;
    Check(!e.message.empty());
    tyto::events::fuzz::CheckText(e.message);
  }
  for (const auto& w : r.warnings) tyto::events::fuzz::CheckText(w.message);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tyto::events;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const DecodeLimits limits = fuzz::SmallLimits();
  constexpr int64_t kNow = 1'800'000'000'000;

  const DecodedEvents ev = DecodeEventsJsonLines(body, kNow, limits);
  CheckReport(ev.report, ev.inferences.size() + ev.pipeline_stages.size() + ev.deployments.size(), limits);
  for (const InferenceEvent& e : ev.inferences) {
    fuzz::CheckInference(e);
    fuzz::CheckId(e.trace_id, 32, false);
    fuzz::CheckId(e.span_id, 16, false);
    fuzz::Check(e.prompt.size() <= limits.max_content_bytes && e.response.size() <= limits.max_content_bytes);
    fuzz::Check(e.model.size() <= limits.max_attribute_value_bytes);
    fuzz::Check(e.features.size() <= limits.max_attributes && e.prediction.size() <= limits.max_attributes);
    fuzz::Check(e.embedding.size() <= limits.max_embedding_dims);
    for (float x : e.embedding) fuzz::Check(std::isfinite(x));
  }
  for (const PipelineStageEvent& p : ev.pipeline_stages) {
    fuzz::Check(!p.pipeline.empty() && !p.stage.empty() && p.start_ms <= p.end_ms);
    fuzz::Check(p.failed || p.error.empty());
  }
  for (const DeploymentEvent& d : ev.deployments) {
    fuzz::Check(!d.model.empty() && !d.version.empty());
    fuzz::Check(d.action == "deploy" || d.action == "rollback");
  }

  const DecodedLogLines logs = DecodeLogsJsonLines(body, kNow, limits);
  CheckReport(logs.report, logs.records.size(), limits);
  fuzz::Check(logs.report.lines == ev.report.lines);
  for (const LogRecord& r : logs.records) fuzz::CheckLog(r, limits);

  const DecodedFeedback feedback = DecodeFeedbackJsonLines(body, kNow, limits);
  CheckReport(feedback.report, feedback.items.size(), limits);
  for (const Feedback& f : feedback.items) {
    fuzz::Check(!f.request_id.empty());
    fuzz::Check(f.has_label || !std::isnan(f.rating) || !f.correction.empty());
    fuzz::Check(f.correction.size() <= limits.max_content_bytes);
  }
  return 0;
}
