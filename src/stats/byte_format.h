// The framing and field coding shared by the serialized forms of QuantileSketch, CategoryCounts
// and VectorReservoir (docs/format/stats-sketches.md): a 4-byte magic, a version byte, the body,
// and a CRC-32 of everything before it; integers little-endian, floating point as IEEE 754 bits.
// Private to src/stats.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tyto/status.h"

namespace tyto::stats::internal {

// Appends the magic and the version; the body follows; EndFrame appends the CRC.
void BeginFrame(std::string* out, std::string_view magic, uint8_t version);
void EndFrame(std::string* out);

void PutU8(std::string* out, uint8_t v);
void PutU32(std::string* out, uint32_t v);
void PutU64(std::string* out, uint64_t v);
void PutF32(std::string* out, float v);
void PutF64(std::string* out, double v);

// Reads a frame's body field by field, never past its end. Each getter returns false when the
// field does not fit in what is left; Error() then names the field and its offset.
class Reader {
 public:
  // Checks the length, magic, version and CRC of `bytes`; `what` names the type in messages
  // ("quantile sketch").
  static Result<Reader> Open(std::string_view bytes, std::string_view magic, uint8_t version, std::string_view what);

  bool U8(uint8_t* v);
  bool U32(uint32_t* v);
  bool U64(uint64_t* v);
  bool F32(float* v);
  bool F64(double* v);
  bool Bytes(size_t n, std::string_view* v);

  size_t remaining() const { return body_.size() - pos_; }
  // InvalidArgument: "<what>: <message> (byte <offset>)", offset from the start of the input.
  Status Error(std::string_view message) const;
  // InvalidArgument: "<what>: truncated reading <field> (byte <offset>)".
  Status Truncated(std::string_view field) const;
  // OK when the body has been read to its end, else an error naming the extra bytes.
  Status Finish() const;

 private:
  Reader(std::string_view body, std::string_view what) : body_(body), what_(what) {}

  std::string_view body_;  // the bytes between the version and the CRC
  std::string_view what_;
  size_t pos_ = 0;
};

}  // namespace tyto::stats::internal
