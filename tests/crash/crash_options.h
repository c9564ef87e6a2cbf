// The metrics engine's options for the crash test: the writer child and the parent that checks
// its data open the directory with the same ones.
#pragma once

#include <chrono>

#include "tsdb/db.h"

namespace tyto::tsdb {

// Blocks of 500 ms: at the writer's pace (about 3 timestamps per millisecond of writing) a
// block is cut, the WAL checkpointed and blocks compacted (into 1.5 s and 6 s) every few hundred
// milliseconds, so the kills can be aimed at them as well as at commits.
inline constexpr std::chrono::milliseconds kCrashBlockRange{500};

inline DBOptions CrashDBOptions() {
  DBOptions o;
  o.head.fsync = FsyncPolicy::kNever;  // kill -9 must lose nothing even without fsync
  o.head.block_range = kCrashBlockRange;
  o.retention = std::chrono::milliseconds(0);  // keep everything: the parent checks it all
  return o;
}

}  // namespace tyto::tsdb
