#include "clickhouse/row_binary.h"

#include <bit>
#include <cstring>

namespace tyto::clickhouse {

void RowBinaryWriter::VarUInt(uint64_t v) {
  while (v >= 0x80) {
    out_->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out_->push_back(static_cast<char>(v));
}

void RowBinaryWriter::Fixed(uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out_->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void RowBinaryWriter::Float64(double v) { Fixed(std::bit_cast<uint64_t>(v), 8); }

void RowBinaryWriter::String(std::string_view s) {
  VarUInt(s.size());
  out_->append(s);
}

void RowBinaryWriter::FixedString(std::string_view s, size_t n) {
  const size_t k = std::min(s.size(), n);
  out_->append(s.substr(0, k));
  out_->append(n - k, '\0');
}

void RowBinaryWriter::StringArray(const std::vector<std::string>& v) {
  VarUInt(v.size());
  for (const std::string& s : v) String(s);
}

void RowBinaryWriter::NullableString(const std::string* s) {
  if (s == nullptr) {
    UInt8(1);
    return;
  }
  UInt8(0);
  String(*s);
}

Status RowBinaryReader::Need(size_t n, std::string_view what) const {
  if (in_.size() - pos_ < n) {
    return Corruption("RowBinary: " + std::string(what) + " at offset " + std::to_string(pos_) + " needs " +
                      std::to_string(n) + " bytes; " + std::to_string(in_.size() - pos_) + " are left");
  }
  return Status::Ok();
}

Result<uint64_t> RowBinaryReader::VarUInt() {
  uint64_t v = 0;
  const size_t start = pos_;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos_ >= in_.size()) {
      return Corruption("RowBinary: a VarUInt at offset " + std::to_string(start) + " is cut off");
    }
    const auto b = static_cast<uint8_t>(in_[pos_++]);
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return v;
  }
  return Corruption("RowBinary: a VarUInt at offset " + std::to_string(start) + " is longer than 10 bytes");
}

Result<uint64_t> RowBinaryReader::Fixed(int bytes, std::string_view what) {
  TYTO_RETURN_IF_ERROR(Need(static_cast<size_t>(bytes), what));
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(in_[pos_ + i])) << (8 * i);
  pos_ += static_cast<size_t>(bytes);
  return v;
}

Result<uint8_t> RowBinaryReader::UInt8() {
  TYTO_ASSIGN_OR_RETURN(uint64_t v, Fixed(1, "a UInt8"));
  return static_cast<uint8_t>(v);
}
Result<uint32_t> RowBinaryReader::UInt32() {
  TYTO_ASSIGN_OR_RETURN(uint64_t v, Fixed(4, "a UInt32"));
  return static_cast<uint32_t>(v);
}
Result<uint64_t> RowBinaryReader::UInt64() { return Fixed(8, "a UInt64"); }
Result<int32_t> RowBinaryReader::Int32() {
  TYTO_ASSIGN_OR_RETURN(uint64_t v, Fixed(4, "an Int32"));
  return static_cast<int32_t>(static_cast<uint32_t>(v));
}
Result<int64_t> RowBinaryReader::Int64() {
  TYTO_ASSIGN_OR_RETURN(uint64_t v, Fixed(8, "an Int64"));
  return static_cast<int64_t>(v);
}
Result<double> RowBinaryReader::Float64() {
  TYTO_ASSIGN_OR_RETURN(uint64_t v, Fixed(8, "a Float64"));
  return std::bit_cast<double>(v);
}

Result<std::string> RowBinaryReader::String() {
  TYTO_ASSIGN_OR_RETURN(uint64_t n, VarUInt());
  if (n > in_.size() - pos_) TYTO_RETURN_IF_ERROR(Need(in_.size() - pos_ + 1, "a String's bytes"));
  std::string s(in_.substr(pos_, static_cast<size_t>(n)));
  pos_ += static_cast<size_t>(n);
  return s;
}

Result<std::string> RowBinaryReader::FixedString(size_t n) {
  TYTO_RETURN_IF_ERROR(Need(n, "a FixedString"));
  std::string s(in_.substr(pos_, n));
  pos_ += n;
  return s;
}

Result<uint64_t> RowBinaryReader::ArraySize(size_t min_element_bytes) {
  const size_t start = pos_;
  TYTO_ASSIGN_OR_RETURN(uint64_t n, VarUInt());
  const uint64_t left = in_.size() - pos_;
  if (min_element_bytes > 0 && n > left / min_element_bytes) {
    return Corruption("RowBinary: an Array at offset " + std::to_string(start) + " claims " + std::to_string(n) +
                      " elements; " + std::to_string(left) + " bytes are left");
  }
  return n;
}

Result<std::vector<std::string>> RowBinaryReader::StringArray() {
  TYTO_ASSIGN_OR_RETURN(uint64_t n, ArraySize(1));
  std::vector<std::string> out;
  out.reserve(static_cast<size_t>(n));
  for (uint64_t i = 0; i < n; ++i) {
    TYTO_ASSIGN_OR_RETURN(std::string s, String());
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::string> RowBinaryReader::NullableString(bool* is_null) {
  TYTO_ASSIGN_OR_RETURN(uint8_t flag, UInt8());
  if (flag > 1) {
    return Corruption("RowBinary: a Nullable's flag at offset " + std::to_string(pos_ - 1) + " is " +
                      std::to_string(flag) + ", not 0 or 1");
  }
  *is_null = flag == 1;
  if (*is_null) return std::string();
  return String();
}

}  // namespace tyto::clickhouse
