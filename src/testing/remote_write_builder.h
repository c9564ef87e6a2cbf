// Remote write 1.0 request bodies built by hand in the protobuf wire format, for tests, the
// fuzzer's seeds and benchmarks (the decoder under test is src/ingest/write_request.h; this is
// an independent encoder, written from the .proto field numbers, so the two check each other).
// Uncompressed: compress with ingest::SnappyCompress to send one.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/coding.h"

namespace tyto::testing {

// Protobuf field keys and values.
inline void PutKey(std::string* out, uint32_t field, uint32_t wire_type) {
  coding::PutVarint64(out, (static_cast<uint64_t>(field) << 3) | wire_type);
}
inline void PutBytesField(std::string* out, uint32_t field, std::string_view bytes) {
  PutKey(out, field, 2);
  coding::PutLengthPrefixed(out, bytes);
}
inline void PutVarintField(std::string* out, uint32_t field, uint64_t v) {
  PutKey(out, field, 0);
  coding::PutVarint64(out, v);
}
inline void PutDoubleField(std::string* out, uint32_t field, double v) {
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof bits);
  PutKey(out, field, 1);
  coding::PutFixed64(out, bits);
}

struct RemoteWriteSeries {
  std::vector<std::pair<std::string, std::string>> labels;  // sent in this order, as given
  std::vector<std::pair<int64_t, double>> samples;          // (timestamp ms, value)
  int exemplars = 0;                                        // empty Exemplar messages
  int histograms = 0;                                       // empty Histogram messages
};

// prometheus.TimeSeries
inline std::string EncodeTimeSeries(const RemoteWriteSeries& s) {
  std::string ts;
  for (const auto& [name, value] : s.labels) {
    std::string label;
    PutBytesField(&label, 1, name);
    PutBytesField(&label, 2, value);
    PutBytesField(&ts, 1, label);
  }
  for (const auto& [t, v] : s.samples) {
    std::string sample;
    PutDoubleField(&sample, 1, v);
    PutVarintField(&sample, 2, static_cast<uint64_t>(t));
    PutBytesField(&ts, 2, sample);
  }
  for (int i = 0; i < s.exemplars; ++i) PutBytesField(&ts, 3, "");
  for (int i = 0; i < s.histograms; ++i) PutBytesField(&ts, 4, "");
  return ts;
}

// prometheus.WriteRequest with `metadata` empty MetricMetadata messages after the series.
inline std::string EncodeWriteRequest(const std::vector<RemoteWriteSeries>& series, int metadata = 0) {
  std::string req;
  for (const RemoteWriteSeries& s : series) PutBytesField(&req, 1, EncodeTimeSeries(s));
  for (int i = 0; i < metadata; ++i) PutBytesField(&req, 3, "");
  return req;
}

}  // namespace tyto::testing
