#include "ingest/write_request.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <string>

#include "common/coding.h"
#include "ingest/protobuf_wire.h"
#include "scrape/text_lexing.h"

namespace tyto::ingest {
namespace {

// WriteRequest
constexpr uint32_t kTimeseriesField = 1;
constexpr uint32_t kMetadataField = 3;
// TimeSeries
constexpr uint32_t kLabelsField = 1;
constexpr uint32_t kSamplesField = 2;
constexpr uint32_t kExemplarsField = 3;
constexpr uint32_t kHistogramsField = 4;
// Label
constexpr uint32_t kNameField = 1;
constexpr uint32_t kValueField = 2;
// Sample
constexpr uint32_t kSampleValueField = 1;
constexpr uint32_t kSampleTimestampField = 2;

// Wire types (protobuf encoding) of the fields written.
constexpr uint32_t kVarintWire = 0;
constexpr uint32_t kFixed64Wire = 1;
constexpr uint32_t kLengthDelimitedWire = 2;

Status At(const std::string& where, const Status& st) { return InvalidArgument(where + ": " + st.message()); }

std::string Index(std::string_view what, size_t i) { return std::string(what) + "[" + std::to_string(i) + "]"; }

Status DecodeLabel(ProtoReader r, LabelView* out) {
  while (r.Next()) {
    if (r.field() == kNameField) (void)r.ReadBytes(&out->name);
    else if (r.field() == kValueField) (void)r.ReadBytes(&out->value);
  }
  return r.status();
}

Status DecodeSample(ProtoReader r, Sample* out) {
  while (r.Next()) {
    if (r.field() == kSampleValueField) {
      (void)r.ReadDouble(&out->v);
    } else if (r.field() == kSampleTimestampField) {
      uint64_t t = 0;
      if (r.ReadVarint(&t)) out->t = static_cast<int64_t>(t);  // int64: two's complement, 10 bytes if negative
    }
  }
  return r.status();
}

// The bytes every sender writes for a sample whose value and timestamp are not zero: the value
// (key 0x09, 8 bytes), then the timestamp (key 0x10, a varint), nothing else. Read here without
// a ProtoReader; false for any other bytes, which DecodeSample then reads field by field (with
// the same result for these).
bool DecodeUsualSample(std::string_view m, Sample* out) {
  if (m.size() < 11 || m[0] != '\x09' || m[9] != '\x10') return false;
  const char* end = m.data() + m.size();
  uint64_t t = 0;
  if (coding::GetVarint64(m.data() + 10, end, &t) != end) return false;
  out->v = std::bit_cast<double>(coding::DecodeFixed64(m.data() + 1));
  out->t = static_cast<int64_t>(t);
  return true;
}

// Decodes the Label fields among `fields` (a TimeSeries, or just its label fields), which start
// at byte `base` of the decoded buffer, appending them to out->labels and to *s's range. The
// other fields were checked when the series was decoded.
Status DecodeLabelFields(std::string_view fields, size_t base, WriteRequest* out, WriteRequest::Series* s) {
  ProtoReader r(fields, base);
  while (r.Next()) {
    if (r.field() != kLabelsField) continue;
    const uint32_t k = s->labels_end - s->labels_begin;
    ProtoReader sub("");
    if (!r.ReadMessage(&sub)) return At(Index("labels", k), r.status());
    LabelView l;
    if (Status st = DecodeLabel(sub, &l); !st.ok()) return At(Index("labels", k), st);
    out->labels.push_back(l);
    ++s->labels_end;
  }
  return r.status();
}

// `buffer` is the outermost buffer; the TimeSeries `message` starts at its byte `base`.
Status DecodeSeries(std::string_view buffer, std::string_view message, size_t base, LabelDecoding decoding,
                    WriteRequest* out) {
  WriteRequest::Series& s = out->series.back();
  s.labels_begin = s.labels_end = static_cast<uint32_t>(out->labels.size());
  s.samples_begin = s.samples_end = static_cast<uint32_t>(out->samples.size());
  const bool lazy = decoding == LabelDecoding::kLazy;
  uint32_t nlabels = 0;
  size_t labels_from = 0, labels_to = 0;  // the label fields' bytes while contiguous
  bool contiguous = true;
  bool in_labels = false;
  size_t skipped = 0;
  if (lazy) {
    // What senders write first, skipped without the general loop: label fields (key 0x0a)
    // shorter than 128 bytes (a one-byte length). The loop below takes over at the first other
    // byte, and would have read the same.
    const char* p = message.data();
    const char* end = p + message.size();
    while (end - p >= 2 && p[0] == '\x0a' && static_cast<uint8_t>(p[1]) < 0x80 &&
           static_cast<uint8_t>(p[1]) <= end - p - 2) {
      p += 2 + static_cast<uint8_t>(p[1]);
      ++nlabels;
    }
    skipped = static_cast<size_t>(p - message.data());
    if (nlabels > 0) {
      labels_from = base;
      labels_to = base + skipped;
      in_labels = true;
    }
  }
  ProtoReader r(message.substr(skipped), base + skipped);
  while (r.Next()) {
    if (r.field() != kLabelsField) in_labels = false;
    switch (r.field()) {
      case kLabelsField: {
        if (nlabels == 0) {
          labels_from = r.field_offset();
          in_labels = true;
        } else if (!in_labels) {
          contiguous = false;
        }
        if (lazy) {  // framing only: DecodeLabelFields reads the inside
          std::string_view label;
          if (!r.ReadBytes(&label)) return At(Index("labels", nlabels), r.status());
        } else {
          ProtoReader sub("");
          if (!r.ReadMessage(&sub)) return At(Index("labels", nlabels), r.status());
          LabelView l;
          if (Status st = DecodeLabel(sub, &l); !st.ok()) return At(Index("labels", nlabels), st);
          out->labels.push_back(l);
          ++s.labels_end;
        }
        labels_to = r.offset();
        ++nlabels;
        break;
      }
      case kSamplesField: {
        std::string_view m;
        if (!r.ReadBytes(&m)) return At(Index("samples", s.samples_end - s.samples_begin), r.status());
        Sample sample;
        if (!DecodeUsualSample(m, &sample)) {
          if (Status st = DecodeSample(ProtoReader(m, r.offset() - m.size()), &sample); !st.ok()) {
            return At(Index("samples", s.samples_end - s.samples_begin), st);
          }
        }
        out->samples.push_back(sample);
        ++s.samples_end;
        break;
      }
      case kExemplarsField: ++out->exemplars; break;
      case kHistogramsField: ++out->histograms; break;
      default: break;
    }
  }
  if (!r.ok()) return r.status();
  if (contiguous && nlabels > 0) {
    s.label_bytes = buffer.substr(labels_from, labels_to - labels_from);
    s.label_bytes_offset = labels_from;
  }
  if (lazy && nlabels > 0) {
    if (!s.label_bytes.empty()) {
      s.labels_decoded = false;
    } else {
      return DecodeLabelFields(message, base, out, &s);
    }
  }
  return Status::Ok();
}

size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

void PutKey(uint32_t field, uint32_t wire_type, std::string* out) {
  coding::PutVarint64(out, (static_cast<uint64_t>(field) << 3) | wire_type);
}

// Field keys of the fields written are all one byte (fields 1 and 2).
size_t BytesFieldSize(size_t n) { return 1 + VarintSize(n) + n; }

size_t LabelSize(std::string_view name, std::string_view value) {
  return BytesFieldSize(name.size()) + BytesFieldSize(value.size());
}

// Sample: value (key + 8 bytes) and timestamp (key + varint).
size_t SampleSize(const Sample& s) { return 1 + 8 + 1 + VarintSize(static_cast<uint64_t>(s.t)); }

void PutLabel(std::string_view name, std::string_view value, std::string* out) {
  PutKey(kLabelsField, kLengthDelimitedWire, out);
  coding::PutVarint64(out, LabelSize(name, value));
  PutKey(kNameField, kLengthDelimitedWire, out);
  coding::PutLengthPrefixed(out, name);
  PutKey(kValueField, kLengthDelimitedWire, out);
  coding::PutLengthPrefixed(out, value);
}

// The TimeSeries field for labels [first, last) (each with name() and value()) and `samples`.
template <typename It>
void PutTimeSeries(It first, It last, std::span<const Sample> samples, std::string* out) {
  size_t size = 0;
  for (It it = first; it != last; ++it) size += BytesFieldSize(LabelSize(it->name, it->value));
  for (const Sample& s : samples) size += BytesFieldSize(SampleSize(s));
  PutKey(kTimeseriesField, kLengthDelimitedWire, out);
  coding::PutVarint64(out, size);
  out->reserve(out->size() + size);
  for (It it = first; it != last; ++it) PutLabel(it->name, it->value, out);
  for (const Sample& s : samples) {
    PutKey(kSamplesField, kLengthDelimitedWire, out);
    coding::PutVarint64(out, SampleSize(s));
    uint64_t bits = 0;
    std::memcpy(&bits, &s.v, sizeof bits);
    PutKey(kSampleValueField, kFixed64Wire, out);
    coding::PutFixed64(out, bits);
    PutKey(kSampleTimestampField, kVarintWire, out);
    coding::PutVarint64(out, static_cast<uint64_t>(s.t));  // int64: two's complement
  }
}

}  // namespace

void AppendTimeSeries(std::span<const LabelView> labels, std::span<const Sample> samples, std::string* out) {
  const auto by_name = [](const LabelView& a, const LabelView& b) { return a.name < b.name; };
  if (std::is_sorted(labels.begin(), labels.end(), by_name)) {
    PutTimeSeries(labels.begin(), labels.end(), samples, out);
    return;
  }
  std::vector<LabelView> sorted(labels.begin(), labels.end());
  std::stable_sort(sorted.begin(), sorted.end(), by_name);
  PutTimeSeries(sorted.begin(), sorted.end(), samples, out);
}

void AppendTimeSeries(const Labels& labels, std::span<const Sample> samples, std::string* out) {
  PutTimeSeries(labels.begin(), labels.end(), samples, out);
}

void EncodeWriteRequest(std::span<const SeriesSamples> series, std::string* out) {
  out->clear();
  for (const SeriesSamples& s : series) AppendTimeSeries(s.labels, s.samples, out);
}

void WriteRequest::Clear() {
  series.clear();
  labels.clear();
  samples.clear();
  exemplars = histograms = metadata = 0;
}

Status DecodeWriteRequest(std::string_view message, WriteRequest* out, LabelDecoding labels) {
  out->Clear();
  ProtoReader r(message);
  while (r.Next()) {
    if (r.field() == kTimeseriesField) {
      const size_t at = r.field_offset();
      std::string_view ts;
      if (!r.ReadBytes(&ts)) return At(Index("timeseries", out->series.size()), r.status());
      out->series.push_back({});
      out->series.back().offset = at;
      const auto base = static_cast<size_t>(ts.data() - message.data());
      if (Status st = DecodeSeries(message, ts, base, labels, out); !st.ok()) {
        return At(Index("timeseries", out->series.size() - 1), st);
      }
    } else if (r.field() == kMetadataField) {
      ++out->metadata;
    }
  }
  if (!r.ok()) return At("WriteRequest", r.status());
  return Status::Ok();
}

Status DecodeSeriesLabels(WriteRequest* request, size_t i) {
  WriteRequest::Series& s = request->series[i];
  if (s.labels_decoded) return Status::Ok();
  s.labels_begin = s.labels_end = static_cast<uint32_t>(request->labels.size());
  if (Status st = DecodeLabelFields(s.label_bytes, s.label_bytes_offset, request, &s); !st.ok()) {
    return At(Index("timeseries", i), st);
  }
  s.labels_decoded = true;
  return Status::Ok();
}

Status CheckSeriesLabels(const WriteRequest& request, size_t i) {
  // The messages are built only on failure: this runs for every series of every request.
  const WriteRequest::Series& s = request.series[i];
  const auto series = [i] { return Index("timeseries", i); };
  if (s.labels_begin == s.labels_end) return InvalidArgument(series() + " has no labels");
  bool has_name = false;
  for (uint32_t k = s.labels_begin; k < s.labels_end; ++k) {
    const LabelView& l = request.labels[k];
    const auto where = [&] { return series() + "." + Index("labels", k - s.labels_begin); };
    if (l.name.empty()) return InvalidArgument(where() + ": empty label name");
    if (size_t bad = scrape::FindInvalidUtf8(l.name); bad != l.name.size()) {
      return InvalidArgument(where() + ": label name \"" + scrape::Printable(l.name) + "\" is not valid UTF-8 at byte " +
                             std::to_string(bad));
    }
    if (size_t bad = scrape::FindInvalidUtf8(l.value); bad != l.value.size()) {
      return InvalidArgument(where() + ": value of label \"" + scrape::Printable(l.name) +
                             "\" is not valid UTF-8 at byte " + std::to_string(bad) + ": \"" +
                             scrape::Printable(l.value) + "\"");
    }
    if (k > s.labels_begin) {
      const std::string_view prev = request.labels[k - 1].name;
      if (l.name == prev) {
        return InvalidArgument(where() + ": label name \"" + scrape::Printable(l.name) + "\" given twice");
      }
      if (l.name < prev) {
        return InvalidArgument(where() + ": labels are not sorted by name: \"" + scrape::Printable(l.name) +
                               "\" comes after \"" + scrape::Printable(prev) + "\"");
      }
    }
    if (l.name == kMetricNameLabel) has_name = !l.value.empty();
  }
  if (!has_name) return InvalidArgument(series() + ": no metric name (a non-empty __name__ label)");
  return Status::Ok();
}

}  // namespace tyto::ingest
