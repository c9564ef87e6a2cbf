// ProtoReader: reads the fields of one protocol buffers message from its wire format
// (https://protobuf.dev/programming-guides/encoding/), so that the few messages Tyto receives
// (remote write, later OTLP) are decoded by hand, without generated code or libprotobuf.
//
// Supported wire types: varint (0), fixed64 (1), length-delimited (2) and fixed32 (5). Groups
// (3, 4; deprecated since proto2 and absent from every message Tyto reads) are an error, even in
// an unknown field. Unknown fields are skipped by the caller calling Next() again.
//
// Bounds: the reader never reads outside the message it was given; a truncated field, a length
// beyond the message's end, a varint longer than 10 bytes, field number 0 or an unknown wire
// type stop it with an InvalidArgument status that gives the byte offset where it happened,
// counted from the start of the outermost buffer (see `base_offset`). Nothing allocates.
//
// Usage:
//   ProtoReader r(bytes);
//   while (r.Next()) {
//     switch (r.field()) {
//       case 1: { std::string_view s; if (!r.ReadBytes(&s)) break; ... } break;
//       default: break;  // an unknown field: Next() skips it
//     }
//   }
//   if (!r.status().ok()) ...
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tyto/status.h"

namespace tyto::ingest {

enum class WireType : uint8_t {
  kVarint = 0,
  kFixed64 = 1,
  kLengthDelimited = 2,
  kStartGroup = 3,
  kEndGroup = 4,
  kFixed32 = 5,
};

// "varint", "fixed64", "length-delimited", ... for error messages.
std::string_view WireTypeName(WireType type);

class ProtoReader {
 public:
  // `message` is the encoded message; `base_offset` is where it starts in the outermost buffer,
  // so that error offsets point into what the client sent (after decompression).
  explicit ProtoReader(std::string_view message, size_t base_offset = 0)
      : begin_(message.data()), p_(message.data()), end_(message.data() + message.size()), base_(base_offset) {}

  // Moves to the next field, skipping the value of the current one if it was not read. Returns
  // false at the end of the message or on an error (then status() says what and where).
  bool Next() {
    // Inline fast path: a one-byte key (fields 1 to 15) with a supported wire type.
    if (status_.ok() && !value_pending_ && p_ != end_) {
      const auto key = static_cast<uint8_t>(*p_);
      const uint8_t type = key & 7;
      if (key < 0x80 && key >= 8 && (type <= 2 || type == 5)) {
        field_ = key >> 3;
        wire_type_ = static_cast<WireType>(type);
        field_offset_ = Offset(p_);
        ++p_;
        value_pending_ = true;
        return true;
      }
    }
    return NextSlow();
  }

  uint32_t field() const { return field_; }
  WireType wire_type() const { return wire_type_; }
  // Offset of the current field's key in the outermost buffer.
  size_t field_offset() const { return field_offset_; }
  // Offset, in the outermost buffer, of the next byte the reader has not consumed.
  size_t offset() const { return Offset(p_); }

  // Read the current field's value. Each fails (returns false, sets status()) when the field's
  // wire type is not the one the reader expects or the value is truncated.
  bool ReadVarint(uint64_t* v);
  bool ReadFixed64(uint64_t* v);
  bool ReadDouble(double* v);
  // A length-delimited value (bytes, string or an embedded message), pointing into the message.
  bool ReadBytes(std::string_view* v) {
    // Inline fast path: a length below 128 that fits.
    if (status_.ok() && value_pending_ && wire_type_ == WireType::kLengthDelimited && p_ != end_) {
      const auto n = static_cast<uint8_t>(*p_);
      if (n < 0x80 && n <= end_ - p_ - 1) {
        *v = std::string_view(p_ + 1, n);
        p_ += 1 + n;
        value_pending_ = false;
        return true;
      }
    }
    return ReadBytesSlow(v);
  }
  // A length-delimited value as an embedded message's reader.
  bool ReadMessage(ProtoReader* sub);

  const Status& status() const { return status_; }
  bool ok() const { return status_.ok(); }

 private:
  size_t Offset(const char* p) const { return base_ + static_cast<size_t>(p - begin_); }
  bool NextSlow();
  bool ReadBytesSlow(std::string_view* v);
  bool Fail(const char* at, std::string what);
  bool ExpectWireType(WireType want);
  bool SkipValue();

  const char* begin_;
  const char* p_;
  const char* end_;
  size_t base_;
  uint32_t field_ = 0;
  WireType wire_type_ = WireType::kVarint;
  size_t field_offset_ = 0;
  bool value_pending_ = false;  // the current field's value has not been read yet
  Status status_;
};

}  // namespace tyto::ingest
