// The seam between the ways data comes in, the ways it is read, and where it is kept.
// Ingest, PromQL, rules and the UI use only these interfaces; the embedded engine (src/tsdb)
// and, later, remote stores implement them.
//
// Time is int64 milliseconds since the Unix epoch. Ranges [mint, maxt] are inclusive at both ends.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tyto/labels.h"
#include "tyto/matcher.h"
#include "tyto/status.h"

namespace tyto {

struct Sample {
  int64_t t = 0;
  double v = 0;
};

// A handle for a series, valid for the lifetime of the storage that returned it. 0 = none.
using SeriesRef = uint64_t;

// Collects samples and applies them all at once. Not thread-safe: one appender per goroutine-
// like unit of work (a scrape, a remote-write request); many appenders may run concurrently.
class Appender {
 public:
  virtual ~Appender() = default;

  // Adds a sample. `ref` may be 0 (look up or create the series by labels) or a SeriesRef from
  // an earlier Append of this storage, which skips the lookup. Returns the series' ref.
  // Errors, with the sample not added:
  //   kOutOfOrderSample  older than the series' newest sample minus the out-of-order window
  //   kDuplicateSample   same timestamp as a stored sample, different value
  //   kResourceExhausted a series or label limit; the message names the limit
  //   kInvalidArgument   bad labels (empty, duplicate names, no metric name)
  // A sample equal to a stored one (same timestamp and value bits) is accepted and ignored.
  virtual Result<SeriesRef> Append(SeriesRef ref, const Labels& labels, int64_t t, double v) = 0;

  // Makes every appended sample durable and visible. When Commit returns OK the samples are in
  // the write-ahead log: they survive a crash of the process (kill -9) and, depending on the
  // configured fsync policy, a power cut. On error nothing of this batch is applied.
  // Append checks each sample against what is stored, not against the rest of its batch: samples
  // of one batch that conflict with each other (the same time with another value, or too old for
  // a newer one in the batch) are dropped at Commit, which still returns OK, and counted as
  // Prometheus does (the engine's tyto_tsdb_head_samples_rejected_total).
  virtual Status Commit() = 0;

  // Discards the appended samples.
  virtual void Rollback() = 0;
};

// Iterates one series' samples in increasing timestamp order.
class SeriesIterator {
 public:
  virtual ~SeriesIterator() = default;
  virtual bool Next() = 0;            // false at the end or on error (see status())
  virtual bool Seek(int64_t t) = 0;   // to the first sample at or after t; false if none
  virtual Sample At() const = 0;
  virtual Status status() const = 0;
};

// The series a selection matched, in order of their labels.
class SeriesSet {
 public:
  virtual ~SeriesSet() = default;
  virtual bool Next() = 0;
  virtual const Labels& labels() const = 0;
  // Samples of the current series within the querier's [mint, maxt].
  virtual std::unique_ptr<SeriesIterator> Iterator() const = 0;
  virtual Status status() const = 0;
};

// What the caller will compute from a selection, as Prometheus's storage.SelectHints: lets a
// store that keeps aggregates of old data (rollups) return the aggregate that answers best.
// Default-constructed: no hint. docs/rollups.md lists which function reads which aggregate.
struct SelectHints {
  // The PromQL function or aggregation applied to the selected series: "rate",
  // "max_over_time", "min", ...; empty when unknown or none.
  std::string func;
  int64_t step_ms = 0;   // the query's evaluation step; 0 for an instant query or none
  int64_t range_ms = 0;  // the range of a range selector (the 5m of rate(x[5m])); 0 for none
};

// Reads a consistent view over [mint, maxt]. Thread-safe.
class Querier {
 public:
  virtual ~Querier() = default;
  // Series with at least one sample in range that match every matcher (at least one matcher
  // must not match the empty string, as in Prometheus). Where only aggregates of old data are
  // left, their average per window is returned (as SelectWithHints with no hint).
  virtual std::unique_ptr<SeriesSet> Select(const std::vector<Matcher>& matchers) = 0;
  // Select, told what the caller computes from the samples. Stores that keep raw samples only
  // ignore the hints, as this default does.
  virtual std::unique_ptr<SeriesSet> SelectWithHints(const std::vector<Matcher>& matchers,
                                                     const SelectHints& hints) {
    (void)hints;
    return Select(matchers);
  }
  // Sorted, distinct label names of series in range (matching `matchers` if any).
  virtual Result<std::vector<std::string>> LabelNames(const std::vector<Matcher>& matchers) = 0;
  // Sorted, distinct values of `name` on series in range (matching `matchers` if any).
  virtual Result<std::vector<std::string>> LabelValues(const std::string& name,
                                                       const std::vector<Matcher>& matchers) = 0;
};

class Storage {
 public:
  virtual ~Storage() = default;
  virtual std::unique_ptr<Appender> NewAppender() = 0;
  virtual Result<std::unique_ptr<Querier>> NewQuerier(int64_t mint, int64_t maxt) = 0;
};

}  // namespace tyto
