// ClickHouse's RowBinary format: how Tyto writes the rows of an INSERT and reads the rows a
// SELECT returns, over the HTTP interface (`INSERT INTO t FORMAT RowBinary` with the rows as the
// request's body; `SELECT ... FORMAT RowBinary`). Rows are the columns' values one after the
// other, with no names, types or separators; the reader must know the column types.
//
// Encodings (docs/format/clickhouse.md, "RowBinary"):
//   UInt8/16/32/64, Int8/16/32/64   little-endian, two's complement, 1/2/4/8 bytes
//   Float64                         IEEE 754 binary64, little-endian (NaN as any NaN)
//   DateTime                        UInt32: seconds since the Unix epoch
//   String                          VarUInt length, then the bytes
//   FixedString(N)                  exactly N bytes
//   Array(T)                        VarUInt count, then each element
//   Nullable(T)                     one byte: 1 for NULL (nothing follows), 0 then T
// VarUInt is LEB128: 7 bits a byte, least significant first, high bit set on every byte but
// the last.
//
// Reader: every length is checked against the end of the input (kCorruption naming the
// offset, never a read past it), and counts are bounded so hostile input cannot make it
// allocate more than the input's size allows.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tyto/status.h"

namespace tyto::clickhouse {

class RowBinaryWriter {
 public:
  explicit RowBinaryWriter(std::string* out) : out_(out) {}

  void VarUInt(uint64_t v);
  void UInt8(uint8_t v) { out_->push_back(static_cast<char>(v)); }
  void UInt32(uint32_t v) { Fixed(v, 4); }
  void UInt64(uint64_t v) { Fixed(v, 8); }
  void Int32(int32_t v) { Fixed(static_cast<uint32_t>(v), 4); }
  void Int64(int64_t v) { Fixed(static_cast<uint64_t>(v), 8); }
  void Float64(double v);
  void String(std::string_view s);
  // Exactly n bytes: `s` cut to n, or padded with zero bytes.
  void FixedString(std::string_view s, size_t n);
  void StringArray(const std::vector<std::string>& v);
  // Nullable(String): absent is NULL.
  void NullableString(const std::string* s);

 private:
  void Fixed(uint64_t v, int bytes);
  std::string* out_;
};

class RowBinaryReader {
 public:
  explicit RowBinaryReader(std::string_view in) : in_(in) {}

  bool done() const { return pos_ == in_.size(); }
  size_t offset() const { return pos_; }

  Result<uint64_t> VarUInt();
  Result<uint8_t> UInt8();
  Result<uint32_t> UInt32();
  Result<uint64_t> UInt64();
  Result<int32_t> Int32();
  Result<int64_t> Int64();
  Result<double> Float64();
  Result<std::string> String();
  Result<std::string> FixedString(size_t n);
  // The count of an Array(T) whose elements take at least `min_element_bytes` each (1 for
  // strings and UInt8, 8 for Int64): kCorruption when the rest of the input cannot hold them.
  Result<uint64_t> ArraySize(size_t min_element_bytes);
  Result<std::vector<std::string>> StringArray();
  // Nullable(String): *is_null tells NULL apart from "".
  Result<std::string> NullableString(bool* is_null);

 private:
  Status Need(size_t n, std::string_view what) const;
  Result<uint64_t> Fixed(int bytes, std::string_view what);
  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace tyto::clickhouse
