// The serialized forms of QuantileSketch, CategoryCounts and VectorReservoir
// (docs/format/stats-sketches.md): round trips, the documented example bytes, and refusals of
// damaged or hostile bytes with an InvalidArgument that names the problem.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "common/coding.h"
#include "common/crc32.h"
#include "stats/byte_format.h"
#include "stats/category_counts.h"
#include "stats/quantile_sketch.h"
#include "stats/vector_reservoir.h"

namespace tyto::stats {
namespace {

using internal::PutF32;
using internal::PutF64;
using internal::PutU32;
using internal::PutU64;
using internal::PutU8;

// Bytes with their trailing CRC replaced by the right one, so that a test reaches the checks
// behind the checksum.
std::string Recrc(std::string bytes) {
  bytes.resize(bytes.size() - 4);
  coding::PutFixed32(&bytes, Crc32(bytes));
  return bytes;
}

// A frame around `body`: magic, version 1, body, CRC.
std::string Frame(std::string_view magic, const std::string& body) {
  std::string out(magic);
  out.push_back(1);
  out += body;
  coding::PutFixed32(&out, Crc32(out));
  return out;
}

void ExpectRefused(const Status& s, std::string_view fragment) {
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find(fragment), std::string::npos) << s.message() << "\n  expected: " << fragment;
}

std::vector<QuantileSketch> SampleSketches() {
  std::vector<QuantileSketch> out;
  out.emplace_back();  // empty
  QuantileSketch few;
  for (double v : {3.0, 1.0, 2.0, 2.0, -0.0}) few.Add(v);
  out.push_back(few);
  QuantileSketch many(64, 5);
  std::mt19937_64 rng(1);
  std::normal_distribution<double> d(0, 1);
  for (int i = 0; i < 100'000; ++i) many.Add(d(rng));
  out.push_back(many);
  QuantileSketch merged = many;
  merged.Merge(few);
  out.push_back(merged);
  return out;
}

TEST(QuantileSketchBytes, RoundTripIsExact) {
  for (const QuantileSketch& s : SampleSketches()) {
    const std::string bytes = s.Serialize();
    auto back = QuantileSketch::Deserialize(bytes);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(back->Serialize(), bytes);
    EXPECT_EQ(back->count(), s.count());
    EXPECT_EQ(back->exact(), s.exact());
    EXPECT_EQ(back->k(), s.k());
    EXPECT_EQ(back->distinct(), s.distinct());
    EXPECT_EQ(back->small_values(), s.small_values());
    if (s.count() > 0) {
      EXPECT_EQ(back->Quantile(0.37), s.Quantile(0.37));
      EXPECT_EQ(back->Cdf(0.1), s.Cdf(0.1));
      EXPECT_EQ(back->mean(), s.mean());
      EXPECT_EQ(back->stddev(), s.stddev());
    }
    // The generator's state travels too: the same further values give the same sketch.
    QuantileSketch a = s, b = *back;
    for (int i = 0; i < 10'000; ++i) {
      a.Add(i * 0.001);
      b.Add(i * 0.001);
    }
    EXPECT_EQ(a.Serialize(), b.Serialize());
  }
}

TEST(QuantileSketchBytes, DocumentedExample) {
  // docs/format/stats-sketches.md: a k = 8 sketch of 2.0 and 0.5 with seed 0.
  QuantileSketch s(8, 0);
  s.Add(2.0);
  s.Add(0.5);
  std::string body;
  PutU32(&body, 8);      // k
  PutU64(&body, 2);      // count
  PutF64(&body, 0.5);    // min
  PutF64(&body, 2.0);    // max
  PutF64(&body, 1.25);   // mean
  PutF64(&body, 1.125);  // m2 = 0.75^2 + 0.75^2
  PutU64(&body, 0);      // generator state
  PutU8(&body, 0);       // flags
  PutU8(&body, 2);       // distinct values
  PutF64(&body, 0.5);
  PutU64(&body, 1);
  PutF64(&body, 2.0);
  PutU64(&body, 1);
  PutU8(&body, 1);     // levels
  PutU32(&body, 2);    // level 0 size
  PutF64(&body, 2.0);  // level 0, arrival order
  PutF64(&body, 0.5);
  EXPECT_EQ(s.Serialize(), Frame("TYKL", body));
  EXPECT_EQ(s.Serialize().size(), 5u + 4 + 8 * 6 + 2 + 32 + 1 + 4 + 16 + 4);
}

TEST(QuantileSketchBytes, RefusesDamage) {
  const std::string good = SampleSketches()[2].Serialize();
  ExpectRefused(QuantileSketch::Deserialize("").status(), "shorter than");
  ExpectRefused(QuantileSketch::Deserialize("TYCC" + good.substr(4)).status(), "wrong magic");
  std::string v2 = good;
  v2[4] = 2;
  ExpectRefused(QuantileSketch::Deserialize(v2).status(), "unsupported version 2");
  std::string flipped = good;
  flipped[40] ^= 0x10;
  ExpectRefused(QuantileSketch::Deserialize(flipped).status(), "checksum mismatch");
  ExpectRefused(QuantileSketch::Deserialize(good.substr(0, good.size() - 1)).status(), "checksum mismatch");
  // Every truncation of the body, with a valid checksum: refused, never read past the end.
  for (size_t cut = 5; cut + 4 < good.size(); cut += 7) {
    std::string t = good.substr(0, cut);
    coding::PutFixed32(&t, Crc32(t));
    EXPECT_FALSE(QuantileSketch::Deserialize(t).ok()) << cut;
  }
}

TEST(QuantileSketchBytes, EveryByteChangedIsRefusedOrCanonical) {
  // Each byte xor'ed with a few masks and the checksum fixed: either refused with
  // InvalidArgument, or accepted and then serialized back to exactly those bytes (the checks
  // leave no two encodings of one sketch), and the sketch answers queries.
  const std::vector<QuantileSketch> sketches = SampleSketches();
  for (size_t which : {1u, 3u}) {
    const std::string good = sketches[which].Serialize();
    for (size_t i = 5; i + 4 < good.size(); ++i) {
      for (uint8_t mask : {0x01, 0x80, 0xff}) {
        std::string bad = good;
        bad[i] = static_cast<char>(bad[i] ^ mask);
        bad = Recrc(bad);
        auto s = QuantileSketch::Deserialize(bad);
        if (!s.ok()) {
          EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
          continue;
        }
        EXPECT_EQ(s->Serialize(), bad) << "byte " << i;
        (void)s->Quantile(0.5);
        (void)s->Cdf(0.0);
        s->Add(1.0);
      }
    }
  }
}

// A hand-built sketch body, field by field, for the invariant checks.
struct SketchBody {
  uint32_t k = 8;
  uint64_t count = 2;
  double min = 1, max = 2, mean = 1.5, m2 = 0.5;
  uint8_t flags = 0;
  std::vector<std::pair<double, uint64_t>> distinct = {{1, 1}, {2, 1}};
  std::vector<std::vector<double>> levels = {{2, 1}};
  std::string trailing;

  std::string Bytes() const {
    std::string b;
    PutU32(&b, k);
    PutU64(&b, count);
    PutF64(&b, min);
    PutF64(&b, max);
    PutF64(&b, mean);
    PutF64(&b, m2);
    PutU64(&b, 7);
    PutU8(&b, flags);
    PutU8(&b, static_cast<uint8_t>(distinct.size()));
    for (const auto& [v, n] : distinct) {
      PutF64(&b, v);
      PutU64(&b, n);
    }
    PutU8(&b, static_cast<uint8_t>(levels.size()));
    for (const auto& level : levels) PutU32(&b, static_cast<uint32_t>(level.size()));
    for (const auto& level : levels) {
      for (double v : level) PutF64(&b, v);
    }
    return Frame("TYKL", b + trailing);
  }
};

TEST(QuantileSketchBytes, ChecksInvariants) {
  ASSERT_TRUE(QuantileSketch::Deserialize(SketchBody{}.Bytes()).ok());
  SketchBody b;
  b.k = 7;
  ExpectRefused(QuantileSketch::Deserialize(b.Bytes()).status(), "k 7 outside [8, 65535]");
  b = {};
  b.count = 3;
  ExpectRefused(QuantileSketch::Deserialize(b.Bytes()).status(), "distinct value counts");
  b = {};
  b.min = 3;
  ExpectRefused(QuantileSketch::Deserialize(b.Bytes()).status(), "min and max");
  b = {};
  b.m2 = -1;
  ExpectRefused(QuantileSketch::Deserialize(b.Bytes()).status(), "m2");
  b = {};
  b.flags = 2;
  ExpectRefused(QuantileSketch::Deserialize(b.Bytes()).status(), "unknown flag bits");
  b = {};
  b.distinct = {{2, 1}, {1, 1}};
  ExpectRefused(QuantileSketch::Deserialize(b.Bytes()).status(), "not strictly ascending");
  b = {};
  b.flags = 1;  // capped, yet values listed
  ExpectRefused(QuantileSketch::Deserialize(b.Bytes()).status(), "although capped");
  b = {};
  b.levels = {{2, NAN}};
  ExpectRefused(QuantileSketch::Deserialize(b.Bytes()).status(), "retained value not finite");
  b = {};
  b.levels = {{2, 5}};
  ExpectRefused(QuantileSketch::Deserialize(b.Bytes()).status(), "outside [min, max]");
  b = {};
  b.levels = {{2}, {1}};  // weights 1 + 2 = 3 for a count of 2
  ExpectRefused(QuantileSketch::Deserialize(b.Bytes()).status(), "weights");
  b = {};
  b.flags = 1;
  b.distinct = {};
  b.count = 3;
  b.levels = {{1}, {2}};  // weight 3: fine; then a level 1 out of order
  ASSERT_TRUE(QuantileSketch::Deserialize(b.Bytes()).ok());
  b.count = 5;
  b.levels = {{1}, {2, 1}};
  ExpectRefused(QuantileSketch::Deserialize(b.Bytes()).status(), "not sorted ascending");
  b = {};
  b.levels = {};
  ExpectRefused(QuantileSketch::Deserialize(b.Bytes()).status(), "level count outside");
  b = {};
  b.trailing = "x";
  ExpectRefused(QuantileSketch::Deserialize(b.Bytes()).status(), "1 unexpected bytes");
  b = {};
  b.count = 0;
  b.distinct = {};
  b.levels = {{}};
  ExpectRefused(QuantileSketch::Deserialize(b.Bytes()).status(), "empty sketch must store 0");
  b.min = b.max = b.mean = b.m2 = 0;
  EXPECT_TRUE(QuantileSketch::Deserialize(b.Bytes()).ok());
  // More values than the levels can hold: 9 values in one level of k = 8.
  b = {};
  b.flags = 1;
  b.distinct = {};
  b.count = 9;
  b.levels = {{1, 1, 1, 1, 1, 1, 1, 1, 2}};
  ExpectRefused(QuantileSketch::Deserialize(b.Bytes()).status(), "capacity");
  // Declared sizes far beyond the bytes: refused before allocating.
  std::string huge;
  PutU32(&huge, 8);
  PutU64(&huge, 1);
  PutF64(&huge, 1);
  PutF64(&huge, 1);
  PutF64(&huge, 1);
  PutF64(&huge, 0);
  PutU64(&huge, 0);
  PutU8(&huge, 1);
  PutU8(&huge, 0);
  PutU8(&huge, 1);
  PutU32(&huge, 0xffffffff);
  ExpectRefused(QuantileSketch::Deserialize(Frame("TYKL", huge)).status(), "larger than the bytes that follow");
}

TEST(CategoryCountsBytes, RoundTripAndDocumentedExample) {
  // docs/format/stats-sketches.md: {"a": 2} with the default 1000 categories.
  CategoryCounts c;
  c.Add("a", 2);
  const std::string expected = std::string("TYCC\x01", 5) + std::string("\xe8\x03\0\0\0\0\0\0", 8) +
                               std::string("\x01\0\0\0", 4) + std::string("\x01\0\0\0", 4) + "a" +
                               std::string("\x02\0\0\0\0\0\0\0", 8);
  std::string framed = expected;
  coding::PutFixed32(&framed, Crc32(framed));
  EXPECT_EQ(c.Serialize(), framed);

  CategoryCounts big(3);
  for (const std::string& name : std::vector<std::string>{"x", "y", "z", "w", std::string("\0\xff", 2)})
    big.Add(name, 3);
  auto back = CategoryCounts::Deserialize(big.Serialize());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->counts(), big.counts());
  EXPECT_EQ(back->total(), big.total());
  EXPECT_EQ(back->max_categories(), 3u);
  EXPECT_EQ(back->Serialize(), big.Serialize());
  // Still capped after the round trip.
  back->Add("new");
  EXPECT_EQ(back->count("new"), 0u);
}

TEST(CategoryCountsBytes, RefusesDamage) {
  auto entries = [](uint64_t max, std::vector<std::pair<std::string, uint64_t>> list) {
    std::string b;
    PutU64(&b, max);
    PutU32(&b, static_cast<uint32_t>(list.size()));
    for (const auto& [name, n] : list) {
      PutU32(&b, static_cast<uint32_t>(name.size()));
      b += name;
      PutU64(&b, n);
    }
    return Frame("TYCC", b);
  };
  EXPECT_TRUE(CategoryCounts::Deserialize(entries(2, {{"__other__", 4}, {"a", 1}, {"b", 1}})).ok());
  ExpectRefused(CategoryCounts::Deserialize(entries(1, {{"a", 1}, {"b", 1}})).status(), "more named categories");
  ExpectRefused(CategoryCounts::Deserialize(entries(5, {{"b", 1}, {"a", 1}})).status(), "not strictly ascending");
  ExpectRefused(CategoryCounts::Deserialize(entries(5, {{"a", 1}, {"a", 1}})).status(), "not strictly ascending");
  ExpectRefused(CategoryCounts::Deserialize(entries(5, {{"a", 0}})).status(), "zero count");
  ExpectRefused(CategoryCounts::Deserialize(entries(5, {{"a", ~0ULL}, {"b", 1}})).status(), "overflow");
  std::string lying;
  PutU64(&lying, 5);
  PutU32(&lying, 1000000);
  ExpectRefused(CategoryCounts::Deserialize(Frame("TYCC", lying)).status(), "larger than the bytes");
  std::string long_name;
  PutU64(&long_name, 5);
  PutU32(&long_name, 1);
  PutU32(&long_name, 100);
  long_name += "abc";
  PutU64(&long_name, 1);
  ExpectRefused(CategoryCounts::Deserialize(Frame("TYCC", long_name)).status(), "truncated reading name");
}

TEST(VectorReservoirBytes, RoundTripAndDamage) {
  VectorReservoir r(4, 9);
  for (int i = 0; i < 10; ++i) r.Add(std::vector<float>{static_cast<float>(i), -1.5F});
  r.Add(std::vector<float>{1});  // refused, counted
  auto back = VectorReservoir::Deserialize(r.Serialize());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->vectors(), r.vectors());
  EXPECT_EQ(back->seen(), 10u);
  EXPECT_EQ(back->refused(), 1u);
  EXPECT_EQ(back->dim(), 2u);
  EXPECT_EQ(back->Serialize(), r.Serialize());
  EXPECT_TRUE(VectorReservoir::Deserialize(VectorReservoir().Serialize()).ok());

