// ScrapeLoop over a real head: what one scrape stores, staleness, failures, limits, labels.
#include "scrape/scrape_loop.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>

#include "http/gzip.h"
#include "testing/temp_dir.h"
#include "tsdb/head.h"

namespace tyto::scrape {
namespace {

using namespace std::chrono_literals;

class ScrapeLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto h = tsdb::Head::Open(Env::Default(), dir_.Path("wal"), {}, nullptr);
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    head_ = std::move(h).value();
    target_.labels = Labels::Of({"job", "node", "instance", "h:9100"});
    job_.job_name = "node";
  }

  std::unique_ptr<ScrapeLoop> Loop() {
    auto metric = relabel::Relabeler::Compile(job_.metric_relabel_configs);
    EXPECT_TRUE(metric.ok());
    return std::make_unique<ScrapeLoop>(head_.get(), target_, std::make_shared<const ScrapeConfig>(job_),
                                        std::make_shared<const relabel::Relabeler>(std::move(metric).value()));
  }

  static Fetched Body(std::string body, std::string content_type = "text/plain; version=0.0.4") {
    Fetched f;
    f.http_status = 200;
    f.content_type = std::move(content_type);
    f.body = std::move(body);
    return f;
  }

  // The samples of the one series `selector` names ({__name__="a", ...}).
  std::vector<Sample> Samples(std::vector<std::pair<std::string, std::string>> eq) {
    std::vector<Matcher> m;
    for (auto& [k, v] : eq) m.push_back(*Matcher::Make(MatchType::kEqual, k, v));
    auto q = head_->NewQuerier(INT64_MIN, INT64_MAX);
    auto set = (*q)->Select(m);
    std::vector<Sample> out;
    int series = 0;
    while (set->Next()) {
      ++series;
      auto it = set->Iterator();
      while (it->Next()) out.push_back(it->At());
    }
    EXPECT_LE(series, 1);
    return out;
  }
  double Last(const std::string& name) {
    auto s = Samples({{"__name__", name}});
    return s.empty() ? NAN : s.back().v;
  }

  testing::TempDir dir_;
  std::unique_ptr<tsdb::Head> head_;
  Target target_;
  ScrapeConfig job_;
};

TEST_F(ScrapeLoopTest, StoresSamplesWithTargetLabelsAndReportsSyntheticSeries) {
  auto loop = Loop();
  loop->Report(1000, 50ms, Body("# TYPE a gauge\na 1\nb{x=\"y\"} 2\n"));
  auto a = Samples({{"__name__", "a"}, {"job", "node"}, {"instance", "h:9100"}});
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].t, 1000);
  EXPECT_EQ(a[0].v, 1);
  EXPECT_EQ(Samples({{"__name__", "b"}, {"x", "y"}}).size(), 1u);
  EXPECT_EQ(Last("up"), 1);
  EXPECT_DOUBLE_EQ(Last("scrape_duration_seconds"), 0.05);
  EXPECT_EQ(Last("scrape_samples_scraped"), 2);
  EXPECT_EQ(Last("scrape_samples_post_metric_relabeling"), 2);
  EXPECT_EQ(Last("scrape_series_added"), 2);
  EXPECT_EQ(loop->status().health, "up");
}

TEST_F(ScrapeLoopTest, SeriesThatDisappearGetAStalenessMarker) {
  auto loop = Loop();
  loop->Report(1000, 10ms, Body("a 1\nb 2\n"));
  loop->Report(16000, 10ms, Body("a 3\n"));
  auto b = Samples({{"__name__", "b"}});
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[1].t, 16000);
  EXPECT_TRUE(IsStaleMarker(b[1].v));
  EXPECT_EQ(Last("scrape_series_added"), 0);
  loop->Report(31000, 10ms, Body("a 4\nb 5\n"));  // b comes back: a new series for the count
  EXPECT_EQ(Last("scrape_series_added"), 1);
}

TEST_F(ScrapeLoopTest, AFailedScrapeStoresNothingAndEndsEverySeries) {
  auto loop = Loop();
  loop->Report(1000, 10ms, Body("a 1\n"));
  Fetched bad = Body("a 2\n");
  bad.http_status = 500;
  loop->Report(16000, 10ms, bad);
  auto a = Samples({{"__name__", "a"}});
  ASSERT_EQ(a.size(), 2u);
  EXPECT_TRUE(IsStaleMarker(a[1].v));
  EXPECT_EQ(Last("up"), 0);
  EXPECT_EQ(loop->status().health, "down");
  EXPECT_EQ(loop->status().last_error, "server returned HTTP status 500");
  // A parse error names the line; nothing of that body is kept.
  loop->Report(31000, 10ms, Body("a 3\nb{ 4\n"));
  EXPECT_NE(loop->status().last_error.find("line 2"), std::string::npos) << loop->status().last_error;
  EXPECT_EQ(Samples({{"__name__", "a"}}).size(), 2u);
  Fetched refused;
  refused.status = Status(StatusCode::kUnavailable, "connecting to http://h:9100: refused");
  loop->Report(46000, 10ms, refused);
  EXPECT_EQ(loop->status().last_error, "connecting to http://h:9100: refused");
}

