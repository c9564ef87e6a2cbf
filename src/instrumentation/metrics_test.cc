#include "instrumentation/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>
#include <thread>
#include <vector>

namespace tyto::instrumentation {
namespace {

using ::testing::HasSubstr;

TEST(FormatValueTest, SpecialValues) {
  EXPECT_EQ(FormatValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatValue(std::numeric_limits<double>::quiet_NaN()), "NaN");
}

TEST(FormatValueTest, IntegersHaveNoFraction) {
  EXPECT_EQ(FormatValue(0), "0");
  EXPECT_EQ(FormatValue(1), "1");
  EXPECT_EQ(FormatValue(-1), "-1");
  EXPECT_EQ(FormatValue(-3), "-3");
  EXPECT_EQ(FormatValue(100000), "100000");
  EXPECT_EQ(FormatValue(400000), "400000");
  EXPECT_EQ(FormatValue(999999), "999999");
}

// Prometheus writes values with Go's strconv.FormatFloat(v, 'g', -1, 64): shortest digits,
// exponent form when the decimal exponent is below -4 or at least 6.
TEST(FormatValueTest, ExponentFormAsGoWritesIt) {
  EXPECT_EQ(FormatValue(1e6), "1e+06");
  EXPECT_EQ(FormatValue(1234567), "1.234567e+06");
  EXPECT_EQ(FormatValue(123456789), "1.23456789e+08");
  EXPECT_EQ(FormatValue(1.7e9), "1.7e+09");
  EXPECT_EQ(FormatValue(1e21), "1e+21");
  EXPECT_EQ(FormatValue(-2.5e10), "-2.5e+10");
  EXPECT_EQ(FormatValue(0.0001), "0.0001");
  EXPECT_EQ(FormatValue(0.00012), "0.00012");
  EXPECT_EQ(FormatValue(0.00001), "1e-05");
  EXPECT_EQ(FormatValue(1.5e-7), "1.5e-07");
  EXPECT_EQ(FormatValue(1e-300), "1e-300");
  EXPECT_EQ(FormatValue(123456.5), "123456.5");
}

TEST(FormatValueTest, ShortestRoundTrip) {
  EXPECT_EQ(FormatValue(0.1), "0.1");
  EXPECT_EQ(FormatValue(2.5), "2.5");
  EXPECT_EQ(FormatValue(0.005), "0.005");
  EXPECT_EQ(FormatValue(0.1 + 0.2), "0.30000000000000004");
  for (double v : {1e-9, 1.0 / 3, 6.02214076e23, 1e300, -7.25, 5e-324, std::numeric_limits<double>::max()}) {
    std::string s = FormatValue(v);
    EXPECT_EQ(std::strtod(s.c_str(), nullptr), v) << s;
  }
}

TEST(HistogramTest, BucketsAreUpperInclusive) {
  Histogram h({1, 2});
  h.Observe(0.5);
  h.Observe(1);  // le="1" includes 1
  h.Observe(1.5);
  h.Observe(3);
  EXPECT_EQ(h.BucketCount(0), 2u);
  EXPECT_EQ(h.BucketCount(1), 1u);
  EXPECT_EQ(h.BucketCount(2), 1u);  // +Inf
  EXPECT_EQ(h.Count(), 4u);
  EXPECT_EQ(h.Sum(), 6.0);
}

TEST(HistogramTest, DefaultLatencyBucketsAscend) {
  std::vector<double> b = DefaultLatencyBuckets();
  ASSERT_FALSE(b.empty());
  for (size_t i = 1; i < b.size(); ++i) EXPECT_LT(b[i - 1], b[i]);
  EXPECT_EQ(b.front(), 0.005);
  EXPECT_EQ(b.back(), 10);
}

TEST(RegistryTest, ExposesCountersAndGaugesWithHelpAndType) {
  Registry r;
  auto& requests = r.AddCounter("tyto_requests_total", "Requests served.", {"handler", "code"});
  requests.WithLabels({"query", "200"}).Inc();
  requests.WithLabels({"query", "200"}).Inc(2);
  requests.WithLabels({"ingest", "500"}).Inc();
  auto& queue = r.AddGauge("tyto_queue_length", "Items waiting.");
  queue.WithLabels({}).Set(7);
  queue.WithLabels({}).Dec();
  EXPECT_EQ(r.Expose(),
            "# HELP tyto_queue_length Items waiting.\n"
            "# TYPE tyto_queue_length gauge\n"
            "tyto_queue_length 6\n"
            "# HELP tyto_requests_total Requests served.\n"
            "# TYPE tyto_requests_total counter\n"
            "tyto_requests_total{handler=\"ingest\",code=\"500\"} 1\n"
            "tyto_requests_total{handler=\"query\",code=\"200\"} 3\n");
}

TEST(RegistryTest, FamiliesSortedByName) {
  Registry r;
  r.AddGauge("zeta", "z.").WithLabels({}).Set(1);
  r.AddCounter("alpha_total", "a.").WithLabels({}).Inc();
  r.AddCallback("mid", "m.", Type::kGauge, [] { return 2.0; });
  r.AddGauge("Beta", "b.").WithLabels({}).Set(3);  // byte order: upper case first
  std::string out = r.Expose();
  size_t beta = out.find("# HELP Beta ");
  size_t alpha = out.find("# HELP alpha_total ");
  size_t mid = out.find("# HELP mid ");
  size_t zeta = out.find("# HELP zeta ");
  ASSERT_NE(beta, std::string::npos);
  ASSERT_NE(alpha, std::string::npos);
  ASSERT_NE(mid, std::string::npos);
  ASSERT_NE(zeta, std::string::npos);
  EXPECT_LT(beta, alpha);
  EXPECT_LT(alpha, mid);
  EXPECT_LT(mid, zeta);
}

TEST(RegistryTest, LabelValuesAreEscaped) {
  Registry r;
  r.AddGauge("g", "Escapes.", {"path"}).WithLabels({"C:\\dir \"x\"\nnext"}).Set(1);
  EXPECT_THAT(r.Expose(), HasSubstr("g{path=\"C:\\\\dir \\\"x\\\"\\nnext\"} 1\n"));
}

TEST(RegistryTest, HelpEscapesBackslashAndNewlineButNotQuotes) {
  Registry r;
  r.AddCounter("c_total", "Say \"hi\"\\now\nthen.");
  EXPECT_THAT(r.Expose(), HasSubstr("# HELP c_total Say \"hi\"\\\\now\\nthen.\n# TYPE c_total counter\n"));
}

TEST(RegistryTest, FamilyWithoutSeriesHasOnlyHeader) {
  Registry r;
  r.AddCounter("unused_total", "Never incremented.", {"code"});
  EXPECT_EQ(r.Expose(), "# HELP unused_total Never incremented.\n# TYPE unused_total counter\n");
}

TEST(RegistryTest, HistogramIsCumulativeWithInfSumAndCount) {
  Registry r;
  auto& latency = r.AddHistogram("tyto_latency_seconds", "Latency.", {"handler"}, {0.25, 1, 2.5});
  Histogram& h = latency.WithLabels({"query"});
  for (double v : {0.125, 0.25, 0.5, 4.0}) h.Observe(v);
  EXPECT_EQ(r.Expose(),
            "# HELP tyto_latency_seconds Latency.\n"
            "# TYPE tyto_latency_seconds histogram\n"
            "tyto_latency_seconds_bucket{handler=\"query\",le=\"0.25\"} 2\n"
            "tyto_latency_seconds_bucket{handler=\"query\",le=\"1\"} 3\n"
            "tyto_latency_seconds_bucket{handler=\"query\",le=\"2.5\"} 3\n"
            "tyto_latency_seconds_bucket{handler=\"query\",le=\"+Inf\"} 4\n"
            "tyto_latency_seconds_sum{handler=\"query\"} 4.875\n"
            "tyto_latency_seconds_count{handler=\"query\"} 4\n");
}

TEST(RegistryTest, UnlabelledHistogram) {
  Registry r;
  auto& sizes = r.AddHistogram("batch_size", "Sizes.", {}, {10});
  sizes.WithLabels({}).Observe(3);
  sizes.WithLabels({}).Observe(30);
  EXPECT_EQ(r.Expose(),
            "# HELP batch_size Sizes.\n"
            "# TYPE batch_size histogram\n"
            "batch_size_bucket{le=\"10\"} 1\n"
            "batch_size_bucket{le=\"+Inf\"} 2\n"
            "batch_size_sum 33\n"
            "batch_size_count 2\n");
}

TEST(RegistryTest, CallbackIsReadAtEachExposition) {
  Registry r;
  double value = 1.5;
  r.AddCallback("process_open_fds", "Open fds.", Type::kGauge, [&value] { return value; });
  r.AddCallback("process_cpu_seconds_total", "CPU.", Type::kCounter, [] { return 0.25; });
  std::string first = r.Expose();
  EXPECT_THAT(first, HasSubstr("# HELP process_open_fds Open fds.\n# TYPE process_open_fds gauge\n"
                               "process_open_fds 1.5\n"));
  EXPECT_THAT(first, HasSubstr("# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 0.25\n"));
  value = std::numeric_limits<double>::infinity();
  EXPECT_THAT(r.Expose(), HasSubstr("process_open_fds +Inf\n"));
}

TEST(RegistryTest, WithLabelsReturnsTheSameSeries) {
  Registry r;
  auto& f = r.AddCounter("x_total", "X.", {"a"});
  Counter& one = f.WithLabels({"1"});
  Counter& again = f.WithLabels({"1"});
  Counter& other = f.WithLabels({"2"});
  EXPECT_EQ(&one, &again);
  EXPECT_NE(&one, &other);
  one.Inc();
  EXPECT_EQ(again.Value(), 1);
  EXPECT_EQ(other.Value(), 0);
}

TEST(RegistryTest, ConcurrentIncrementsAreExact) {
  Registry r;
  auto& family = r.AddCounter("hits_total", "Hits.", {"worker"});
  Counter& shared = family.WithLabels({"all"});
  constexpr int kThreads = 4;
  constexpr int kPerThread = 100000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) shared.Inc();
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(shared.Value(), kThreads * kPerThread);
  EXPECT_THAT(r.Expose(), HasSubstr("hits_total{worker=\"all\"} 400000\n"));
}

TEST(RegistryTest, ConcurrentWithLabelsCreatesOneSeriesPerLabelSet) {
  Registry r;
  auto& family = r.AddGauge("g", "G.", {"k"});
  constexpr int kThreads = 4;
  std::vector<std::thread> threads;
  std::vector<Gauge*> seen(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) family.WithLabels({std::to_string(i % 10)}).Inc();
      seen[static_cast<size_t>(t)] = &family.WithLabels({"0"});
    });
  }
  for (std::thread& th : threads) th.join();
  for (Gauge* g : seen) EXPECT_EQ(g, seen[0]);
  std::string out = r.Expose();
  for (int i = 0; i < 10; ++i) {
    EXPECT_THAT(out, HasSubstr("g{k=\"" + std::to_string(i) + "\"} 400\n"));
  }
}

