#include "scrape/target.h"

#include <gtest/gtest.h>

namespace tyto::scrape {
namespace {

using namespace std::chrono_literals;

ScrapeConfig Job() {
  ScrapeConfig j;
  j.job_name = "node";
  j.scrape_interval = 15s;
  j.scrape_timeout = 10s;
  return j;
}

TEST(TargetTest, LabelsUrlAndDefaultsAsPrometheus) {
  ScrapeConfig job = Job();
  job.params = {{"module", {"http_2xx"}}};
  auto r = BuildTargets(job, relabel::Relabeler(), {{{"h1:9100", "[::1]:9200", "bare"}, {{"env", "prod"}}, "g"}});
  ASSERT_TRUE(r.errors.empty()) << r.errors[0];
  ASSERT_EQ(r.targets.size(), 3u);
  const Target& t = r.targets[0];
  EXPECT_EQ(t.labels, Labels::Of({"env", "prod", "instance", "h1:9100", "job", "node"}));
  EXPECT_EQ(t.Url(), "http://h1:9100/metrics?module=http_2xx");
  EXPECT_EQ(t.interval, 15s);
  EXPECT_EQ(t.discovered.Get("__param_module"), "http_2xx");
  EXPECT_EQ(t.discovered.Get("__scrape_interval__"), "15s");
  EXPECT_EQ(r.targets[1].host, "::1");
  EXPECT_EQ(r.targets[1].Url(), "http://[::1]:9200/metrics?module=http_2xx");
  EXPECT_EQ(r.targets[2].port, 80);  // no port: the scheme's
}

TEST(TargetTest, RelabellingRewritesDropsAndSetsSchemePathAndParams) {
  relabel::Config keep;
  keep.action = "keep";
  keep.source_labels = {"env"};
  keep.regex = "prod";
  relabel::Config path;
  path.target_label = "__metrics_path__";
  path.replacement = "/probe";
  relabel::Config param;
  param.source_labels = {"__address__"};
  param.target_label = "__param_target";
  relabel::Config addr;
  addr.target_label = "__address__";
  addr.replacement = "exporter:9115";
  relabel::Config scheme;
  scheme.target_label = "__scheme__";
  scheme.replacement = "https";
  auto relabeler = relabel::Relabeler::Compile({keep, path, param, addr, scheme});
  ASSERT_TRUE(relabeler.ok());
  auto r = BuildTargets(Job(), *relabeler,
                        {{{"site-a:443"}, {{"env", "prod"}}, "g1"}, {{"site-b:443"}, {{"env", "dev"}}, "g2"}});
  ASSERT_EQ(r.targets.size(), 1u);
  ASSERT_EQ(r.dropped.size(), 1u);
  EXPECT_EQ(r.dropped[0].Get("env"), "dev");
  EXPECT_EQ(r.targets[0].Url(), "https://exporter:9115/probe?target=site-a%3A443");
  EXPECT_EQ(r.targets[0].labels.Get("instance"), "exporter:9115");
}

TEST(TargetTest, BadTargetsAreReportedNotScraped) {
  relabel::Config interval;
  interval.target_label = "__scrape_interval__";
  interval.replacement = "soon";
  auto relabeler = relabel::Relabeler::Compile({interval});
  auto r = BuildTargets(Job(), *relabeler, {{{"h:1"}, {}, "g"}});
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].find("g: target 'h:1': bad __scrape_interval__"), std::string::npos) << r.errors[0];
  r = BuildTargets(Job(), relabel::Relabeler(), {{{"h:99999", "::1:80"}, {}, "g"}});
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_NE(r.errors[0].find("bad port"), std::string::npos);
  EXPECT_NE(r.errors[1].find("needs brackets"), std::string::npos);
}

}  // namespace
}  // namespace tyto::scrape