TEST_F(ScrapeLoopTest, AScrapeFailingHalfwayStillEndsTheSeriesItHadTouched) {
  auto loop = Loop();
  loop->Report(1000, 10ms, Body("a 1\n"));
  loop->Report(16000, 10ms, Body("a 2\nb{ 3\n"));  // a is read, then the parse fails
  auto a = Samples({{"__name__", "a"}});
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[1].t, 16000);
  EXPECT_TRUE(IsStaleMarker(a[1].v));
  loop->Report(31000, 10ms, Body("a 3\n"));
  EXPECT_EQ(Samples({{"__name__", "a"}}).back().v, 3);
  EXPECT_EQ(Last("scrape_series_added"), 1);
}

TEST_F(ScrapeLoopTest, ClashingLabelsAreExportedUnlessHonored) {
  Loop()->Report(1000, 10ms, Body("a{job=\"app\",instance=\"x\"} 1\n"));
  EXPECT_EQ(Samples({{"__name__", "a"}, {"job", "node"}, {"exported_job", "app"}, {"exported_instance", "x"}}).size(), 1u);
  job_.honor_labels = true;
  Loop()->Report(2000, 10ms, Body("c{job=\"app\"} 1\n"));
  EXPECT_EQ(Samples({{"__name__", "c"}, {"job", "app"}, {"instance", "h:9100"}}).size(), 1u);
}

TEST_F(ScrapeLoopTest, MetricRelabellingAndLimits) {
  relabel::Config drop;
  drop.action = "drop";
  drop.source_labels = {"__name__"};
  drop.regex = "go_.*";
  job_.metric_relabel_configs = {drop};
  job_.sample_limit = 2;
  auto loop = Loop();
  loop->Report(1000, 10ms, Body("go_gc 1\na 1\nb 1\n"));
  EXPECT_TRUE(Samples({{"__name__", "go_gc"}}).empty());
  EXPECT_EQ(Last("scrape_samples_scraped"), 3);
  EXPECT_EQ(Last("scrape_samples_post_metric_relabeling"), 2);
  loop->Report(16000, 10ms, Body("a 2\nb 2\nc 2\n"));  // 3 after relabelling: over the limit
  EXPECT_EQ(Last("up"), 0);
  EXPECT_NE(loop->status().last_error.find("sample_limit"), std::string::npos);
  EXPECT_TRUE(Samples({{"__name__", "c"}}).empty());
  job_.sample_limit = 0;
  job_.label_limit = 3;
  auto limited = Loop();
  limited->Report(1000, 10ms, Body("d{p=\"1\",q=\"2\"} 1\n"));  // 5 labels with job and instance
  EXPECT_NE(limited->status().last_error.find("label_limit"), std::string::npos);
}

TEST_F(ScrapeLoopTest, BodySizeLimitFailsLargerBodiesPlainOrInflated) {
  job_.body_size_limit = 64;
  auto loop = Loop();
  const std::string small = "a 1\n";
  loop->Report(1000, 10ms, Body(small));
  ASSERT_EQ(loop->status().health, "up") << loop->status().last_error;
  // 65 bytes: one over the limit.
  const std::string large = "a 2\n# " + std::string(54, 'x') + "\nb 2\n";
  ASSERT_EQ(large.size(), 65u);
  loop->Report(16000, 10ms, Body(large));
  EXPECT_EQ(loop->status().health, "down");
  EXPECT_EQ(loop->status().last_error, "body_size_limit exceeded (64 bytes)");
  EXPECT_EQ(Last("up"), 0);
  EXPECT_TRUE(Samples({{"__name__", "b"}}).empty());
  auto a = Samples({{"__name__", "a"}});
  ASSERT_EQ(a.size(), 2u);
  EXPECT_TRUE(IsStaleMarker(a[1].v));

  // A gzip bomb: a few hundred bytes on the wire that inflate to a MiB are refused by what
  // they inflate to, not by what was sent.
  job_.body_size_limit = 4096;
  auto bombed = Loop();
  Fetched bomb = Body("# " + std::string(1 << 20, 'x') + "\nc 1\n");
  bomb.body = http::GzipCompress(bomb.body);
  bomb.content_encoding = "gzip";
  ASSERT_LT(bomb.body.size(), job_.body_size_limit);
  bombed->Report(31000, 10ms, bomb);
  EXPECT_EQ(bombed->status().health, "down");
  EXPECT_EQ(bombed->status().last_error, "body_size_limit exceeded (4096 bytes)");
  EXPECT_TRUE(Samples({{"__name__", "c"}}).empty());
  // The same body is fine without the limit.
  job_.body_size_limit = 0;
  auto unlimited = Loop();
  unlimited->Report(46000, 10ms, bomb);
  EXPECT_EQ(unlimited->status().health, "up") << unlimited->status().last_error;
  EXPECT_EQ(Samples({{"__name__", "c"}}).size(), 1u);
}

