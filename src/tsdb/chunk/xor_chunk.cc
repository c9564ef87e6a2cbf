#include "tsdb/chunk/xor_chunk.h"

#include <algorithm>
#include <bit>
#include <memory>
#include <string>
#include <utility>

#include "common/coding.h"

namespace tyto::tsdb::chunk {
namespace {

// Bits of the '11' control word: 5 bits of leading zeros, 6 bits of meaningful-bit count
// (64 written as 0).
constexpr int kLeadingBits = 5;
constexpr int kSignificantBits = 6;
constexpr int kMaxLeading = 31;
// A new window costs its 11 header bits more than reusing the previous one; reuse when the
// previous window wastes no more than that.
constexpr int kNewWindowCost = kLeadingBits + kSignificantBits;

void PutValue(BitWriter& w, XorState& s, uint64_t bits) {
  const uint64_t x = bits ^ s.value_bits;
  s.value_bits = bits;
  if (x == 0) {
    w.Write(0, 1);
    return;
  }
  const int leading = std::min(std::countl_zero(x), kMaxLeading);
  const int trailing = std::countr_zero(x);
  const int significant = 64 - leading - trailing;
  if (s.significant != 0) {
    const int window_trailing = 64 - s.leading - s.significant;
    if (leading >= s.leading && trailing >= window_trailing && s.significant <= significant + kNewWindowCost) {
      w.Write(0b10, 2);
      w.Write(x >> window_trailing, s.significant);
      return;
    }
  }
  s.leading = leading;
  s.significant = significant;
  w.Write((uint64_t{0b11} << kNewWindowCost) | (static_cast<uint64_t>(leading) << kSignificantBits) |
              static_cast<uint64_t>(significant & 63),
          2 + kNewWindowCost);
  w.Write(x >> trailing, significant);
}

class XorAppender final : public Appender {
 public:
  explicit XorAppender(XorChunk* chunk) : chunk_(chunk) {}
  void Append(int64_t t, double v) override { chunk_->Append(t, v); }

