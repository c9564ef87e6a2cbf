// The integer encoding (Encoding::kInteger), private to src/tsdb/chunk; layout in
// docs/format/chunks.md.
//
// Monitoring values are mostly short decimals: counters, byte gauges, percentages,
// temperatures. Such a value v is m / 10^scale for an int64 m (decimal.h), and consecutive m
// differ by small amounts, often multiples of a common step (4096-byte pages). A chunk stores,
// with parameters chosen per chunk (integer_plan.cc):
//   timestamps  as delta-of-delta buckets (as XOR does), or as fixed-width offsets from a
//               regular grid (scrapes fire on a ticker, so t = t0 + n * interval + jitter);
//   values      m minus a prediction (order 0: the chunk's first integer; 1: the previous
//               plus a constant `drift`, a counter's typical increase; 2: the previous plus
//               the previous delta), divided by the common step `gcd`, zig-zagged and
//               Rice-coded with parameter `rice`; and a run of `repeats` samples after the
//               first whose values are the first value again costs no value bits at all.
// Escapes keep it lossless for any sample: a residual too large for the Rice code is written
// as a varint (or the absolute m, if shorter: a counter reset), and a value that is no decimal
// at the chunk's scale as its raw 64 bits, so appending arbitrary samples to any kInteger
// chunk is correct, just not compact.
#pragma once

#include <bit>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/coding.h"
#include "tsdb/chunk/bit_stream.h"
#include "tsdb/chunk/chunk.h"
#include "tsdb/chunk/chunk_internal.h"
#include "tsdb/chunk/decimal.h"
#include "tsdb/chunk/timestamp_coding.h"
#include "tyto/status.h"

namespace tyto::tsdb::chunk {

__extension__ typedef __int128 Int128;  // NOLINT(modernize-use-using): __extension__ needs typedef

// kNone is the mode of Encoding::kIntegerValues, and only of it: no timestamp bits at all
// (sample i reads as timestamp i; a timestamp column supplies the real ones).
enum class TimestampMode : uint8_t { kDeltaOfDelta = 0, kGrid = 1, kNone = 2 };

// A Rice code's quotient is written in unary; this many 1 bits instead mean an escape, after
// which '0' + varint is the residual, '10' + varint the value's mantissa, '11' + 64 bits the
// raw value.
inline constexpr int kRiceEscapeOnes = 8;

struct IntegerParams {
  TimestampMode timestamp_mode = TimestampMode::kDeltaOfDelta;
  int grid_width = 0;          // grid only: bits per timestamp, 1..63; all ones escapes
  uint64_t grid_interval = 0;  // grid only: milliseconds between grid points, < 2^63
  int64_t grid_offset = 0;     // grid only: added to every grid point
  int scale = 0;               // values are m / 10^scale; 0..kMaxScale
  int order = 1;               // prediction: 0 first integer, 1 previous, 2 linear
  uint64_t gcd = 1;            // residuals are multiples of gcd; 1..2^63-1
  int64_t drift = 0;           // order 1's constant increase per sample
  int repeats = 0;             // samples 1..repeats have sample 0's value bits; < count
  int rice = 3;                // Rice parameter, 0..63

  friend bool operator==(const IntegerParams&, const IntegerParams&) = default;
};

// Appends the header after the count field.
void PutIntegerHeader(std::string* dst, const IntegerParams& p);
// The header's bytes after the count field, for pricing a choice of parameters.
size_t IntegerHeaderSize(const IntegerParams& p);
// Parses and checks the header of a whole chunk of Encoding `e` (kInteger or kIntegerValues);
// returns its length (count field included).
Result<size_t> ParseIntegerHeader(std::string_view chunk, Encoding e, IntegerParams* p);

// What the encoder carries from one sample to the next; the decoder rebuilds the same.
struct IntegerState {
  DeltaOfDeltaState ts;    // ts.t is the last timestamp in both modes
  uint64_t grid_base = 0;  // grid mode: the last sample's grid point
  bool have_integer = false;
  int64_t first = 0;  // the chunk's first integer value (order 0's prediction)
  int64_t prev = 0;   // the last two integer values
  int64_t prev2 = 0;

