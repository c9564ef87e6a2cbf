#include "tsdb/chunk/chunk.h"

#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tsdb/chunk/chunk_internal.h"
#include "tsdb/chunk/decimal.h"
#include "tsdb/chunk/integer_chunk.h"
#include "tsdb/chunk/xor_chunk.h"

namespace tyto::tsdb::chunk {
namespace {

// The values' decimals, or nullopt when fewer than half of them are decimals. kInteger then
// stores most values raw; it can still win now and then (its timestamp coding is better), but
// trying it costs 10-20x the encoding time of such series and gained nothing on the shared
// fleet workload (measured: identical block bytes). Stops as soon as that is known.
std::optional<std::vector<std::optional<Decimal>>> MostlyDecimals(
    const Samples& samples) {
  const size_t allowed = samples.size() / 2;
  size_t others = 0;
  std::vector<std::optional<Decimal>> decimals(samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    decimals[i] = FindDecimal(samples[i].second);
    if (!decimals[i] && ++others > allowed) return std::nullopt;
  }
  return decimals;
}

}  // namespace

std::string_view EncodingName(Encoding e) {
  switch (e) {
    case Encoding::kXor:
      return "xor";
    case Encoding::kInteger:
      return "integer";
    case Encoding::kXorValues:
      return "xor-values";
    case Encoding::kIntegerValues:
      return "integer-values";
  }
  return "unknown";
}

bool IsValuesOnly(Encoding e) { return e == Encoding::kXorValues || e == Encoding::kIntegerValues; }

void CheckRoomForSample(int count) {
  if (count >= kMaxSamples) std::abort();  // a bug in the caller: the head cuts chunks long before
}

std::unique_ptr<Chunk> NewChunk(Encoding e) {
  switch (e) {
    case Encoding::kXor:
      return std::make_unique<XorChunk>();
    case Encoding::kInteger:
      return std::make_unique<IntegerChunk>(IntegerParams{});
    case Encoding::kXorValues:
      return std::make_unique<XorChunk>(/*values_only=*/true);
    case Encoding::kIntegerValues: {
      IntegerParams p;
      p.timestamp_mode = TimestampMode::kNone;
      return std::make_unique<IntegerChunk>(p);
    }
  }
  std::abort();  // a bug in the caller: only the encodings above can be created
}

Result<std::unique_ptr<Chunk>> ChunkFromBytes(Encoding e, std::string bytes) {
  switch (e) {
    case Encoding::kXor:
    case Encoding::kXorValues: {
      TYTO_ASSIGN_OR_RETURN(auto chunk, XorChunk::Open(std::move(bytes), e == Encoding::kXorValues));
      return std::unique_ptr<Chunk>(std::move(chunk));
    }
    case Encoding::kInteger:
    case Encoding::kIntegerValues: {
      TYTO_ASSIGN_OR_RETURN(auto chunk, IntegerChunk::Open(std::move(bytes), e));
      return std::unique_ptr<Chunk>(std::move(chunk));
    }
  }
  return Status(StatusCode::kUnimplemented,
                "chunk encoding " + std::to_string(static_cast<int>(e)) + " is not supported by this version");
}

namespace {

std::unique_ptr<Chunk> EncodeSmallest(const Samples& samples, bool values_only) {
  if (samples.size() > static_cast<size_t>(kMaxSamples)) std::abort();  // a bug: chunks hold a uint16 count
  auto xor_chunk = std::make_unique<XorChunk>(values_only);
  for (const auto& [t, v] : samples) xor_chunk->Append(t, v);
  if (samples.empty()) return xor_chunk;
  const auto decimals = MostlyDecimals(samples);
  if (!decimals) return xor_chunk;
  auto integer_chunk = values_only ? EncodeIntegerValues(samples, *decimals) : EncodeInteger(samples, *decimals);
  if (integer_chunk->bytes().size() < xor_chunk->bytes().size()) return integer_chunk;
  return xor_chunk;
}

// Timestamps from one chunk's iterator, values from another's, advanced together.
class JoinedIterator final : public Iterator {
 public:
  JoinedIterator(std::unique_ptr<Iterator> timestamps, std::unique_ptr<Iterator> values)
      : timestamps_(std::move(timestamps)), values_(std::move(values)) {}

  bool Next() override {
    if (done_) return false;
    const bool t = timestamps_->Next();
    const bool v = values_->Next();
    positioned_ = t && v;
    done_ = !positioned_;  // equal counts, so both end together unless one is corrupt
    return positioned_;
  }
  bool Seek(int64_t t) override {
    size_t steps = 0;
    return SeekCounting(t, &steps);
  }
  bool SeekCounting(int64_t t, size_t* steps) override {
    *steps = 0;
    if (done_) return false;
    if (positioned_ && timestamps_->t() >= t) return true;
    // The timestamps seek in their own tight loop; the values follow by as many steps.
    if (!timestamps_->SeekCounting(t, steps) || !values_->Advance(*steps)) return Finish();
    positioned_ = true;
    return true;
  }
  bool Advance(size_t n) override {
    for (size_t i = 0; i < n; ++i) {
      if (!Next()) return false;
    }
    return true;
  }
  int64_t t() const override { return timestamps_->t(); }
  double v() const override { return values_->v(); }
  Status status() const override {
    Status s = timestamps_->status();
    return s.ok() ? values_->status() : s;
  }

 private:
  std::unique_ptr<Iterator> timestamps_;
  std::unique_ptr<Iterator> values_;
  bool Finish() {
    positioned_ = false;
    done_ = true;
    return false;
  }

  bool positioned_ = false;  // on a sample
  bool done_ = false;
};

class JoinedChunk final : public Chunk {
 public:
  JoinedChunk(std::unique_ptr<Chunk> timestamps, std::unique_ptr<Chunk> values)
      : timestamps_(std::move(timestamps)), values_(std::move(values)) {}

  Encoding encoding() const override { return values_->encoding(); }
  std::string_view bytes() const override { return values_->bytes(); }
  int num_samples() const override { return values_->num_samples(); }
  std::unique_ptr<Appender> NewAppender() override { return nullptr; }
  std::unique_ptr<Iterator> NewIterator() const override {
    return std::make_unique<JoinedIterator>(timestamps_->NewIterator(), values_->NewIterator());
  }

 private:
  std::unique_ptr<Chunk> timestamps_;
  std::unique_ptr<Chunk> values_;
};

}  // namespace

std::unique_ptr<Chunk> EncodeBest(const Samples& samples) {
  return EncodeSmallest(samples, /*values_only=*/false);
}

std::unique_ptr<Chunk> EncodeBestValues(const Samples& samples) {
  return EncodeSmallest(samples, /*values_only=*/true);
}

Result<std::unique_ptr<Chunk>> WithTimestamps(std::unique_ptr<Chunk> timestamps, std::unique_ptr<Chunk> values) {
  if (IsValuesOnly(timestamps->encoding())) {
    return Corruption(std::string("a timestamp column of encoding ") + std::string(EncodingName(timestamps->encoding())));
  }
  if (!IsValuesOnly(values->encoding())) {
    return Corruption(std::string("a values chunk of encoding ") + std::string(EncodingName(values->encoding())));
  }
  if (timestamps->num_samples() != values->num_samples()) {
    return Corruption("a timestamp column of " + std::to_string(timestamps->num_samples()) +
                      " samples for a values chunk of " + std::to_string(values->num_samples()));
  }
  return std::unique_ptr<Chunk>(std::make_unique<JoinedChunk>(std::move(timestamps), std::move(values)));
}

}  // namespace tyto::tsdb::chunk
