// The event store's own metrics:
//
//   tyto_eventstore_rows_appended_total{table}           counter  rows stored (spans, logs,
//                                                                 inference_events, pipeline_stages,
//                                                                 deployments)
//   tyto_eventstore_rows_rejected_total{table,reason}    counter  rows refused: too_old, too_new,
//                                                                 invalid_id, unreadable_partition,
//                                                                 busy (the queue was full),
//                                                                 write_error (the commit failed)
//   tyto_eventstore_commit_duration_seconds              histogram one group commit, all its
//                                                                 partitions
//   tyto_eventstore_commit_batches                       histogram Append calls combined in one
//                                                                 group commit
//   tyto_eventstore_query_duration_seconds{query}        histogram find_traces, get_trace,
//                                                                 search_logs, logs_after, services,
//                                                                 operations, inference_events,
//                                                                 deployments, pipeline_runs
//   tyto_eventstore_partitions                           gauge    partition files
//   tyto_eventstore_bytes                                gauge    bytes of the partition files
//                                                                 (database, WAL, shared memory)
//   tyto_eventstore_partitions_dropped_total{reason}     counter  partitions deleted: retention,
//                                                                 size (max_bytes)
//   tyto_eventstore_partition_errors_total{op}           counter  partitions that could not be
//                                                                 read: open (at start), query
//                                                                 (skipped by a query)
#pragma once

#include <string_view>

#include "instrumentation/metrics.h"

namespace tyto::eventstore {

// The tables as the metrics' `table` label names them.
enum class Table { kSpans, kLogs, kInferenceEvents, kPipelineStages, kDeployments };
std::string_view TableName(Table t);

struct Metrics {
  // Registers every metric on `registry`, which must outlive this object.
  explicit Metrics(instrumentation::Registry* registry);

  instrumentation::Counter& Appended(Table t) { return *appended[static_cast<int>(t)]; }
  instrumentation::Counter& Rejected(Table t, std::string_view reason) {
    return rejected.WithLabels({TableName(t), reason});
  }

  instrumentation::Family<instrumentation::Counter>& appended_family;
  instrumentation::Family<instrumentation::Counter>& rejected;
  instrumentation::Counter* appended[5];
  instrumentation::Histogram& commit_duration;
  instrumentation::Histogram& commit_batches;
  instrumentation::Family<instrumentation::Histogram>& query_duration;
  instrumentation::Gauge& partitions;
  instrumentation::Gauge& bytes;
  instrumentation::Family<instrumentation::Counter>& dropped;
  instrumentation::Family<instrumentation::Counter>& partition_errors;
};

}  // namespace tyto::eventstore
