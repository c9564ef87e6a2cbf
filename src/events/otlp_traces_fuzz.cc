// libFuzzer target: any bytes as an OTLP/HTTP traces body. The first byte picks the decoder
// (even: protobuf, odd: JSON), the rest is the body. Never a crash, a hang or unbounded
// recursion; an error is InvalidArgument naming where, with nothing kept; decoded spans hold the
// invariants of fuzz_checks.h and go through the GenAI mapping. Seeds: testdata/fuzz_seeds/otlp_traces_fuzz/.
#include "events/fuzz_checks.h"
#include "events/otlp_decode.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tyto::events;
  if (size == 0) return 0;
  const bool json = data[0] & 1;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  const DecodeLimits limits = fuzz::SmallLimits();
  DecodedSpans out;
  const tyto::Status st = json ? DecodeTracesJson(body, limits, &out) : DecodeTracesProtobuf(body, limits, &out);
  if (!st.ok()) {
    fuzz::Check(st.code() == tyto::StatusCode::kInvalidArgument);
    const std::string& m = st.message();
    fuzz::Check(m.rfind(json ? "resourceSpans" : "resource_spans[", 0) == 0 ||
                m.rfind("ExportTraceServiceRequest: ", 0) == 0 || (json && m.rfind("invalid JSON at byte ", 0) == 0));
    fuzz::Check(out.spans.empty() && out.rejected == 0);
    return 0;
  }
  fuzz::Check(out.rejected >= 0);
  fuzz::Check((out.rejected > 0) == !out.first_rejection.empty());
  fuzz::CheckText(out.first_rejection);
  fuzz::CheckSpans(out.spans, limits);
  return 0;
}
