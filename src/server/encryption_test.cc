// Encryption at rest through a real server (issue 12): with security.encryption_key_file set, a
// secret sent in an inference event's prompt and in a sensitive log attribute is not in any byte
// of any file under the data directory (tsdb WAL and blocks, event store partitions, their WAL,
// the quality and audit files), while the API returns the prompt decrypted. The control without
// a key file finds the same secret on disk, so the scan can fail.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "crypto/keyring.h"
#include "server/server.h"
#include "testing/http_client.h"
#include "testing/temp_dir.h"

namespace tyto::server {
namespace {

// Chosen so that no redaction rule touches them.
const std::string kPromptSecret = "zanzibar quokka marmalade 8841";
const std::string kResponseSecret = "periwinkle tapir lanterns 2290";
const std::string kLogSecret = "ochre narwhal bellows 6013";


class EncryptionServerTest : public ::testing::Test {
 protected:
  void TearDown() override { server_.reset(); }

  Status Start(const std::string& security) {
    std::ofstream(tmp_.Path("tyto.yml")) << "inference:\n  sampling:\n    rate: 1\n" << security;
    Overrides o;
    o.config_file = tmp_.Path("tyto.yml");
    o.data_dir = data_dir_;
    o.listen = "127.0.0.1:0";
    server_ = std::make_unique<Server>(o, Env::Default(), Clock::Real());
    return server_->Start();
  }

  void SendSecrets() {
    const std::string event = "{\"model\":\"llama-3-8b\",\"request_id\":\"r-1\",\"prompt\":\"" + kPromptSecret +
                              "\",\"response\":\"" + kResponseSecret + "\"}\n";
    auto r = testing::HttpRequest(server_->port(), "POST", "/api/v1/events", {{"Content-Type", "application/x-ndjson"}},
                                  event);
    ASSERT_TRUE(r.ok());
    ASSERT_LT(r->status, 300) << r->body;
    const std::string log = "{\"message\":\"chat served\",\"service\":\"chat\",\"attributes\":{\"gen_ai.completion\":\"" +
                            kLogSecret + "\"}}\n";
    r = testing::HttpRequest(server_->port(), "POST", "/api/v1/logs", {{"Content-Type", "application/x-ndjson"}}, log);
    ASSERT_TRUE(r.ok());
    ASSERT_LT(r->status, 300) << r->body;
  }

  std::string EventsBody() {
    auto r = testing::HttpGet(server_->port(), "/api/v1/events?model=llama-3-8b");
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->body : "";
  }

  testing::TempDir tmp_;
  const std::string data_dir_ = tmp_.Path("data");
  const std::string key_file_ = tmp_.Path("keys");
  std::unique_ptr<Server> server_;
};

TEST_F(EncryptionServerTest, PlantedSecretIsNotInTheDataDirectoryButTheApiReturnsIt) {
  ASSERT_TRUE(crypto::GenerateKeyFile(key_file_).ok());
  Status st = Start("security:\n  encryption_key_file: " + key_file_ + "\n");
  ASSERT_TRUE(st.ok()) << st.ToString();
  SendSecrets();
  const std::string body = EventsBody();
  EXPECT_NE(body.find(kPromptSecret), std::string::npos) << body;
  EXPECT_NE(body.find(kResponseSecret), std::string::npos) << body;
  auto logs = testing::HttpGet(server_->port(), "/api/v1/logs?query=chat");
  ASSERT_TRUE(logs.ok());
  EXPECT_NE(logs->body.find(kLogSecret), std::string::npos) << logs->body;

  for (int pass = 0; pass < 2; ++pass) {  // running, then stopped (WALs checkpointed)
    const std::string bytes = testing::AllFileBytes(data_dir_);
    for (const std::string& s : {kPromptSecret, kResponseSecret, kLogSecret}) {
      EXPECT_EQ(bytes.find(s), std::string::npos) << "pass " << pass << ": " << s << " is on disk";
    }
    for (const char* word : {"zanzibar", "quokka", "periwinkle", "narwhal"}) {
      EXPECT_EQ(bytes.find(word), std::string::npos) << "pass " << pass << ": " << word << " is on disk";
    }
    server_.reset();
  }

  // After a rotation and a restart the old event still reads.
  ASSERT_TRUE(crypto::RotateKeyFile(key_file_).ok());
  st = Start("security:\n  encryption_key_file: " + key_file_ + "\n");
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_NE(EventsBody().find(kPromptSecret), std::string::npos);
}

TEST_F(EncryptionServerTest, WithoutKeyFileTheSecretIsOnDisk) {
  ASSERT_TRUE(Start("").ok());
  SendSecrets();
  EXPECT_NE(EventsBody().find(kPromptSecret), std::string::npos);
  server_.reset();
  EXPECT_NE(testing::AllFileBytes(data_dir_).find(kPromptSecret), std::string::npos);
}

TEST_F(EncryptionServerTest, RefusesToStartWithAKeyFileOthersCanRead) {
  ASSERT_TRUE(crypto::GenerateKeyFile(key_file_).ok());
  std::filesystem::permissions(key_file_, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                                              std::filesystem::perms::group_read | std::filesystem::perms::others_read);
  Status st = Start("security:\n  encryption_key_file: " + key_file_ + "\n");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find(key_file_), std::string::npos) << st.ToString();
  EXPECT_NE(st.message().find("0600 or 0400"), std::string::npos) << st.ToString();
}

}  // namespace
}  // namespace tyto::server
