// The Prometheus remote write 1.0 request (prometheus.WriteRequest, prompb/remote.proto and
// prompb/types.proto), decoded by hand from its protobuf wire format, the checks its labels
// must pass before their samples are stored, and the encoder senders (`tyto agent`) use.
//
// The fields read (field numbers as in the .proto files):
//   WriteRequest  1 timeseries (TimeSeries, repeated)   3 metadata (counted, not kept)
//   TimeSeries    1 labels (Label, repeated)            2 samples (Sample, repeated)
//                 3 exemplars, 4 histograms (counted, not kept: Tyto has no store for them yet)
//   Label         1 name (string)   2 value (string)
//   Sample        1 value (double)  2 timestamp (int64, milliseconds)
// Every other field is skipped, so newer senders' additions do no harm.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tyto/labels.h"
#include "tyto/status.h"
#include "tyto/storage.h"

namespace tyto::ingest {

struct LabelView {
  std::string_view name;
  std::string_view value;
};

// A decoded WriteRequest. Strings point into the buffer it was decoded from, which must outlive
// it. The series' labels and samples are ranges of the flat `labels` and `samples` arrays, so a
// request of any size is decoded with a handful of allocations (reused across Decode calls).
struct WriteRequest {
  struct Series {
    uint32_t labels_begin = 0, labels_end = 0;    // [begin, end) in `labels`
    uint32_t samples_begin = 0, samples_end = 0;  // [begin, end) in `samples`
    size_t offset = 0;  // of the TimeSeries message in the decoded buffer, for error messages
    // The encoded label fields, when they are contiguous (every sender writes labels first):
    // two series with the same bytes here have the same labels. Empty otherwise.
    std::string_view label_bytes;
    size_t label_bytes_offset = 0;  // of label_bytes in the decoded buffer, for error messages
    // False when a lazy decode left the labels in label_bytes (see LabelDecoding::kLazy): then
    // [labels_begin, labels_end) is empty until DecodeSeriesLabels.
    bool labels_decoded = true;
  };
  std::vector<Series> series;
  std::vector<LabelView> labels;
  std::vector<Sample> samples;
  uint64_t exemplars = 0;   // in all series
  uint64_t histograms = 0;  // in all series
  uint64_t metadata = 0;

  void Clear();
};

enum class LabelDecoding {
  kEager,  // every series' labels are decoded into `labels`
  // A series whose label fields are contiguous keeps them as label_bytes, undecoded
  // (labels_decoded false): only their framing (key, length) is checked. A receiver that knows
  // the series by those bytes never decodes them; DecodeSeriesLabels decodes the others.
  // Series with scattered label fields are decoded at once.
  kLazy,
};

// Decodes `message` (an uncompressed WriteRequest) into *out, replacing what it held. On a
// malformed message returns InvalidArgument naming where ("timeseries[3].labels[1]: invalid
// protobuf at byte 57: ...") and *out is unspecified. With kLazy, an error inside a label
// that was left undecoded is found by DecodeSeriesLabels instead: a message decodes without
// error eagerly exactly when it does lazily and DecodeSeriesLabels succeeds for every series.
Status DecodeWriteRequest(std::string_view message, WriteRequest* out,
                          LabelDecoding labels = LabelDecoding::kEager);

// Decodes the labels of series `i` that a lazy decode left in label_bytes, appending them to
// request->labels, as an eager decode would have (same labels, same errors: "timeseries[i]
// .labels[k]: invalid protobuf at byte N: ..."). Does nothing when they are decoded already.
Status DecodeSeriesLabels(WriteRequest* request, size_t i);

// Checks the labels of series `i` as the remote write specification requires: at least one
// label; names non-empty, valid UTF-8 (Prometheus accepts any UTF-8 name now) and sorted
// strictly ascending by bytes (so no name repeats); values valid UTF-8; a non-empty `__name__`.
// Returns InvalidArgument naming the series index, the label index and the label.
Status CheckSeriesLabels(const WriteRequest& request, size_t i);

// Encoding. A WriteRequest holding only time series is the concatenation of its TimeSeries
// fields, so a request is built by appending series to a string; snappy-compress it
// (snappy_codec.h) to send it. Every Sample is written with both fields (value as a double,
// timestamp as an int64 varint: 10 bytes when negative), which every decoder accepts. Names and
// values are written as given: a sender checks its input before (see CheckSeriesLabels).

// Appends one TimeSeries (WriteRequest field 1) to *out. The labels are written sorted by name,
// as the specification requires: sorted here when they are not already.
void AppendTimeSeries(std::span<const LabelView> labels, std::span<const Sample> samples, std::string* out);
// The same for a Labels set (always sorted).
void AppendTimeSeries(const Labels& labels, std::span<const Sample> samples, std::string* out);

// One series and its samples (in the order they are to be stored), for EncodeWriteRequest.
struct SeriesSamples {
  Labels labels;
  std::vector<Sample> samples;
};

// Replaces *out with the WriteRequest holding `series` in order.
void EncodeWriteRequest(std::span<const SeriesSamples> series, std::string* out);

}  // namespace tyto::ingest
