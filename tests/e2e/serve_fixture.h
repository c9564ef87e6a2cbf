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

// One remote-write request (snappy, version 0.1.0 headers) of `series`, authorised by `secret`.
Result<testing::TestResponse> PushRemoteWrite(uint16_t port, const std::vector<testing::RemoteWriteSeries>& series,
                                              const std::string& secret);

}  // namespace tyto::e2e
