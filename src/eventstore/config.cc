#include "eventstore/config.h"

#include "config/schema.h"

namespace tyto::eventstore {

const config::Section<EventStoreConfig>& EventStoreSchema() {
  static const auto* s = [] {
    auto* sec = new config::Section<EventStoreConfig>(
        "event_store", "The embedded store of spans, logs and inference, pipeline and deployment events.");
    sec->String("path", &EventStoreConfig::path,
                "Directory of the store's files, relative to the data directory unless absolute.")
        .Duration("partition", &EventStoreConfig::partition,
                  "Time covered by one partition file (whole seconds, 1m to 31d); retention and max_size delete "
                  "whole partitions.",
                  std::chrono::minutes(1))
        .Duration("retention", &EventStoreConfig::retention,
                  "Partitions older than this are deleted, and rows older than this are refused.",
                  std::chrono::minutes(1))
        .ByteSize("max_size", &EventStoreConfig::max_size,
                  "Oldest partitions are deleted while the store's files pass this size (the current partition "
                  "never is); 0: no cap.")
        .Duration("max_future", &EventStoreConfig::max_future,
                  "Rows stamped further than this after now are refused (a sender's wrong clock).")
        .Enum("sync", &EventStoreConfig::sync, {"normal", "full"},
              "normal: a commit survives a crash of Tyto; a power cut can lose the last seconds. full: every "
              "commit is fsynced before it is acknowledged.")
        .Validate([](const EventStoreConfig& c, const config::Node& n, config::Diagnostics& d) {
          if (c.path.empty()) d.Add(n.position(), "event_store.path must not be empty");
          if (Status st = ValidateOptions(ToOptions(c)); !st.ok()) d.Add(n.position(), st.message());
        });
    return sec;
  }();
  return *s;
}

EventStoreOptions ToOptions(const EventStoreConfig& c) {
  EventStoreOptions o;
  o.partition = c.partition;
  o.retention = c.retention;
  o.max_bytes = c.max_size;
  o.max_future = c.max_future;
  o.sync = c.sync == "full" ? SyncMode::kFull : SyncMode::kNormal;
  return o;
}

std::string StoreDir(const std::string& data_dir, const EventStoreConfig& c) {
  if (!c.path.empty() && c.path[0] == '/') return c.path;
  return WithoutTrailingSlashes(data_dir) + "/" + c.path;
}

}  // namespace tyto::eventstore
