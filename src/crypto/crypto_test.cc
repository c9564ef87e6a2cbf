#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "crypto/envelope.h"
#include "crypto/field_encryption.h"
#include "crypto/keyring.h"
#include "testing/temp_dir.h"

namespace tyto::crypto {
namespace {

Keyring OneKey() {
  auto k = NewKey();
  EXPECT_TRUE(k.ok());
  auto r = Keyring::FromKeys({*k});
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return std::move(r).value();
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(KeyringTest, ParsesKeysCurrentFirstAndSkipsComments) {
  const std::string a(32, 'a'), b(32, 'b');
  auto r = Keyring::Parse("# comment\n\nnew " + Base64Encode(a) + "\r\n  old\t" + Base64Encode(b) + "  \n", "f");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->current().id, "new");
  EXPECT_EQ(r->current().bytes, a);
  ASSERT_NE(r->Find("old"), nullptr);
  EXPECT_EQ(r->Find("old")->bytes, b);
  EXPECT_EQ(r->Find("none"), nullptr);
  EXPECT_EQ(r->current().index_key.size(), 32u);
  auto again = Keyring::Parse(r->Serialize(), "g");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->keys().size(), 2u);
  EXPECT_EQ(again->current().id, "new");
}

TEST(KeyringTest, RefusesMalformedFilesNamingFileAndLine) {
  const std::string good = Base64Encode(std::string(32, 'x'));
  struct Case {
    std::string text, want;
  } cases[] = {
      {"", "f: no key"},
      {"# only a comment\n", "f: no key"},
      {"k1\n", "f:1: expected"},
      {"k1 " + good + " extra\n", "f:1: expected"},
      {"bad/id " + good + "\n", "f:1: key id"},
      {"k1 not-base64!\n", "f:1: key k1 is not valid base64"},
      {"k1 " + Base64Encode(std::string(16, 'x')) + "\n", "must be base64 of 32 bytes, is 16"},
      {"k1 " + good + "\nk1 " + good + "\n", "f:2: key id k1 appears twice"},
      {"k1 " + good.substr(0, good.size() - 1) + "\n", "not valid base64"},
  };
  for (const Case& c : cases) {
    auto r = Keyring::Parse(c.text, "f");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.want), std::string::npos) << r.status().message();
  }
}

TEST(KeyringTest, GenerateMakesOwnerOnlyFileAndRefusesToOverwrite) {
  testing::TempDir dir;
  const std::string path = dir.Path("keys");
  auto id = GenerateKeyFile(path);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  auto ring = Keyring::Load(path);
  ASSERT_TRUE(ring.ok()) << ring.status().ToString();
  EXPECT_EQ(ring->current().id, *id);
  EXPECT_EQ(ring->keys().size(), 1u);
  const std::string before = ReadAll(path);
  auto again = GenerateKeyFile(path);
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(ReadAll(path), before);
}

TEST(KeyringTest, LoadRefusesFilesOthersCanRead) {
  testing::TempDir dir;
  const std::string path = dir.Path("keys");
  ASSERT_TRUE(GenerateKeyFile(path).ok());
  for (mode_t mode : {0644, 0640, 0604, 0700, 0660}) {
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
    auto r = Keyring::Load(path);
    ASSERT_FALSE(r.ok()) << mode;
    EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
    EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find("0600 or 0400"), std::string::npos);
  }
  ASSERT_EQ(::chmod(path.c_str(), 0400), 0);
  EXPECT_TRUE(Keyring::Load(path).ok());
  EXPECT_EQ(Keyring::Load(dir.Path("missing")).status().code(), StatusCode::kIOError);
}

TEST(KeyringTest, RotatePrependsNewKeyKeepsOldAndMode) {
  testing::TempDir dir;
  const std::string path = dir.Path("keys");
  auto first = GenerateKeyFile(path);
  ASSERT_TRUE(first.ok());
  auto before = Keyring::Load(path);
  ASSERT_TRUE(before.ok());
  auto sealed = Encrypt(*before, "old secret", "ctx");
  ASSERT_TRUE(sealed.ok());

  ASSERT_EQ(::chmod(path.c_str(), 0400), 0);
  auto second = RotateKeyFile(path);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_NE(*second, *first);
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0400u);
  auto after = Keyring::Load(path);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  ASSERT_EQ(after->keys().size(), 2u);
  EXPECT_EQ(after->current().id, *second);
  EXPECT_EQ(after->keys()[1].id, *first);
  EXPECT_EQ(after->keys()[1].bytes, before->current().bytes);

  // Old data still reads; new data is under the new key.
  auto old_plain = Decrypt(*after, *sealed, "ctx");
  ASSERT_TRUE(old_plain.ok()) << old_plain.status().ToString();
  EXPECT_EQ(*old_plain, "old secret");
  auto fresh = Encrypt(*after, "new secret", "ctx");
  ASSERT_TRUE(fresh.ok());
  auto env = ParseEnvelope(*fresh);
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(env->key_id, *second);
  // The old keyring cannot read what the new key wrote, and says which key it lacks.
  auto unknown = Decrypt(*before, *fresh, "ctx");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kCorruption);
  EXPECT_NE(unknown.status().message().find(*second), std::string::npos) << unknown.status().message();
}