TEST(RegistryTest, ConcurrentHistogramObservations) {
  Histogram h({1});
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&h, t] {
      for (int i = 0; i < kPerThread; ++i) h.Observe(t % 2 == 0 ? 0.5 : 2);
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(h.Count(), static_cast<uint64_t>(kThreads * kPerThread));
  EXPECT_EQ(h.BucketCount(0), static_cast<uint64_t>(2 * kPerThread));
  EXPECT_EQ(h.BucketCount(1), static_cast<uint64_t>(2 * kPerThread));
  EXPECT_EQ(h.Sum(), 2 * kPerThread * 0.5 + 2 * kPerThread * 2.0);
}

}  // namespace
}  // namespace tyto::instrumentation

namespace tyto::instrumentation {
namespace {

TEST(RegistryTest, RemovedSeriesLeaveTheExposition) {
  Registry r;
  auto& f = r.AddGauge("tyto_group_rules", "Rules per group.", {"rule_group"});
  f.WithLabels({"a"}).Set(3);
  f.WithLabels({"b"}).Set(4);
  f.Remove({"a"});
  f.Remove({"never-there"});
  const std::string text = r.Expose();
  EXPECT_EQ(text.find("rule_group=\"a\""), std::string::npos) << text;
  EXPECT_NE(text.find("tyto_group_rules{rule_group=\"b\"} 4"), std::string::npos) << text;
  EXPECT_EQ(f.WithLabels({"a"}).Value(), 0);  // a new series from zero
}

}  // namespace
}  // namespace tyto::instrumentation
