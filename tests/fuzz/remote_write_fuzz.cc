// libFuzzer target: any bytes as a remote write body. Three readings of the same input:
//   1. as the snappy-compressed body the receiver gets, through RemoteWriteReceiver::Write into
//      an in-memory storage that accepts everything: never a crash, a hang or an allocation
//      beyond the cap; the counts add up; every error says what and where;
//   2. as an uncompressed WriteRequest (random bytes rarely decompress, so the protobuf decoder
//      gets the input directly too): decoded ranges and strings stay inside their buffers;
//   3. label checks on every decoded series: OK, or an error naming "timeseries[i]".
// Seeds (tests/fuzz/corpus/remote_write/): real bodies from ../shared/bench's fleet workload
// and hand-made ones (compressed and not; with exemplars, histograms and metadata; truncated).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "ingest/remote_write.h"
#include "ingest/write_request.h"

namespace {

using tyto::ingest::WriteRequest;
using tyto::ingest::WriteResult;

// Accepts every sample; refuses none. Counts what it is given.
class CountingAppender final : public tyto::Appender {
 public:
  tyto::Result<tyto::SeriesRef> Append(tyto::SeriesRef, const tyto::Labels& labels, int64_t, double) override {
    if (labels.MetricName().empty()) __builtin_trap();  // the receiver checks this first
    ++pending_;
    return tyto::SeriesRef{1};
  }
  tyto::Status Commit() override {
    pending_ = 0;
    return tyto::Status::Ok();
  }
  void Rollback() override { pending_ = 0; }

 private:
  uint64_t pending_ = 0;
};

class AcceptingStorage final : public tyto::Storage {
 public:
  std::unique_ptr<tyto::Appender> NewAppender() override { return std::make_unique<CountingAppender>(); }
  tyto::Result<std::unique_ptr<tyto::Querier>> NewQuerier(int64_t, int64_t) override {
    return tyto::Status(tyto::StatusCode::kUnimplemented, "no queries here");
  }
};

bool StartsWith(const std::string& s, std::string_view prefix) { return s.rfind(prefix, 0) == 0; }

void CheckDecoded(std::string_view buf, const WriteRequest& req) {
  auto inside = [&](std::string_view s) {
    return s.empty() || (s.data() >= buf.data() && s.data() + s.size() <= buf.data() + buf.size());
  };
  for (size_t i = 0; i < req.series.size(); ++i) {
    const WriteRequest::Series& s = req.series[i];
    if (s.labels_begin > s.labels_end || s.labels_end > req.labels.size()) __builtin_trap();
    if (s.samples_begin > s.samples_end || s.samples_end > req.samples.size()) __builtin_trap();
    if (s.offset >= buf.size()) __builtin_trap();
    for (uint32_t k = s.labels_begin; k < s.labels_end; ++k) {
      if (!inside(req.labels[k].name) || !inside(req.labels[k].value)) __builtin_trap();
    }
    tyto::Status st = tyto::ingest::CheckSeriesLabels(req, i);
    if (!st.ok() && !StartsWith(st.message(), "timeseries[" + std::to_string(i) + "]")) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  static auto* storage = new AcceptingStorage();
  static auto* registry = new tyto::instrumentation::Registry();
  static auto* receiver = new tyto::ingest::RemoteWriteReceiver(
      storage, tyto::ingest::RemoteWriteOptions{.max_decompressed_bytes = 1 << 20, .series_cache_entries = 1024},
      registry);  // a small series cache, so that inputs also go through its eviction
  WriteResult r = receiver->Write(input);
  if (r.samples_stored + r.samples_rejected != r.samples_received && r.outcome != WriteResult::Outcome::kBadRequest) {
    __builtin_trap();
  }
  switch (r.outcome) {
    case WriteResult::Outcome::kStored:
      if (!r.error.ok() || r.samples_rejected != 0) __builtin_trap();
      break;
    case WriteResult::Outcome::kBadRequest:
      if (r.error.ok() || r.samples_stored != 0) __builtin_trap();
      if (r.error.message().find("snappy") == std::string::npos &&
          !StartsWith(r.error.message(), "WriteRequest: ") && !StartsWith(r.error.message(), "timeseries[")) {
        __builtin_trap();
      }
      break;
    case WriteResult::Outcome::kPartlyRejected:
      if (r.samples_rejected == 0 || r.error.message().find(" samples rejected; the first: timeseries[") ==
                                         std::string::npos) {
        __builtin_trap();
      }
      break;
    case WriteResult::Outcome::kStorageFailed: __builtin_trap();  // this storage never fails
  }

  WriteRequest req;
  tyto::Status st = tyto::ingest::DecodeWriteRequest(input, &req);
  if (st.ok()) {
    CheckDecoded(input, req);
  } else if (st.message().find("invalid protobuf at byte ") == std::string::npos) {
    __builtin_trap();
  }
  return 0;
}
