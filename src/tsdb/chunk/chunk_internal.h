// What the encodings share (private to src/tsdb/chunk): the sample-count field that opens
// every chunk, and the iterator base that implements Seek and the accessors once.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tsdb/chunk/chunk.h"
#include "tyto/status.h"

namespace tyto::tsdb::chunk {

// Bytes 0-1 of every chunk: the sample count, uint16 little-endian.
inline constexpr size_t kCountBytes = 2;

inline int GetCount(std::string_view bytes) {
  return static_cast<uint8_t>(bytes[0]) | (static_cast<uint8_t>(bytes[1]) << 8);
}
inline void SetCount(std::string& bytes, int count) {
  bytes[0] = static_cast<char>(count & 0xff);
  bytes[1] = static_cast<char>((count >> 8) & 0xff);
}

// Aborts unless another sample fits: appending to a full chunk is a bug in the caller.
void CheckRoomForSample(int count);

// The iterator interface over a Derived decoder that decodes samples in blocks:
//   int Derived::DecodeBlock(int64_t* ts, double* vs, int max)
// decodes up to `max` samples into the arrays and returns how many (0 at the end). On corrupt
// data it returns the samples decoded before the fault after calling Fail(), and 0 from then
// on; the iterator reports the failure once it has handed out those samples. Decoding in
// blocks keeps a decoder's state in registers across a tight loop, and makes Next() an index
// increment.
template <typename Derived>
class SampleIterator : public Iterator {
 public:
  SampleIterator() {
    ts_[0] = 0;
    vs_[0] = 0;
  }

  bool Next() final {
    if (current_ < filled_) [[likely]] {
      ++current_;
      return true;
    }
    return NextBlock();
  }
  bool Seek(int64_t t) final {
    if (current_ > 0 && ts_[current_] >= t) return true;
    while (Next()) {
      if (ts_[current_] >= t) return true;
    }
    return false;
  }
  bool SeekCounting(int64_t t, size_t* steps) final {
    *steps = 0;
    if (current_ > 0 && ts_[current_] >= t) return true;
    while (Next()) {
      ++*steps;
      if (ts_[current_] >= t) return true;
    }
    return false;
  }
  bool Advance(size_t n) final {
    for (size_t i = 0; i < n; ++i) {
      if (!Next()) return false;
    }
    return true;
  }
  int64_t t() const final { return ts_[current_]; }
  double v() const final { return vs_[current_]; }
  Status status() const final { return status_; }

 protected:
  static constexpr int kBlock = 32;

  // Records corruption found while decoding sample `sample`; `what` names the encoding and the
  // field.
  void Fail(std::string_view what, int sample) {
    failed_ = true;
    pending_ = Corruption(std::string(what) + " (sample " + std::to_string(sample) + ")");
  }
  bool failed() const { return failed_; }

 private:
  // Out of line, so that Next()'s fast path stays a few instructions.
  [[gnu::noinline]] bool NextBlock() {
    filled_ = at_end_ ? 0 : static_cast<Derived*>(this)->DecodeBlock(ts_ + 1, vs_ + 1, kBlock);
    if (filled_ > 0) {
      current_ = 1;
      return true;
    }
    at_end_ = true;
    current_ = 0;
    if (failed_) status_ = pending_;
    return false;
  }

  // Decoded samples sit in [1, filled_]; slot 0 stays zero, so that t() and v() read a
  // defined value before the first Next() and after the end, when current_ is 0. (The rest is
  // written before it is read; not zeroing it saves a memset per iterator.)
  int64_t ts_[kBlock + 1];
  double vs_[kBlock + 1];
  int current_ = 0;
  int filled_ = 0;
  bool at_end_ = false;
  bool failed_ = false;
  Status status_;
  Status pending_;
};

}  // namespace tyto::tsdb::chunk
