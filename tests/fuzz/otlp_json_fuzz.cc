// libFuzzer target: any bytes as an OTLP/HTTP JSON body, decoded with RapidJSON
// (src/ingest/otlp_json.cc) and stored through OtlpReceiver: never a crash, a hang or a stack
// overflow on deep nesting; errors name the JSON path or the byte. Seeds:
// tests/fuzz/corpus/otlp_json/.
#include "fuzz/otlp_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  tyto::ingest::otlp::MetricsRequest req;
  tyto::Status st = tyto::ingest::otlp::DecodeJson(input, &req);
  tyto::fuzz::CheckExport(st, req, {"invalid JSON at byte ", "ExportMetricsServiceRequest: ", "resourceMetrics"});
  return 0;
}
