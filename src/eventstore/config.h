// The `event_store:` section of tyto.yml: where the embedded store of spans, logs and events
// lives and how much of it is kept.
//
//   event_store:
//     path: events        # relative to the data directory
//     partition: 1h       # one SQLite file per hour
//     retention: 7d
//     max_size: 10GiB     # oldest partitions deleted first; 0: no cap
//     max_future: 1h      # rows stamped further ahead are refused
//     sync: normal        # or full: fsync every commit
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "eventstore/store.h"

namespace tyto::config {
template <typename T>
class Section;
}

namespace tyto::eventstore {

struct EventStoreConfig {
  std::string path = "events";
  std::chrono::milliseconds partition{std::chrono::hours(1)};
  std::chrono::milliseconds retention{std::chrono::hours(24 * 7)};
  uint64_t max_size = 10ull << 30;
  std::chrono::milliseconds max_future{std::chrono::hours(1)};
  std::string sync = "normal";
  friend bool operator==(const EventStoreConfig&, const EventStoreConfig&) = default;
};

// Checks what ValidateOptions (store.h) checks, and that path is not empty.
const config::Section<EventStoreConfig>& EventStoreSchema();

// The store's options for a decoded section (the other options keep their defaults).
EventStoreOptions ToOptions(const EventStoreConfig& config);

// The store's directory: `path` under `data_dir`, or `path` itself when it is absolute.
std::string StoreDir(const std::string& data_dir, const EventStoreConfig& config);

}  // namespace tyto::eventstore
