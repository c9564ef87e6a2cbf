// libFuzzer target: any bytes as an OTLP/HTTP protobuf body (ExportMetricsServiceRequest),
// decoded by hand (src/ingest/otlp_proto.cc) and stored through OtlpReceiver: never a crash, a
// hang or unbounded recursion; errors name the field path and byte. Seeds:
// tests/fuzz/corpus/otlp_proto/ (every metric type, truncated, empty).
#include "fuzz/otlp_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  tyto::ingest::otlp::MetricsRequest req;
  tyto::Status st = tyto::ingest::otlp::DecodeProtobuf(input, &req);
  tyto::fuzz::CheckExport(st, req, {"ExportMetricsServiceRequest: ", "resource_metrics["});
  return 0;
}
