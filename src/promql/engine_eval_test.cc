// The engine's behaviour beyond Prometheus's scripts (conformance_eval_test.cc runs those): where
// annotations point in a query of several lines, the delayed-name-removal switch, extended
// range selectors, and the helpers behind Prometheus's exact numbers and messages.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "promql/engine.h"
#include "promql/eval.h"
#include "testing/temp_dir.h"
#include "tsdb/head.h"

namespace tyto::promql {
namespace {

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tsdb::HeadOptions o;
    auto h = tsdb::Head::Open(Env::Default(), dir_.Path("wal"), o, nullptr);
    ASSERT_TRUE(h.ok()) << h.status().message();
    head_ = std::move(h).value();
    // foo and foo_total: 0, 60, 120, ... every minute for 10 minutes.
    auto app = head_->NewAppender();
    for (int64_t t = 0; t <= 600'000; t += 60'000) {
      ASSERT_TRUE(app->Append(0, Labels::Of({"__name__", "foo", "job", "a"}), t, static_cast<double>(t) / 1000).ok());
      ASSERT_TRUE(app->Append(0, Labels::Of({"__name__", "foo_total", "job", "a"}), t, static_cast<double>(t) / 1000).ok());
    }
    ASSERT_TRUE(app->Commit().ok());
  }

  testing::TempDir dir_;
  std::unique_ptr<tsdb::Head> head_;
};

TEST_F(EngineTest, AnnotationsPointAtTheLineAndColumn) {
  Engine engine(head_.get());
  auto r = engine.Instant("rate(foo[5m])", 600'000);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->infos.size(), 1u);
  EXPECT_EQ(r->infos[0],
            "PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: \"foo\" (1:6)");
  EXPECT_TRUE(r->warnings.empty());

  r = engine.Instant("sum(\n  rate(foo[5m])\n)", 600'000);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->infos.size(), 1u);
  EXPECT_EQ(r->infos[0],
            "PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: \"foo\" (2:8)");

  r = engine.Instant("rate(foo_total[5m])", 600'000);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->infos.empty());

  r = engine.Range("sort(foo)", 0, 600'000, 60'000);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_EQ(r->warnings[0], "PromQL warning: sort is ineffective for range queries since results are always ordered by labels (1:1)");
}

TEST_F(EngineTest, TypeAndUnitLabelsJudgeCounters) {
  auto app = head_->NewAppender();
  for (int64_t t = 0; t <= 600'000; t += 60'000) {
    ASSERT_TRUE(app->Append(0, Labels::Of({"__name__", "bar", "__type__", "counter", "job", "b"}), t, 1).ok());
    ASSERT_TRUE(app->Append(0, Labels::Of({"__name__", "baz_total", "__type__", "gauge", "job", "c"}), t, 1).ok());
  }
  ASSERT_TRUE(app->Commit().ok());
  EngineOptions typed;
  typed.type_and_unit_labels = true;
  auto r = Engine(head_.get(), typed).Instant("rate({__type__=~\".+\"}[5m])", 600'000);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->infos.size(), 1u);
  EXPECT_EQ(r->infos[0],
            "PromQL info: metric might not be a counter, __type__ label is not set to \"counter\" or \"histogram\", got "
            "\"gauge\": \"baz_total\" (1:6)");
  // Without the feature the name decides: bar is suspect, baz_total is not.
  r = Engine(head_.get()).Instant("rate({__type__=~\".+\"}[5m])", 600'000);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->infos.size(), 1u);
  EXPECT_NE(r->infos[0].find("\"bar\""), std::string::npos);
  // Dropping the name drops __type__ and __unit__ too.
  ASSERT_EQ(r->vector.size(), 2u);
  EXPECT_FALSE(r->vector[0].metric.Has("__type__"));
}

TEST_F(EngineTest, DelayedNameRemovalIsASwitch) {
  const std::string query = R"q(label_replace(rate(foo[5m]), "was", "$1", "__name__", "(.+)"))q";
  auto r = Engine(head_.get()).Instant(query, 600'000);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->vector.size(), 1u);
  EXPECT_EQ(r->vector[0].metric, Labels::Of({"job", "a"}));  // rate() dropped the name before label_replace

  EngineOptions delayed;
  delayed.delayed_name_removal = true;
  r = Engine(head_.get(), delayed).Instant(query, 600'000);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->vector.size(), 1u);
  EXPECT_EQ(r->vector[0].metric, Labels::Of({"job", "a", "was", "foo"}));  // seen, then dropped at the end
}

TEST_F(EngineTest, ExtendedRangesOnlyWhereTheFunctionTakesThem) {
  Engine engine(head_.get());
  auto r = engine.Instant("deriv(foo[3m] anchored)", 600'000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "anchored modifier can only be used with: changes, delta, increase, rate, resets - not with deriv");
  r = engine.Instant("increase(foo_total[5m] anchored)", 600'000);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->vector.size(), 1u);
  EXPECT_EQ(r->vector[0].v, 300);  // 600 - 300: the sample at the window's start is its anchor
}

TEST(EvalHelpersTest, GoFloatFormatting) {
  EXPECT_EQ(FormatGoFloat(1.1), "1.1");
  EXPECT_EQ(FormatGoFloat(-1), "-1");
  EXPECT_EQ(FormatGoFloat(0.0001), "0.0001");
  EXPECT_EQ(FormatGoFloat(0.00001), "1e-05");
  EXPECT_EQ(FormatGoFloat(123456), "123456");
  EXPECT_EQ(FormatGoFloat(1234567), "1.234567e+06");
  EXPECT_EQ(FormatGoFloat(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(FormatGoFloat(-std::numeric_limits<double>::infinity()), "-Inf");
}

TEST(EvalHelpersTest, RatioSampleOffsetIsPrometheusLabelsHash) {
  // xxHash64 of `__name__\xffup\xff` over the largest uint64, as Prometheus's labels.Hash gives.
  const double offset = RatioSampleOffset(Labels::Of({"__name__", "up"}));
  EXPECT_GE(offset, 0);
  EXPECT_LT(offset, 1);
  EXPECT_EQ(offset, RatioSampleOffset(Labels::Of({"__name__", "up"})));
  EXPECT_NE(offset, RatioSampleOffset(Labels::Of({"__name__", "down"})));
  // The empty set hashes the empty string: xxHash64("") = 0xef46db3751d8e999.
  EXPECT_EQ(RatioSampleOffset(Labels()), static_cast<double>(0xef46db3751d8e999ull) / static_cast<double>(~0ull));
}

TEST(EvalHelpersTest, ClassicBucketEdges) {
  bool forced = false;
  // Counts that decrease are raised (and reported); the quantile interpolates in its bucket.
  EXPECT_DOUBLE_EQ(BucketQuantile(0.5, {{1, 10}, {2, 8}, {INFINITY, 20}}, &forced), 1.0);
  EXPECT_TRUE(forced);
  EXPECT_DOUBLE_EQ(BucketQuantile(0.5, {{1, 5}, {2, 10}, {INFINITY, 20}}, &forced), 2.0);
  EXPECT_FALSE(forced);
  // A bucket of infinite width gives none of its observations to a range that starts inside it.
  EXPECT_DOUBLE_EQ(BucketFraction(-4, -2, {{-3, 10}, {-2, 12}, {-1, 15}, {INFINITY, 100}}), 0.02);
  EXPECT_DOUBLE_EQ(BucketFraction(4, 5, {{1, 1}, {3, 6}, {INFINITY, 100}}), 0);
}

}  // namespace
}  // namespace tyto::promql
