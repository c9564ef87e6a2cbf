#include "tsdb/chunk/integer_chunk.h"

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>

namespace tyto::tsdb::chunk {
namespace {

// Header bytes after the count field: three bytes of fields, then the varints they call for.
constexpr size_t kFixedHeaderBytes = 3;

int VarintLength(uint64_t v) { return BitVarintBits(v) / 8; }

class IntegerAppender final : public Appender {
 public:
  explicit IntegerAppender(IntegerChunk* chunk) : chunk_(chunk) {}
  void Append(int64_t t, double v) override { chunk_->Append(t, v); }

 private:
  IntegerChunk* chunk_;
};

}  // namespace

void PutIntegerHeader(std::string* dst, const IntegerParams& p) {
  const bool grid = p.timestamp_mode == TimestampMode::kGrid;
  dst->push_back(static_cast<char>(static_cast<uint8_t>(p.timestamp_mode) | ((grid ? p.grid_width : 0) << 2)));
  dst->push_back(static_cast<char>(p.scale | (p.order << 5) | (p.gcd > 1 ? 0x80 : 0)));
  dst->push_back(static_cast<char>(p.rice | (p.drift != 0 ? 0x40 : 0) | (p.repeats != 0 ? 0x80 : 0)));
  if (p.gcd > 1) coding::PutVarint64(dst, p.gcd);
  if (p.drift != 0) coding::PutVarintSigned64(dst, p.drift);
  if (p.repeats != 0) coding::PutVarint64(dst, static_cast<uint64_t>(p.repeats));
  if (grid) {
    coding::PutVarint64(dst, p.grid_interval);
    coding::PutVarintSigned64(dst, p.grid_offset);
  }
}

size_t IntegerHeaderSize(const IntegerParams& p) {
  size_t n = kFixedHeaderBytes;
  if (p.gcd > 1) n += VarintLength(p.gcd);
  if (p.drift != 0) n += VarintLength(coding::ZigZag(p.drift));
  if (p.repeats != 0) n += VarintLength(static_cast<uint64_t>(p.repeats));
  if (p.timestamp_mode == TimestampMode::kGrid) {
    n += VarintLength(p.grid_interval) + VarintLength(coding::ZigZag(p.grid_offset));
  }
  return n;
}

Result<size_t> ParseIntegerHeader(std::string_view chunk, Encoding e, IntegerParams* p) {
  if (chunk.size() < kCountBytes + kFixedHeaderBytes) {
    return Corruption("integer chunk: " + std::to_string(chunk.size()) + " bytes, shorter than its header");
  }
  const auto a = static_cast<uint8_t>(chunk[2]);
  const auto b = static_cast<uint8_t>(chunk[3]);
  const auto c = static_cast<uint8_t>(chunk[4]);
  IntegerParams q;
  const int mode = a & 3;
  const bool values_only = e == Encoding::kIntegerValues;
  if (values_only ? mode != 2 : mode > 1) {
    return Corruption("integer chunk: timestamp mode " + std::to_string(mode) + " in a" +
                      (values_only ? " values-only" : "n") + " integer chunk");
  }
  q.timestamp_mode = static_cast<TimestampMode>(mode);
  q.grid_width = a >> 2;
  if ((q.timestamp_mode == TimestampMode::kGrid) != (q.grid_width != 0)) {
    return Corruption("integer chunk: grid width " + std::to_string(q.grid_width) + " in timestamp mode " +
                      std::to_string(mode));
  }
  q.scale = b & 0x1f;
  q.order = (b >> 5) & 3;
  if (q.scale > kMaxScale) return Corruption("integer chunk: scale " + std::to_string(q.scale));
  if (q.order > 2) return Corruption("integer chunk: prediction order 3");
  q.rice = c & 63;
  const char* pos = chunk.data() + kCountBytes + kFixedHeaderBytes;
  const char* end = chunk.data() + chunk.size();
  if (b & 0x80) {
    pos = coding::GetVarint64(pos, end, &q.gcd);
    if (pos == nullptr || q.gcd < 2 || q.gcd > INT64_MAX) return Corruption("integer chunk: bad value step (gcd)");
  }
  if (c & 0x40) {
    pos = coding::GetVarintSigned64(pos, end, &q.drift);
    if (pos == nullptr || q.drift == 0) return Corruption("integer chunk: bad drift");
  }
  if (c & 0x80) {
    uint64_t repeats = 0;
    pos = coding::GetVarint64(pos, end, &repeats);
    if (pos == nullptr || repeats == 0 || repeats >= static_cast<uint64_t>(GetCount(chunk))) {
      return Corruption("integer chunk: bad count of repeated values");
    }
    q.repeats = static_cast<int>(repeats);
  }
  if (q.timestamp_mode == TimestampMode::kGrid) {
    pos = coding::GetVarint64(pos, end, &q.grid_interval);
    if (pos == nullptr || q.grid_interval > INT64_MAX) return Corruption("integer chunk: bad grid interval");
    pos = coding::GetVarintSigned64(pos, end, &q.grid_offset);
    if (pos == nullptr) return Corruption("integer chunk: bad grid offset");
  }
  *p = q;
  return static_cast<size_t>(pos - chunk.data());
}

IntegerChunk::IntegerChunk(const IntegerParams& params) : params_(params) {
  std::string header(kCountBytes, '\0');
  PutIntegerHeader(&header, params);
  header_size_ = header.size();
  stream_ = BitWriter(std::move(header), 8 * uint64_t{header_size_});
}

IntegerChunk::IntegerChunk(const IntegerParams& params, size_t header_size, BitWriter stream, int count)
    : params_(params), header_size_(header_size), stream_(std::move(stream)), count_(count), state_ready_(count == 0) {}

Result<std::unique_ptr<IntegerChunk>> IntegerChunk::Open(std::string bytes, Encoding e) {
  IntegerParams params;
  TYTO_ASSIGN_OR_RETURN(const size_t header_size, ParseIntegerHeader(bytes, e, &params));
  const int count = GetCount(bytes);
  if (count == 0 && bytes.size() != header_size) {
    return Corruption("integer chunk: no samples but " + std::to_string(bytes.size() - header_size) +
                      " bytes after the header");
  }
  const uint64_t bit_length = 8 * uint64_t{bytes.size()};
  return std::unique_ptr<IntegerChunk>(
      new IntegerChunk(params, header_size, BitWriter(std::move(bytes), bit_length), count));
}

std::unique_ptr<Appender> IntegerChunk::NewAppender() {
  if (!state_ready_) {
    IntegerIterator it(stream_.bytes(), header_size_, params_, count_);
    while (it.Next()) {
    }
    if (!it.status().ok()) return nullptr;
    state_ = it.state();
    first_value_bits_ = it.first_value_bits();
    stream_.Truncate(it.bit_length());
    state_ready_ = true;
  }
  return std::make_unique<IntegerAppender>(this);
}

std::unique_ptr<Iterator> IntegerChunk::NewIterator() const {
  return std::make_unique<IntegerIterator>(stream_.bytes(), header_size_, params_, count_);
}

void IntegerChunk::Append(int64_t t, double v, std::optional<int64_t> mantissa) {
  CheckRoomForSample(count_);
  const auto bits = std::bit_cast<uint64_t>(v);
  if (count_ == 0) {
    state_ = IntegerState{};
    first_value_bits_ = bits;
    PutFirstTimestamp(stream_, state_, params_, t);
  } else {
    PutTimestamp(stream_, state_, params_, t);
  }
  if (count_ > 0 && count_ <= params_.repeats) {
    if (bits != first_value_bits_) std::abort();  // a bug in the planner: the run does not repeat
  } else {
    PutValue(stream_, state_, params_, mantissa, bits);
  }
  ++count_;
  SetCount(stream_.mutable_bytes(), count_);
}

IntegerIterator::IntegerIterator(std::string_view chunk, size_t header_size, const IntegerParams& params, int count)
    : reader_(chunk.data() + header_size, chunk.size() - header_size),
      params_(params),
      header_size_(header_size),
      count_(count) {}

namespace {

enum class SampleFault { kNone, kTimestampEscape, kValue };

// A value written whole: the first integer, or what follows an escape's '1'. '0' + zig-zag
// varint m, or '1' + the raw bits. False if the varint is malformed.
[[gnu::always_inline]] inline bool DecodeWholeValue(BitReader& r, IntegerState& s, int scale, double* v) {
  if (r.Read(1) == 1) {
    *v = std::bit_cast<double>(r.ReadUpTo64(64));
    return true;
  }
  uint64_t zigzag = 0;
  if (!GetBitVarint(r, &zigzag)) return false;
  const int64_t m = coding::UnZigZag(zigzag);
  s.PushInteger(m);
  *v = FromScaledInteger(m, scale);
  return true;
}

// The fast path decodes a sample after the first in two calls, each after a FillUp(): its
// timestamp, then (unless it repeats the first value) its value. A sample takes at most 240
// bits (a grid escape of 63 + 80, a value escape of 17 + 80).
template <TimestampMode kMode>
[[gnu::always_inline]] inline SampleFault DecodeTimestamp(BitReader& r, IntegerState& s, const IntegerParams& p) {
  if constexpr (kMode == TimestampMode::kNone) {
    ++s.ts.t;
    return SampleFault::kNone;
  }
  r.FillUp();
  if constexpr (kMode == TimestampMode::kDeltaOfDelta) {
    s.ts.Apply(GetDeltaOfDelta(r));
    return SampleFault::kNone;
  }
  uint64_t u = 0;
  if (p.grid_width <= 56) [[likely]] {
    u = r.buffer() >> (64 - p.grid_width);
    r.Skip(p.grid_width);
  } else {
    u = r.ReadUpTo64(p.grid_width);
  }
  const uint64_t predicted = s.grid_base + p.grid_interval;
  if (u != LowBits(p.grid_width)) [[likely]] {
    s.ts.t = predicted + static_cast<uint64_t>(p.grid_offset) + u;
    s.grid_base = predicted;
    return SampleFault::kNone;
  }
  uint64_t zigzag = 0;
  if (!GetBitVarint(r, &zigzag)) return SampleFault::kTimestampEscape;
  const int64_t x = coding::UnZigZag(zigzag);
  s.ts.t = predicted + static_cast<uint64_t>(p.grid_offset) + static_cast<uint64_t>(x);
  s.grid_base = predicted + GridSnap(x, p.grid_interval);
  return SampleFault::kNone;
}

// kOrder is p.order, as a template argument so that the prediction compiles to straight code.
template <int kOrder>
[[gnu::always_inline]] inline SampleFault DecodeValue(BitReader& r, IntegerState& s, const IntegerParams& p,
                                                      double* v) {
  // After a grid timestamp the buffer usually still holds enough for a Rice code: the test is
  // predictable (it depends on the chunk's grid width), unlike one per read.
  if (r.available() < 32) r.FillUp();
  if (s.have_integer) [[likely]] {
    const uint64_t buf = r.buffer();
    const int ones = BitReader::CappedLeadingOnes(buf, kRiceEscapeOnes);
    if (ones < kRiceEscapeOnes) [[likely]] {
      uint64_t low = 0;
      if (ones + 1 + p.rice <= r.available()) [[likely]] {
        low = ((buf << (ones + 1)) >> 1) >> (63 - p.rice);  // the next `rice` bits, 0 for none
        r.Skip(ones + 1 + p.rice);
      } else {
        r.Skip(ones + 1);
        low = r.ReadUpTo64(p.rice);
      }
      const uint64_t z = (static_cast<uint64_t>(ones) << p.rice) | low;
      const uint64_t m = s.Predict(kOrder, p.drift) + static_cast<uint64_t>(coding::UnZigZag(z)) * p.gcd;
      s.prev2 = s.prev;  // PushInteger, knowing have_integer
      s.prev = static_cast<int64_t>(m);
      *v = FromScaledInteger(static_cast<int64_t>(m), p.scale);
      return SampleFault::kNone;
    }
    r.Skip(kRiceEscapeOnes);
    if (r.Read(1) == 0) {  // escape '0': the residual as a varint
      uint64_t z = 0;
      if (!GetBitVarint(r, &z)) return SampleFault::kValue;
      const uint64_t m = s.Predict(kOrder, p.drift) + static_cast<uint64_t>(coding::UnZigZag(z)) * p.gcd;
      s.PushInteger(static_cast<int64_t>(m));
      *v = FromScaledInteger(static_cast<int64_t>(m), p.scale);
      return SampleFault::kNone;
    }
  }
  return DecodeWholeValue(r, s, p.scale, v) ? SampleFault::kNone : SampleFault::kValue;
}

}  // namespace

int IntegerIterator::DecodeBlock(int64_t* ts, double* vs, int max) {
  if (failed()) return 0;
  switch (params_.timestamp_mode) {
    case TimestampMode::kGrid:
      return DecodeBlockFor<TimestampMode::kGrid>(ts, vs, max);
    case TimestampMode::kDeltaOfDelta:
      return DecodeBlockFor<TimestampMode::kDeltaOfDelta>(ts, vs, max);
    case TimestampMode::kNone:
      break;
  }
  return DecodeBlockFor<TimestampMode::kNone>(ts, vs, max);
}

template <TimestampMode kMode>
int IntegerIterator::DecodeBlockFor(int64_t* ts, double* vs, int max) {
  switch (params_.order) {
    case 0:
      return DecodeBlockIn<kMode, 0>(ts, vs, max);
    case 1:
      return DecodeBlockIn<kMode, 1>(ts, vs, max);
    default:
      return DecodeBlockIn<kMode, 2>(ts, vs, max);
  }
}

template <TimestampMode kMode, int kOrder>
int IntegerIterator::DecodeBlockIn(int64_t* ts, double* vs, int max) {
  BitReader r = reader_;  // local copies keep the decoder's state in registers
  IntegerState s = state_;
  const IntegerParams p = params_;
  const int todo = std::min(count_ - read_, max);
  int n = 0;
  if (read_ == 0 && todo > 0) {  // sample 0: a zig-zag varint timestamp, then a whole value
    uint64_t zigzag = 0;
    if (kMode != TimestampMode::kNone && !GetBitVarint(r, &zigzag)) {
      Fail("integer chunk: malformed first timestamp", 0);
      return 0;
    }
    const auto t = static_cast<uint64_t>(coding::UnZigZag(zigzag));
    s.ts = DeltaOfDeltaState{t, 0};
    s.grid_base = t;
    double v = 0;
    if (!DecodeWholeValue(r, s, p.scale, &v)) {
      Fail("integer chunk: malformed value", 0);
      return 0;
    }
    if (r.overrun()) {
      Fail("integer chunk: truncated", 0);
      return 0;
    }
    first_value_bits_ = std::bit_cast<uint64_t>(v);
    ts[0] = static_cast<int64_t>(t);
    vs[0] = v;
    n = 1;
  }
  SampleFault fault = SampleFault::kNone;
  // The run that repeats the first value: timestamps only.
  const double first_value = std::bit_cast<double>(first_value_bits_);
  for (; n < todo && read_ + n <= p.repeats; ++n) {
    if (r.NearEnd()) [[unlikely]]
      r.UsePaddedTail(tail_);
    fault = DecodeTimestamp<kMode>(r, s, p);
    if (fault != SampleFault::kNone) [[unlikely]]
      break;
    if (r.overrun()) [[unlikely]] {
      Fail("integer chunk: truncated", read_ + n);
      break;
    }
    ts[n] = static_cast<int64_t>(s.ts.t);
    vs[n] = first_value;
  }
  for (; n < todo && fault == SampleFault::kNone; ++n) {
    if (r.NearEnd()) [[unlikely]]
      r.UsePaddedTail(tail_);
    fault = DecodeTimestamp<kMode>(r, s, p);
    double v = 0;
    if (fault == SampleFault::kNone) [[likely]]
      fault = DecodeValue<kOrder>(r, s, p, &v);
    if (fault != SampleFault::kNone) [[unlikely]]
      break;
    if (r.overrun()) [[unlikely]] {
      Fail("integer chunk: truncated", read_ + n);
      break;
    }
    ts[n] = static_cast<int64_t>(s.ts.t);
    vs[n] = v;
  }
  if (fault != SampleFault::kNone) {
    Fail(fault == SampleFault::kTimestampEscape ? "integer chunk: malformed timestamp escape"
                                                : "integer chunk: malformed value",
         read_ + n);
  }
  reader_ = r;  // after a failure these are garbage, but nothing reads them then
  state_ = s;
  read_ += n;
  return n;
}

}  // namespace tyto::tsdb::chunk
