// RemoteWriteReceiver: stores what Prometheus remote write 1.0 senders (Prometheus, Grafana
// Alloy, vmagent, OpenTelemetry collectors) push, through the storage's Appender.
//
// One request, in order:
//   1. snappy-decompress the body (the declared size is capped before allocating);
//   2. decode the WriteRequest (write_request.h), leaving each series' labels as their encoded
//      bytes; find every series in the series cache by those bytes (series_cache.h) and decode
//      the labels of the others. A snappy or protobuf error anywhere, in a cached series' request
//      or not, rejects the request with nothing stored (kBadRequest): a later part of a broken
//      body cannot be trusted, and a sender retrying it would fail the same way;
//   3. for each series: take its labels and SeriesRef from the cache, or check its decoded
//      labels (a series with bad labels is skipped, counted, and
//      makes the request kPartlyRejected), then Append each sample; samples the storage refuses
//      (out of order, too old, a duplicate with another value, a series or label limit) are
//      skipped and counted the same way, as Prometheus does so that senders do not retry a
//      request that can never succeed;
//   4. Commit everything valid in one batch. A sample is acknowledged only when Commit returns
//      OK: it is then in the write-ahead log. A storage failure (disk full, I/O error) stores
//      nothing of the request and is kStorageFailed, which senders retry.
// Exemplars, native histograms and metadata are counted and skipped: Tyto has no store for
// them yet (tyto_remote_write_ignored_total{kind}, and WriteResult says how many).
//
// Thread-safe: each Write uses its own Appender; many may run at once.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ingest/series_cache.h"
#include "instrumentation/metrics.h"
#include "tyto/status.h"
#include "tyto/storage.h"

namespace tyto::ingest {

struct RemoteWriteOptions {
  // Largest decompressed WriteRequest. Checked against snappy's declared length before
  // allocating. Prometheus sends bodies of a few hundred KiB, vmagent up to 8 MiB compressed.
  uint64_t max_decompressed_bytes = 64ull * 1024 * 1024;
  // Series whose labels and SeriesRef are remembered by their encoded bytes (series_cache.h),
  // about 1 KiB each. 0 turns the cache off.
  size_t series_cache_entries = 256 * 1024;
};

struct WriteResult {
  enum class Outcome {
    kStored,          // every sample stored (or equal to one already stored)
    kPartlyRejected,  // the valid samples are stored; others were refused (see `error`)
    kBadRequest,      // undecodable or oversized body: nothing stored
    kStorageFailed,   // the storage failed: nothing stored; the sender should retry
  };
  Outcome outcome = Outcome::kStored;
  // kStored: OK. Otherwise the first error, naming what and where ("timeseries[3]: ..."); for
  // kPartlyRejected prefixed with how many samples were refused.
  Status error;
  uint64_t series = 0;
  uint64_t samples_received = 0;
  uint64_t samples_stored = 0;  // acknowledged: in the write-ahead log
  uint64_t samples_rejected = 0;
  uint64_t exemplars_ignored = 0;
  uint64_t histograms_ignored = 0;
  uint64_t metadata_ignored = 0;
};

class RemoteWriteReceiver {
 public:
  // `storage` and `registry` must outlive the receiver.
  RemoteWriteReceiver(Storage* storage, RemoteWriteOptions options, instrumentation::Registry* registry);

  // `body` is a snappy-compressed WriteRequest, stored through `storage` (a tenant's view of the
  // receiver's: tenant/tenant_storage.h) when given. The series cache remembers SeriesRefs of one
  // storage: writes through another pass use_cache = false (the cache serves the default
  // tenant's, the busiest; other tenants' series are found by their labels).
  WriteResult Write(std::string_view body, Storage* storage = nullptr, bool use_cache = true);

 private:
  Storage* storage_;
  RemoteWriteOptions options_;
  SeriesCache cache_;
  instrumentation::Counter* cache_hits_;
  instrumentation::Counter* samples_received_;
  instrumentation::Counter* samples_stored_;
  instrumentation::Counter* rejected_invalid_labels_;
  instrumentation::Counter* rejected_out_of_order_;
  instrumentation::Counter* rejected_duplicate_;
  instrumentation::Counter* rejected_limit_;
  instrumentation::Counter* rejected_storage_;
  instrumentation::Counter* ignored_exemplars_;
  instrumentation::Counter* ignored_histograms_;
  instrumentation::Counter* ignored_metadata_;
  instrumentation::Counter* invalid_bodies_;
};

}  // namespace tyto::ingest
