// Chunks: the compressed form of one series' float samples over a stretch of time.
//
// The head appends samples to an open chunk and cuts it when it is full (about 120 samples or
// a time span); blocks persist a chunk's bytes() next to its Encoding, and read it back with
// ChunkFromBytes. The encodings (byte layouts: docs/format/chunks.md):
//   kXor      Gorilla-style: delta-of-delta timestamps, XOR'd float bits. Any values.
//   kInteger  for values that are decimals with few digits (counters, byte gauges, percentages,
//             temperatures): scaled integers coded as deltas with a per-chunk Rice parameter,
//             timestamps on a per-chunk grid. Any value still round-trips (escapes), but the
//             encoding only pays off when most values are such decimals; EncodeBest picks.
//   kXorValues, kIntegerValues
//             the same without timestamps. Series scraped from one target share their
//             timestamps, so a block stores such a column once (any chunk of the two encodings
//             above, its values ignored) and the series' values in these; WithTimestamps joins
//             the two. On their own, their sample i reads as timestamp i.
//
// Both are lossless: a sample's timestamp (any int64) and its value's exact bits (NaN payloads
// such as Prometheus's staleness marker, ±Inf, -0.0, denormals) come back unchanged, in
// append order. The encoding id is the format's version: a changed layout gets a new id.
//
// Thread safety: a Chunk and its iterators and appenders are not synchronized; concurrent
// readers are fine only while nobody appends.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tyto/status.h"

namespace tyto::tsdb::chunk {

enum class Encoding : uint8_t {
  kXor = 1,
  // 2 is reserved for native histograms.
  kInteger = 3,
  kXorValues = 4,
  kIntegerValues = 5,
};

// True for kXorValues and kIntegerValues: chunks whose timestamps are another chunk's.
bool IsValuesOnly(Encoding e);

// "xor", "integer", or "unknown".
std::string_view EncodingName(Encoding e);

// Samples in order: (timestamp in ms, value).
using Samples = std::vector<std::pair<int64_t, double>>;

// The sample count is a uint16 in every chunk header.
inline constexpr int kMaxSamples = 65535;

// Walks one chunk's samples in append order. Valid while its chunk is alive and not appended
// to (an append may move the bytes it reads).
class Iterator {
 public:
  virtual ~Iterator() = default;

  // Moves to the next sample. False at the end, or when the bytes are corrupt (status() then
  // says kCorruption); after false, every call returns false.
  virtual bool Next() = 0;
  // Moves forward to the first sample, at or after the current one, whose timestamp is >= t
  // (the current sample counts: Seek never moves backwards). False if there is none.
  virtual bool Seek(int64_t t) = 0;
  // Seek that also counts the Next steps it took: what a joined iterator needs to bring its
  // values along (SeekCounting on the timestamps, then Advance on the values).
  virtual bool SeekCounting(int64_t t, size_t* steps) = 0;
  // Next, n times; false if the samples ran out first.
  virtual bool Advance(size_t n) = 0;
  // The current sample; meaningful only after Next or Seek returned true.
  virtual int64_t t() const = 0;
  virtual double v() const = 0;
  // OK, or kCorruption once decoding failed.
  virtual Status status() const = 0;
};

// Adds samples to the end of its chunk. Valid while its chunk is alive.
class Appender {
 public:
  virtual ~Appender() = default;
  // Appends one sample. Any timestamp is accepted (order is the caller's business; the head
  // keeps timestamps increasing). Precondition: num_samples() < kMaxSamples; appending to a
  // full chunk is a bug and aborts the process.
  virtual void Append(int64_t t, double v) = 0;
};

class Chunk {
 public:
  virtual ~Chunk() = default;

  virtual Encoding encoding() const = 0;
  // The encoded form, exactly what is persisted; changes with every append.
  virtual std::string_view bytes() const = 0;
  virtual int num_samples() const = 0;
  // An appender that continues after the existing samples (O(samples) once, to recover the
  // encoder's state; O(1) per Append). Several appenders of one chunk share its state.
  // Returns nullptr if the existing samples do not decode (a corrupt chunk from bytes).
  virtual std::unique_ptr<Appender> NewAppender() = 0;
  virtual std::unique_ptr<Iterator> NewIterator() const = 0;
};

// An empty chunk. Precondition: e is a known encoding (anything else is a bug and aborts).
// An empty kInteger chunk uses generic parameters; EncodeBest tunes them to the data. Appending
// to a values-only chunk ignores the timestamps.
std::unique_ptr<Chunk> NewChunk(Encoding e);

// Wraps persisted bytes. Checks the header (an unknown encoding is kUnimplemented, a malformed
// header kCorruption); corruption inside the samples surfaces later, as Iterator::status().
Result<std::unique_ptr<Chunk>> ChunkFromBytes(Encoding e, std::string bytes);

// Encodes `samples` (in order, any timestamps) as the smallest of the candidate encodings: XOR,
// and kInteger with parameters chosen for these samples. Used when a full head chunk is cut.
// Precondition: samples.size() <= kMaxSamples (more is a bug and aborts).
std::unique_ptr<Chunk> EncodeBest(const Samples& samples);

// The same for the values alone (the timestamps are ignored): the smaller of kXorValues and
// kIntegerValues.
std::unique_ptr<Chunk> EncodeBestValues(const Samples& samples);

// A read-only chunk with the timestamps of `timestamps` (a chunk that is not values-only; its
// values are ignored) and the values of `values` (a values-only chunk). Its encoding() and
// bytes() are the values chunk's; NewAppender returns nullptr. kCorruption unless both hold the
// same number of samples and the encodings are as said; the caller names the chunks in context.
Result<std::unique_ptr<Chunk>> WithTimestamps(std::unique_ptr<Chunk> timestamps, std::unique_ptr<Chunk> values);

}  // namespace tyto::tsdb::chunk
