// Shared by the OTLP fuzz targets (otlp_proto_fuzz.cc, otlp_json_fuzz.cc): a decoded request goes
// through OtlpReceiver into a storage that accepts everything, and the result must add up.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "ingest/otlp_metrics.h"
#include "ingest/otlp_receiver.h"

namespace tyto::fuzz {

class CountingAppender final : public Appender {
 public:
  Result<SeriesRef> Append(SeriesRef, const Labels& labels, int64_t, double) override {
    if (labels.MetricName().empty()) __builtin_trap();  // the receiver always names the series
    return SeriesRef{1};
  }
  Status Commit() override { return Status::Ok(); }
  void Rollback() override {}
};

class AcceptingStorage final : public Storage {
 public:
  std::unique_ptr<Appender> NewAppender() override { return std::make_unique<CountingAppender>(); }
  Result<std::unique_ptr<Querier>> NewQuerier(int64_t, int64_t) override { return Internal("no queries here"); }
};

inline bool StartsWith(const std::string& s, std::string_view prefix) { return s.rfind(prefix, 0) == 0; }

// Decoded or not: an error names where it happened (`prefixes`); a decoded request is stored,
// with every point either stored or rejected with a reason naming its place.
inline void CheckExport(const Status& decoded, const ingest::otlp::MetricsRequest& req,
                        std::initializer_list<std::string_view> prefixes) {
  if (!decoded.ok()) {
    if (decoded.code() != StatusCode::kInvalidArgument) __builtin_trap();
    bool named = false;
    for (std::string_view p : prefixes) named |= StartsWith(decoded.message(), p);
    if (!named) __builtin_trap();
    return;
  }
  static auto* storage = new AcceptingStorage();
  static auto* registry = new instrumentation::Registry();
  static auto* receiver = new ingest::OtlpReceiver(storage, ingest::OtlpOptions{.delta_series = 64}, registry);
  ingest::ExportResult r = receiver->Export(req);
  if (r.points_rejected > r.points_received) __builtin_trap();
  switch (r.outcome) {
    case ingest::ExportResult::Outcome::kStored:
      if (r.points_rejected != 0 || !r.error.ok()) __builtin_trap();
      break;
    case ingest::ExportResult::Outcome::kPartlyRejected:
      if (r.points_rejected == 0 || r.error.message().find(" data points rejected; the first: resource_metrics[") ==
                                        std::string::npos) {
        __builtin_trap();
      }
      break;
    case ingest::ExportResult::Outcome::kStorageFailed: __builtin_trap();  // this storage never fails
  }
}

}  // namespace tyto::fuzz
