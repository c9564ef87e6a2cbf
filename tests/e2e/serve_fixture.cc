#include "e2e/serve_fixture.h"

#include <fstream>

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
      f << "    - name: " << t.name << "\n      secret_sha256: " << auth::HashSecret(t.secret)
        << "\n      scopes: [" << t.scope << "]\n";
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

}  // namespace tyto::e2e