  void PushInteger(int64_t m) {
    if (!have_integer) {
      have_integer = true;
      first = prev = prev2 = m;
    } else {
      prev2 = prev;
      prev = m;
    }
  }
  // The prediction for the next integer, modulo 2^64.
  uint64_t Predict(int order, int64_t drift) const {
    const auto p = static_cast<uint64_t>(prev);
    if (order == 0) return static_cast<uint64_t>(first);
    if (order == 1) return p + static_cast<uint64_t>(drift);
    return p + (p - static_cast<uint64_t>(prev2));
  }
  // m minus the prediction, exactly.
  Int128 Residual(int order, int64_t drift, int64_t m) const {
    if (order == 0) return Int128{m} - first;
    if (order == 1) return Int128{m} - prev - drift;
    return (Int128{m} - prev) - (Int128{prev} - prev2);
  }
};

// r / gcd when r is a multiple of gcd (1..2^63-1); division only for steps that are not
// powers of two, which are rare (byte gauges step by 4096, counters by 1).
inline bool DivideExactly(int64_t r, uint64_t gcd, int64_t* quotient) {
  if (gcd == 1) {
    *quotient = r;
    return true;
  }
  if (std::has_single_bit(gcd)) {
    if ((static_cast<uint64_t>(r) & (gcd - 1)) != 0) return false;
    *quotient = r >> std::countr_zero(gcd);  // arithmetic shift: exact for multiples
    return true;
  }
  const auto g = static_cast<int64_t>(gcd);
  if (r % g != 0) return false;
  *quotient = r / g;
  return true;
}

// interval * round(x / interval), modulo 2^64: where the grid resumes after an escape (a
// missed scrape moves it by whole intervals; a late one leaves it).
inline uint64_t GridSnap(int64_t x, uint64_t interval) {
  if (interval == 0) return 0;
  const auto i = static_cast<Int128>(interval);
  const Int128 n = Int128{x} + i / 2;
  Int128 q = n / i;
  if (n % i < 0) --q;  // floor
  return static_cast<uint64_t>(q * i);
}

// Sample 0's timestamp: a zig-zag varint (nothing in mode kNone).
template <typename Writer>
void PutFirstTimestamp(Writer& w, IntegerState& s, const IntegerParams& p, int64_t t) {
  if (p.timestamp_mode != TimestampMode::kNone) PutBitVarint(w, coding::ZigZag(t));
  s.ts = DeltaOfDeltaState{static_cast<uint64_t>(t), 0};
  s.grid_base = static_cast<uint64_t>(t);
}

// Timestamps after the first.
template <typename Writer>
void PutTimestamp(Writer& w, IntegerState& s, const IntegerParams& p, int64_t t) {
  if (p.timestamp_mode == TimestampMode::kNone) return;
  if (p.timestamp_mode == TimestampMode::kDeltaOfDelta) {
    PutDeltaOfDelta(w, s.ts.Next(t));
    return;
  }
  const uint64_t predicted = s.grid_base + p.grid_interval;
  const auto x = static_cast<int64_t>(static_cast<uint64_t>(t) - predicted - static_cast<uint64_t>(p.grid_offset));
  const uint64_t escape = LowBits(p.grid_width);
  if (x >= 0 && static_cast<uint64_t>(x) < escape) {
    w.Write(static_cast<uint64_t>(x), p.grid_width);
    s.grid_base = predicted;
  } else {
    w.Write(escape, p.grid_width);
    PutBitVarint(w, coding::ZigZag(x));
    s.grid_base = predicted + GridSnap(x, p.grid_interval);
  }
  s.ts.t = static_cast<uint64_t>(t);
}

// A value: `m` is its mantissa at p.scale, or nullopt if it has none; `bits` its raw bits.
template <typename Writer>
void PutValue(Writer& w, IntegerState& s, const IntegerParams& p, std::optional<int64_t> m, uint64_t bits) {
  if (!s.have_integer) {  // no prediction yet: '0' + zig-zag varint m, or '1' + raw bits
    if (m) {
      w.Write(0, 1);
      PutBitVarint(w, coding::ZigZag(*m));
      s.PushInteger(*m);
    } else {
      w.Write(1, 1);
      w.Write(bits, 64);
    }
    return;
  }
  if (m) {
    const Int128 r = s.Residual(p.order, p.drift, *m);
    int64_t e = 0;
    if (r >= INT64_MIN && r <= INT64_MAX && DivideExactly(static_cast<int64_t>(r), p.gcd, &e)) {
      const uint64_t z = coding::ZigZag(e);
      const uint64_t q = z >> p.rice;
      if (q < kRiceEscapeOnes) {
        w.Write(LowBits(static_cast<int>(q)) << 1, static_cast<int>(q) + 1);  // q ones, a zero
        w.Write(z, p.rice);
        s.PushInteger(*m);
        return;
      }
      if (BitVarintBits(z) <= 1 + BitVarintBits(coding::ZigZag(*m))) {  // escape '0': the residual
        w.Write(LowBits(kRiceEscapeOnes) << 1, kRiceEscapeOnes + 1);
        PutBitVarint(w, z);
        s.PushInteger(*m);
        return;
      }
    }
    w.Write(LowBits(kRiceEscapeOnes + 1) << 1, kRiceEscapeOnes + 2);  // escape '10': the value
    PutBitVarint(w, coding::ZigZag(*m));
    s.PushInteger(*m);
    return;
  }
  w.Write(LowBits(kRiceEscapeOnes + 2), kRiceEscapeOnes + 2);  // escape '11': the raw bits
  w.Write(bits, 64);
}

class IntegerChunk final : public Chunk {
 public:
  explicit IntegerChunk(const IntegerParams& params);  // empty
  // Checks the header of persisted bytes of Encoding `e` (kInteger or kIntegerValues).
  static Result<std::unique_ptr<IntegerChunk>> Open(std::string bytes, Encoding e);

