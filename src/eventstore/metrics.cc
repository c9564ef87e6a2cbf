#include "eventstore/metrics.h"

namespace tyto::eventstore {

std::string_view TableName(Table t) {
  switch (t) {
    case Table::kSpans:
      return "spans";
    case Table::kLogs:
      return "logs";
    case Table::kInferenceEvents:
      return "inference_events";
    case Table::kPipelineStages:
      return "pipeline_stages";
    case Table::kDeployments:
      return "deployments";
  }
  return "unknown";
}

Metrics::Metrics(instrumentation::Registry* r)
    : appended_family(r->AddCounter("tyto_eventstore_rows_appended_total", "Rows stored by the event store, per table.",
                                    {"table"})),
      rejected(r->AddCounter("tyto_eventstore_rows_rejected_total",
                             "Rows the event store refused, per table and reason: too_old, too_new, invalid_id, "
                             "unreadable_partition, busy (the commit queue was full), write_error (the commit failed).",
                             {"table", "reason"})),
      appended{},
      commit_duration(r->AddHistogram("tyto_eventstore_commit_duration_seconds",
                                      "Time to write one group commit of the event store (all its partitions).", {},
                                      instrumentation::DefaultLatencyBuckets())
                          .WithLabels({})),
      commit_batches(r->AddHistogram("tyto_eventstore_commit_batches",
                                     "Append calls combined into one group commit of the event store.", {},
                                     {1, 2, 4, 8, 16, 32, 64, 128})
                         .WithLabels({})),
      query_duration(r->AddHistogram("tyto_eventstore_query_duration_seconds",
                                     "Time to answer one event store query, per kind of query.", {"query"},
                                     instrumentation::DefaultLatencyBuckets())),
      partitions(r->AddGauge("tyto_eventstore_partitions", "Partition files of the event store.").WithLabels({})),
      bytes(r->AddGauge("tyto_eventstore_bytes",
                        "Bytes of the event store's partition files (database, WAL and shared-memory files).")
                .WithLabels({})),
      dropped(r->AddCounter("tyto_eventstore_partitions_dropped_total",
                            "Partitions the event store deleted: retention, or size (over max_size).", {"reason"})),
      partition_errors(r->AddCounter("tyto_eventstore_partition_errors_total",
                                     "Partition files that could not be read: at open, or skipped by a query.",
                                     {"op"})) {
  for (Table t : {Table::kSpans, Table::kLogs, Table::kInferenceEvents, Table::kPipelineStages, Table::kDeployments}) {
    appended[static_cast<int>(t)] = &appended_family.WithLabels({TableName(t)});
  }
}

}  // namespace tyto::eventstore
