#include "collect/discovery/config.h"

#include <gtest/gtest.h>

#include "testing/config_decode.h"

namespace tyto::collect::discovery {
namespace {

using namespace std::chrono_literals;

Result<InferenceServersConfig> Decode(std::string_view text) {
  return testing::DecodeSection("inference_servers", InferenceServersSchema(), text);
}

TEST(InferenceServersConfigTest, DefaultsWithoutTheSection) {
  auto c = Decode("");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->discover);
  EXPECT_EQ(c->refresh_interval, 30s);
  EXPECT_EQ(c->scrape_interval, 15s);
  EXPECT_TRUE(c->static_servers.empty());
}

TEST(InferenceServersConfigTest, EveryKey) {
  auto c = Decode(R"(
inference_servers:
  discover: false
  refresh_interval: 1m
  scrape_interval: 5s
  static:
    - kind: vllm
      address: 10.0.0.7:8000
      model: llama-3.1-70b
      labels: {pool: chat, region: eu}
    - kind: triton
      address: "[fd00::7]:8002"
    - kind: ollama
      address: ollama.internal:11434
      metrics_path: /api/metrics
)");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_FALSE(c->discover);
  EXPECT_EQ(c->refresh_interval, 1min);
  EXPECT_EQ(c->scrape_interval, 5s);
  ASSERT_EQ(c->static_servers.size(), 3u);
  EXPECT_EQ(c->static_servers[0].kind, "vllm");
  EXPECT_EQ(c->static_servers[0].address, "10.0.0.7:8000");
  EXPECT_EQ(c->static_servers[0].model, "llama-3.1-70b");
  EXPECT_EQ(c->static_servers[0].labels.at("region"), "eu");
  EXPECT_EQ(c->static_servers[1].address, "[fd00::7]:8002");
  EXPECT_EQ(c->static_servers[2].metrics_path, "/api/metrics");
}

TEST(InferenceServersConfigTest, MistakesArePositionedErrors) {
  struct Case {
    const char* yaml;
    const char* message;
  };
  for (const Case& c : std::vector<Case>{
           {"inference_servers: {static: [{kind: vllm2, address: 'a:1'}]}", "vllm2"},
           {"inference_servers: {static: [{address: 'a:1'}]}", "kind is required"},
           {"inference_servers: {static: [{kind: vllm}]}", "address is required"},
           {"inference_servers: {static: [{kind: vllm, address: 'a'}]}", "'a' is not host:port"},
           {"inference_servers: {static: [{kind: vllm, address: 'http://a:1/metrics'}]}", "is not host:port"},
           {"inference_servers: {static: [{kind: vllm, address: 'a:99999'}]}", "is not host:port"},
           {"inference_servers: {static: [{kind: vllm, address: 'a:1', metrics_path: metrics}]}", "must start with '/'"},
           {"inference_servers: {static: [{kind: vllm, address: 'a:1', labels: {__x: y}}]}", "'__x' is not a label name"},
           {"inference_servers: {static: [{kind: vllm, address: 'a:1', labels: {9x: y}}]}", "'9x' is not a label name"},
           {"inference_servers: {static: [{kind: vllm, address: 'a:1', labels: {model: y}}]}", "as `model:`"},
           {"inference_servers: {static: [{kind: vllm, address: 'a:1'}, {kind: tgi, address: 'a:1'}]}",
            "tyto.yml:1:60: inference_servers.static: address 'a:1' is listed twice"},
           {"inference_servers: {refresh_interval: 10ms}", "1:39: duration 10ms is below the minimum 1s"},
           {"inference_servers: {scrape_interval: 0s}", "1:38: duration 0s is below the minimum 1s"},
           {"inference_servers: {discovr: true}", "did you mean 'discover'"},
       }) {
    auto r = Decode(c.yaml);
    ASSERT_FALSE(r.ok()) << c.yaml;
    EXPECT_NE(r.status().message().find(c.message), std::string::npos) << c.yaml << "\n" << r.status().message();
  }
}

TEST(InferenceServersConfigTest, DocumentedKeys) {
  std::vector<config::OptionDoc> docs;
  InferenceServersSchema().Document("inference_servers", &docs);
  std::vector<std::string> keys;
  for (const auto& d : docs) keys.push_back(d.key + " " + d.default_value);
  EXPECT_EQ(keys, (std::vector<std::string>{
                      "inference_servers.discover true",
                      "inference_servers.refresh_interval 30s",
                      "inference_servers.scrape_interval 15s",
                      "inference_servers.static []",
                      "inference_servers.static[].kind ",
                      "inference_servers.static[].address \"\"",
                      "inference_servers.static[].model \"\"",
                      "inference_servers.static[].metrics_path \"\"",
                      "inference_servers.static[].labels {}",
                  }));
}

}  // namespace
}  // namespace tyto::collect::discovery
