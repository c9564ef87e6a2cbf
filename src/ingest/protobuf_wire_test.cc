#include "ingest/protobuf_wire.h"

#include <gtest/gtest.h>

#include "testing/remote_write_builder.h"

namespace tyto::ingest {
namespace {

using testing::PutBytesField;
using testing::PutDoubleField;
using testing::PutKey;
using testing::PutVarintField;

TEST(ProtoReaderTest, ReadsEveryWireTypeAndSkipsUnreadFields) {
  std::string m;
  PutVarintField(&m, 1, 300);
  PutDoubleField(&m, 2, 1.5);
  PutBytesField(&m, 3, "hello");
  PutKey(&m, 4, 5);  // fixed32, skipped
  m.append("\x01\x02\x03\x04", 4);
  PutVarintField(&m, 536870911, 7);  // the largest field number
  PutBytesField(&m, 6, "unread");    // skipped by Next()
  PutVarintField(&m, 7, static_cast<uint64_t>(int64_t{-5}));  // a negative int64: 10 bytes

  ProtoReader r(m);
  ASSERT_TRUE(r.Next());
  EXPECT_EQ(r.field(), 1u);
  EXPECT_EQ(r.wire_type(), WireType::kVarint);
  uint64_t v = 0;
  ASSERT_TRUE(r.ReadVarint(&v));
  EXPECT_EQ(v, 300u);
  ASSERT_TRUE(r.Next());
  double d = 0;
  ASSERT_TRUE(r.ReadDouble(&d));
  EXPECT_EQ(d, 1.5);
  ASSERT_TRUE(r.Next());
  std::string_view s;
  ASSERT_TRUE(r.ReadBytes(&s));
  EXPECT_EQ(s, "hello");
  ASSERT_TRUE(r.Next());
  EXPECT_EQ(r.field(), 4u);
  EXPECT_EQ(r.wire_type(), WireType::kFixed32);
  ASSERT_TRUE(r.Next());
  EXPECT_EQ(r.field(), 536870911u);
  ASSERT_TRUE(r.Next());
  EXPECT_EQ(r.field(), 6u);
  ASSERT_TRUE(r.Next());
  EXPECT_EQ(r.field(), 7u);
  ASSERT_TRUE(r.ReadVarint(&v));
  EXPECT_EQ(static_cast<int64_t>(v), -5);
  EXPECT_FALSE(r.Next());
  EXPECT_TRUE(r.ok()) << r.status().ToString();
}

TEST(ProtoReaderTest, EmbeddedMessageOffsetsCountFromTheOuterBuffer) {
  std::string inner;
  PutVarintField(&inner, 1, 1);
  inner.push_back('\x80');  // a truncated varint key at inner offset 2
  std::string outer;
  PutVarintField(&outer, 9, 0);      // 2 bytes
  PutBytesField(&outer, 2, inner);   // key at 2, length at 3, inner starts at 4
  ProtoReader r(outer);
  ASSERT_TRUE(r.Next());
  ASSERT_TRUE(r.Next());
  EXPECT_EQ(r.field_offset(), 2u);
  ProtoReader sub("");
  ASSERT_TRUE(r.ReadMessage(&sub));
  ASSERT_TRUE(sub.Next());
  EXPECT_FALSE(sub.Next());
  EXPECT_EQ(sub.status().message(), "invalid protobuf at byte 6: truncated or over-long field key");
}

struct BadCase {
  std::string name;
  std::string bytes;
  std::string error;
};

TEST(ProtoReaderTest, MalformedInputFailsWithWhatAndWhere) {
  const std::vector<BadCase> cases = {
      {"truncated varint value", std::string("\x08\x80", 2), "at byte 1: field 1: truncated or over-long varint"},
      {"eleven-byte varint", std::string("\x08") + std::string(10, '\xff') + "\x01",
       "at byte 1: field 1: truncated or over-long varint"},
      {"length beyond the end", std::string("\x12\x05" "abc", 5),
       "at byte 1: field 2: length 5 exceeds the 3 bytes left in the message"},
      {"huge length", std::string("\x12\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 10), "exceeds the 0 bytes left"},
      {"truncated fixed64", std::string("\x09\x01\x02", 3), "at byte 1: field 1: fixed64 value truncated (2 bytes left)"},
      {"truncated fixed32", std::string("\x0d\x01", 2), "at byte 1: field 1: fixed32 value truncated"},
      {"field number 0", std::string("\x00\x01", 2), "at byte 0: field number 0 is out of range"},
      {"wire type 7", std::string("\x0f", 1), "at byte 0: field 1 has unknown wire type 7"},
      {"group", std::string("\x0b\x0c", 2), "at byte 0: field 1 is a group (wire type 3), which is not supported"},
  };
  for (const BadCase& c : cases) {
    ProtoReader r(c.bytes);
    while (r.Next()) {
    }
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.name;
    EXPECT_NE(r.status().message().find(c.error), std::string::npos) << c.name << ": " << r.status().message();
  }
}

TEST(ProtoReaderTest, WrongWireTypeForAKnownFieldIsAnError) {
  std::string m;
  PutVarintField(&m, 1, 5);
  ProtoReader r(m);
  ASSERT_TRUE(r.Next());
  std::string_view s;
  EXPECT_FALSE(r.ReadBytes(&s));
  EXPECT_EQ(r.status().message(), "invalid protobuf at byte 0: field 1 has wire type varint, expected length-delimited");
  EXPECT_FALSE(r.Next());
}

}  // namespace
}  // namespace tyto::ingest
