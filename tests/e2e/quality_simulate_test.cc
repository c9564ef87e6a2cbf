// End-to-end: `tyto simulate --send-to` feeds a `tyto serve` (auth on) with the escalation
// classifier's traffic: features, predictions, embeddings and, a second or two later, the true
// labels. Its scenario injects a data drift and a quality drop at 50 s. The drift monitor takes
// its baseline, stays quiet over the unchanged stream, then flags the drift within a window; the
// classifier's accuracy, joined from the late labels, falls.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include "e2e/process.h"
#include "e2e/serve_fixture.h"
#include "testing/http_client.h"
#include "testing/temp_dir.h"

namespace tyto::e2e {
namespace {

using namespace std::chrono_literals;
using testing::TestResponse;

constexpr const char* kModel = "escalation-classifier";

class QualitySimulateE2ETest : public ::testing::Test {
 protected:
  TestResponse Get(const std::string& target) { return ApiClient(port_, "", "r-secret").Get(target); }
  // The value of a one-series instant query, or NaN.
  double Value(const std::string& query) {
    TestResponse r = Get("/api/v1/query?query=" + query);
    const size_t at = r.body.rfind(",\"");
    if (r.status != 200 || at == std::string::npos || r.body.find("\"result\":[]") != std::string::npos) {
      return std::nan("");
    }
    return std::strtod(r.body.c_str() + at + 2, nullptr);
  }
  // Polls `query` every 500 ms for up to `limit` until pred(value).
  template <typename Pred>
  double WaitFor(const std::string& query, std::chrono::seconds limit, Pred pred) {
    double v = std::nan("");
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      v = Value(query);
      if (pred(v)) break;
      std::this_thread::sleep_for(500ms);
    }
    return v;
  }

  testing::TempDir dir_;
  uint16_t port_ = 0;
};

TEST_F(QualitySimulateE2ETest, InjectedDriftAndQualityDropShowWithinAWindow) {
  ServedTyto served = ServeWithTokens(dir_, {{"sim", "w-secret", "write"}, {"grafana", "r-secret", "read"}},
                                      "inference: {flush_interval: 1s}\n"
                                      "quality:\n"
                                      "  ground_truth: {window: 15s}\n"
                                      "  drift: {window: 20s, slots: 4, min_rows: 30}\n");
  port_ = served.port;
  ASSERT_NE(port_, 0) << ReadFile(dir_.Path("serve.log"));
  {
    std::ofstream(dir_.Path("token")) << "w-secret\n";
    std::ofstream(dir_.Path("scenario.yml"))
        << "name: drift-drill\n"
           "traffic: {requests_per_second: 60, diurnal_amplitude: 0, noise: 0}\n"
           "incidents:\n"
           "  - {kind: data_drift, at: 50s, model: escalation-classifier, factor: 3}\n"
           "  - {kind: quality_drop, at: 50s, model: escalation-classifier, severity: 1}\n";
  }
  const auto start = std::chrono::steady_clock::now();
  Child sim({TYTO_BINARY, "simulate", "--nodes", "1", "--gpus-per-node", "4", "--scenario", dir_.Path("scenario.yml"),
             "--send-to", "http://127.0.0.1:" + std::to_string(port_), "--token-file", dir_.Path("token"),
             "--inference-rate", "60", "--feedback-share", "1", "--feedback-delay", "1s-2s"},
            dir_.Path("simulate.log"));

  // Before the incidents: a baseline after the first window, then quiet.
  const std::string dataset = "tyto_drift_dataset_drift{model=\"" + std::string(kModel) + "\"}";
  const std::string accuracy = "tyto_quality_accuracy{model=\"" + std::string(kModel) + "\"}";
  EXPECT_EQ(WaitFor(dataset, 40s, [](double v) { return !std::isnan(v); }), 0)
      << ReadFile(dir_.Path("simulate.log")) << Get("/api/v1/drift").body;
  double before = WaitFor(accuracy, 20s, [](double v) { return !std::isnan(v); });
  EXPECT_GT(before, 0.75);
  int quiet_checks = 0, quiet_alarms = 0;
  while (std::chrono::steady_clock::now() < start + 48s) {
    quiet_alarms += Value(dataset) == 1;
    ++quiet_checks;
    std::this_thread::sleep_for(1s);
  }
  std::printf("unchanged stream: %d data-set alarms in %d checks\n", quiet_alarms, quiet_checks);
  EXPECT_EQ(quiet_alarms, 0);
  before = Value(accuracy);
  ASSERT_EQ(sim.Wait(1ms), -1) << "tyto simulate exited; log:\n" << ReadFile(dir_.Path("simulate.log"));

  // From 50 s: flagged within a window (20 s) and a slice, with room for a loaded machine.
  EXPECT_EQ(WaitFor(dataset, 60s, [](double v) { return v == 1; }), 1)
      << Get("/api/v1/drift?model=" + std::string(kModel)).body;
  const double after = WaitFor(accuracy, 60s, [&](double v) { return v < before - 0.15; });
  EXPECT_LT(after, before - 0.15) << "accuracy before the drop " << before;
  std::printf("accuracy: %.3f before the quality drop, %.3f after\n", before, after);
}

}  // namespace
}  // namespace tyto::e2e
