// A short evaluation on the simulated fleet (evaluation.h): the incidents are obvious, so a
// detector that is broken (never flags, or flags everything) fails here.
#include "anomaly/evaluation.h"

#include <gtest/gtest.h>

#include <string>

namespace tyto::anomaly {
namespace {

const EvaluationRow* Find(const EvaluationReport& r, const std::string& family, const std::string& detector) {
  for (const EvaluationRow& row : r.rows) {
    if (row.family == family && row.detector == detector) return &row;
  }
  return nullptr;
}

TEST(EvaluationTest, DetectorsFindObviousIncidents) {
  EvaluationOptions o;
  o.days = 5;         // warm-up, incident day, clean day, incident day
  o.warmup_days = 2;
  o.gpus = 4;
  auto report = Evaluate(o);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  SCOPED_TRACE(report->ToMarkdown());
  EXPECT_EQ(report->clean_days, 1);
  // A GPU overheats to 92 C on the first incident day (every detector must see it) and to 80 C
  // on the second, still under the static threshold of 85 C: the learned detectors see that too.
  for (const char* detector : {"static", "seasonal", "trend", "multivariate"}) {
    const EvaluationRow* row = Find(*report, "gpu_temp", detector);
    ASSERT_NE(row, nullptr) << detector;
    EXPECT_EQ(row->incidents, 2) << detector;
    EXPECT_EQ(row->mild_incidents, 1) << detector;
    EXPECT_EQ(row->detected - row->mild_detected, 1) << detector;
    if (std::string(detector) != "static") {
      EXPECT_EQ(row->mild_detected, 1) << detector;
    }
  }
  EXPECT_EQ(Find(*report, "gpu_temp", "static")->mild_detected, 0);
  EXPECT_LE(Find(*report, "gpu_temp", "multivariate")->false_alarms_per_clean_day, 5);
  // The seasonal baseline catches every queue and latency creep, and is right most of the time.
  for (const char* family : {"latency", "waiting"}) {
    const EvaluationRow* row = Find(*report, family, "seasonal");
    ASSERT_NE(row, nullptr);
    EXPECT_GE(row->event_recall(), 0.99) << family;
    EXPECT_GE(row->recall(), 0.3) << family;
    EXPECT_GE(row->precision(), 0.5) << family;
  }
}

TEST(EvaluationTest, RejectsBadOptions) {
  EvaluationOptions o;
  o.days = 2;
  o.warmup_days = 2;
  EXPECT_FALSE(Evaluate(o).ok());
}

}  // namespace
}  // namespace tyto::anomaly
