#include "e2e/serve_fixture.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "auth/auth.h"
#include "ingest/snappy_codec.h"

namespace tyto::e2e {

ServedTyto ServeWithTokens(const testing::TempDir& dir, const std::vector<ApiToken>& tokens,
                           const std::string& extra_yaml) {
  const std::string config = dir.Path("tyto.yml");
  {
    std::ofstream f(config);
    f << "auth:\n  tokens:\n";
    for (const ApiToken& t : tokens) {
      f << "    - name: " << t.name << "\n      secret_sha256: " << auth::HashSecret(t.secret) << "\n      scopes: ["
        << t.scope << "]\n";
    }
    f << extra_yaml;
  }
  ServedTyto s;
  s.child = std::make_unique<Child>(std::vector<std::string>{TYTO_BINARY, "serve", "--config", config, "--data-dir",
                                                             dir.Path("data"), "--listen", "127.0.0.1:0"},
                                    dir.Path("serve.log"));
  s.port = WaitUntilServing(s.child.get(), dir.Path("serve.log"));
  return s;
}

Result<testing::TestResponse> PushRemoteWrite(uint16_t port, const std::vector<testing::RemoteWriteSeries>& series,
                                              const std::string& secret) {
  return testing::HttpRequest(port, "POST", "/api/v1/write",
                              {{"Content-Encoding", "snappy"},
                               {"Content-Type", "application/x-protobuf"},
                               {"X-Prometheus-Remote-Write-Version", "0.1.0"},
                               {"Authorization", "Bearer " + secret}},
                              ingest::SnappyCompress(testing::EncodeWriteRequest(series)));
}

testing::TestResponse ApiClient::Post(const std::string& path, const std::string& body, const std::string& content_type,
                                      const std::string& secret, const std::string& method) const {
  auto r = testing::HttpRequest(
      port_, method, path,
      {{"Authorization", "Bearer " + (secret.empty() ? write_ : secret)}, {"Content-Type", content_type}}, body);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : testing::TestResponse{};
}

testing::TestResponse ApiClient::Get(const std::string& target) const {
  auto r = testing::HttpGet(port_, target, {{"Authorization", "Bearer " + read_}});
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : testing::TestResponse{};
}

testing::TestResponse ApiClient::GetUntil(const std::string& target, const std::string& want, int tries) const {
  testing::TestResponse r;
  for (int i = 0; i < tries; ++i) {
    r = Get(target);
    if (r.status == 200 && r.body.find(want) != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return r;
}

}  // namespace tyto::e2e
