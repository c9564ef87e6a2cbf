#include "scrape/config.h"

#include <gtest/gtest.h>

#include "config/schema.h"
#include "testing/config_decode.h"

namespace tyto::scrape {
namespace {

using namespace std::chrono_literals;

struct File {
  GlobalConfig global;
  std::vector<ScrapeConfig> scrape_configs;
};

Result<File> Decode(std::string_view text) {
  config::Section<File> root("", "test");
  root.Nested("global", &File::global, GlobalSchema()).List("scrape_configs", &File::scrape_configs, ScrapeConfigSchema());
  return testing::DecodeYaml(root, text, "prometheus.yml");
}

TEST(ScrapeConfigTest, ASectionPastedFromPrometheusYmlDecodes) {
  auto f = Decode(R"(
global:
  scrape_interval: 15s
  external_labels: {cluster: eu-1}
scrape_configs:
  - job_name: dcgm
    static_configs:
      - targets: ["gpu-1:9400", "gpu-2:9400"]
        labels: {rack: r1}
  - job_name: vllm
    scrape_interval: 5s
    metrics_path: /metrics
    scheme: https
    params: {format: [prometheus]}
    authorization: {credentials_file: /etc/token}
    tls_config: {insecure_skip_verify: true}
    honor_labels: true
    sample_limit: 50000
    body_size_limit: 10MB
    file_sd_configs:
      - files: [/etc/tyto/targets/*.json]
        refresh_interval: 1m
    relabel_configs:
      - source_labels: [__address__]
        regex: '(.*):\d+'
        target_label: host
    metric_relabel_configs:
      - action: labeldrop
        regex: pid
)");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_EQ(f->scrape_configs.size(), 2u);
  EXPECT_EQ(f->global.scrape_interval, 15s);
  EXPECT_EQ(f->global.external_labels.at("cluster"), "eu-1");
  const ScrapeConfig& vllm = f->scrape_configs[1];
  EXPECT_EQ(vllm.scrape_interval, 5s);
  EXPECT_EQ(vllm.params.at("format")[0], "prometheus");
  EXPECT_EQ(vllm.body_size_limit, 10u << 20);  // as Prometheus reads sizes: MB is 2^20
  EXPECT_EQ(vllm.file_sd_configs[0].files[0], "/etc/tyto/targets/*.json");
  EXPECT_EQ(vllm.relabel_configs[0].target_label, "host");
  EXPECT_EQ(f->scrape_configs[0].static_configs[0].labels.at("rack"), "r1");

  ScrapeConfig dcgm = f->scrape_configs[0];
  ASSERT_TRUE(ApplyDefaults(f->global, &dcgm).ok());
  EXPECT_EQ(dcgm.scrape_interval, 15s);
  EXPECT_EQ(dcgm.scrape_timeout, 10s);
}

TEST(ScrapeConfigTest, MistakesAreNamedWithTheirPosition) {
  auto f = Decode(R"(scrape_configs:
  - job_name: a
    scrape_interval: 5s
    scrape_timeout: 10s
    static_configs:
      - targets: [h:1]
        lables: {x: y}
  - scheme: ftp
)");
  ASSERT_FALSE(f.ok());
  const std::string& m = f.status().message();
  EXPECT_NE(m.find("prometheus.yml:7:9: unknown key 'lables'"), std::string::npos) << m;
  EXPECT_NE(m.find("did you mean 'labels'"), std::string::npos) << m;
  EXPECT_NE(m.find("prometheus.yml:8:13: invalid value 'ftp'"), std::string::npos) << m;
  auto g = Decode("scrape_configs:\n  - job_name: a\n    scrape_interval: 5s\n    scrape_timeout: 10s\n");
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("prometheus.yml:2:5: job 'a': scrape_timeout is greater than scrape_interval"),
            std::string::npos)
      << g.status().message();
}

}  // namespace
}  // namespace tyto::scrape