TEST(EnvelopeTest, RoundTripAndLayout) {
  Keyring ring = OneKey();
  for (std::string plain : {std::string(), std::string("hello"), std::string(100000, 'z'), std::string("\0\xff", 2)}) {
    auto sealed = Encrypt(ring, plain, "field");
    ASSERT_TRUE(sealed.ok());
    EXPECT_TRUE(IsEnvelope(*sealed));
    EXPECT_EQ(sealed->size(), 3 + ring.current().id.size() + kNonceBytes + plain.size() + kTagBytes);
    EXPECT_EQ(static_cast<uint8_t>((*sealed)[0]), 0xC0);
    EXPECT_EQ((*sealed)[1], 1);
    EXPECT_EQ(static_cast<size_t>((*sealed)[2]), ring.current().id.size());
    EXPECT_EQ(sealed->substr(3, ring.current().id.size()), ring.current().id);
    if (plain.size() >= 5) {
      EXPECT_EQ(sealed->find(plain), std::string::npos);
    }
    auto back = Decrypt(ring, *sealed, "field");
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, plain);
  }
  // Two encryptions of the same text differ (fresh nonce).
  EXPECT_NE(*Encrypt(ring, "same", ""), *Encrypt(ring, "same", ""));
}

TEST(EnvelopeTest, DetectsEveryChangedByte) {
  Keyring ring = OneKey();
  auto sealed = Encrypt(ring, "the secret prompt", "inference_events.prompt");
  ASSERT_TRUE(sealed.ok());
  for (size_t i = 0; i < sealed->size(); ++i) {
    std::string bad = *sealed;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    auto r = Decrypt(ring, bad, "inference_events.prompt");
    EXPECT_FALSE(r.ok()) << "byte " << i;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
    }
  }
  for (size_t n = 0; n < sealed->size(); ++n) EXPECT_FALSE(Decrypt(ring, sealed->substr(0, n), "inference_events.prompt").ok());
  auto moved = Decrypt(ring, *sealed, "inference_events.response");
  ASSERT_FALSE(moved.ok());
  EXPECT_NE(moved.status().message().find("tag does not verify"), std::string::npos);
}

TEST(EnvelopeTest, WrongKeyWithSameIdFails) {
  Keyring a = OneKey();
  Key other = *NewKey();
  other.id = a.current().id;
  auto b = Keyring::FromKeys({other});
  ASSERT_TRUE(b.ok());
  auto sealed = Encrypt(a, "x", "");
  auto r = Decrypt(*b, *sealed, "");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
}

TEST(FieldEncryptionTest, SensitiveKeysAndOpenStored) {
  FieldEncryption fe(OneKey(), {"user.email"});
  EXPECT_TRUE(fe.IsSensitive("gen_ai.prompt"));
  EXPECT_TRUE(fe.IsSensitive("gen_ai.completion"));
  EXPECT_TRUE(fe.IsSensitive("gen_ai.input.messages"));
  EXPECT_TRUE(fe.IsSensitive("gen_ai.output.messages"));
  EXPECT_TRUE(fe.IsSensitive("user.email"));
  EXPECT_FALSE(fe.IsSensitive("gen_ai.request.model"));

  auto sealed = fe.Seal("secret", "gen_ai.prompt");
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(*OpenStored(&fe, *sealed, "gen_ai.prompt"), "secret");
  EXPECT_EQ(*OpenStored(&fe, "plain text", "gen_ai.prompt"), "plain text");
  EXPECT_EQ(*OpenStored(nullptr, "plain text", "gen_ai.prompt"), "plain text");
  auto none = OpenStored(nullptr, *sealed, "gen_ai.prompt");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("security.encryption_key_file"), std::string::npos);

  const Key& k = fe.keyring().current();
  EXPECT_EQ(FieldEncryption::IndexHash(k, "a", "b"), FieldEncryption::IndexHash(k, "a", "b"));
  EXPECT_NE(FieldEncryption::IndexHash(k, "a", "b"), FieldEncryption::IndexHash(k, "a", "c"));
  EXPECT_NE(FieldEncryption::IndexHash(k, "a", "b"), FieldEncryption::IndexHash(*NewKey(), "a", "b"));
}

}  // namespace
}  // namespace tyto::crypto
