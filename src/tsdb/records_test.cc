#include "tsdb/records.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <random>

namespace tyto::tsdb::records {
namespace {

TEST(RecordsTest, SeriesRoundTrip) {
  SeriesRecord a{1, Labels::Of({"__name__", "up", "job", "node"})};
  SeriesRecord b{77, Labels::Of({"__name__", "DCGM_FI_DEV_GPU_TEMP", "gpu", "3", "UUID", "GPU-\xe2\x9c\x93"})};
  std::string rec;
  EncodeSeries(std::vector<SeriesRecord>{a, b}, &rec);
  ASSERT_EQ(*TypeOf(rec), Type::kSeries);
  std::vector<SeriesRecord> out;
  ASSERT_TRUE(DecodeSeries(rec, &out).ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].ref, 1u);
  EXPECT_EQ(out[0].labels, a.labels);
  EXPECT_EQ(out[1].ref, 77u);
  EXPECT_EQ(out[1].labels, b.labels);
}

TEST(RecordsTest, SamplesRoundTripBitForBit) {
  std::vector<SampleRecord> in = {
      {5, 1700000000000, 1.5},
      {3, 1699999999000, std::bit_cast<double>(kStaleNaNBits)},
      {900000, INT64_MIN, -0.0},
      {1, INT64_MAX, std::numeric_limits<double>::infinity()},
      {5, 0, std::bit_cast<double>(0x7ff8dead0000beefull)},
      {5, -5, std::numeric_limits<double>::denorm_min()},
  };
  std::string rec;
  EncodeSamples(in, &rec);
  std::vector<SampleRecord> out;
  ASSERT_TRUE(DecodeSamples(rec, &out).ok());
  ASSERT_EQ(out.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(out[i].ref, in[i].ref) << i;
    EXPECT_EQ(out[i].t, in[i].t) << i;
    EXPECT_EQ(std::bit_cast<uint64_t>(out[i].v), std::bit_cast<uint64_t>(in[i].v)) << i;
  }
}

TEST(RecordsTest, EveryTruncationAndRandomDamageIsRejectedOrDecodedSafely) {
  SeriesRecord a{1, Labels::Of({"__name__", "up", "job", "node"})};
  std::string series;
  EncodeSeries(std::span<const SeriesRecord>(&a, 1), &series);
  std::string samples;
  EncodeSamples(std::vector<SampleRecord>{{1, 10, 1.0}, {2, 20, 2.0}, {3, 30, 3.0}}, &samples);
  for (const std::string& full : {series, samples}) {
    for (size_t n = 0; n < full.size(); ++n) {
      std::string cut = full.substr(0, n);
      std::vector<SeriesRecord> s;
      std::vector<SampleRecord> m;
      if (n == 0) {
        EXPECT_FALSE(TypeOf(cut).ok());
        continue;
      }
      Status st = *TypeOf(cut) == Type::kSeries ? DecodeSeries(cut, &s) : DecodeSamples(cut, &m);
      EXPECT_EQ(st.code(), StatusCode::kCorruption) << "cut at " << n;
    }
  }
  std::mt19937_64 rng(42);
  for (int i = 0; i < 20000; ++i) {
    std::string bad = (i % 2 ? series : samples);
    bad[rng() % bad.size()] ^= static_cast<char>(1 << (rng() % 8));
    if (rng() % 4 == 0) bad += static_cast<char>(rng());
    std::vector<SeriesRecord> s;
    std::vector<SampleRecord> m;
    auto type = TypeOf(bad);
    if (!type.ok()) continue;
    Status st = *type == Type::kSeries ? DecodeSeries(bad, &s) : DecodeSamples(bad, &m);
    if (st.ok()) continue;  // a flipped value bit decodes to another valid record: the WAL checksum catches that
    EXPECT_EQ(st.code(), StatusCode::kCorruption);
  }
}

TEST(RecordsTest, EncodeInRecordsSplitsLargeBatches) {
  std::vector<SeriesRecord> series;
  for (uint64_t i = 1; i <= kSeriesPerRecord + 1; ++i) series.push_back({i, Labels::Of({"__name__", "m"})});
  std::vector<SampleRecord> samples(2 * kSamplesPerRecord + 1, SampleRecord{1, 5, 1.0});
  std::vector<std::string> out;
  EncodeInRecords(series, samples, &out);
  ASSERT_EQ(out.size(), 2u + 3u);
  size_t decoded_series = 0, decoded_samples = 0;
  for (const std::string& rec : out) {
    std::vector<SeriesRecord> s;
    std::vector<SampleRecord> m;
    Status st = *TypeOf(rec) == Type::kSeries ? DecodeSeries(rec, &s) : DecodeSamples(rec, &m);
    ASSERT_TRUE(st.ok()) << st.ToString();
    decoded_series += s.size();
    decoded_samples += m.size();
  }
  EXPECT_EQ(decoded_series, series.size());
  EXPECT_EQ(decoded_samples, samples.size());
  EXPECT_EQ(*TypeOf(out.front()), Type::kSeries);  // series before the samples that use them

  // Again into the same vector, smaller: its strings are reused, the surplus dropped.
  EncodeInRecords({}, std::span<const SampleRecord>(samples).first(3), &out);
  ASSERT_EQ(out.size(), 1u);
  std::vector<SampleRecord> m;
  ASSERT_TRUE(DecodeSamples(out[0], &m).ok());
  EXPECT_EQ(m.size(), 3u);
}

TEST(RecordsTest, UnknownTypeIsCorruption) {
  EXPECT_EQ(TypeOf(std::string("\x09", 1)).status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace tyto::tsdb::records
