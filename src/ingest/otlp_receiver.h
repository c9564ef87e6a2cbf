// OtlpReceiver: stores a decoded OTLP metrics request (otlp_metrics.h) through the storage's
// Appender, translated as Prometheus 3's OTLP receiver translates it (otlp_names.h for names):
//
//   gauge                      name                      (unit "1": name_ratio)
//   sum, monotonic             name_total                (a counter)
//   sum, not monotonic         name                      (a gauge)
//   histogram                  name_bucket{le} (cumulative counts, le="+Inf" = count),
//                              name_sum (when sent), name_count
//   exponential histogram      the same classic series, at the buckets' own boundaries
//                              (below), until Tyto stores native histograms
//   summary                    name{quantile}, name_sum, name_count
//
// Labels: the data point's attributes (sorted by key; keys that sanitise to the same label name
// are joined with ';' in that order), otel_scope_name and otel_scope_version from the
// instrumentation scope, `job` from service.name (as "service.namespace/service.name" when a
// namespace is set) and `instance` from service.instance.id. The resource's other attributes go
// on one `target_info` series (value 1, with job and instance) at the newest timestamp of the
// resource's points, when there are any and job or instance is known.
// Timestamps: time_unix_nano truncated to milliseconds. A point flagged NO_RECORDED_VALUE becomes
// a staleness marker on each of its series.
//
// Delta temporality (sums and both histograms) is turned into cumulative values per series: the
// receiver keeps a running total for each series it has seen a delta point for (at most
// `delta_series` of them, the least recently updated dropped first; a dropped series starts again
// from its next delta, which queries see as a counter reset). A delta point not newer than the
// last one of its series is refused as out of order, so a retried request is not counted twice.
// Totals change only when the request's samples are committed. Requests carrying delta points
// are applied one at a time, so concurrent senders of the same series cannot lose updates.
//
// Exponential histogram boundaries: bucket index i at scale s covers (2^(i*2^-s), 2^((i+1)*2^-s)].
// Scales above 3 are first reduced to 3 (adjacent buckets merged), so an SDK's scale changes
// above 3 keep the same `le` values, 2^(k/8); a point spanning more than 320 buckets is reduced
// further until it fits. Buckets become `le` = each bucket's upper boundary (negative buckets:
// their upper boundary -2^(i*2^-s)), the zero bucket `le` = zero_threshold (when it or a negative
// bucket holds counts); boundaries that overflow a double land in +Inf.
//
// Refused points (bad names or labels, an explicit histogram whose bucket counts do not match its
// bounds, a missing timestamp, or samples the storage refuses) are skipped and counted; the
// others are stored (a partial success). A storage failure stores nothing (kStorageFailed).
//
// Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

#include "common/mutex.h"
#include "ingest/otlp_metrics.h"
#include "instrumentation/metrics.h"
#include "tyto/status.h"
#include "tyto/storage.h"

namespace tyto::ingest {

struct OtlpOptions {
  // Largest body after gzip decompression.
  uint64_t max_decompressed_bytes = 64ull * 1024 * 1024;
  // Delta series whose running totals are kept (about 200 bytes each).
  size_t delta_series = 100'000;
};

struct ExportResult {
  enum class Outcome {
    kStored,          // every data point stored
    kPartlyRejected,  // the valid points are stored; `points_rejected` were refused (see `error`)
    kStorageFailed,   // the storage failed: nothing stored; the sender should retry
  };
  Outcome outcome = Outcome::kStored;
  // kPartlyRejected: how many points were refused and the first reason, naming where
  // ("resource_metrics[0].scope_metrics[0].metrics[2].data_points[1]: ..."). kStorageFailed: why.
  Status error;
  uint64_t points_received = 0;
  uint64_t points_rejected = 0;
  uint64_t samples_stored = 0;  // acknowledged: in the write-ahead log
};

class OtlpReceiver {
 public:
  // `storage` and `registry` must outlive the receiver.
  OtlpReceiver(Storage* storage, OtlpOptions options, instrumentation::Registry* registry);

  const OtlpOptions& options() const { return options_; }

  // Through `storage` (a tenant's view of the receiver's: tenant/tenant_storage.h) when given;
  // `tenant` keeps that tenant's delta running totals apart from every other's.
  ExportResult Export(const otlp::MetricsRequest& request, Storage* storage = nullptr, std::string_view tenant = {});

  // Counts a body refused before Export (undecodable, too large), for tyto_otlp_invalid_requests_total.
  void CountInvalidBody() { invalid_bodies_->Inc(); }

  size_t delta_series() const;

 private:
  struct DeltaState {
    double total = 0;
    int64_t last_t = 0;
    std::list<std::string>::iterator lru;
  };

  Storage* storage_;
  OtlpOptions options_;
  // Held for the whole of an Export that carries delta points: the running totals are read,
  // advanced by the request and written back only after its commit.
  std::mutex delta_order_;
  mutable Mutex delta_mu_;
  std::unordered_map<std::string, DeltaState> deltas_ GUARDED_BY(delta_mu_);  // by encoded labels
  std::list<std::string> delta_lru_ GUARDED_BY(delta_mu_);                     // most recent first

  instrumentation::Counter* points_received_;
  instrumentation::Counter* samples_stored_;
  instrumentation::Counter* rejected_invalid_;
  instrumentation::Counter* rejected_out_of_order_;
  instrumentation::Counter* rejected_duplicate_;
  instrumentation::Counter* rejected_limit_;
  instrumentation::Counter* rejected_storage_;
  instrumentation::Counter* delta_evicted_;
  instrumentation::Counter* invalid_bodies_;
};

}  // namespace tyto::ingest
