// `tyto tsdb analyze` and `tyto tsdb dump`: read-only looks at a data directory.
#pragma once

#include <cstdint>
#include <string>

namespace tyto::tools {

// Prints the blocks, the head's series and sample counts, time range and bytes per sample, and
// for the whole store (blocks merged with the head, each series once) the series count and the
// metrics, label pairs and label names with the most series or values. Returns the exit code.
int Analyze(const std::string& data_dir, size_t top);

// Prints every sample of the series matching `selector` (all series if empty) within
// [min_time, max_time] (ms), one line each: labels value timestamp. Returns the exit code.
int Dump(const std::string& data_dir, const std::string& selector, int64_t min_time, int64_t max_time);

// Backfills an OpenMetrics (or Prometheus text) file whose samples all carry timestamps into
// blocks of the data directory, showing progress on stderr. Refuses data overlapping what the
// directory already holds. Returns the exit code.
int Import(const std::string& file, const std::string& data_dir, bool prometheus_text);

}  // namespace tyto::tools