  IntegerChunk(const IntegerChunk&) = delete;
  IntegerChunk& operator=(const IntegerChunk&) = delete;

  Encoding encoding() const override {
    return params_.timestamp_mode == TimestampMode::kNone ? Encoding::kIntegerValues : Encoding::kInteger;
  }
  std::string_view bytes() const override { return stream_.bytes(); }
  int num_samples() const override { return count_; }
  std::unique_ptr<Appender> NewAppender() override;
  std::unique_ptr<Iterator> NewIterator() const override;

  const IntegerParams& params() const { return params_; }
  void Append(int64_t t, double v) { Append(t, v, ToScaledInteger(v, params_.scale)); }
  // Append with the value's mantissa at params().scale already known (nullopt: it has none).
  // Samples 1..params().repeats must repeat sample 0's value bits (a broken promise aborts).
  void Append(int64_t t, double v, std::optional<int64_t> mantissa);

 private:
  IntegerChunk(const IntegerParams& params, size_t header_size, BitWriter stream, int count);

  IntegerParams params_;
  size_t header_size_;  // count field included
  BitWriter stream_;    // the whole chunk: count field, header, bit stream
  int count_ = 0;
  bool state_ready_ = true;  // false for opened bytes until NewAppender decodes them
  IntegerState state_;
  uint64_t first_value_bits_ = 0;
};

class IntegerIterator final : public SampleIterator<IntegerIterator> {
 public:
  // `chunk`: a whole chunk's bytes; `header_size` and `params` as parsed from it.
  IntegerIterator(std::string_view chunk, size_t header_size, const IntegerParams& params, int count);
  int DecodeBlock(int64_t* ts, double* vs, int max);

  // After Next() returned false with an OK status: the encoder state after the last sample,
  // and the chunk's length in bits.
  const IntegerState& state() const { return state_; }
  uint64_t first_value_bits() const { return first_value_bits_; }
  uint64_t bit_length() const { return 8 * header_size_ + reader_.position(); }

 private:
  template <TimestampMode kMode>
  int DecodeBlockFor(int64_t* ts, double* vs, int max);
  template <TimestampMode kMode, int kOrder>
  int DecodeBlockIn(int64_t* ts, double* vs, int max);

  BitReader reader_;
  IntegerParams params_;
  size_t header_size_;
  int count_;
  int read_ = 0;
  IntegerState state_;
  uint64_t first_value_bits_ = 0;
  uint8_t tail_[BitReader::kPaddedTailSize];  // the reader's padded copy of the stream's end
};

// An integer chunk holding `samples`, with parameters chosen to make it small
// (integer_plan.cc). `decimals[i]` is FindDecimal(samples[i].second), when the caller has it.
// Precondition: samples.size() <= kMaxSamples.
std::unique_ptr<IntegerChunk> EncodeInteger(const Samples& samples);
std::unique_ptr<IntegerChunk> EncodeInteger(const Samples& samples,
                                            const std::vector<std::optional<Decimal>>& decimals);

// The parameters EncodeInteger would choose; exposed for tests.
IntegerParams PlanInteger(const Samples& samples);

// A kIntegerValues chunk of `samples`' values (their timestamps are ignored).
std::unique_ptr<IntegerChunk> EncodeIntegerValues(const Samples& samples,
                                                  const std::vector<std::optional<Decimal>>& decimals);

}  // namespace tyto::tsdb::chunk
