#include "stats/byte_format.h"

#include <bit>
#include <cstring>

#include "common/coding.h"
#include "common/crc32.h"

namespace tyto::stats::internal {

namespace {
constexpr size_t kMagicBytes = 4;
constexpr size_t kHeaderBytes = kMagicBytes + 1;  // magic, version
constexpr size_t kCrcBytes = 4;
}  // namespace

void BeginFrame(std::string* out, std::string_view magic, uint8_t version) {
  out->append(magic.substr(0, kMagicBytes));
  PutU8(out, version);
}

void EndFrame(std::string* out) { coding::PutFixed32(out, Crc32(*out)); }

void PutU8(std::string* out, uint8_t v) { out->push_back(static_cast<char>(v)); }
void PutU32(std::string* out, uint32_t v) { coding::PutFixed32(out, v); }
void PutU64(std::string* out, uint64_t v) { coding::PutFixed64(out, v); }
void PutF32(std::string* out, float v) { coding::PutFixed32(out, std::bit_cast<uint32_t>(v)); }
void PutF64(std::string* out, double v) { coding::PutFixed64(out, std::bit_cast<uint64_t>(v)); }

Result<Reader> Reader::Open(std::string_view bytes, std::string_view magic, uint8_t version, std::string_view what) {
  const std::string prefix(what);
  if (bytes.size() < kHeaderBytes + kCrcBytes) {
    return InvalidArgument(prefix + ": " + std::to_string(bytes.size()) + " bytes, shorter than the " +
                           std::to_string(kHeaderBytes + kCrcBytes) + "-byte header and checksum");
  }
  if (bytes.substr(0, kMagicBytes) != magic.substr(0, kMagicBytes)) {
    return InvalidArgument(prefix + ": wrong magic (not a serialized " + prefix + ")");
  }
  const uint8_t got_version = static_cast<uint8_t>(bytes[kMagicBytes]);
  if (got_version != version) {
    return InvalidArgument(prefix + ": unsupported version " + std::to_string(got_version) + " (this build reads " +
                           std::to_string(version) + ")");
  }
  const size_t crc_at = bytes.size() - kCrcBytes;
  const uint32_t stored = coding::DecodeFixed32(bytes.data() + crc_at);
  const uint32_t computed = Crc32(bytes.substr(0, crc_at));
  if (stored != computed) return InvalidArgument(prefix + ": checksum mismatch (damaged or truncated bytes)");
  return Reader(bytes.substr(kHeaderBytes, crc_at - kHeaderBytes), what);
}

bool Reader::U8(uint8_t* v) {
  if (remaining() < 1) return false;
  *v = static_cast<uint8_t>(body_[pos_]);
  pos_ += 1;
  return true;
}

bool Reader::U32(uint32_t* v) {
  if (remaining() < 4) return false;
  *v = coding::DecodeFixed32(body_.data() + pos_);
  pos_ += 4;
  return true;
}

bool Reader::U64(uint64_t* v) {
  if (remaining() < 8) return false;
  *v = coding::DecodeFixed64(body_.data() + pos_);
  pos_ += 8;
  return true;
}

bool Reader::F32(float* v) {
  uint32_t bits = 0;
  if (!U32(&bits)) return false;
  *v = std::bit_cast<float>(bits);
  return true;
}

bool Reader::F64(double* v) {
  uint64_t bits = 0;
  if (!U64(&bits)) return false;
  *v = std::bit_cast<double>(bits);
  return true;
}

bool Reader::Bytes(size_t n, std::string_view* v) {
  if (remaining() < n) return false;
  *v = body_.substr(pos_, n);
  pos_ += n;
  return true;
}

Status Reader::Error(std::string_view message) const {
  return InvalidArgument(std::string(what_) + ": " + std::string(message) + " (byte " +
                         std::to_string(kHeaderBytes + pos_) + ")");
}

Status Reader::Truncated(std::string_view field) const { return Error("truncated reading " + std::string(field)); }

Status Reader::Finish() const {
  if (remaining() == 0) return Status::Ok();
  return Error(std::to_string(remaining()) + " unexpected bytes after the last field");
}

}  // namespace tyto::stats::internal
