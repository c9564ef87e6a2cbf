#include "clickhouse/row_binary.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace tyto::clickhouse {
namespace {

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int x : b) s.push_back(static_cast<char>(x));
  return s;
}

TEST(RowBinaryTest, VarUIntIsLeb128) {
  struct Case {
    uint64_t v;
    std::string bytes;
  };
  for (const Case& c : std::vector<Case>{{0, Bytes({0})},
                                         {1, Bytes({1})},
                                         {127, Bytes({0x7f})},
                                         {128, Bytes({0x80, 0x01})},
                                         {300, Bytes({0xac, 0x02})},
                                         {16384, Bytes({0x80, 0x80, 0x01})},
                                         {~0ull, Bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})}}) {
    std::string out;
    RowBinaryWriter(&out).VarUInt(c.v);
    EXPECT_EQ(out, c.bytes) << c.v;
    RowBinaryReader r(out);
    auto v = r.VarUInt();
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(*v, c.v);
    EXPECT_TRUE(r.done());
  }
}

TEST(RowBinaryTest, FixedWidthIntegersAreLittleEndian) {
  std::string out;
  RowBinaryWriter w(&out);
  w.Int64(-2);
  w.UInt64(0x0102030405060708ull);
  w.Int32(-1);
  w.UInt32(0x01020304);
  w.UInt8(0xab);
  EXPECT_EQ(out, Bytes({0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02,
                        0x01, 0xff, 0xff, 0xff, 0xff, 0x04, 0x03, 0x02, 0x01, 0xab}));
  RowBinaryReader r(out);
  EXPECT_EQ(*r.Int64(), -2);
  EXPECT_EQ(*r.UInt64(), 0x0102030405060708ull);
  EXPECT_EQ(*r.Int32(), -1);
  EXPECT_EQ(*r.UInt32(), 0x01020304u);
  EXPECT_EQ(*r.UInt8(), 0xab);
  EXPECT_TRUE(r.done());
}

TEST(RowBinaryTest, Float64IsIeee754LittleEndian) {
  std::string out;
  RowBinaryWriter w(&out);
  w.Float64(1.0);
  w.Float64(-0.5);
  w.Float64(std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(out.substr(0, 16), Bytes({0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0xe0, 0xbf}));
  RowBinaryReader r(out);
  EXPECT_EQ(*r.Float64(), 1.0);
  EXPECT_EQ(*r.Float64(), -0.5);
  EXPECT_TRUE(std::isnan(*r.Float64()));
}

TEST(RowBinaryTest, StringsArraysFixedStringsAndNullables) {
  std::string out;
  RowBinaryWriter w(&out);
  w.String("hé");
  w.StringArray({"a", "", "bc"});
  w.FixedString("ab", 4);
  w.FixedString("abcdef", 3);
  w.NullableString(nullptr);
  const std::string x = "x";
  w.NullableString(&x);
  EXPECT_EQ(out, Bytes({3, 'h', 0xc3, 0xa9, 3, 1, 'a', 0, 2, 'b', 'c', 'a', 'b', 0, 0, 'a', 'b', 'c', 1, 0, 1, 'x'}));
  RowBinaryReader r(out);
  EXPECT_EQ(*r.String(), "hé");
  auto arr = r.StringArray();
  ASSERT_TRUE(arr.ok());
  EXPECT_EQ(*arr, (std::vector<std::string>{"a", "", "bc"}));
  EXPECT_EQ(*r.FixedString(4), std::string("ab\0\0", 4));
  EXPECT_EQ(*r.FixedString(3), "abc");
  bool null = false;
  EXPECT_EQ(*r.NullableString(&null), "");
  EXPECT_TRUE(null);
  EXPECT_EQ(*r.NullableString(&null), "x");
  EXPECT_FALSE(null);
  EXPECT_TRUE(r.done());
}

TEST(RowBinaryTest, TruncatedOrHostileInputIsCorruption) {
  for (const std::string& in : {Bytes({5, 'a'}), Bytes({0x80}), Bytes({4, 2, 3}),
                                Bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})}) {
    RowBinaryReader r(in);
    EXPECT_EQ(r.String().status().code(), StatusCode::kCorruption);
  }
  // An array claiming more elements than the bytes left could hold allocates nothing.
  const std::string huge = Bytes({0xff, 0xff, 0xff, 0xff, 0x0f, 'a'});  // the reader views it
  RowBinaryReader r(huge);
  auto a = r.StringArray();
  EXPECT_EQ(a.status().code(), StatusCode::kCorruption);
  EXPECT_NE(a.status().message().find("claims"), std::string::npos);
  const std::string two = Bytes({2});
  RowBinaryReader n(two);
  bool null = false;
  EXPECT_EQ(n.NullableString(&null).status().code(), StatusCode::kCorruption);
  RowBinaryReader short_int(Bytes({1, 2, 3}));
  EXPECT_EQ(short_int.Int64().status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace tyto::clickhouse
