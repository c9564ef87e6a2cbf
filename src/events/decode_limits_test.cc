// The limits' building blocks: cutting at a UTF-8 boundary, repairing text, adding attributes.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "events/decode_limits.h"
#include "events/ids.h"

namespace tyto::events {
namespace {

std::string Cut(std::string s, size_t max) {
  TruncateUtf8(&s, max);
  return s;
}

TEST(DecodeLimitsTest, TruncateUtf8NeverSplitsACharacter) {
  const std::string s = "a\xc3\xa9" "b\xe2\x82\xac" "c\xf0\x9f\x98\x80";  // a é b € c 😀
  EXPECT_EQ(Cut(s, 100), s);
  EXPECT_EQ(Cut(s, s.size()), s);
  EXPECT_EQ(Cut(s, 1), "a");
  EXPECT_EQ(Cut(s, 2), "a");  // inside é
  EXPECT_EQ(Cut(s, 3), "a\xc3\xa9");
  EXPECT_EQ(Cut(s, 5), "a\xc3\xa9" "b");  // inside €
  EXPECT_EQ(Cut(s, 6), "a\xc3\xa9" "b");
  EXPECT_EQ(Cut(s, 7), "a\xc3\xa9" "b\xe2\x82\xac");
  EXPECT_EQ(Cut(s, 9), "a\xc3\xa9" "b\xe2\x82\xac" "c");  // inside 😀
  EXPECT_EQ(Cut(s, 11), "a\xc3\xa9" "b\xe2\x82\xac" "c");
  EXPECT_EQ(Cut(s, 0), "");
  // A run of continuation bytes longer than a character's is not UTF-8: cut where asked.
  EXPECT_EQ(Cut("\x80\x80\x80\x80\x80\x80", 5), "\x80\x80\x80\x80\x80");
  std::string unchanged = "abc";
  EXPECT_FALSE(TruncateUtf8(&unchanged, 3));
  EXPECT_TRUE(TruncateUtf8(&unchanged, 2));
}

TEST(DecodeLimitsTest, RepairUtf8) {
  std::string s = "ok \xc3\xa9";
  EXPECT_FALSE(RepairUtf8(&s));
  EXPECT_EQ(s, "ok \xc3\xa9");
  s = "\xff" "a\xc3" "b\xed\xa0\x80";  // a stray byte, a cut sequence, a surrogate
  EXPECT_TRUE(RepairUtf8(&s));
  EXPECT_EQ(s, "\xef\xbf\xbd" "a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
}

TEST(DecodeLimitsTest, AddAttribute) {
  DecodeLimits limits;
  limits.max_attributes = 2;
  limits.max_attribute_value_bytes = 3;
  limits.max_content_bytes = 5;
  DecodeStats stats;
  std::vector<Attribute> attrs;
  AddAttribute(&attrs, {"gen_ai.output.messages", "abcdefgh"}, limits, &stats);
  AddAttribute(&attrs, {"long-key", "ab\xff"}, limits, &stats);
  AddAttribute(&attrs, {"dropped", "x"}, limits, &stats);
  ASSERT_EQ(attrs.size(), 2u);
  EXPECT_EQ(attrs[0].value, "abcde");
  EXPECT_EQ(attrs[1].key, "long-key");  // keys are never cut
  EXPECT_EQ(attrs[1].value, "ab");  // repaired to "ab\uFFFD" (5 bytes), then cut at 3 without splitting it
  EXPECT_EQ(stats.content_truncated, 1u);
  EXPECT_EQ(stats.values_truncated, 1u);
  EXPECT_EQ(stats.utf8_repaired, 1u);
  EXPECT_EQ(stats.attributes_dropped, 1u);

  DecodeStats total;
  total += stats;
  total += stats;
  EXPECT_EQ(total.values_truncated, 2u);
  EXPECT_EQ(total.attributes_dropped, 2u);
}

TEST(IdsTest, HexIds) {
  std::string hex;
  EXPECT_EQ(HexIdFromBytes(std::string("\x00\xff\x10\xab\x01\x02\x03\x04", 8), 8, &hex), "");
  EXPECT_EQ(hex, "00ff10ab01020304");
  EXPECT_EQ(HexIdFromBytes("abc", 8, &hex), "is 3 bytes, expected 8");
  EXPECT_EQ(HexIdFromText("00FF10AB01020304", 8, &hex), "");
  EXPECT_EQ(hex, "00ff10ab01020304");
  EXPECT_EQ(HexIdFromText("00ff10ab0102030", 8, &hex), "\"00ff10ab0102030\" is not 16 hex digits");
  EXPECT_EQ(HexIdFromText("00ff10ab0102030g", 8, &hex), "\"00ff10ab0102030g\" is not 16 hex digits");
  EXPECT_TRUE(IsZeroHexId("0000"));
  EXPECT_FALSE(IsZeroHexId("0001"));
}

}  // namespace
}  // namespace tyto::events
