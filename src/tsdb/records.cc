#include "tsdb/records.h"

#include <algorithm>
#include <bit>

#include "common/coding.h"

namespace tyto::tsdb::records {
namespace {

using coding::GetLengthPrefixed;
using coding::GetVarint64;
using coding::GetVarintSigned64;

Status Bad(std::string_view what) { return Corruption("WAL record: " + std::string(what)); }

}  // namespace

void EncodeSeries(std::span<const SeriesRecord> series, std::string* out) {
  out->push_back(static_cast<char>(Type::kSeries));
  coding::PutVarint64(out, series.size());
  for (const SeriesRecord& s : series) {
    coding::PutVarint64(out, s.ref);
    coding::PutVarint64(out, s.labels.size());
    for (const Label& l : s.labels) {
      coding::PutLengthPrefixed(out, l.name);
      coding::PutLengthPrefixed(out, l.value);
    }
  }
}

void EncodeInRecords(std::span<const SeriesRecord> series, std::span<const SampleRecord> samples,
                     std::vector<std::string>* out) {
  size_t n = 0;
  const auto next = [out, &n]() -> std::string* {
    if (n == out->size()) out->emplace_back();
    std::string* rec = &(*out)[n++];
    rec->clear();
    return rec;
  };
  for (size_t i = 0; i < series.size(); i += kSeriesPerRecord) {
    EncodeSeries(series.subspan(i, std::min(kSeriesPerRecord, series.size() - i)), next());
  }
  for (size_t i = 0; i < samples.size(); i += kSamplesPerRecord) {
    std::string* rec = next();
    const size_t count = std::min(kSamplesPerRecord, samples.size() - i);
    rec->reserve(32 + count * 16);  // a typical sample takes 10 to 16 bytes
    EncodeSamples(samples.subspan(i, count), rec);
  }
  out->resize(n);
}

void EncodeSamples(std::span<const SampleRecord> samples, std::string* out) {
  out->push_back(static_cast<char>(Type::kSamples));
  coding::PutVarint64(out, samples.size());
  if (samples.empty()) return;
  // Refs and times as differences from the first sample: small varints for a typical batch.
  const SampleRecord& base = samples.front();
  coding::PutVarint64(out, base.ref);
  coding::PutVarintSigned64(out, base.t);
  for (const SampleRecord& s : samples) {
    coding::PutVarintSigned64(out, static_cast<int64_t>(s.ref - base.ref));
    coding::PutVarintSigned64(out, static_cast<int64_t>(static_cast<uint64_t>(s.t) - static_cast<uint64_t>(base.t)));
    coding::PutFixed64(out, std::bit_cast<uint64_t>(s.v));
  }
}

Result<Type> TypeOf(std::string_view record) {
  if (record.empty()) return Bad("empty");
  auto t = static_cast<Type>(record[0]);
  if (t != Type::kSeries && t != Type::kSamples) return Bad("unknown type " + std::to_string(static_cast<int>(record[0])));
  return t;
}

Status DecodeSeries(std::string_view record, std::vector<SeriesRecord>* out) {
  const char* p = record.data() + 1;
  const char* end = record.data() + record.size();
  uint64_t n = 0;
  if (record.empty() || (p = GetVarint64(p, end, &n)) == nullptr) return Bad("truncated series count");
  if (n > record.size()) return Bad("series count beyond record size");
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t ref = 0, nlabels = 0;
    if ((p = GetVarint64(p, end, &ref)) == nullptr || (p = GetVarint64(p, end, &nlabels)) == nullptr) {
      return Bad("truncated series");
    }
    if (nlabels > static_cast<uint64_t>(end - p)) return Bad("label count beyond record size");
    std::vector<Label> pairs;
    pairs.reserve(nlabels);
    for (uint64_t j = 0; j < nlabels; ++j) {
      std::string_view name, value;
      if ((p = GetLengthPrefixed(p, end, &name)) == nullptr || (p = GetLengthPrefixed(p, end, &value)) == nullptr) {
        return Bad("truncated label");
      }
      pairs.push_back({std::string(name), std::string(value)});
    }
    auto labels = Labels::FromPairs(std::move(pairs));
    if (!labels.ok()) return Bad(labels.status().message());
    out->push_back({ref, std::move(labels).value()});
  }
  if (p != end) return Bad("trailing bytes after series");
  return Status::Ok();
}

Status DecodeSamples(std::string_view record, std::vector<SampleRecord>* out) {
  const char* p = record.data() + 1;
  const char* end = record.data() + record.size();
  uint64_t n = 0;
  if (record.empty() || (p = GetVarint64(p, end, &n)) == nullptr) return Bad("truncated sample count");
  if (n == 0) return p == end ? Status::Ok() : Bad("trailing bytes after samples");
  if (n > record.size()) return Bad("sample count beyond record size");
  uint64_t base_ref = 0;
  int64_t base_t = 0;
  if ((p = GetVarint64(p, end, &base_ref)) == nullptr || (p = GetVarintSigned64(p, end, &base_t)) == nullptr) {
    return Bad("truncated samples header");
  }
  out->reserve(out->size() + n);
  for (uint64_t i = 0; i < n; ++i) {
    int64_t dref = 0, dt = 0;
    if ((p = GetVarintSigned64(p, end, &dref)) == nullptr || (p = GetVarintSigned64(p, end, &dt)) == nullptr ||
        end - p < 8) {
      return Bad("truncated sample");
    }
    uint64_t bits = coding::DecodeFixed64(p);
    p += 8;
    out->push_back({base_ref + static_cast<uint64_t>(dref),
                    static_cast<int64_t>(static_cast<uint64_t>(base_t) + static_cast<uint64_t>(dt)),
                    std::bit_cast<double>(bits)});
  }
  if (p != end) return Bad("trailing bytes after samples");
  return Status::Ok();
}

}  // namespace tyto::tsdb::records
