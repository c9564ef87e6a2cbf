// The head's WAL records: which series exist, and their samples. Byte layout in
// docs/format/wal-records.md. Decoders validate everything and never read out of bounds.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tyto/labels.h"
#include "tyto/status.h"
#include "tyto/storage.h"

namespace tyto::tsdb::records {

enum class Type : uint8_t { kSeries = 1, kSamples = 2 };

struct SeriesRecord {
  SeriesRef ref;
  Labels labels;
};

struct SampleRecord {
  SeriesRef ref;
  int64_t t;
  double v;
};

// One record each. Keep them well under the WAL's record limit with the sizes below.
void EncodeSeries(std::span<const SeriesRecord> series, std::string* out);
void EncodeSamples(std::span<const SampleRecord> samples, std::string* out);

// At most this many series or samples go into one record: label sizes are capped, so a series
// record stays far below the WAL's 64 MiB limit; a samples record is at most about 2 MiB.
inline constexpr size_t kSeriesPerRecord = 10000;
inline constexpr size_t kSamplesPerRecord = 100000;

// Replaces *out with as many records as needed for `series`, then for `samples`. The strings
// already in *out are reused, so a caller that keeps *out between batches allocates nothing
// once they have grown.
void EncodeInRecords(std::span<const SeriesRecord> series, std::span<const SampleRecord> samples,
                     std::vector<std::string>* out);

// The record's type, or kCorruption for an empty record or an unknown type.
Result<Type> TypeOf(std::string_view record);
Status DecodeSeries(std::string_view record, std::vector<SeriesRecord>* out);
Status DecodeSamples(std::string_view record, std::vector<SampleRecord>* out);

}  // namespace tyto::tsdb::records
