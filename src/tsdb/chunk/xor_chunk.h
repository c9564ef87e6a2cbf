// The XOR encoding (Encoding::kXor), after Facebook's Gorilla (VLDB 2015): delta-of-delta
// timestamps in buckets sized for millisecond scrape jitter, and each value's bits XOR'd with
// the previous value's, written as the XOR's meaningful bits with a reusable window of
// leading/trailing zeros. Private to src/tsdb/chunk; layout in docs/format/chunks.md.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "tsdb/chunk/bit_stream.h"
#include "tsdb/chunk/chunk.h"
#include "tsdb/chunk/chunk_internal.h"
#include "tsdb/chunk/timestamp_coding.h"
#include "tyto/status.h"

namespace tyto::tsdb::chunk {

// What the encoder carries from one sample to the next; the decoder rebuilds the same.
struct XorState {
  DeltaOfDeltaState ts;
  uint64_t value_bits = 0;  // the previous value's bits
  int leading = 0;          // the XOR window: leading zeros (0..31) and meaningful bits
  int significant = 0;      // 1..64, or 0 before any window exists
};

// Encoding::kXor, or with `values_only` Encoding::kXorValues: the same stream without the
// timestamps (sample i then reads as timestamp i; a timestamp column supplies the real ones).
class XorChunk final : public Chunk {
 public:
  explicit XorChunk(bool values_only = false);  // empty
  // Checks the header of persisted bytes.
  static Result<std::unique_ptr<XorChunk>> Open(std::string bytes, bool values_only = false);

  XorChunk(const XorChunk&) = delete;
  XorChunk& operator=(const XorChunk&) = delete;

  Encoding encoding() const override { return values_only_ ? Encoding::kXorValues : Encoding::kXor; }
  std::string_view bytes() const override { return stream_.bytes(); }
  int num_samples() const override { return count_; }
  std::unique_ptr<Appender> NewAppender() override;
  std::unique_ptr<Iterator> NewIterator() const override;

  void Append(int64_t t, double v);

 private:
  XorChunk(BitWriter stream, int count, bool values_only);

  bool values_only_ = false;
  BitWriter stream_;  // the whole chunk: count field, then the bit stream
  int count_ = 0;
  bool state_ready_ = true;  // false for opened bytes until NewAppender decodes them
  XorState state_;
};

class XorIterator final : public SampleIterator<XorIterator> {
 public:
  // `chunk`: a whole chunk's bytes, count field included; `count`: the samples to read;
  // `values_only`: the stream has no timestamps (kXorValues).
  XorIterator(std::string_view chunk, int count, bool values_only = false);
  int DecodeBlock(int64_t* ts, double* vs, int max);

  // After Next() returned false with an OK status: the encoder state after the last sample,
  // and the stream's length in bits (count field included).
  const XorState& state() const { return state_; }
  uint64_t bit_length() const { return 8 * kCountBytes + reader_.position(); }

 private:
  template <bool kTimestamps>
  int DecodeBlockIn(int64_t* ts, double* vs, int max);

  BitReader reader_;
  int count_;
  bool values_only_;
  int read_ = 0;
  XorState state_;
  uint8_t tail_[BitReader::kPaddedTailSize];  // the reader's padded copy of the stream's end
};

}  // namespace tyto::tsdb::chunk
