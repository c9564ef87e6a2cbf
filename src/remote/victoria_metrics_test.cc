// Metrics on a remote store, against a real one: Debian's victoria-metrics (package
// victoria-metrics, /usr/bin/victoria-metrics), started by the test on 127.0.0.1 with a free
// port and a temporary data directory, and stopped (SIGTERM, then SIGKILL) at the end.
//
//   - the server-side fan-out delivers every sample exactly once (counted by VictoriaMetrics's
//     /api/v1/export), also when VictoriaMetrics is down for a while and the server restarts
//     meanwhile (the samples wait in the on-disk queue);
//   - the PromQL engine over RemoteStorage (reading VictoriaMetrics's query API) gives what the
//     engine over a local head holding the same data gives.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "promql/engine.h"
#include "remote/fake_remote_store.h"
#include "remote/fanout.h"
#include "remote/remote_storage.h"
#include "remote/tee_storage.h"
#include "remote/victoria_metrics_server.h"
#include "testing/http_client.h"
#include "testing/temp_dir.h"
#include "tsdb/head.h"

namespace tyto::remote {
namespace {

using namespace std::chrono_literals;
using test::Eventually;
using testing::VictoriaMetrics;

RemoteWriteConfig Destination(const std::string& url) {
  RemoteWriteConfig c;
  c.url = url + "/api/v1/write";
  c.name = "vm";
  c.queue_config.batch_send_deadline = 50ms;
  c.queue_config.min_backoff = 10ms;
  c.queue_config.max_backoff = 200ms;
  c.queue_config.max_samples_per_send = 500;
  return c;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// `series` x `per_series` samples of gauge metric `name`, one commit per timestamp, 10 s apart
// from t0.
void Write(Storage* s, const std::string& name, int series, int per_series, int64_t t0) {
  auto app = s->NewAppender();
  for (int k = 0; k < per_series; ++k) {
    for (int i = 0; i < series; ++i) {
      ASSERT_TRUE(app->Append(0, Labels::Of({"__name__", name, "gpu", std::to_string(i)}), t0 + k * 10'000, k * 3 + i)
                      .ok());
    }
    ASSERT_TRUE(app->Commit().ok());
  }
}

class VictoriaMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    vm_ = std::make_unique<VictoriaMetrics>(dir_.Path("vm"), dir_.Path("vm.log"));
    const Status started = vm_->Start();
    ASSERT_TRUE(started.ok()) << started.ToString();
  }
  void TearDown() override {
    if (vm_ != nullptr) vm_->Stop();
  }

  tyto::testing::TempDir dir_;
  std::unique_ptr<VictoriaMetrics> vm_;
};

TEST_F(VictoriaMetricsTest, TheFanOutDeliversEverySampleExactlyOnce) {
  auto f = Fanout::Open(Env::Default(), nullptr, dir_.Path("tyto"), {Destination(vm_->url())}, nullptr);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  (*f)->Start();
  const int64_t t0 = (NowMs() / 1000 - 3 * 3600) * 1000;
  Write(f->get(), "fanout_exact", 40, 250, t0);  // 10,000 samples
  ASSERT_TRUE(Eventually([&] { return (*f)->Destinations()[0].sender.sent_samples >= 10'000; }, 120s));
  vm_->Flush();
  std::string problems;
  std::map<std::string, size_t> got;
  ASSERT_TRUE(Eventually(
      [&] {
        problems.clear();
        got = vm_->Export(R"({__name__="fanout_exact"})", &problems);
        size_t total = 0;
        for (const auto& [k, n] : got) total += n;
        return total >= 10'000;
      },
      60s));
  EXPECT_EQ(problems, "");
  ASSERT_EQ(got.size(), 40u);
  for (const auto& [series, n] : got) EXPECT_EQ(n, 250u) << series;
  EXPECT_EQ((*f)->Destinations()[0].sender.failed_samples, 0u);
}

TEST_F(VictoriaMetricsTest, SamplesWaitOnDiskWhileTheStoreIsDownAndAcrossAServerRestart) {
  const RemoteWriteConfig dest = Destination(vm_->url());
  const int64_t t0 = (NowMs() / 1000 - 2 * 3600) * 1000;
  vm_->Stop();
  {
    auto f = Fanout::Open(Env::Default(), nullptr, dir_.Path("tyto"), {dest}, nullptr);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    (*f)->Start();
    Write(f->get(), "fanout_outage", 20, 100, t0);  // 2,000 samples while the store is down
    ASSERT_TRUE(Eventually([&] { return (*f)->Destinations()[0].sender.retries >= 3; }, 60s));
    EXPECT_EQ((*f)->Destinations()[0].sender.sent_samples, 0u);
  }  // the server stops, its queue full of unsent samples
  {
    auto f = Fanout::Open(Env::Default(), nullptr, dir_.Path("tyto"), {dest}, nullptr);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    EXPECT_EQ((*f)->Destinations()[0].queue.unread_samples, 2000u);
    (*f)->Start();
    Write(f->get(), "fanout_outage", 20, 50, t0 + 100 * 10'000);  // 1,000 more, still down
    std::this_thread::sleep_for(300ms);                            // a few failed attempts
    ASSERT_TRUE(vm_->Start().ok());
    ASSERT_TRUE(Eventually([&] { return (*f)->Destinations()[0].sender.sent_samples >= 3000; }, 120s));
    EXPECT_EQ((*f)->Destinations()[0].sender.sent_samples, 3000u);
  }
  vm_->Flush();
  std::string problems;
  std::map<std::string, size_t> got;
  ASSERT_TRUE(Eventually(
      [&] {
        problems.clear();
        got = vm_->Export(R"({__name__="fanout_outage"})", &problems);
        size_t total = 0;
        for (const auto& [k, n] : got) total += n;
        return total >= 3000;
      },
      60s));
  EXPECT_EQ(problems, "");
  ASSERT_EQ(got.size(), 20u);
  for (const auto& [series, n] : got) EXPECT_EQ(n, 150u) << series;
}

// Data written through the tee (local head + fan-out to VictoriaMetrics); then the same queries
// over the head and over RemoteStorage reading VictoriaMetrics.
TEST_F(VictoriaMetricsTest, PromqlOverTheRemoteStoreMatchesTheLocalHead) {
  auto head = std::move(tsdb::Head::Open(Env::Default(), dir_.Path("wal"), tsdb::HeadOptions{}, nullptr)).value();
  auto f = Fanout::Open(Env::Default(), nullptr, dir_.Path("tyto"), {Destination(vm_->url())}, nullptr);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  (*f)->Start();
  TeeStorage tee(head.get(), f->get());

  const int64_t t0 = (NowMs() / 60'000 - 90) * 60'000;  // 90 minutes ago, on a minute
  uint64_t written = 0;
  {
    auto app = tee.NewAppender();
    for (int k = 0; k <= 360; ++k) {  // every 15 s for 90 minutes
      const int64_t t = t0 + k * 15'000;
      for (int g = 0; g < 4; ++g) {
        const std::string gpu = std::to_string(g);
        const std::string host = g < 2 ? "h1" : "h2";
        ASSERT_TRUE(app->Append(0, Labels::Of({"__name__", "vm_requests_total", "gpu", gpu, "host", host, "path", "/v1/chat \"x\""}), t,
                                k * (g + 1) + (k > 200 ? 5 : 0))
                        .ok());
        ++written;
        double cumulative = 0;
        for (const char* le : {"0.1", "0.5", "1", "+Inf"}) {
          cumulative += k * (g + 1) * (le[0] == '0' ? 1 : 2);
          ASSERT_TRUE(
              app->Append(0, Labels::Of({"__name__", "vm_latency_seconds_bucket", "gpu", gpu, "host", host, "le", le}), t, cumulative)
                  .ok());
          ++written;
        }
      }
      if (k % 20 == 0) {
        ASSERT_TRUE(app->Commit().ok());
      }
    }
    ASSERT_TRUE(app->Commit().ok());
  }
  ASSERT_TRUE(Eventually([&] { return (*f)->Destinations()[0].sender.sent_samples >= written; }, 120s));
  vm_->Flush();

  RemoteQueryConfig qc;
  qc.query_url = vm_->url();
  auto remote = RemoteStorage::Create(Env::Default(), qc, f->get(), nullptr);
  ASSERT_TRUE(remote.ok()) << remote.status().ToString();
  ASSERT_TRUE((*remote)->Health().ok()) << (*remote)->Health().ToString();
  promql::Engine local_engine(head.get());
  promql::Engine remote_engine(remote->get());
  const int64_t end = t0 + 85 * 60'000;
  // Samples become searchable shortly after the flush.
  ASSERT_TRUE(Eventually(
      [&] {
        auto r = remote_engine.Instant("count(vm_latency_seconds_bucket)", end);
        return r.ok() && r->vector.size() == 1 && r->vector[0].v == 16;
      },
      60s));
  for (const char* query : {"vm_requests_total", "rate(vm_requests_total[5m])",
                            "sum by (host) (rate(vm_requests_total[5m]))",
                            "histogram_quantile(0.9, sum by (le) (rate(vm_latency_seconds_bucket[5m])))",
                            "histogram_quantile(0.5, sum by (le, host) (increase(vm_latency_seconds_bucket{host=\"h2\"}[10m])))",
                            "max_over_time(vm_requests_total{gpu=~\"1|2\", path=\"/v1/chat \\\"x\\\"\"}[10m])",
                            "count by (host) (vm_requests_total offset 10m)"}) {
    auto want = local_engine.Range(query, t0 + 10 * 60'000, end, 60'000);
    auto got = remote_engine.Range(query, t0 + 10 * 60'000, end, 60'000);
    ASSERT_TRUE(want.ok()) << query << ": " << want.status().ToString();
    ASSERT_TRUE(got.ok()) << query << ": " << got.status().ToString();
    ASSERT_FALSE(want->matrix.empty()) << query;
    ASSERT_EQ(want->matrix.size(), got->matrix.size()) << query;
    for (size_t i = 0; i < want->matrix.size(); ++i) {
      EXPECT_EQ(want->matrix[i].metric, got->matrix[i].metric) << query;
      ASSERT_EQ(want->matrix[i].points.size(), got->matrix[i].points.size()) << query << " " << want->matrix[i].metric.ToString();
      for (size_t k = 0; k < want->matrix[i].points.size(); ++k) {
        EXPECT_EQ(want->matrix[i].points[k].t, got->matrix[i].points[k].t) << query;
        const double w = want->matrix[i].points[k].v, g = got->matrix[i].points[k].v;
        EXPECT_NEAR(w, g, 1e-9 * std::max(1.0, std::fabs(w))) << query << " at " << want->matrix[i].points[k].t;
      }
    }
  }
  auto lq = head->NewQuerier(t0, end);
  auto rq = (*remote)->NewQuerier(t0, end);
  const std::vector<Matcher> req = {Matcher::Make(MatchType::kEqual, "__name__", "vm_requests_total").value()};
  EXPECT_EQ((*lq)->LabelValues("host", req).value(), (*rq)->LabelValues("host", req).value());
  EXPECT_EQ((*lq)->LabelValues("path", req).value(), (*rq)->LabelValues("path", req).value());
  EXPECT_EQ((*lq)->LabelNames(req).value(), (*rq)->LabelNames(req).value());
  auto le = (*rq)->LabelValues("le", {});
  ASSERT_TRUE(le.ok()) << le.status().ToString();
  EXPECT_EQ(*le, (std::vector<std::string>{"+Inf", "0.1", "0.5", "1"}));

  // A query the store refuses: its error, naming the URL, comes out of the engine.
  vm_->Stop();
  auto down = remote_engine.Instant("vm_requests_total", end);
  ASSERT_FALSE(down.ok());
  EXPECT_NE(down.status().message().find(vm_->url()), std::string::npos) << down.status().ToString();
  EXPECT_FALSE((*remote)->Health().ok());
}

}  // namespace
}  // namespace tyto::remote
