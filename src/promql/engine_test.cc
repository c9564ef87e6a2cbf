// The limits on one query: the engine's timeout and a query's own, cancellation by the caller,
// max_samples, and the concurrency gate that queues queries within their timeout.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "promql/engine.h"
#include "testing/temp_dir.h"
#include "tsdb/head.h"

namespace tyto::promql {
namespace {

using namespace std::chrono_literals;

class EngineLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto h = tsdb::Head::Open(Env::Default(), dir_.Path("wal"), tsdb::HeadOptions{}, nullptr);
    ASSERT_TRUE(h.ok());
    head_ = std::move(h).value();
    // m{i="0"} ... m{i="9"}: the value t at every second t of [0, 99].
    auto app = head_->NewAppender();
    for (int i = 0; i < 10; ++i) {
      const Labels l = Labels::Of({"__name__", "m", "i", std::to_string(i)});
      for (int t = 0; t < 100; ++t) ASSERT_TRUE(app->Append(0, l, t * 1000, t).ok());
    }
    ASSERT_TRUE(app->Commit().ok());
  }

  testing::TempDir dir_;
  std::unique_ptr<tsdb::Head> head_;
};

TEST_F(EngineLimitsTest, AnswersWithinTheLimits) {
  Engine engine(head_.get());
  auto r = engine.Instant("sum(m)", 99'000);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->vector.size(), 1u);
  EXPECT_EQ(r->vector[0].v, 990);
}

TEST_F(EngineLimitsTest, TimeoutStopsTheQuery) {
  EngineOptions o;
  o.timeout = 0ms;
  Engine strict(head_.get(), o);
  EXPECT_EQ(strict.Instant("m", 1000).status().code(), StatusCode::kDeadlineExceeded);
  // A shorter limit for one query applies beside the engine's.
  Engine engine(head_.get());
  QueryContext ctx;
  ctx.timeout = 0ms;
  auto r = engine.Instant("rate(m[10s])", 99'000, ctx);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(r.status().message(), "query timed out in expression evaluation");
}

TEST_F(EngineLimitsTest, CancellationStopsTheQuery) {
  Engine engine(head_.get());
  QueryContext ctx;
  ctx.cancelled = [] { return true; };
  auto r = engine.Instant("sum(m)", 99'000, ctx);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCancelled);
  EXPECT_EQ(r.status().message(), "query was canceled in expression evaluation");
  ctx.cancelled = [] { return false; };
  EXPECT_TRUE(engine.Instant("sum(m)", 99'000, ctx).ok());
}

TEST_F(EngineLimitsTest, MaxSamplesFailsTheQuery) {
  EngineOptions o;
  o.max_samples = 500;
  Engine engine(head_.get(), o);
  auto r = engine.Instant("sum(m)", 99'000);  // 10 series of 100 samples
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(engine.Instant("m{i=\"1\"}", 99'000).ok());
  // A sample repeated at every step of a fine range query counts each time, and so do a
  // subquery's inner steps.
  Engine fine(head_.get(), EngineOptions{.max_samples = 5'000});
  EXPECT_TRUE(fine.Range("m{i=\"1\"}", 0, 99'000, 1000).ok());  // 100 samples, 100 steps
  EXPECT_EQ(fine.Range("m{i=\"1\"}", 0, 99'000, 10).status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(fine.Instant("max_over_time(vector(1)[1h:100ms])", 99'000).status().code(),
            StatusCode::kResourceExhausted);
}

TEST_F(EngineLimitsTest, ConcurrencyGateQueuesQueriesWithinTheirTimeout) {
  EngineOptions o;
  o.max_concurrency = 1;
  Engine engine(head_.get(), o);
  // The first query holds the only slot until released: its cancellation check waits.
  std::atomic<bool> entered{false}, release{false};
  QueryContext holding;
  holding.cancelled = [&] {
    entered = true;
    while (!release) std::this_thread::sleep_for(1ms);
    return false;
  };
  std::optional<Result<QueryResult>> first;
  std::thread t([&] { first.emplace(engine.Instant("sum(m)", 99'000, holding)); });
  while (!entered) std::this_thread::sleep_for(1ms);
  QueryContext waiting;
  waiting.timeout = 30ms;
  auto second = engine.Instant("sum(m)", 99'000, waiting);
  release = true;
  t.join();
  ASSERT_TRUE(first.has_value());
  EXPECT_TRUE(first->ok());
  EXPECT_EQ(second.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(second.status().message(), "query timed out in query queue");
}

}  // namespace
}  // namespace tyto::promql
