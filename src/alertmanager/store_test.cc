#include "alertmanager/store.h"

#include <gtest/gtest.h>

#include "common/crc32.h"
#include "testing/temp_dir.h"

namespace tyto::alertmanager {
namespace {

std::vector<Silence> SomeSilences() {
  Silence a;
  a.id = "9c7a4a4e-0000-4000-8000-000000000001";
  a.matchers = *ParseMatchers("{alertname=\"X\", job=~\"a|b\", env!=\"dev\", pod!~\"p.*\"}");
  a.starts_at = 1'700'000'000'000;
  a.ends_at = 1'700'003'600'000;
  a.updated_at = 1'700'000'000'001;
  a.created_by = "alice";
  a.comment = "maintenance\nwindow";
  Silence b = a;
  b.id = "second";
  b.matchers = *ParseMatchers("{a=\"b\"}");
  b.comment.clear();
  return {a, b};
}

TEST(StoreTest, SilencesRoundTrip) {
  const std::vector<Silence> in = SomeSilences();
  auto out = DecodeSilences(EncodeSilences(in));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->size(), 2u);
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ((*out)[i].id, in[i].id);
    EXPECT_EQ((*out)[i].matchers, in[i].matchers);
    EXPECT_EQ((*out)[i].starts_at, in[i].starts_at);
    EXPECT_EQ((*out)[i].ends_at, in[i].ends_at);
    EXPECT_EQ((*out)[i].updated_at, in[i].updated_at);
    EXPECT_EQ((*out)[i].created_by, in[i].created_by);
    EXPECT_EQ((*out)[i].comment, in[i].comment);
  }
  auto empty = DecodeSilences(EncodeSilences({}));
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(StoreTest, SilencesKeepTheirTenant) {
  std::vector<Silence> in = SomeSilences();
  in[1].tenant = "acme";
  auto out = DecodeSilences(EncodeSilences(in));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->size(), 2u);
  EXPECT_EQ((*out)[0].tenant, "default");
  EXPECT_EQ((*out)[1].tenant, "acme");
}

// A snapshot written before tenants (kind 'S', no tenant field; bytes as that version wrote
// them) reads as the default tenant's.
TEST(StoreTest, SilencesFromBeforeTenantsAreTheDefaultTenants) {
  std::string payload;
  payload += '\x01';                              // one silence
  payload += "\x02" "s1";                          // id
  payload += '\x01';                              // one matcher
  payload += '\x00';                              // =
  payload += "\x01" "a";                           // name
  payload += "\x01" "b";                           // value
  payload += "\x02\x04\x06";                      // starts 1, ends 2, updated 3 (zig-zag)
  payload += '\x00';                              // created_by
  payload += '\x00';                              // comment
  std::string file = "TYTOAMS1S";
  for (int i = 0; i < 8; ++i) file.push_back(static_cast<char>(i == 0 ? payload.size() : 0));
  file += payload;
  const uint32_t crc = Crc32(file);
  for (int i = 0; i < 4; ++i) file.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
  auto out = DecodeSilences(file);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->size(), 1u);
  EXPECT_EQ((*out)[0].id, "s1");
  EXPECT_EQ((*out)[0].ends_at, 2);
  EXPECT_EQ((*out)[0].tenant, "default");
}

TEST(StoreTest, NflogRoundTrip) {
  NotificationLog log;
  log.Log("{}:{alertname=\"A\"}", "team/webhook/0", NflogEntry{{1, 5, 9}, {2}, 1000, 2000});
  log.Log("{}:{alertname=\"B\"}", "team/slack/1", NflogEntry{{}, {}, 3000, 4000});
  auto out = DecodeNflog(EncodeNflog(log));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->size(), 2u);
  const NflogEntry* e = out->Find("{}:{alertname=\"A\"}", "team/webhook/0");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->firing, (std::vector<uint64_t>{1, 5, 9}));
  EXPECT_EQ(e->resolved, (std::vector<uint64_t>{2}));
  EXPECT_EQ(e->timestamp_ms, 1000);
  EXPECT_EQ(e->expires_at_ms, 2000);
  EXPECT_EQ(out->GarbageCollect(2500), 1u);
}

TEST(StoreTest, DamageIsCorruptionNeverACrash) {
  const std::string good = EncodeSilences(SomeSilences());
  for (size_t n = 0; n < good.size(); ++n) {
    auto r = DecodeSilences(good.substr(0, n));
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << "truncated to " << n;
  }
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    EXPECT_FALSE(DecodeSilences(bad).ok()) << "flipped byte " << i;
  }
  EXPECT_FALSE(DecodeNflog(good).ok()) << "a silences snapshot read as a log";
  auto r = DecodeSilences("not a snapshot at all, just text");
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
}

TEST(StoreTest, WriteAndReadInADirectory) {
  testing::TempDir dir;
  const std::string sub = dir.Path("am");
  EXPECT_EQ(ReadSnapshot(Env::Default(), sub, kNflogSnapshot).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(WriteSnapshot(Env::Default(), sub, kNflogSnapshot, "bytes").ok());
  auto r = ReadSnapshot(Env::Default(), sub, kNflogSnapshot);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "bytes");
  EXPECT_FALSE(Env::Default()->FileExists(sub + "/" + kNflogSnapshot + ".tmp"));
}

TEST(StoreTest, NeedsUpdate) {
  const NflogEntry sent{{1, 2}, {}, 1000, 0};
  EXPECT_TRUE(NeedsUpdate(nullptr, {1}, {}, true, 100, 1000));
  EXPECT_FALSE(NeedsUpdate(nullptr, {}, {1}, true, 100, 1000)) << "resolved only, never notified";
  EXPECT_FALSE(NeedsUpdate(&sent, {1, 2}, {}, true, 100, 1050));
  EXPECT_TRUE(NeedsUpdate(&sent, {1, 2}, {}, true, 100, 1101)) << "repeat interval passed";
  EXPECT_TRUE(NeedsUpdate(&sent, {1, 2, 3}, {}, true, 100, 1050)) << "new firing alert";
  EXPECT_TRUE(NeedsUpdate(&sent, {1}, {2}, true, 100, 1050)) << "resolved, send_resolved";
  EXPECT_FALSE(NeedsUpdate(&sent, {1}, {2}, false, 100, 1050)) << "resolved, no send_resolved";
  EXPECT_TRUE(NeedsUpdate(&sent, {}, {1, 2}, false, 100, 1050)) << "all resolved clears the log";
  const NflogEntry cleared{{}, {1}, 1000, 0};
  EXPECT_FALSE(NeedsUpdate(&cleared, {}, {1}, true, 100, 5000));
}

}  // namespace
}  // namespace tyto::alertmanager
