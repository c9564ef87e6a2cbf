// ScrapeLoop: what one scrape of one target turns into in storage, as Prometheus does it.
//
// A successful scrape: the body (gzip undone, format from Content-Type) is parsed; each sample
// gets the target's labels (a scraped label that clashes becomes exported_<name>, or wins with
// honor_labels), metric_relabel_configs run, the label limits are checked, and the sample is
// appended at its own timestamp (honor_timestamps) or the scrape's start. Series the previous
// scrape had and this one lacks get a staleness marker, unless their last sample carried its
// own (honoured) timestamp: as in Prometheus, such a series' time is the target's, so the
// scrape's time says nothing about when it ended. Then the synthetic series: up,
// scrape_duration_seconds, scrape_samples_scraped, scrape_samples_post_metric_relabeling and
// scrape_series_added. Everything of one scrape is committed at once.
//
// A failed scrape (connection, HTTP status, body too large, a parse error naming line and
// column, sample_limit or a label limit exceeded) stores none of its samples: up is 0 and every
// series of the last successful scrape gets a staleness marker (timestamped ones excepted).
// Samples the storage refuses one by one (out of order, duplicate, a series limit) are skipped
// and counted, as Prometheus does.
//
// Not thread-safe: one scrape at a time per loop (the manager sees to it); status() may be read
// from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/mutex.h"
#include "metastore/metastore.h"
#include "relabel/relabel.h"
#include "scrape/config.h"
#include "scrape/target.h"
#include "tyto/storage.h"

namespace tyto::scrape {

// The Accept header Prometheus sends: OpenMetrics preferred, the text format accepted.
inline constexpr char kAcceptHeader[] =
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
    "text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

// What a scrape fetched: a response, or why there is none.
struct Fetched {
  Status status;  // not OK: the fetch failed
  int http_status = 0;
  std::string content_type;
  std::string content_encoding;
  std::string body;
};

struct TargetStatus {
  std::string health = "unknown";  // "up", "down", "unknown" (not scraped yet)
  std::string last_error;
  int64_t last_scrape_ms = 0;
  double last_duration_seconds = 0;
  uint64_t last_samples = 0;
};

// Where scrapes put what is not samples; either may be null.
struct Sinks {
  metastore::MetadataStore* metadata = nullptr;  // TYPE, HELP and UNIT of each family
  metastore::ExemplarStore* exemplars = nullptr;  // OpenMetrics exemplars, with the series' final labels
};

class ScrapeLoop {
 public:
  ScrapeLoop(Storage* storage, Target target, std::shared_ptr<const ScrapeConfig> job,
             std::shared_ptr<const relabel::Relabeler> metric_relabel, Sinks sinks = {});

  const Target& target() const { return target_; }

  // A reload changed the job's configuration. When what decides series' labels changed
  // (metric_relabel_configs, honor_labels, label limits) the series cache starts over, as
  // Prometheus does: series the new rules rename end by the lookback, not by a marker.
  void Reconfigure(std::shared_ptr<const ScrapeConfig> job, std::shared_ptr<const relabel::Relabeler> metric_relabel);

  // Stores one scrape that started at `start_ms` and took `duration`.
  void Report(int64_t start_ms, std::chrono::duration<double> duration, const Fetched& fetched);

  // The target is gone (discovery dropped it, or the job was removed): marks every series of its
  // last scrape (but those with their own timestamps), and its synthetic series, stale at `now_ms`.
  void Stop(int64_t now_ms);

  TargetStatus status() const EXCLUDES(mu_);

 private:
  struct CachedSeries {
    Labels labels;  // final; empty when relabelling dropped the series
    SeriesRef ref = 0;
    uint64_t last_seen = 0;  // scrape number
    bool pending = false;    // the storage took its sample in the scrape in progress
    bool committed = false;  // the last successful scrape stored it
    // Its sample carried its own timestamp (honoured), in the scrape in progress and in the last
    // successful one: such series get no staleness marker.
    bool pending_timestamped = false;
    bool timestamped = false;
  };
  // Looks entries up by the body's text without building a std::string per sample.
  struct TextHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  struct Outcome {
    uint64_t scraped = 0;
    uint64_t post_relabel = 0;
    uint64_t added = 0;
    // Kept only if the scrape succeeds.
    std::map<std::string, metastore::Metadata> metadata;
    std::vector<std::pair<Labels, metastore::Exemplar>> exemplars;
  };

  // Appends the body's samples; an error fails the scrape.
  Status AppendBody(Appender* app, int64_t start_ms, const Fetched& fetched, Outcome* out);
  // The final labels of a scraped series (empty if dropped), or an error for a limit.
  Result<Labels> Finalize(const Labels& scraped) const;
  // Marks stale the series stored by the last successful scrape that scrape `now` did not see
  // (all of them when `now` is 0) and whose sample had no timestamp of its own, and forgets
  // every entry not seen in `now`.
  void EndSeriesNotSeen(Appender* app, int64_t t, uint64_t now);
  void AppendReport(Appender* app, int64_t t, bool up, double duration, const Outcome& o);
  void SetStatus(int64_t start_ms, double duration, const Status& error, uint64_t samples) EXCLUDES(mu_);

  Storage* storage_;
  Sinks sinks_;
  Target target_;
  std::shared_ptr<const ScrapeConfig> job_;
  std::shared_ptr<const relabel::Relabeler> metric_relabel_;
  // By the body's series text: the series of the last successful scrape, and the one in progress.
  std::unordered_map<std::string, CachedSeries, TextHash, std::equal_to<>> cache_;
  uint64_t scrape_number_ = 0;
  bool reported_ = false;  // synthetic series exist

  mutable Mutex mu_;
  TargetStatus status_ GUARDED_BY(mu_);
};

}  // namespace tyto::scrape