  auto body = [](uint32_t capacity, uint32_t dim, uint64_t seen, uint32_t n, std::vector<float> values) {
    std::string b;
    PutU32(&b, capacity);
    PutU32(&b, dim);
    PutU64(&b, seen);
    PutU64(&b, 0);
    PutU64(&b, 0);
    PutU32(&b, n);
    for (float v : values) PutF32(&b, v);
    return Frame("TYVR", b);
  };
  EXPECT_TRUE(VectorReservoir::Deserialize(body(2, 1, 5, 2, {1, 2})).ok());
  ExpectRefused(VectorReservoir::Deserialize(body(2, 1, 5, 1, {1})).status(), "min(seen, capacity)");
  ExpectRefused(VectorReservoir::Deserialize(body(0, 1, 0, 0, {})).status(), "capacity outside");
  ExpectRefused(VectorReservoir::Deserialize(body(2, 0, 1, 1, {})).status(), "dim must be 0");
  ExpectRefused(VectorReservoir::Deserialize(body(2, 1, 2, 2, {1, INFINITY})).status(), "not finite");
  ExpectRefused(VectorReservoir::Deserialize(body(70000, 1, 0, 0, {})).status(), "capacity outside");
  ExpectRefused(VectorReservoir::Deserialize(body(60000, 60000, 60000, 60000, {1})).status(), "larger than the bytes");
  ExpectRefused(VectorReservoir::Deserialize(body(2, 1, 2, 2, {1, 2, 3})).status(), "unexpected bytes");
}

}  // namespace
}  // namespace tyto::stats