 private:
  XorChunk* chunk_;
};

}  // namespace

XorChunk::XorChunk(bool values_only) : values_only_(values_only) { stream_.WriteBytes("\0\0", kCountBytes); }

XorChunk::XorChunk(BitWriter stream, int count, bool values_only)
    : values_only_(values_only), stream_(std::move(stream)), count_(count), state_ready_(count == 0) {}

Result<std::unique_ptr<XorChunk>> XorChunk::Open(std::string bytes, bool values_only) {
  if (bytes.size() < kCountBytes) {
    return Corruption("xor chunk: " + std::to_string(bytes.size()) + " bytes, shorter than its header");
  }
  const int count = GetCount(bytes);
  if (count == 0 && bytes.size() != kCountBytes) {
    return Corruption("xor chunk: no samples but " + std::to_string(bytes.size()) + " bytes");
  }
  const uint64_t bit_length = 8 * uint64_t{bytes.size()};
  return std::unique_ptr<XorChunk>(new XorChunk(BitWriter(std::move(bytes), bit_length), count, values_only));
}

std::unique_ptr<Appender> XorChunk::NewAppender() {
  if (!state_ready_) {
    XorIterator it(stream_.bytes(), count_, values_only_);
    while (it.Next()) {
    }
    if (!it.status().ok()) return nullptr;
    state_ = it.state();
    stream_.Truncate(it.bit_length());
    state_ready_ = true;
  }
  return std::make_unique<XorAppender>(this);
}

std::unique_ptr<Iterator> XorChunk::NewIterator() const {
  return std::make_unique<XorIterator>(stream_.bytes(), count_, values_only_);
}

void XorChunk::Append(int64_t t, double v) {
  CheckRoomForSample(count_);
  const auto bits = std::bit_cast<uint64_t>(v);
  if (count_ == 0) {
    if (!values_only_) PutBitVarint(stream_, coding::ZigZag(t));
    stream_.Write(bits, 64);
    state_ = XorState{};
    state_.ts.t = static_cast<uint64_t>(t);
    state_.value_bits = bits;
  } else {
    if (!values_only_) PutDeltaOfDelta(stream_, state_.ts.Next(t));
    PutValue(stream_, state_, bits);
  }
  ++count_;
  SetCount(stream_.mutable_bytes(), count_);
}

XorIterator::XorIterator(std::string_view chunk, int count, bool values_only)
    : reader_(chunk.data() + kCountBytes, chunk.size() - kCountBytes), count_(count), values_only_(values_only) {}

namespace {

enum class SampleFault { kNone, kWindowPast64, kWindowBeforeSet };

// Decodes a sample after the first (at most 146 bits). Precondition: the reader may FillUp().
// Without timestamps, sample i's timestamp is i.
template <bool kTimestamps>
[[gnu::always_inline]] inline SampleFault DecodeSample(BitReader& r, XorState& s) {
  r.FillUp();  // >= 56 bits: a bucket of up to 41 bits, then up to 2 + 11 control bits
  if constexpr (kTimestamps) {
    s.ts.Apply(GetDeltaOfDelta(r));
  } else {
    ++s.ts.t;
  }
  const uint64_t buf = r.buffer();
  const auto control = static_cast<unsigned>(buf >> 62);  // '0x', '10', '11'
  if (control < 2) {                                      // '0': the same value
    r.Skip(1);
    return SampleFault::kNone;
  }
  if (control == 3) {  // '11': a new window
    const auto header = static_cast<int>((buf << 2) >> (64 - kNewWindowCost));
    const int significant = header & 63;
    s.leading = header >> kSignificantBits;
    s.significant = significant == 0 ? 64 : significant;
    r.Skip(2 + kNewWindowCost);
    if (s.leading + s.significant > 64) return SampleFault::kWindowPast64;
  } else {  // '10': the previous window
    r.Skip(2);
    if (s.significant == 0) return SampleFault::kWindowBeforeSet;
  }
  r.FillUp();
  uint64_t x = 0;
  if (s.significant <= 56) [[likely]] {
    x = r.buffer() >> (64 - s.significant);
    r.Skip(s.significant);
  } else {
    x = r.ReadUpTo64(s.significant);
  }
  s.value_bits ^= x << (64 - s.leading - s.significant);
  return SampleFault::kNone;
}

}  // namespace

int XorIterator::DecodeBlock(int64_t* ts, double* vs, int max) {
  if (failed()) return 0;
  return values_only_ ? DecodeBlockIn<false>(ts, vs, max) : DecodeBlockIn<true>(ts, vs, max);
}

template <bool kTimestamps>
int XorIterator::DecodeBlockIn(int64_t* ts, double* vs, int max) {
  BitReader r = reader_;  // local copies keep the decoder's state in registers
  XorState s = state_;
  const int todo = std::min(count_ - read_, max);
  int n = 0;
  if (read_ == 0 && todo > 0) {
    uint64_t zigzag = 0;
    if (kTimestamps && !GetBitVarint(r, &zigzag)) {
      Fail("xor chunk: malformed first timestamp", 0);
      return 0;
    }
    s.ts.t = static_cast<uint64_t>(coding::UnZigZag(zigzag));
    s.value_bits = r.ReadUpTo64(64);
    if (r.overrun()) {
      Fail("xor chunk: truncated", 0);
      return 0;
    }
    ts[0] = static_cast<int64_t>(s.ts.t);
    vs[0] = std::bit_cast<double>(s.value_bits);
    n = 1;
  }
  SampleFault fault = SampleFault::kNone;
  for (; n < todo; ++n) {
    if (r.NearEnd()) [[unlikely]]
      r.UsePaddedTail(tail_);
    fault = DecodeSample<kTimestamps>(r, s);
    if (fault != SampleFault::kNone) [[unlikely]]
      break;
    if (r.overrun()) [[unlikely]] {
      Fail("xor chunk: truncated", read_ + n);
      break;
    }
    ts[n] = static_cast<int64_t>(s.ts.t);
    vs[n] = std::bit_cast<double>(s.value_bits);
  }
  if (fault != SampleFault::kNone) {
    Fail(fault == SampleFault::kWindowPast64 ? "xor chunk: XOR window past 64 bits"
                                             : "xor chunk: XOR window reused before one was set",
         read_ + n);
  }
  reader_ = r;  // after a failure these are garbage, but nothing reads them then
  state_ = s;
  read_ += n;
  return n;
}

}  // namespace tyto::tsdb::chunk