TEST_F(ScrapeLoopTest, LabelLengthLimitsFailTheScrapeNamingTheLabel) {
  // Every label counts, the target's and __name__ too: "instance" and "__name__" are 8 long.
  job_.label_name_length_limit = 8;
  auto names = Loop();
  names->Report(1000, 10ms, Body("a{short=\"1\"} 1\n"));
  ASSERT_EQ(names->status().health, "up") << names->status().last_error;
  names->Report(16000, 10ms, Body("a{short=\"1\"} 2\nb{much_too_long=\"1\"} 2\n"));
  EXPECT_EQ(names->status().health, "down");
  EXPECT_NE(names->status().last_error.find("label_name_length_limit exceeded by label 'much_too_long'"),
            std::string::npos)
      << names->status().last_error;
  EXPECT_TRUE(Samples({{"__name__", "b"}}).empty());
  EXPECT_EQ(Last("up"), 0);

  job_.label_name_length_limit = 0;
  job_.label_value_length_limit = 6;  // "h:9100", the instance, is 6 long
  auto values = Loop();
  values->Report(31000, 10ms, Body("c{v=\"abcdef\"} 1\n"));
  ASSERT_EQ(values->status().health, "up") << values->status().last_error;
  values->Report(46000, 10ms, Body("c{v=\"abcdef\"} 1\nd{v=\"abcdefg\"} 1\n"));
  EXPECT_EQ(values->status().health, "down");
  EXPECT_NE(values->status().last_error.find("label_value_length_limit exceeded by label 'v'"), std::string::npos)
      << values->status().last_error;
  EXPECT_TRUE(Samples({{"__name__", "d"}}).empty());
  auto c = Samples({{"__name__", "c"}});
  ASSERT_EQ(c.size(), 2u);
  EXPECT_TRUE(IsStaleMarker(c[1].v));  // a failed scrape ends the series of the last good one
}

TEST_F(ScrapeLoopTest, AReloadWithNewRelabellingAppliesToKnownSeries) {
  relabel::Config drop;
  drop.action = "drop";
  drop.source_labels = {"__name__"};
  drop.regex = "go_.*";
  job_.metric_relabel_configs = {drop};
  auto loop = Loop();
  loop->Report(1000, 10ms, Body("go_gc 1\na 1\n"));
  EXPECT_TRUE(Samples({{"__name__", "go_gc"}}).empty());
  job_.metric_relabel_configs.clear();
  loop->Reconfigure(std::make_shared<const ScrapeConfig>(job_), std::make_shared<const relabel::Relabeler>());
  loop->Report(16000, 10ms, Body("go_gc 2\na 2\n"));
  EXPECT_EQ(Samples({{"__name__", "go_gc"}}).size(), 1u);
  EXPECT_EQ(Samples({{"__name__", "a"}}).size(), 2u);
}

TEST_F(ScrapeLoopTest, GzipOpenMetricsAndTimestamps) {
  Fetched f = Body("# TYPE a gauge\na 1 5.5\n# EOF\n", "application/openmetrics-text; version=1.0.0");
  f.body = http::GzipCompress(f.body);
  f.content_encoding = "gzip";
  Loop()->Report(9000, 10ms, f);
  auto a = Samples({{"__name__", "a"}});
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].t, 5500);  // the target's own timestamp
  job_.honor_timestamps = false;
  Loop()->Report(9000, 10ms, Body("z 1 5000\n"));
  EXPECT_EQ(Samples({{"__name__", "z"}})[0].t, 9000);
}

