// `tyto serve` with API tokens, for end-to-end tests that push or query with auth on.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "e2e/process.h"
#include "testing/http_client.h"
#include "testing/remote_write_builder.h"
#include "testing/temp_dir.h"

namespace tyto::e2e {

struct ApiToken {
  std::string name;
  std::string secret;  // sent as "Bearer <secret>"; tyto.yml gets its SHA-256
  std::string scope;   // "read", "write", "admin"
};

struct ServedTyto {
  std::unique_ptr<Child> child;
  uint16_t port = 0;  // 0: it did not become ready (its log is dir/serve.log)
};

// Writes dir/tyto.yml with `tokens` (and `extra_yaml`, more top-level sections) and starts
// `tyto serve` on a free loopback port with its data in dir/data, waiting until it is ready.
ServedTyto ServeWithTokens(const testing::TempDir& dir, const std::vector<ApiToken>& tokens,
                           const std::string& extra_yaml = "");

// Requests to a served Tyto, EXPECTing each to get an answer: writes with one token's secret,
// reads with another's.
class ApiClient {
 public:
  ApiClient(uint16_t port, std::string write_secret, std::string read_secret)
      : port_(port), write_(std::move(write_secret)), read_(std::move(read_secret)) {}
  // `secret` empty: the write secret.
  testing::TestResponse Post(const std::string& path, const std::string& body,
                             const std::string& content_type = "application/x-ndjson", const std::string& secret = "",
                             const std::string& method = "POST") const;
  testing::TestResponse Get(const std::string& target) const;
  // GETs `target` until a 200 whose body contains `want`, every 100 ms, at most `tries` times.
  testing::TestResponse GetUntil(const std::string& target, const std::string& want, int tries = 150) const;

 private:
  uint16_t port_;
  std::string write_, read_;
};

// One remote-write request (snappy, version 0.1.0 headers) of `series`, authorised by `secret`.
Result<testing::TestResponse> PushRemoteWrite(uint16_t port, const std::vector<testing::RemoteWriteSeries>& series,
                                              const std::string& secret);

}  // namespace tyto::e2e
