#include "anomaly/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tyto::anomaly {
namespace {

using ::testing::HasSubstr;

Result<AnomalyConfig> Parse(const std::string& yaml) {
  TYTO_ASSIGN_OR_RETURN(config::Node root, config::ParseYaml(yaml, "tyto.yml"));
  AnomalyConfig c;
  config::Diagnostics d;
  AnomalySchema().Decode(root, &c, &d);
  TYTO_RETURN_IF_ERROR(d.ToStatus());
  return c;
}

TEST(AnomalyConfigTest, DefaultsAndAFullSection) {
  Result<AnomalyConfig> c = Parse("{}");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(*c, AnomalyConfig());
  EXPECT_EQ(c->interval, std::chrono::minutes(1));

  c = Parse(
      "interval: 30s\n"
      "max_series: 50\n"
      "detectors:\n"
      "  - name: temp\n"
      "    query: DCGM_FI_DEV_GPU_TEMP\n"
      "  - name: p99\n"
      "    query: histogram_quantile(0.99, rate(x_bucket[5m]))\n"
      "    kind: trend\n"
      "    threshold: 2.5\n"
      "    horizon: 40m\n"
      "  - name: host\n"
      "    query: '{job=\"node\"}'\n"
      "    kind: multivariate\n"
      "    host_label: hostname\n"
      "    sensitivity: 2\n");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->interval, std::chrono::seconds(30));
  EXPECT_EQ(c->max_series, 50);
  ASSERT_EQ(c->detectors.size(), 3u);
  EXPECT_EQ(c->detectors[0].kind, "seasonal");
  EXPECT_EQ(c->detectors[1].threshold, 2.5);
  EXPECT_EQ(c->detectors[1].horizon, std::chrono::minutes(40));
  EXPECT_EQ(c->detectors[2].host_label, "hostname");
  EXPECT_EQ(c->detectors[2].sensitivity, 2);

  // Encodes to YAML that decodes back to the same.
  config::Writer w;
  AnomalySchema().Encode(*c, w);
  Result<AnomalyConfig> again = Parse(w.Text());
  ASSERT_TRUE(again.ok()) << again.status().message() << "\n" << w.Text();
  EXPECT_EQ(*again, *c);
}

TEST(AnomalyConfigTest, ErrorsNamePositions) {
  EXPECT_THAT(Parse("interval: soon").status().message(), HasSubstr("tyto.yml:1:11"));
  EXPECT_THAT(Parse("detectors:\n  - name: a\n    query: up\n    kind: fancy\n").status().message(),
              AllOf(HasSubstr("tyto.yml:4:11"), HasSubstr("fancy")));
  EXPECT_THAT(Parse("detectors:\n  - name: a\n    query: up\n    knd: trend\n").status().message(),
              AllOf(HasSubstr("tyto.yml:4:5"), HasSubstr("did you mean 'kind'?")));
  EXPECT_THAT(Parse("detectors:\n  - {name: a, query: up}\n  - {name: a, query: up}\n").status().message(),
              AllOf(HasSubstr("tyto.yml:3:12"), HasSubstr("'a' is listed twice")));
  EXPECT_THAT(Parse("detectors:\n  - name: a\n    kind: trend\n    threshold: 1\n").status().message(),
              AllOf(HasSubstr("tyto.yml:2:5"), HasSubstr("query is required")));
  EXPECT_THAT(Parse("detectors:\n  - {name: a, query: up, kind: trend}\n").status().message(),
              HasSubstr("a trend detector needs a threshold"));
  EXPECT_THAT(Parse("detectors:\n  - name: a\n    query: up\n    seasons: 2\n    min_seasons: 3\n").status().message(),
              AllOf(HasSubstr("tyto.yml:5:18"), HasSubstr("min_seasons (3) is more than seasons (2)")));
  EXPECT_THAT(Parse("detectors:\n  - {name: a, query: up, models: 0}\n").status().message(),
              HasSubstr("tyto.yml:2:34"));
  EXPECT_THAT(Parse("max_series: 0").status().message(), HasSubstr("tyto.yml:1:13"));
  EXPECT_THAT(Parse("detectors:\n  - {name: a, query: up, kind: multivariate, host_label: ''}\n").status().message(),
              HasSubstr("host_label must not be empty"));
}

TEST(AnomalyConfigTest, DocumentsEveryOption) {
  std::vector<config::OptionDoc> docs;
  AnomalySchema().Document("anomaly", &docs);
  bool found = false;
  for (const config::OptionDoc& d : docs) {
    EXPECT_FALSE(d.help.empty()) << d.key;
    if (d.key == "anomaly.detectors[].horizon") found = true;
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace tyto::anomaly