TEST_F(ScrapeLoopTest, SeriesWithTheirOwnTimestampsGetNoStalenessMarker) {
  auto loop = Loop();
  loop->Report(10000, 10ms, Body("a 1 5000\nb 1\nc 1\nd 1 6000\n"));
  // a and b go; c now has a timestamp, d no longer has one.
  loop->Report(25000, 10ms, Body("c 2 20000\nd 2\n"));
  ASSERT_EQ(loop->status().health, "up") << loop->status().last_error;
  auto a = Samples({{"__name__", "a"}});
  ASSERT_EQ(a.size(), 1u);  // no marker: its time was the target's
  EXPECT_EQ(a[0].t, 5000);
  auto b = Samples({{"__name__", "b"}});
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[1].t, 25000);
  EXPECT_TRUE(IsStaleMarker(b[1].v));
  // What counts is the last successful scrape: a failed scrape ends d (stored without a
  // timestamp) even though the failed body gave it one, and leaves c alone.
  loop->Report(40000, 10ms, Body("c 3 35000\nd 3 36000\nbroken{\n"));
  ASSERT_EQ(loop->status().health, "down");
  auto c = Samples({{"__name__", "c"}});
  ASSERT_EQ(c.size(), 2u);
  EXPECT_FALSE(IsStaleMarker(c[1].v));
  auto d = Samples({{"__name__", "d"}});
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[2].t, 40000);
  EXPECT_TRUE(IsStaleMarker(d[2].v));
  // Nor does a stopped target's timestamped series get one.
  loop->Report(55000, 10ms, Body("e 1 50000\nf 1\n"));
  loop->Stop(60000);
  EXPECT_EQ(Samples({{"__name__", "e"}}).size(), 1u);
  auto f = Samples({{"__name__", "f"}});
  ASSERT_EQ(f.size(), 2u);
  EXPECT_TRUE(IsStaleMarker(f[1].v));

  // Without honor_timestamps the target's timestamps are ignored, and staleness applies.
  job_.honor_timestamps = false;
  auto ignoring = Loop();
  ignoring->Report(70000, 10ms, Body("g 1 65000\n"));
  ignoring->Report(85000, 10ms, Body("h 1\n"));
  auto g = Samples({{"__name__", "g"}});
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g[0].t, 70000);
  EXPECT_TRUE(IsStaleMarker(g[1].v));
}

TEST_F(ScrapeLoopTest, MetadataAndExemplarsOfSuccessfulScrapesAreKept) {
  metastore::MetadataStore metadata;
  metastore::ExemplarStore exemplars;
  auto metric = relabel::Relabeler::Compile({});
  ScrapeLoop loop(head_.get(), target_, std::make_shared<const ScrapeConfig>(job_),
                  std::make_shared<const relabel::Relabeler>(std::move(metric).value()), {&metadata, &exemplars});
  loop.Report(9000, 10ms,
              Body("# TYPE lat_seconds histogram\n# UNIT lat_seconds seconds\n# HELP lat_seconds Latency.\n"
                   "lat_seconds_bucket{le=\"0.5\"} 3 # {trace_id=\"abc\"} 0.42 8.5\n"
                   "lat_seconds_bucket{le=\"+Inf\"} 4\nlat_seconds_count 4\nlat_seconds_sum 1.5\n# EOF\n",
                   "application/openmetrics-text; version=1.0.0"));
  ASSERT_EQ(loop.status().health, "up") << loop.status().last_error;
  auto m = metadata.Get("lat_seconds", 0, 0);
  ASSERT_EQ(m["lat_seconds"].size(), 1u);
  EXPECT_EQ(m["lat_seconds"][0].type, "histogram");
  EXPECT_EQ(m["lat_seconds"][0].unit, "seconds");
  EXPECT_EQ(m["lat_seconds"][0].help, "Latency.");
  auto ex = exemplars.Query({}, 0, 100000);
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].series.Get("job"), "node");  // the series' final labels
  EXPECT_EQ(ex[0].series.Get("le"), "0.5");
  EXPECT_EQ(ex[0].exemplars[0].labels.Get("trace_id"), "abc");
  EXPECT_EQ(ex[0].exemplars[0].timestamp_ms, 8500);
  // A failed scrape adds nothing.
  loop.Report(24000, 10ms, Body("# TYPE other gauge\nother 1\nbroken{\n"));
  EXPECT_TRUE(metadata.Get("other", 0, 0).empty());
}

TEST_F(ScrapeLoopTest, StopEndsTheTargetsSeries) {
  auto loop = Loop();
  loop->Report(1000, 10ms, Body("a 1\n"));
  loop->Stop(5000);
  auto a = Samples({{"__name__", "a"}});
  ASSERT_EQ(a.size(), 2u);
  EXPECT_TRUE(IsStaleMarker(a[1].v));
  auto up = Samples({{"__name__", "up"}});
  ASSERT_EQ(up.size(), 2u);
  EXPECT_TRUE(IsStaleMarker(up[1].v));
}

}  // namespace
}  // namespace tyto::scrape
