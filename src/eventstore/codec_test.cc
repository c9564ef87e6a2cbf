#include "eventstore/codec.h"

#include <gtest/gtest.h>

#include <cmath>

#include "eventstore/partition.h"

namespace tyto::eventstore {
namespace {

TEST(CodecTest, HexIds) {
  std::string bytes;
  ASSERT_TRUE(DecodeHexId("5B8EFFF798038103D269B633813FC60C", 16, &bytes));
  EXPECT_EQ(bytes.size(), 16u);
  EXPECT_EQ(static_cast<uint8_t>(bytes[0]), 0x5b);
  EXPECT_EQ(HexId(bytes), "5b8efff798038103d269b633813fc60c");
  EXPECT_FALSE(DecodeHexId("5b8efff798038103d269b633813fc60", 16, &bytes)) << "31 digits";
  EXPECT_FALSE(DecodeHexId("5b8efff798038103d269b633813fc60g", 16, &bytes));
  EXPECT_FALSE(DecodeHexId(std::string(32, '0'), 16, &bytes)) << "all zero is invalid";
  EXPECT_FALSE(DecodeHexId("", 8, &bytes));
  ASSERT_TRUE(DecodeHexId("00f067aa0ba902b7", 8, &bytes));
  EXPECT_EQ(HexId(bytes), "00f067aa0ba902b7");
  EXPECT_EQ(HexId(""), "");
}

TEST(CodecTest, SpanModelPrefersTheRequestModel) {
  events::Span s;
  EXPECT_EQ(SpanModel(s), "");
  s.attributes = {{"gen_ai.response.model", "gpt-4o-2024-08-06"}};
  EXPECT_EQ(SpanModel(s), "gpt-4o-2024-08-06");
  s.attributes.push_back({"gen_ai.request.model", "gpt-4o"});
  EXPECT_EQ(SpanModel(s), "gpt-4o");
}

TEST(CodecTest, TermsAreSingleAsciiWords) {
  std::string terms;
  AppendTraceTerm(&terms, std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10", 16));
  AppendAttributeTerm(&terms, "tenant", "acme");
  AppendResourceTerm(&terms, 42);
  EXPECT_EQ(terms.substr(0, 34), "t0102030405060708090a0b0c0d0e0f10 ");
  EXPECT_EQ(terms.substr(34, 18), "a" + std::string(terms.substr(35, 16)) + " ");
  EXPECT_EQ(terms.substr(52), "r42");
  // FNV-1a of "tenant", 0x00, "acme" (a fixed value: the hash is part of the file format).
  EXPECT_EQ(AttributeHash("tenant", "acme"), AttributeHash("tenant", "acme"));
  EXPECT_NE(AttributeHash("tenant", "acme"), AttributeHash("tenan", "tacme"));
  EXPECT_EQ(AttributeHash("", ""), 0xaf63bd4c8601b7dfull);  // FNV-1a 64 of the single byte 0x00
}

KeyIdFn Numbering(std::vector<std::string>* keys) {
  return [keys](std::string_view k) -> uint64_t {
    for (size_t i = 0; i < keys->size(); ++i) {
      if ((*keys)[i] == k) return i + 1;
    }
    keys->emplace_back(k);
    return keys->size();
  };
}

KeyNameFn Names(const std::vector<std::string>* keys) {
  return [keys](uint64_t id) -> const std::string* {
    if (id == 0 || id > keys->size()) return nullptr;
    return &(*keys)[id - 1];
  };
}

TEST(CodecTest, AttributesRoundTripAndDamageIsCaught) {
  std::vector<std::string> keys;
  std::vector<events::Attribute> attrs = {{"a", "1"}, {"b", ""}, {"a", std::string("x\0y", 3)}};
  std::string blob;
  EncodeAttributes(attrs, Numbering(&keys), &blob);
  EXPECT_EQ(keys.size(), 2u);
  std::vector<events::Attribute> back;
  ASSERT_TRUE(DecodeAttributes(blob, Names(&keys), &back).ok());
  ASSERT_EQ(back.size(), 3u);
  EXPECT_EQ(back[2].value, std::string("x\0y", 3));
  // Every truncation, and a trailing byte, fail with kCorruption.
  for (size_t n = 0; n < blob.size(); ++n) {
    EXPECT_EQ(DecodeAttributes(blob.substr(0, n), Names(&keys), &back).code(), StatusCode::kCorruption) << n;
  }
  EXPECT_EQ(DecodeAttributes(blob + "x", Names(&keys), &back).code(), StatusCode::kCorruption);
  // An unknown key id fails too.
  std::vector<std::string> fewer = {"a"};
  EXPECT_EQ(DecodeAttributes(blob, Names(&fewer), &back).code(), StatusCode::kCorruption);
  // A count far beyond the blob does not allocate it.
  EXPECT_EQ(DecodeAttributes("\xff\xff\xff\xff\x0f", Names(&keys), &back).code(), StatusCode::kCorruption);
}

TEST(CodecTest, SpanEventsRoundTrip) {
  std::vector<std::string> keys;
  std::vector<events::SpanEvent> evs = {{-5, "exception", {{"exception.type", "Timeout"}}},
                                        {1'700'000'000'000'000'000, "", {}}};
  std::string blob;
  EncodeSpanEvents(evs, Numbering(&keys), &blob);
  std::vector<events::SpanEvent> back;
  ASSERT_TRUE(DecodeSpanEvents(blob, Names(&keys), &back).ok());
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].time_unix_nano, -5);
  EXPECT_EQ(back[0].name, "exception");
  EXPECT_EQ(back[0].attributes[0].value, "Timeout");
  EXPECT_EQ(back[1].time_unix_nano, 1'700'000'000'000'000'000);
  ASSERT_TRUE(DecodeSpanEvents("", Names(&keys), &back).ok());
  EXPECT_TRUE(back.empty());
  for (size_t n = 1; n < blob.size(); ++n) {
    EXPECT_EQ(DecodeSpanEvents(blob.substr(0, n), Names(&keys), &back).code(), StatusCode::kCorruption) << n;
  }
}

TEST(CodecTest, StringsFieldsAndFieldTypesRoundTrip) {
  std::string blob;
  EncodeStrings({"stop", "", "length"}, &blob);
  std::vector<std::string> strings;
  ASSERT_TRUE(DecodeStrings(blob, &strings).ok());
  EXPECT_EQ(strings, (std::vector<std::string>{"stop", "", "length"}));
  EXPECT_EQ(DecodeStrings(blob.substr(0, blob.size() - 1), &strings).code(), StatusCode::kCorruption);

  std::vector<events::Field> fields = {
      {"x", true, 1.5, ""}, {"nan", true, events::kUnknown, ""}, {"c", false, 0, "fr"}};
  EncodeFields(fields, &blob);
  std::vector<events::Field> back;
  ASSERT_TRUE(DecodeFields(blob, &back).ok());
  ASSERT_EQ(back.size(), 3u);
  EXPECT_EQ(back[0].number, 1.5);
  EXPECT_TRUE(std::isnan(back[1].number));
  EXPECT_FALSE(back[2].is_number);
  EXPECT_EQ(back[2].text, "fr");
  for (size_t n = 1; n < blob.size(); ++n) {
    EXPECT_EQ(DecodeFields(blob.substr(0, n), &back).code(), StatusCode::kCorruption) << n;
  }
  std::string bad = blob;
  bad[3] = 7;  // the kind byte of the first field
  EXPECT_EQ(DecodeFields(bad, &back).code(), StatusCode::kCorruption);

  EncodeFieldTypes({{"id", "int64"}, {"name", "string"}}, &blob);
  std::vector<events::PipelineStageEvent::FieldType> types;
  ASSERT_TRUE(DecodeFieldTypes(blob, &types).ok());
  ASSERT_EQ(types.size(), 2u);
  EXPECT_EQ(types[1].type, "string");
  EXPECT_EQ(DecodeFieldTypes(blob.substr(0, 4), &types).code(), StatusCode::kCorruption);
}

TEST(CodecTest, NanosToMillisRoundsDown) {
  EXPECT_EQ(NanosToMillis(0), 0);
  EXPECT_EQ(NanosToMillis(999'999), 0);
  EXPECT_EQ(NanosToMillis(1'000'000), 1);
  EXPECT_EQ(NanosToMillis(-1), -1);
  EXPECT_EQ(NanosToMillis(-1'000'000), -1);
  EXPECT_EQ(NanosToMillis(-1'000'001), -2);
  EXPECT_EQ(NanosToMillis(std::numeric_limits<int64_t>::max()), std::numeric_limits<int64_t>::max() / 1'000'000);
}

TEST(CodecTest, PartitionFileNames) {
  EXPECT_EQ(PartitionFileName(1'700'000'000'000), "20231114T221320Z.db");
  int64_t ms = 0;
  ASSERT_TRUE(ParsePartitionFileName("20231114T221320Z.db", &ms));
  EXPECT_EQ(ms, 1'700'000'000'000);
  ASSERT_TRUE(ParsePartitionFileName("19700101T000000Z.db", &ms));
  EXPECT_EQ(ms, 0);
  for (const char* bad : {"20231114T221320Z.db-wal", "20231114T221320Z.db.tmp", "20230231T000000Z.db",
                          "2023111XT221320Z.db", "20231114T241320Z.db", "lock", "20231114221320Z.db"}) {
    EXPECT_FALSE(ParsePartitionFileName(bad, &ms)) << bad;
  }
}

}  // namespace
}  // namespace tyto::eventstore
