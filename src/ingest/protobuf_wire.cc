#include "ingest/protobuf_wire.h"

#include <cstring>
#include <string>

#include "common/coding.h"

namespace tyto::ingest {

std::string_view WireTypeName(WireType type) {
  switch (type) {
    case WireType::kVarint: return "varint";
    case WireType::kFixed64: return "fixed64";
    case WireType::kLengthDelimited: return "length-delimited";
    case WireType::kStartGroup: return "start-group";
    case WireType::kEndGroup: return "end-group";
    case WireType::kFixed32: return "fixed32";
  }
  return "unknown";
}

bool ProtoReader::Fail(const char* at, std::string what) {
  status_ = InvalidArgument("invalid protobuf at byte " + std::to_string(Offset(at)) + ": " + what);
  p_ = end_;
  value_pending_ = false;
  return false;
}

bool ProtoReader::NextSlow() {
  if (!status_.ok()) return false;
  if (value_pending_ && !SkipValue()) return false;
  if (p_ == end_) return false;
  const char* key_at = p_;
  uint64_t key = 0;
  p_ = coding::GetVarint64(p_, end_, &key);
  if (p_ == nullptr) {
    p_ = key_at;
    return Fail(key_at, "truncated or over-long field key");
  }
  const uint64_t field = key >> 3;
  const auto type = static_cast<uint8_t>(key & 7);
  if (field == 0 || field > 0x1fffffff) {
    return Fail(key_at, "field number " + std::to_string(field) + " is out of range");
  }
  if (type > 5) return Fail(key_at, "field " + std::to_string(field) + " has unknown wire type " + std::to_string(type));
  field_ = static_cast<uint32_t>(field);
  wire_type_ = static_cast<WireType>(type);
  field_offset_ = Offset(key_at);
  if (wire_type_ == WireType::kStartGroup || wire_type_ == WireType::kEndGroup) {
    return Fail(key_at, "field " + std::to_string(field) + " is a group (wire type " + std::to_string(type) +
                            "), which is not supported");
  }
  value_pending_ = true;
  return true;
}

bool ProtoReader::ExpectWireType(WireType want) {
  if (!status_.ok()) return false;
  if (!value_pending_) {
    status_ = Internal("ProtoReader: value read twice or before Next()");
    return false;
  }
  if (wire_type_ != want) {
    const char* key_at = begin_ + (field_offset_ - base_);
    return Fail(key_at, "field " + std::to_string(field_) + " has wire type " + std::string(WireTypeName(wire_type_)) +
                            ", expected " + std::string(WireTypeName(want)));
  }
  value_pending_ = false;
  return true;
}

bool ProtoReader::ReadVarint(uint64_t* v) {
  if (!ExpectWireType(WireType::kVarint)) return false;
  const char* at = p_;
  const char* next = coding::GetVarint64(p_, end_, v);
  if (next == nullptr) {
    return Fail(at, "field " + std::to_string(field_) + ": truncated or over-long varint");
  }
  p_ = next;
  return true;
}

bool ProtoReader::ReadFixed64(uint64_t* v) {
  if (!ExpectWireType(WireType::kFixed64)) return false;
  if (end_ - p_ < 8) {
    return Fail(p_, "field " + std::to_string(field_) + ": fixed64 value truncated (" + std::to_string(end_ - p_) +
                        " bytes left)");
  }
  *v = coding::DecodeFixed64(p_);
  p_ += 8;
  return true;
}

bool ProtoReader::ReadDouble(double* v) {
  uint64_t bits = 0;
  if (!ReadFixed64(&bits)) return false;
  std::memcpy(v, &bits, sizeof bits);
  return true;
}

bool ProtoReader::ReadBytesSlow(std::string_view* v) {
  if (!ExpectWireType(WireType::kLengthDelimited)) return false;
  const char* at = p_;
  uint64_t n = 0;
  const char* data = coding::GetVarint64(p_, end_, &n);
  if (data == nullptr) return Fail(at, "field " + std::to_string(field_) + ": truncated length");
  if (n > static_cast<uint64_t>(end_ - data)) {
    return Fail(at, "field " + std::to_string(field_) + ": length " + std::to_string(n) + " exceeds the " +
                        std::to_string(end_ - data) + " bytes left in the message");
  }
  *v = std::string_view(data, static_cast<size_t>(n));
  p_ = data + n;
  return true;
}

bool ProtoReader::ReadMessage(ProtoReader* sub) {
  std::string_view bytes;
  if (!ReadBytes(&bytes)) return false;
  *sub = ProtoReader(bytes, Offset(bytes.data()));
  return true;
}

bool ProtoReader::SkipValue() {
  switch (wire_type_) {
    case WireType::kVarint: {
      uint64_t ignored = 0;
      return ReadVarint(&ignored);
    }
    case WireType::kFixed64: {
      uint64_t ignored = 0;
      return ReadFixed64(&ignored);
    }
    case WireType::kLengthDelimited: {
      std::string_view ignored;
      return ReadBytes(&ignored);
    }
    case WireType::kFixed32:
      value_pending_ = false;
      if (end_ - p_ < 4) return Fail(p_, "field " + std::to_string(field_) + ": fixed32 value truncated");
      p_ += 4;
      return true;
    case WireType::kStartGroup:
    case WireType::kEndGroup: break;  // refused by Next()
  }
  return Fail(p_, "cannot skip field " + std::to_string(field_));
}

}  // namespace tyto::ingest
