#include "tsdb/chunk/chunk.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "tsdb/chunk/bit_stream.h"
#include "tsdb/chunk/decimal.h"
#include "tsdb/chunk/integer_chunk.h"

namespace tyto::tsdb::chunk {
namespace {

using Samples = std::vector<std::pair<int64_t, double>>;

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr uint64_t kStaleNaN = 0x7ff0000000000002;  // Prometheus's staleness marker
constexpr uint64_t kPlainNaN = 0x7ff8000000000001;  // Prometheus's ordinary NaN
static_assert(kStaleNaN != kPlainNaN);

double FromBits(uint64_t b) { return std::bit_cast<double>(b); }
uint64_t Bits(double v) { return std::bit_cast<uint64_t>(v); }

// ---------------------------------------------------------------------------------------------
// Random series. Every generator draws from one seeded engine, so a failure reproduces.

double SpecialValue(std::mt19937_64& rng) {
  static constexpr uint64_t kSpecials[] = {
      kStaleNaN,          kPlainNaN,
      0x7ff8000000000000,  // the canonical quiet NaN
      0xfff8000000000000,  // negative NaN
      0x7ff4000000000000,  // a signalling NaN
      0x7fffffffffffffff,  // NaN, all payload bits
      0x7ff0000000000000,  // +Inf
      0xfff0000000000000,  // -Inf
      0x0000000000000000,  // 0.0
      0x8000000000000000,  // -0.0
      0x0000000000000001,  // the smallest denormal
      0x800fffffffffffff,  // the largest negative denormal
      0x7fefffffffffffff,  // the largest double
      0xffefffffffffffff,  // the lowest double
      0x3ff0000000000000,  // 1.0
  };
  if (rng() % 4 == 0) return FromBits(rng());  // any bits at all
  return FromBits(kSpecials[rng() % std::size(kSpecials)]);
}

std::vector<int64_t> RandomTimestamps(std::mt19937_64& rng, size_t n) {
  std::vector<int64_t> ts(n);
  switch (rng() % 6) {
    case 0:
    case 1: {  // scrapes: a grid with jitter and the odd missed or late scrape
      const int64_t interval = std::vector<int64_t>{1000, 15000, 30000, 60000}[rng() % 4];
      const int64_t jitter = std::vector<int64_t>{1, 26, 500}[rng() % 3];
      int64_t grid = static_cast<int64_t>(rng() % (int64_t{1} << 42)) - (int64_t{1} << 40);
      for (auto& t : ts) {
        grid += interval * (rng() % 40 == 0 ? 2 : 1);
        t = grid + static_cast<int64_t>(rng() % static_cast<uint64_t>(jitter)) + (rng() % 100 == 0 ? 7000 : 0);
      }
      break;
    }
    case 2: {  // increasing with random gaps of any size
      int64_t t = static_cast<int64_t>(rng());
      for (auto& x : ts) {
        t = static_cast<int64_t>(static_cast<uint64_t>(t) + (rng() >> (rng() % 64)));
        x = t;
      }
      break;
    }
    case 3:  // any int64 at all
      for (auto& t : ts) t = static_cast<int64_t>(rng());
      break;
    case 4: {  // extremes and small numbers
      const int64_t picks[] = {kMin, kMax, 0, -1, 1, kMin + 1, kMax - 1, 15000, -15000};
      for (auto& t : ts) t = rng() % 5 == 0 ? static_cast<int64_t>(rng()) : picks[rng() % std::size(picks)];
      break;
    }
    default: {  // decreasing, and the same timestamp repeated
      int64_t t = static_cast<int64_t>(rng() % 1000000);
      for (auto& x : ts) {
        if (rng() % 3) t -= static_cast<int64_t>(rng() % 100000);
        x = t;
      }
      break;
    }
  }
  return ts;
}

std::vector<double> RandomValues(std::mt19937_64& rng, size_t n) {
  std::vector<double> vs(n);
  switch (rng() % 8) {
    case 0:  // any bits
      for (auto& v : vs) v = FromBits(rng());
      break;
    case 1:  // special values only
      for (auto& v : vs) v = SpecialValue(rng);
      break;
    case 2: {  // a counter with resets
      int64_t c = static_cast<int64_t>(rng() % 1000000000);
      for (auto& v : vs) {
        c = rng() % 50 == 0 ? static_cast<int64_t>(rng() % 10) : c + static_cast<int64_t>(rng() % 1000);
        v = static_cast<double>(c);
      }
      break;
    }
    case 3: {  // a short decimal doing a random walk (temperatures, percentages)
      const int scale = static_cast<int>(rng() % 5);
      int64_t m = static_cast<int64_t>(rng() % 100000) - 50000;
      for (auto& v : vs) {
        m += static_cast<int64_t>(rng() % 21) - 10;
        v = FromScaledInteger(m, scale);
      }
      break;
    }
    case 4: {  // constant
      const double c = rng() % 2 ? SpecialValue(rng) : static_cast<double>(rng() % 100);
      for (auto& v : vs) v = c;
      break;
    }
    case 5: {  // a byte gauge moving in 4 KiB pages
      int64_t pages = static_cast<int64_t>(rng() % 10000000);
      for (auto& v : vs) {
        pages += static_cast<int64_t>(rng() % 2001) - 1000;
        v = static_cast<double>(pages * 4096);
      }
      break;
    }
    case 6: {  // decimals with the occasional special value (a staleness marker, say)
      for (auto& v : vs)
        v = rng() % 10 == 0 ? SpecialValue(rng) : FromScaledInteger(static_cast<int64_t>(rng() % 1000), 2);
      break;
    }
    default: {  // huge integers near the int64 and 2^53 limits, and long decimals
      for (auto& v : vs) {
        switch (rng() % 4) {
          case 0:
            v = std::ldexp(static_cast<double>(rng() % 1000 + 1), 50 + static_cast<int>(rng() % 14));
            break;
          case 1:
            v = -9.2233720368547758e18;
            break;
          case 2:
            v = FromScaledInteger(static_cast<int64_t>(rng() >> 11), static_cast<int>(rng() % 19));
            break;
          default:
            v = 0.1 + 0.2;
        }
      }
      break;
    }
  }
  return vs;
}

Samples RandomSamples(std::mt19937_64& rng, size_t max_n = 200) {
  const size_t n = rng() % 20 == 0 ? rng() % 3 : rng() % (max_n + 1);
  const auto ts = RandomTimestamps(rng, n);
  const auto vs = RandomValues(rng, n);
  Samples s(n);
  for (size_t i = 0; i < n; ++i) s[i] = {ts[i], vs[i]};
  return s;
}

// ---------------------------------------------------------------------------------------------
// Helpers

// Every sample a chunk yields, and the iterator's final status.
Samples ReadAll(const Chunk& chunk, Status* status = nullptr) {
  Samples out;
  auto it = chunk.NewIterator();
  while (it->Next()) out.emplace_back(it->t(), it->v());
  if (it->Next()) ADD_FAILURE() << "Next() returned true after returning false";
  if (status) *status = it->status();
  return out;
}

::testing::AssertionResult SameSamples(const Samples& want, const Samples& got) {
  for (size_t i = 0; i < std::min(want.size(), got.size()); ++i) {
    if (want[i].first != got[i].first || Bits(want[i].second) != Bits(got[i].second)) {
      return ::testing::AssertionFailure()
             << "sample " << i << ": want (" << want[i].first << ", 0x" << std::hex << Bits(want[i].second) << std::dec
             << ") got (" << got[i].first << ", 0x" << std::hex << Bits(got[i].second) << ")";
    }
  }
  if (want.size() != got.size()) {
    return ::testing::AssertionFailure() << "want " << want.size() << " samples, got " << got.size();
  }
  return ::testing::AssertionSuccess();
}

std::unique_ptr<Chunk> Build(Encoding e, const Samples& samples) {
  auto chunk = NewChunk(e);
  auto app = chunk->NewAppender();
  for (const auto& [t, v] : samples) app->Append(t, v);
  return chunk;
}

// The ways a test builds a chunk from samples.
enum class Builder { kXor, kIntegerGeneric, kIntegerPlanned, kBest };
constexpr Builder kBuilders[] = {Builder::kXor, Builder::kIntegerGeneric, Builder::kIntegerPlanned, Builder::kBest};

std::unique_ptr<Chunk> Build(Builder b, const Samples& samples) {
  switch (b) {
    case Builder::kXor:
      return Build(Encoding::kXor, samples);
    case Builder::kIntegerGeneric:
      return Build(Encoding::kInteger, samples);
    case Builder::kIntegerPlanned:
      return EncodeInteger(samples);
    case Builder::kBest:
      return EncodeBest(samples);
  }
  return nullptr;
}

std::unique_ptr<Chunk> Reopen(const Chunk& chunk) {
  auto r = ChunkFromBytes(chunk.encoding(), std::string(chunk.bytes()));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

// ---------------------------------------------------------------------------------------------
// Properties over random chunks

TEST(ChunkPropertyTest, RoundTripsEverySampleBitForBit) {
  std::mt19937_64 rng(1);
  for (int i = 0; i < 3000; ++i) {
    const Samples samples = RandomSamples(rng);
    for (const Builder b : kBuilders) {
      SCOPED_TRACE("chunk " + std::to_string(i) + " builder " + std::to_string(static_cast<int>(b)));
      auto chunk = Build(b, samples);
      ASSERT_EQ(chunk->num_samples(), static_cast<int>(samples.size()));
      Status status;
      ASSERT_TRUE(SameSamples(samples, ReadAll(*chunk, &status)));
      ASSERT_TRUE(status.ok()) << status.ToString();
      auto reopened = Reopen(*chunk);
      ASSERT_NE(reopened, nullptr);
      EXPECT_EQ(reopened->encoding(), chunk->encoding());
      EXPECT_EQ(reopened->num_samples(), chunk->num_samples());
      EXPECT_EQ(reopened->bytes(), chunk->bytes());
      ASSERT_TRUE(SameSamples(samples, ReadAll(*reopened, &status)));
      ASSERT_TRUE(status.ok()) << status.ToString();
    }
  }
}

TEST(ChunkPropertyTest, EncodeBestIsTheSmallestCandidate) {
  std::mt19937_64 rng(2);
  for (int i = 0; i < 1000; ++i) {
    const Samples samples = RandomSamples(rng);
    const auto best = EncodeBest(samples);
    EXPECT_LE(best->bytes().size(), Build(Encoding::kXor, samples)->bytes().size());
    if (best->encoding() == Encoding::kInteger) {
      EXPECT_EQ(best->bytes(), EncodeInteger(samples)->bytes());
    }
  }
}

// Where every value is a decimal, both encodings are tried: the result is never larger than
// the integer encoding either. (With few decimals kInteger is skipped; see chunk.cc.)
TEST(ChunkPropertyTest, EncodeBestNeverLosesToIntegerOnDecimalValues) {
  std::mt19937_64 rng(3);
  for (int i = 0; i < 500; ++i) {
    Samples samples = RandomSamples(rng);
    for (auto& [t, v] : samples) v = static_cast<double>(static_cast<int64_t>(rng() % 20000)) / 10.0;
    const auto best = EncodeBest(samples);
    EXPECT_LE(best->bytes().size(), EncodeInteger(samples)->bytes().size()) << "sample set " << i;
    EXPECT_LE(best->bytes().size(), Build(Encoding::kXor, samples)->bytes().size()) << "sample set " << i;
  }
}

TEST(ChunkPropertyTest, AppendingAfterReopeningContinuesTheSameStream) {
  std::mt19937_64 rng(3);
  for (int i = 0; i < 2000; ++i) {
    const Samples samples = RandomSamples(rng);
    const size_t split = samples.empty() ? 0 : rng() % (samples.size() + 1);
    const Samples head(samples.begin(), samples.begin() + static_cast<ptrdiff_t>(split));
    for (const Builder b : kBuilders) {
      SCOPED_TRACE("chunk " + std::to_string(i) + " builder " + std::to_string(static_cast<int>(b)));
      // Build the first part, persist it, reopen, append the rest.
      auto first = Build(b, head);
      auto reopened = Reopen(*first);
      ASSERT_NE(reopened, nullptr);
      auto app = reopened->NewAppender();
      ASSERT_NE(app, nullptr);
      for (size_t j = split; j < samples.size(); ++j) app->Append(samples[j].first, samples[j].second);
      Status status;
      ASSERT_TRUE(SameSamples(samples, ReadAll(*reopened, &status)));
      ASSERT_TRUE(status.ok()) << status.ToString();
      // The same bytes as appending everything to the first chunk directly.
      auto direct = first->NewAppender();
      for (size_t j = split; j < samples.size(); ++j) direct->Append(samples[j].first, samples[j].second);
      EXPECT_EQ(reopened->bytes(), first->bytes());
    }
  }
}

// A reference model of Seek and Next over a vector, to compare iterators against.
class ModelIterator {
 public:
  explicit ModelIterator(const Samples& s) : s_(s) {}
  bool Next() {
    if (pos_ < static_cast<int64_t>(s_.size())) ++pos_;
    return valid();
  }
  bool Seek(int64_t t) {
    if (valid() && s_[pos_].first >= t) return true;
    while (Next()) {
      if (s_[pos_].first >= t) return true;
    }
    return false;
  }
  bool valid() const { return pos_ >= 0 && pos_ < static_cast<int64_t>(s_.size()); }
  const std::pair<int64_t, double>& at() const { return s_[pos_]; }

 private:
  const Samples& s_;
  int64_t pos_ = -1;
};

// Random Next and Seek calls on `chunk`'s iterator and on the model agree (`what` names the case).
void ExpectSeekMatchesTheModel(const Chunk& chunk, const Samples& samples, std::mt19937_64& rng,
                               const std::string& what) {
  auto it = chunk.NewIterator();
  ModelIterator model(samples);
  for (int op = 0; op < 12; ++op) {
    bool got = false;
    bool want = false;
    if (rng() % 3 == 0) {
      got = it->Next();
      want = model.Next();
    } else {
      // A target near a sample's timestamp, or anywhere.
      int64_t target = static_cast<int64_t>(rng());
      if (!samples.empty() && rng() % 4 != 0) {
        target = samples[rng() % samples.size()].first;
        if (rng() % 2) target = static_cast<int64_t>(static_cast<uint64_t>(target) + rng() % 3 - 1);
      }
      got = it->Seek(target);
      want = model.Seek(target);
    }
    ASSERT_EQ(got, want) << what << " op " << op;
    if (want) {
      EXPECT_EQ(it->t(), model.at().first) << what;
      EXPECT_EQ(Bits(it->v()), Bits(model.at().second)) << what;
    }
  }
  EXPECT_TRUE(it->status().ok()) << what;
}

TEST(ChunkPropertyTest, SeekMatchesTheModel) {
  std::mt19937_64 rng(4);
  for (int i = 0; i < 2000; ++i) {
    Samples samples = RandomSamples(rng);
    if (rng() % 2) std::sort(samples.begin(), samples.end(), [](auto& a, auto& b) { return a.first < b.first; });
    for (const Builder b : kBuilders) {
      ExpectSeekMatchesTheModel(*Build(b, samples), samples, rng, "chunk " + std::to_string(i));
    }
  }
}

// A truncated chunk never reads as complete: opening fails, or iteration ends with kCorruption
// after yielding only samples that are a prefix of the original.
TEST(ChunkPropertyTest, EveryTruncationIsDetected) {
  std::mt19937_64 rng(5);
  for (int i = 0; i < 150; ++i) {
    const Samples samples = RandomSamples(rng, 60);
    for (const Builder b : kBuilders) {
      auto chunk = Build(b, samples);
      const std::string bytes(chunk->bytes());
      for (size_t len = 0; len < bytes.size(); ++len) {
        auto r = ChunkFromBytes(chunk->encoding(), bytes.substr(0, len));
        if (!r.ok()) {
          EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << r.status().ToString();
          continue;
        }
        Status status;
        const Samples got = ReadAll(**r, &status);
        ASSERT_EQ(status.code(), StatusCode::kCorruption)
            << "chunk " << i << " truncated to " << len << " of " << bytes.size() << " bytes read as complete";
        ASSERT_LT(got.size(), samples.size());
        ASSERT_TRUE(SameSamples(Samples(samples.begin(), samples.begin() + static_cast<ptrdiff_t>(got.size())), got));
        EXPECT_EQ((*r)->NewAppender(), nullptr);
      }
    }
  }
}

// Flipped bits are not detectable in general (blocks add checksums), but they never make a
// reader go out of bounds or loop, and a chunk that still decodes can be appended to.
TEST(ChunkPropertyTest, BitFlipsNeverCrash) {
  std::mt19937_64 rng(6);
  for (int i = 0; i < 3000; ++i) {
    const Samples samples = RandomSamples(rng, 120);
    const Builder b = kBuilders[rng() % std::size(kBuilders)];
    auto chunk = Build(b, samples);
    std::string bytes(chunk->bytes());
    const int flips = 1 + static_cast<int>(rng() % 3);
    for (int f = 0; f < flips; ++f) {
      const size_t bit = rng() % (8 * bytes.size());
      bytes[bit / 8] = static_cast<char>(bytes[bit / 8] ^ (1 << (bit % 8)));
    }
    auto r = ChunkFromBytes(chunk->encoding(), bytes);
    if (!r.ok()) continue;
    Chunk& flipped = **r;
    Status status;
    const Samples got = ReadAll(flipped, &status);
    ASSERT_LE(got.size(), static_cast<size_t>(flipped.num_samples()));
    if (!status.ok()) {
      EXPECT_EQ(status.code(), StatusCode::kCorruption);
      EXPECT_EQ(flipped.NewAppender(), nullptr);
      continue;
    }
    ASSERT_EQ(got.size(), static_cast<size_t>(flipped.num_samples()));
    if (got.size() >= static_cast<size_t>(kMaxSamples) - 2) continue;
    auto app = flipped.NewAppender();
    ASSERT_NE(app, nullptr);
    Samples want = got;
    for (const auto& [t, v] : RandomSamples(rng, 2)) {
      app->Append(t, v);
      want.emplace_back(t, v);
    }
    ASSERT_TRUE(SameSamples(want, ReadAll(flipped, &status))) << "chunk " << i;
    EXPECT_TRUE(status.ok());
  }
}

TEST(ChunkPropertyTest, ArbitraryBytesNeverCrash) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 5000; ++i) {
    std::string bytes(rng() % 64, '\0');
    for (auto& c : bytes) c = static_cast<char>(rng());
    if (bytes.size() >= 2 && rng() % 2) bytes[1] = 0;  // a plausible sample count
    for (const Encoding e : {Encoding::kXor, Encoding::kInteger, Encoding::kXorValues, Encoding::kIntegerValues}) {
      auto r = ChunkFromBytes(e, bytes);
      if (!r.ok()) continue;
      Status status;
      const Samples got = ReadAll(**r, &status);
      EXPECT_LE(got.size(), static_cast<size_t>((*r)->num_samples()));
      EXPECT_TRUE(status.ok() || status.code() == StatusCode::kCorruption);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Values-only chunks and timestamp columns

// The samples' values at timestamps 0, 1, 2, ...: what a values-only chunk reads as alone.
Samples AtIndexes(const Samples& samples) {
  Samples out;
  for (size_t i = 0; i < samples.size(); ++i) out.emplace_back(static_cast<int64_t>(i), samples[i].second);
  return out;
}

// A timestamp column for `samples`: their timestamps, values 0.
std::unique_ptr<Chunk> Column(const Samples& samples) {
  Samples ts;
  for (const auto& [t, v] : samples) ts.emplace_back(t, 0.0);
  return EncodeBest(ts);
}

std::unique_ptr<Chunk> Joined(const Chunk& column, const Chunk& values) {
  auto r = WithTimestamps(Reopen(column), Reopen(values));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

TEST(ValuesOnlyTest, RoundTripAloneAndJoinedWithAColumn) {
  std::mt19937_64 rng(11);
  for (int i = 0; i < 2000; ++i) {
    const Samples samples = RandomSamples(rng);
    const auto column = Column(samples);
    for (int b = 0; b < 3; ++b) {
      SCOPED_TRACE("chunk " + std::to_string(i) + " builder " + std::to_string(b));
      auto values = b == 0   ? Build(Encoding::kXorValues, samples)
                    : b == 1 ? Build(Encoding::kIntegerValues, samples)
                             : EncodeBestValues(samples);
      ASSERT_TRUE(IsValuesOnly(values->encoding()));
      Status status;
      ASSERT_TRUE(SameSamples(AtIndexes(samples), ReadAll(*values, &status)));
      ASSERT_TRUE(status.ok()) << status.ToString();
      auto reopened = Reopen(*values);
      ASSERT_NE(reopened, nullptr);
      EXPECT_EQ(reopened->bytes(), values->bytes());
      auto joined = Joined(*column, *values);
      ASSERT_NE(joined, nullptr);
      EXPECT_EQ(joined->encoding(), values->encoding());
      EXPECT_EQ(joined->NewAppender(), nullptr);
      ASSERT_TRUE(SameSamples(samples, ReadAll(*joined, &status)));
      ASSERT_TRUE(status.ok()) << status.ToString();
      // Appending after reopening continues the same stream.
      const size_t split = samples.empty() ? 0 : rng() % (samples.size() + 1);
      auto first = Build(values->encoding(), Samples(samples.begin(), samples.begin() + static_cast<ptrdiff_t>(split)));
      auto again = Reopen(*first);
      auto app = again->NewAppender();
      ASSERT_NE(app, nullptr);
      for (size_t j = split; j < samples.size(); ++j) app->Append(samples[j].first, samples[j].second);
      ASSERT_TRUE(SameSamples(AtIndexes(samples), ReadAll(*again, &status)));
    }
  }
}

// Dropping the timestamps is what values-only chunks are for: they are never larger than the
// same encoder with timestamps.
TEST(ValuesOnlyTest, NeverLargerThanWithTimestamps) {
  std::mt19937_64 rng(12);
  for (int i = 0; i < 500; ++i) {
    const Samples samples = RandomSamples(rng);
    EXPECT_LE(Build(Encoding::kXorValues, samples)->bytes().size(), Build(Encoding::kXor, samples)->bytes().size());
    EXPECT_LE(EncodeBestValues(samples)->bytes().size(), Build(Encoding::kXorValues, samples)->bytes().size());
  }
}

TEST(ValuesOnlyTest, JoinedSeekMatchesTheModel) {
  std::mt19937_64 rng(13);
  for (int i = 0; i < 1000; ++i) {
    Samples samples = RandomSamples(rng);
    std::sort(samples.begin(), samples.end(), [](auto& a, auto& b) { return a.first < b.first; });
    auto joined = Joined(*Column(samples), *EncodeBestValues(samples));
    ASSERT_NE(joined, nullptr);
    ExpectSeekMatchesTheModel(*joined, samples, rng, "chunk " + std::to_string(i));
  }
}

TEST(ValuesOnlyTest, TruncationIsDetected) {
  std::mt19937_64 rng(14);
  for (int i = 0; i < 100; ++i) {
    const Samples samples = RandomSamples(rng, 60);
    for (const Encoding e : {Encoding::kXorValues, Encoding::kIntegerValues}) {
      const std::string bytes(e == Encoding::kXorValues ? Build(e, samples)->bytes() : EncodeBestValues(samples)->bytes());
      for (size_t len = 0; len < bytes.size(); ++len) {
        auto r = ChunkFromBytes(e, bytes.substr(0, len));
        if (!r.ok()) continue;
        Status status;
        const Samples got = ReadAll(**r, &status);
        ASSERT_EQ(status.code(), StatusCode::kCorruption) << "chunk " << i << " truncated to " << len;
      }
    }
  }
}

TEST(ValuesOnlyTest, WithTimestampsChecksItsInputs) {
  const Samples samples = {{1000, 1}, {2000, 2}, {3000, 3}};
  const Samples fewer = {{1000, 1}, {2000, 2}};
  auto expect_corrupt = [](std::unique_ptr<Chunk> ts, std::unique_ptr<Chunk> values, std::string_view why) {
    auto r = WithTimestamps(std::move(ts), std::move(values));
    ASSERT_FALSE(r.ok()) << why;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << why;
  };
  expect_corrupt(Column(fewer), EncodeBestValues(samples), "fewer timestamps than values");
  expect_corrupt(Column(samples), EncodeBest(samples), "values with their own timestamps");
  expect_corrupt(EncodeBestValues(samples), EncodeBestValues(samples), "a values-only column");
  EXPECT_TRUE(WithTimestamps(Column(samples), EncodeBestValues(samples)).ok());
}

// ---------------------------------------------------------------------------------------------
// Particular cases

TEST(ChunkTest, NaNPayloadsInfinitiesSignedZerosAndDenormalsKeepTheirBits) {
  const Samples samples = {
      {1000, FromBits(kPlainNaN)},
      {2000, FromBits(kStaleNaN)},
      {3000, FromBits(kPlainNaN)},
      {4000, -0.0},
      {5000, 0.0},
      {6000, -0.0},
      {7000, 4.9e-324},
      {8000, -2.2250738585072009e-308},
      {9000, std::numeric_limits<double>::infinity()},
      {10000, -std::numeric_limits<double>::infinity()},
      {11000, 42.5},
      {12000, FromBits(kStaleNaN)},
  };
  for (const Builder b : kBuilders) {
    auto chunk = Build(b, samples);
    EXPECT_TRUE(SameSamples(samples, ReadAll(*chunk)));
  }
}

TEST(ChunkTest, ExtremeTimestampsRoundTrip) {
  const Samples samples = {{kMin, 1}, {kMax, 2}, {kMin, 3}, {0, 4}, {-1, 5}, {kMax, 6}, {kMax, 7}, {kMin + 1, 8}};
  for (const Builder b : kBuilders) {
    EXPECT_TRUE(SameSamples(samples, ReadAll(*Build(b, samples))));
  }
}

TEST(ChunkTest, EmptyChunk) {
  for (const Encoding e : {Encoding::kXor, Encoding::kInteger}) {
    auto chunk = NewChunk(e);
    EXPECT_EQ(chunk->encoding(), e);
    EXPECT_EQ(chunk->num_samples(), 0);
    auto it = chunk->NewIterator();
    EXPECT_FALSE(it->Next());
    EXPECT_FALSE(it->Seek(kMin));
    EXPECT_TRUE(it->status().ok());
    auto reopened = Reopen(*chunk);
    ASSERT_NE(reopened, nullptr);
    EXPECT_EQ(reopened->num_samples(), 0);
    EXPECT_NE(reopened->NewAppender(), nullptr);
  }
  EXPECT_EQ(EncodeBest({})->num_samples(), 0);
}

TEST(ChunkTest, HoldsTheMaximumSampleCount) {
  Samples samples;
  for (int i = 0; i < kMaxSamples; ++i) samples.emplace_back(int64_t{15000} * i, i % 7);
  for (const Builder b : kBuilders) {
    auto chunk = Build(b, samples);
    EXPECT_EQ(chunk->num_samples(), kMaxSamples);
    EXPECT_TRUE(SameSamples(samples, ReadAll(*Reopen(*chunk))));
  }
}

TEST(ChunkDeathTest, AppendingPastTheMaximumAborts) {
  auto chunk = NewChunk(Encoding::kXor);
  auto app = chunk->NewAppender();
  for (int i = 0; i < kMaxSamples; ++i) app->Append(i, 0);
  EXPECT_DEATH(app->Append(kMaxSamples, 0), "");
}

TEST(ChunkTest, AppendersOfOneChunkShareItsState) {
  auto chunk = NewChunk(Encoding::kXor);
  auto a = chunk->NewAppender();
  auto b = chunk->NewAppender();
  a->Append(1000, 1.5);
  b->Append(2000, 2.5);
  a->Append(3000, 2.5);
  EXPECT_TRUE(SameSamples({{1000, 1.5}, {2000, 2.5}, {3000, 2.5}}, ReadAll(*chunk)));
}

TEST(ChunkTest, IteratorStopsForGoodAtTheEnd) {
  auto chunk = Build(Encoding::kXor, {{1, 1}, {2, 2}});
  auto it = chunk->NewIterator();
  EXPECT_TRUE(it->Seek(2));
  EXPECT_EQ(it->t(), 2);
  EXPECT_TRUE(it->Seek(1));  // never backwards: the current sample already qualifies
  EXPECT_EQ(it->t(), 2);
  EXPECT_FALSE(it->Seek(3));
  EXPECT_FALSE(it->Next());
  EXPECT_FALSE(it->Seek(kMin));
  EXPECT_TRUE(it->status().ok());
}

TEST(ChunkTest, EncodingNames) {
  EXPECT_EQ(EncodingName(Encoding::kXor), "xor");
  EXPECT_EQ(EncodingName(Encoding::kInteger), "integer");
  EXPECT_EQ(EncodingName(Encoding::kXorValues), "xor-values");
  EXPECT_EQ(EncodingName(Encoding::kIntegerValues), "integer-values");
  EXPECT_EQ(EncodingName(static_cast<Encoding>(2)), "unknown");
}

TEST(ChunkFromBytesTest, RejectsUnknownEncodingsAndBadHeaders) {
  auto histogram = ChunkFromBytes(static_cast<Encoding>(2), std::string("\0\0", 2));
  ASSERT_FALSE(histogram.ok());
  EXPECT_EQ(histogram.status().code(), StatusCode::kUnimplemented);

  auto expect_corrupt = [](Encoding e, std::string bytes, std::string_view why) {
    auto r = ChunkFromBytes(e, std::move(bytes));
    ASSERT_FALSE(r.ok()) << why;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << why;
    EXPECT_FALSE(r.status().message().empty());
  };
  expect_corrupt(Encoding::kXor, "", "no count field");
  expect_corrupt(Encoding::kXor, std::string("\0", 1), "half a count field");
  expect_corrupt(Encoding::kXor, std::string("\0\0\x01", 3), "bytes after an empty chunk");
  expect_corrupt(Encoding::kInteger, std::string("\0\0\0\0", 4), "short header");
  expect_corrupt(Encoding::kInteger, std::string("\0\0\x02\0\0", 5), "no timestamps in a chunk that has them");
  expect_corrupt(Encoding::kInteger, std::string("\0\0\x03\0\0", 5), "unknown timestamp mode");
  expect_corrupt(Encoding::kIntegerValues, std::string("\0\0\0\0\0", 5), "timestamps in a values-only chunk");
  expect_corrupt(Encoding::kIntegerValues, std::string("\0\0\x01\0\0", 5), "grid mode in a values-only chunk");
  EXPECT_TRUE(ChunkFromBytes(Encoding::kIntegerValues, std::string("\0\0\x02\0\0", 5)).ok());
  expect_corrupt(Encoding::kInteger, std::string("\0\0\x04\0\0", 5), "grid width in delta-of-delta mode");
  expect_corrupt(Encoding::kInteger, std::string("\0\0\x01\0\0\x01\x00", 7), "grid mode without a width");
  expect_corrupt(Encoding::kInteger, std::string("\0\0\0\x13\0", 5), "scale 19");
  expect_corrupt(Encoding::kInteger, std::string("\0\0\0\x60\0", 5), "prediction order 3");
  expect_corrupt(Encoding::kInteger, std::string("\0\0\0\0\x40", 5), "drift flag without a drift");
  expect_corrupt(Encoding::kInteger, std::string("\0\0\0\0\x40\x00", 6), "drift 0 stated explicitly");
  expect_corrupt(Encoding::kInteger, std::string("\x02\0\0\0\x80\x02", 6), "repeats not below the count");
  expect_corrupt(Encoding::kInteger, std::string("\0\0\0\0\x80\x01", 6), "repeats in an empty chunk");
  expect_corrupt(Encoding::kInteger, std::string("\0\0\0\x80\0\x01", 6), "value step 1 stated explicitly");
  expect_corrupt(Encoding::kInteger, std::string("\0\0\0\x80\0\x82", 6), "truncated value step");
  expect_corrupt(Encoding::kInteger, std::string("\0\0\x05\0\0\x80", 6), "truncated grid interval");
  EXPECT_TRUE(ChunkFromBytes(Encoding::kInteger, std::string("\0\0\0\0\0", 5)).ok());
}

TEST(ChunkTest, CorruptChunkGivesNoAppender) {
  auto chunk = Build(Encoding::kXor, {{1000, 1}, {2000, 2}, {3000, 4}});
  std::string bytes(chunk->bytes());
  bytes[0] = 60;  // claims more samples than there are
  auto r = ChunkFromBytes(Encoding::kXor, bytes);
  ASSERT_TRUE(r.ok());
  Status status;
  ReadAll(**r, &status);
  EXPECT_EQ(status.code(), StatusCode::kCorruption);
  EXPECT_NE(status.message().find("xor chunk: truncated (sample "), std::string::npos) << status.message();
  EXPECT_EQ((*r)->NewAppender(), nullptr);
}

// ---------------------------------------------------------------------------------------------
// The integer encoding's parts

TEST(DecimalTest, FindsTheSmallestScale) {
  auto expect = [](double v, int scale, int64_t mantissa) {
    auto d = FindDecimal(v);
    ASSERT_TRUE(d.has_value()) << v;
    EXPECT_EQ(d->scale, scale) << v;
    EXPECT_EQ(d->mantissa, mantissa) << v;
  };
  expect(0.0, 0, 0);
  expect(1.0, 0, 1);
  expect(-17.0, 0, -17);
  expect(0.1, 1, 1);
  expect(45.3, 1, 453);
  expect(-0.25, 2, -25);
  expect(1e-9, 9, 1);
  expect(123456.789, 3, 123456789);
  expect(1200.0, 0, 1200);
  expect(std::ldexp(1.0, 60), 0, int64_t{1} << 60);
  expect(-9.2233720368547758e18, 0, kMin);
  EXPECT_FALSE(FindDecimal(-0.0));
  EXPECT_FALSE(FindDecimal(FromBits(kStaleNaN)));
  EXPECT_FALSE(FindDecimal(std::numeric_limits<double>::infinity()));
  EXPECT_FALSE(FindDecimal(0.1 + 0.2));  // 0.30000000000000004
  EXPECT_FALSE(FindDecimal(1e19));       // beyond int64
  EXPECT_FALSE(FindDecimal(4.9e-324));
  EXPECT_FALSE(FindDecimal(1.0 / 3));
}

TEST(DecimalTest, EveryFoundDecimalDecodesToTheSameBits) {
  std::mt19937_64 rng(8);
  for (int i = 0; i < 200000; ++i) {
    const double v = i % 2 ? FromBits(rng())
                           : FromScaledInteger(static_cast<int64_t>(rng() >> (rng() % 64)),
                                               static_cast<int>(rng() % (kMaxScale + 1)));
    const auto d = FindDecimal(v);
    if (!d) continue;
    ASSERT_EQ(Bits(FromScaledInteger(d->mantissa, d->scale)), Bits(v)) << v;
    for (int scale = d->scale; scale <= kMaxScale; ++scale) {
      const auto m = ScaleDecimal(*d, v, scale);
      if (m) {
        ASSERT_EQ(Bits(FromScaledInteger(*m, scale)), Bits(v));
      }
    }
  }
}

TEST(GridSnapTest, MovesByWholeIntervalsOnly) {
  EXPECT_EQ(GridSnap(0, 15000), 0u);
  EXPECT_EQ(GridSnap(300, 15000), 0u);  // a late scrape leaves the grid
  EXPECT_EQ(GridSnap(-7499, 15000), 0u);
  EXPECT_EQ(GridSnap(15012, 15000), 15000u);  // a missed scrape moves it
  EXPECT_EQ(GridSnap(-15012, 15000), static_cast<uint64_t>(-15000));
  EXPECT_EQ(GridSnap(kMax, 15000) % 15000, 0u);
  EXPECT_EQ(GridSnap(kMin, 1), static_cast<uint64_t>(kMin));
  EXPECT_EQ(GridSnap(12345, 0), 0u);
}

Samples Scrapes(std::mt19937_64& rng, size_t n, const std::function<double(size_t)>& value) {
  Samples s;
  const int64_t start = 1700000000000;
  for (size_t i = 0; i < n; ++i)
    s.emplace_back(start + 15000 * static_cast<int64_t>(i) + static_cast<int64_t>(rng() % 26), value(i));
  return s;
}

TEST(IntegerPlanTest, PutsJitteredScrapesOnAGrid) {
  std::mt19937_64 rng(9);
  const Samples s = Scrapes(rng, 120, [](size_t i) { return static_cast<double>(1000 + 37 * i); });
  const IntegerParams p = PlanInteger(s);
  EXPECT_EQ(p.timestamp_mode, TimestampMode::kGrid);
  EXPECT_EQ(p.grid_interval, 15000u);
  EXPECT_LE(p.grid_width, 5);
  EXPECT_EQ(p.scale, 0);
  EXPECT_EQ(p.gcd, 37u);
}

TEST(IntegerPlanTest, FindsScaleAndStep) {
  std::mt19937_64 rng(10);
  // Memory in 4 KiB pages.
  const Samples mem = Scrapes(rng, 120, [&](size_t) { return static_cast<double>(4096 * (1000000 + rng() % 5000)); });
  EXPECT_EQ(PlanInteger(mem).gcd, 4096u);
  // A temperature with one decimal.
  const Samples temp =
      Scrapes(rng, 120, [&](size_t i) { return FromScaledInteger(450 + static_cast<int64_t>(i % 9), 1); });
  const IntegerParams p = PlanInteger(temp);
  EXPECT_EQ(p.scale, 1);
  EXPECT_EQ(p.gcd, 1u);
}

TEST(EncodeBestTest, PicksIntegerForCountersAndXorForNoise) {
  std::mt19937_64 rng(11);
  int64_t c = 0;
  const Samples counter = Scrapes(rng, 120, [&](size_t) { return static_cast<double>(c += rng() % 500); });
  const auto best = EncodeBest(counter);
  EXPECT_EQ(best->encoding(), Encoding::kInteger);
  // The grid and the Rice-coded deltas must save at least a third over XOR here.
  EXPECT_LT(3 * best->bytes().size(), 2 * Build(Encoding::kXor, counter)->bytes().size());

  std::normal_distribution<double> noise(0, 0.01);
  const Samples gauge = Scrapes(rng, 120, [&](size_t) { return 0.5 + noise(rng); });
  EXPECT_EQ(EncodeBest(gauge)->encoding(), Encoding::kXor);

  // One staleness marker at the end does not push a decimal series to XOR.
  Samples stale = counter;
  stale.back().second = FromBits(kStaleNaN);
  EXPECT_EQ(EncodeBest(stale)->encoding(), Encoding::kInteger);
  EXPECT_TRUE(SameSamples(stale, ReadAll(*EncodeBest(stale))));
}

// Integer chunks with any valid parameters, not just the planner's, hold any samples: this
// drives every escape (residuals too large for the Rice code, values that are no decimal at the
// scale or off the step, timestamps off the grid).
TEST(IntegerChunkPropertyTest, AnyParametersHoldAnySamples) {
  std::mt19937_64 rng(13);
  for (int i = 0; i < 2000; ++i) {
    Samples samples = RandomSamples(rng, 150);
    IntegerParams p;
    if (rng() % 2) {
      p.timestamp_mode = TimestampMode::kGrid;
      p.grid_width = 1 + static_cast<int>(rng() % 63);
      p.grid_interval = rng() % 4 ? 15000 : rng() >> 1;
      p.grid_offset = static_cast<int64_t>(rng() % 64) - 32;
    }
    p.scale = static_cast<int>(rng() % (kMaxScale + 1));
    p.order = static_cast<int>(rng() % 3);
    p.gcd = rng() % 3 ? 1 : 1 + rng() % 5000;
    p.drift = rng() % 2 ? 0 : static_cast<int64_t>(rng() % 1000) - 500;
    p.rice = static_cast<int>(rng() % 64);
    if (samples.size() > 1 && rng() % 3 == 0) {
      p.repeats = 1 + static_cast<int>(rng() % (samples.size() - 1));
      for (int j = 1; j <= p.repeats; ++j) samples[j].second = samples[0].second;
    }
    SCOPED_TRACE("chunk " + std::to_string(i));
    IntegerChunk chunk(p);
    for (const auto& [t, v] : samples) chunk.Append(t, v);
    Status status;
    ASSERT_TRUE(SameSamples(samples, ReadAll(chunk, &status)));
    ASSERT_TRUE(status.ok()) << status.ToString();
    auto reopened = Reopen(chunk);
    ASSERT_NE(reopened, nullptr);
    ASSERT_TRUE(SameSamples(samples, ReadAll(*reopened, &status)));
    // Appending after reopening continues the same stream.
    auto app = reopened->NewAppender();
    ASSERT_NE(app, nullptr);
    const Samples more = RandomSamples(rng, 20);
    for (const auto& [t, v] : more) app->Append(t, v);
    samples.insert(samples.end(), more.begin(), more.end());
    ASSERT_TRUE(SameSamples(samples, ReadAll(*reopened, &status)));
    ASSERT_TRUE(status.ok()) << status.ToString();
  }
}

TEST(IntegerPlanTest, CountersGetADriftAndConstantRunsAreFree) {
  std::mt19937_64 rng(14);
  double c = 1e6;
  const Samples counter = Scrapes(rng, 120, [&](size_t) { return c += 200 + static_cast<double>(rng() % 21) - 10; });
  const IntegerParams p = PlanInteger(counter);
  EXPECT_EQ(p.order, 1);
  EXPECT_NEAR(static_cast<double>(p.drift), 200, 10);

  const Samples constant = Scrapes(rng, 120, [](size_t) { return 42.0; });
  const IntegerParams q = PlanInteger(constant);
  EXPECT_EQ(q.repeats, 119);
  // The value costs nothing but its first occurrence: the chunk is about the timestamps' 5 bits
  // each, plus headers.
  EXPECT_LE(EncodeInteger(constant)->bytes().size(), 119 * 5 / 8 + 24);

  // A constant run that ends: the run is free, the rest coded as usual.
  Samples steps = constant;
  for (size_t i = 60; i < steps.size(); ++i) steps[i].second = 43;
  EXPECT_EQ(PlanInteger(steps).repeats, 59);
  EXPECT_TRUE(SameSamples(steps, ReadAll(*EncodeInteger(steps))));
}

TEST(IntegerChunkTest, EscapesPickTheShorterForm) {
  IntegerParams p;  // order 1, Rice parameter 3: residuals up to 63 fit without an escape
  auto size_after = [&](const Samples& s) {
    IntegerChunk chunk(p);
    for (const auto& [t, v] : s) chunk.Append(t, v);
    EXPECT_TRUE(SameSamples(s, ReadAll(chunk)));
    return chunk.bytes().size();
  };
  const size_t base = size_after({{0, 1e9}, {15000, 1e9 + 5}});
  // A jump of 1000 escapes with the residual (2 varint bytes), not the value (5 bytes).
  EXPECT_LE(size_after({{0, 1e9}, {15000, 1e9 + 1000}}), base + 3);
  // A counter reset to 7 escapes with the value (1 byte), not the residual (5 bytes).
  EXPECT_LE(size_after({{0, 1e9}, {15000, 7}}), base + 2);
  // A staleness marker escapes with its raw bits.
  EXPECT_TRUE(SameSamples({{0, 1e9}, {15000, FromBits(kStaleNaN)}, {30000, 1e9}},
                          ReadAll(*EncodeInteger({{0, 1e9}, {15000, FromBits(kStaleNaN)}, {30000, 1e9}}))));
}

TEST(XorTest, ConstantRegularSeriesCostsAboutTwoBitsPerSample) {
  Samples s;
  for (int i = 0; i < 120; ++i) s.emplace_back(1700000000000 + int64_t{15000} * i, 1.0);
  // 2 count bytes + 6 (first timestamp) + 8 (first value) + 3 (second timestamp) + 1 bit per
  // later timestamp and value.
  EXPECT_LE(Build(Encoding::kXor, s)->bytes().size(), 2u + 6 + 8 + 3 + (119 * 2 + 7) / 8);
}

TEST(BitStreamTest, WritesAndReadsEveryWidth) {
  std::mt19937_64 rng(12);
  BitWriter w;
  std::vector<std::pair<uint64_t, int>> fields;
  for (int i = 0; i < 5000; ++i) {
    const int n = static_cast<int>(rng() % 65);
    const uint64_t v = rng() & LowBits(n);
    fields.emplace_back(v, n);
    w.Write(v, n);
  }
  BitReader r(w.bytes().data(), w.bytes().size());
  for (const auto& [v, n] : fields) ASSERT_EQ(r.ReadUpTo64(n), v);
  EXPECT_FALSE(r.overrun());
  EXPECT_EQ(r.position(), w.bit_length());
  r.ReadUpTo64(8);
  EXPECT_TRUE(r.overrun());
}

}  // namespace
}  // namespace tyto::tsdb::chunk
