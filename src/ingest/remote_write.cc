#include "ingest/remote_write.h"

#include <memory>
#include <optional>
#include <vector>

#include "common/log.h"
#include "ingest/snappy_codec.h"
#include "ingest/write_request.h"

namespace tyto::ingest {
namespace {

const log::Logger kLog("ingest");

// Buffers kept by each network thread between requests, so that a steady stream of requests
// does not allocate (and page-fault in) fresh megabytes each time. Buffers grown past
// kKeepBytes by an unusually large request are released after it.
struct Scratch {
  std::string raw;
  WriteRequest request;
  std::vector<std::string_view> keys;            // label bytes of the series looked up
  std::vector<uint32_t> key_series;              // the series of each key
  std::vector<SeriesCache::Handle> found;        // the cache's entry for each key, or none
};
constexpr size_t kKeepBytes = 8 << 20;

void ReleaseIfLarge(Scratch* s) {
  if (s->raw.capacity() > kKeepBytes) s->raw = std::string();
  if (s->request.labels.capacity() * sizeof(LabelView) > kKeepBytes ||
      s->request.samples.capacity() * sizeof(Sample) > kKeepBytes ||
      s->request.series.capacity() * sizeof(WriteRequest::Series) > kKeepBytes) {
    s->request = WriteRequest();
    s->keys = {};
    s->key_series = {};
    std::vector<SeriesCache::Handle>().swap(s->found);
  }
}

}  // namespace

RemoteWriteReceiver::RemoteWriteReceiver(Storage* storage, RemoteWriteOptions options,
                                         instrumentation::Registry* registry)
    : storage_(storage), options_(options), cache_(options.series_cache_entries) {
  cache_hits_ = &registry->AddCounter("tyto_remote_write_series_cache_hits_total",
                                      "Remote write series found in the series cache by their encoded labels.")
                     .WithLabels({});
  registry->AddCallback("tyto_remote_write_series_cache_entries", "Series in the remote write series cache.",
                        instrumentation::Type::kGauge, [this] { return static_cast<double>(cache_.size()); });
  samples_received_ = &registry->AddCounter("tyto_remote_write_samples_received_total",
                                            "Samples decoded from remote write requests.").WithLabels({});
  samples_stored_ = &registry->AddCounter("tyto_remote_write_samples_stored_total",
                                          "Remote write samples committed to storage (acknowledged).").WithLabels({});
  auto& rejected = registry->AddCounter("tyto_remote_write_samples_rejected_total",
                                        "Remote write samples refused, by reason.", {"reason"});
  rejected_invalid_labels_ = &rejected.WithLabels({"invalid_labels"});
  rejected_out_of_order_ = &rejected.WithLabels({"out_of_order"});
  rejected_duplicate_ = &rejected.WithLabels({"duplicate"});
  rejected_limit_ = &rejected.WithLabels({"limit"});
  rejected_storage_ = &rejected.WithLabels({"storage_error"});
  auto& ignored = registry->AddCounter("tyto_remote_write_ignored_total",
                                       "Remote write items received but not stored (no store for them yet), by kind.",
                                       {"kind"});
  ignored_exemplars_ = &ignored.WithLabels({"exemplar"});
  ignored_histograms_ = &ignored.WithLabels({"histogram"});
  ignored_metadata_ = &ignored.WithLabels({"metadata"});
  invalid_bodies_ = &registry->AddCounter("tyto_remote_write_invalid_requests_total",
                                          "Remote write bodies refused whole: bad snappy or protobuf, or too large.")
                         .WithLabels({});
}

WriteResult RemoteWriteReceiver::Write(std::string_view body, Storage* storage, bool use_cache) {
  thread_local Scratch scratch;
  struct Release {
    ~Release() {
      scratch.found.clear();  // the entries' references go back now, not at the next request
      ReleaseIfLarge(&scratch);
    }
  } release;
  std::string& raw = scratch.raw;
  WriteRequest& req = scratch.request;
  WriteResult result;
  const auto bad_request = [&](Status why) {
    invalid_bodies_->Inc();
    result.outcome = WriteResult::Outcome::kBadRequest;
    result.error = std::move(why);
    return result;
  };
  Status st = SnappyUncompress(body, options_.max_decompressed_bytes, &raw);
  if (st.ok()) st = DecodeWriteRequest(raw, &req, LabelDecoding::kLazy);
  if (!st.ok()) return bad_request(std::move(st));

  // Every series is found in the cache by its label bytes or has its labels decoded before
  // anything is appended, so that an undecodable label still refuses the whole request.
  std::vector<std::string_view>& keys = scratch.keys;
  std::vector<uint32_t>& key_series = scratch.key_series;
  keys.clear();
  key_series.clear();
  for (size_t i = 0; i < req.series.size(); ++i) {
    const WriteRequest::Series& s = req.series[i];
    if (s.labels_decoded) continue;
    if (s.samples_end == s.samples_begin) {  // nothing to store: decoded only to be checked
      if (Status bad = DecodeSeriesLabels(&req, i); !bad.ok()) return bad_request(std::move(bad));
      continue;
    }
    keys.push_back(s.label_bytes);
    key_series.push_back(static_cast<uint32_t>(i));
  }
  if (use_cache) cache_.FindAll(keys, &scratch.found);
  else {
    scratch.found.clear();
    scratch.found.resize(keys.size());
  }
  for (size_t k = 0; k < keys.size(); ++k) {
    if (scratch.found[k]) continue;
    if (Status bad = DecodeSeriesLabels(&req, key_series[k]); !bad.ok()) return bad_request(std::move(bad));
  }
  result.series = req.series.size();
  result.samples_received = req.samples.size();
  result.exemplars_ignored = req.exemplars;
  result.histograms_ignored = req.histograms;
  result.metadata_ignored = req.metadata;
  samples_received_->Inc(static_cast<double>(req.samples.size()));
  if (req.exemplars) ignored_exemplars_->Inc(static_cast<double>(req.exemplars));
  if (req.histograms) ignored_histograms_->Inc(static_cast<double>(req.histograms));
  if (req.metadata) ignored_metadata_->Inc(static_cast<double>(req.metadata));

  std::unique_ptr<Appender> app = (storage != nullptr ? storage : storage_)->NewAppender();
  Status first_rejection;
  uint64_t appended = 0;
  uint64_t hits = 0;
  const auto reject = [&](instrumentation::Counter* reason, uint64_t n, const Status& why) {
    reason->Inc(static_cast<double>(n));
    result.samples_rejected += n;
    if (first_rejection.ok()) first_rejection = why;
  };
  size_t next_key = 0;  // keys are in series order
  for (size_t i = 0; i < req.series.size(); ++i) {
    const WriteRequest::Series& s = req.series[i];
    const uint64_t n = s.samples_end - s.samples_begin;
    if (n == 0) continue;  // only exemplars or histograms: counted above
    SeriesCache::Entry* cached = nullptr;
    if (next_key < keys.size() && key_series[next_key] == i) cached = scratch.found[next_key++].get();
    std::optional<Labels> built;
    if (cached) {
      ++hits;
    } else {
      if (Status bad = CheckSeriesLabels(req, i); !bad.ok()) {
        reject(rejected_invalid_labels_, n, bad);
        continue;
      }
      std::vector<Label> pairs;  // moved into the Labels
      pairs.reserve(s.labels_end - s.labels_begin);
      for (uint32_t k = s.labels_begin; k < s.labels_end; ++k) {
        pairs.push_back({std::string(req.labels[k].name), std::string(req.labels[k].value)});
      }
      auto labels = Labels::FromPairs(std::move(pairs));
      if (!labels.ok()) {  // CheckSeriesLabels admits only what FromPairs accepts; kept as a guard
        reject(rejected_invalid_labels_, n, labels.status().WithContext("timeseries[" + std::to_string(i) + "]"));
        continue;
      }
      built = std::move(labels).value();
    }
    const Labels& labels = cached ? cached->labels() : *built;
    const SeriesRef first_ref = cached ? cached->ref() : 0;
    SeriesRef ref = first_ref;
    for (uint32_t k = s.samples_begin; k < s.samples_end; ++k) {
      const Sample& sample = req.samples[k];
      Result<SeriesRef> r = app->Append(ref, labels, sample.t, sample.v);
      if (r.ok()) {
        ref = *r;
        ++appended;
        continue;
      }
      const std::string where = "timeseries[" + std::to_string(i) + "].samples[" + std::to_string(k - s.samples_begin) + "]";
      switch (r.status().code()) {
        case StatusCode::kOutOfOrderSample:
          reject(rejected_out_of_order_, 1, r.status().WithContext(where));
          continue;
        case StatusCode::kDuplicateSample:
          reject(rejected_duplicate_, 1, r.status().WithContext(where));
          continue;
        case StatusCode::kResourceExhausted:
        case StatusCode::kInvalidArgument:
          // About the series, not the sample: its other samples would fail the same way.
          reject(r.status().code() == StatusCode::kInvalidArgument ? rejected_invalid_labels_ : rejected_limit_,
                 s.samples_end - k, r.status().WithContext(where));
          k = s.samples_end;
          break;
        default: {
          app->Rollback();
          const uint64_t lost = result.samples_received - result.samples_rejected;
          rejected_storage_->Inc(static_cast<double>(lost));
          result.samples_rejected += lost;
          result.outcome = WriteResult::Outcome::kStorageFailed;
          result.error = r.status().WithContext(where);
          kLog.Error("remote write: storage refused a sample", {{"error", result.error}});
          return result;
        }
      }
    }
    if (ref != first_ref && ref != 0) {
      if (cached) cached->set_ref(ref);  // the storage dropped the old one
      else if (use_cache && !s.label_bytes.empty()) cache_.Insert(s.label_bytes, std::move(*built), ref);
    }
  }
  cache_hits_->Inc(static_cast<double>(hits));

  if (Status commit = app->Commit(); !commit.ok()) {
    rejected_storage_->Inc(static_cast<double>(appended));
    result.samples_rejected += appended;
    result.outcome = WriteResult::Outcome::kStorageFailed;
    result.error = commit.WithContext("storing " + std::to_string(appended) + " samples");
    kLog.Error("remote write: commit failed", {{"error", result.error}});
    return result;
  }
  // Samples the storage acknowledged: appended, plus those equal to stored ones (Append accepts
  // and ignores them), i.e. everything not rejected.
  result.samples_stored = result.samples_received - result.samples_rejected;
  samples_stored_->Inc(static_cast<double>(result.samples_stored));
  if (result.samples_rejected > 0) {
    result.outcome = WriteResult::Outcome::kPartlyRejected;
    result.error = Status(first_rejection.code(), std::to_string(result.samples_rejected) + " of " +
                                                      std::to_string(result.samples_received) +
                                                      " samples rejected; the first: " + first_rejection.message());
  }
  return result;
}

}  // namespace tyto::ingest
