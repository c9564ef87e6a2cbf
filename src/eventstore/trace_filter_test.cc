#include "eventstore/trace_filter.h"

#include <gtest/gtest.h>

#include "eventstore/codec.h"
#include "eventstore/test_data.h"

namespace tyto::eventstore {
namespace {

std::string Id(uint64_t n) {
  std::string bytes;
  if (!DecodeHexId(testdata::TraceId(n), 16, &bytes)) std::abort();
  return bytes;
}

TEST(TraceFilterTest, NoFalseNegativesFewFalsePositives) {
  TraceFilter f;
  EXPECT_FALSE(f.MayContain(Id(1)));
  constexpr uint64_t kIds = 100'000;  // past the first levels: 16,384 + 32,768 + 65,536
  for (uint64_t n = 0; n < kIds; ++n) f.Add(Id(n));
  EXPECT_EQ(f.ids(), kIds);
  for (uint64_t n = 0; n < kIds; ++n) ASSERT_TRUE(f.MayContain(Id(n))) << n;
  int false_positives = 0;
  for (uint64_t n = kIds; n < 2 * kIds; ++n) false_positives += f.MayContain(Id(n)) ? 1 : 0;
  EXPECT_LT(false_positives, 2'000) << "under 2% for four levels";
  EXPECT_LE(f.bytes(), 16'384 * 15 * 12 / 8 + 64);
}

TEST(TraceFilterTest, IdsThatAreNotRandomAreSpreadToo) {
  // 64-bit ids padded with zeros: the first eight bytes are all zero.
  TraceFilter f;
  std::string id(16, '\0');
  for (uint64_t n = 1; n <= 20'000; ++n) {
    for (int b = 0; b < 8; ++b) id[8 + b] = static_cast<char>(n >> (8 * b));
    f.Add(id);
  }
  int false_positives = 0;
  for (uint64_t n = 20'001; n <= 40'000; ++n) {
    for (int b = 0; b < 8; ++b) id[8 + b] = static_cast<char>(n >> (8 * b));
    false_positives += f.MayContain(id) ? 1 : 0;
  }
  EXPECT_LT(false_positives, 400);
}

TEST(TraceFilterTest, EncodeDecode) {
  TraceFilter f;
  for (uint64_t n = 0; n < 20'000; ++n) f.Add(Id(n));
  const std::string blob = f.Encode();
  auto g = TraceFilter::Decode(blob);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->ids(), 20'000u);
  for (uint64_t n = 0; n < 20'000; ++n) ASSERT_TRUE(g->MayContain(Id(n)));
  EXPECT_EQ(g->Encode(), blob);
  auto empty = TraceFilter::Decode(TraceFilter().Encode());
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->MayContain(Id(1)));
  for (size_t n : {size_t{0}, size_t{1}, size_t{3}, blob.size() / 2, blob.size() - 1}) {
    EXPECT_EQ(TraceFilter::Decode(blob.substr(0, n)).status().code(), StatusCode::kCorruption) << n;
  }
  EXPECT_EQ(TraceFilter::Decode(blob + "x").status().code(), StatusCode::kCorruption);
  std::string odd = blob;
  odd[1] = 0x11;  // a first capacity Add never makes
  EXPECT_EQ(TraceFilter::Decode(odd).status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace tyto::eventstore
