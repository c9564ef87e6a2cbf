// End-to-end: model quality through the built `tyto serve` with auth on. Requests with
// features, predictions, embeddings and responses go in as JSON-lines events; the evaluators'
// scores come out as tyto_quality_score series and gen_ai.evaluation.result log records; late
// feedback joins the predictions (tyto_quality_accuracy); the drift monitor takes a baseline,
// stays quiet while the stream is unchanged and flags a shift of two of its five columns within
// one window; the reference
// API freezes and drops references; bad feedback is answered with the line at fault.
#include <gtest/gtest.h>

#include <chrono>
#include <random>
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

constexpr const char* kConfig =
    "inference:\n"
    "  flush_interval: 1s\n"
    "quality:\n"
    "  evaluation: {sample_rate: 1, max_per_second: 10000}\n"
    "  ground_truth: {segment_feature: region}\n"
    "  drift: {window: 6s, slots: 6, min_rows: 30}\n";

class QualityE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServedTyto s = ServeWithTokens(dir_, {{"app", "w-secret", "write, edit"}, {"grafana", "r-secret", "read"}}, kConfig);
    child_ = std::move(s.child);
    port_ = s.port;
    ASSERT_NE(port_, 0) << "tyto serve did not start; log:\n" << ReadFile(dir_.Path("serve.log"));
  }

  TestResponse Post(const std::string& path, const std::string& body, const std::string& secret = "",
                    const std::string& method = "POST") {
    return ApiClient(port_, "w-secret", "r-secret").Post(path, body, "application/x-ndjson", secret, method);
  }
  TestResponse Get(const std::string& target) { return ApiClient(port_, "w-secret", "r-secret").Get(target); }
  TestResponse GetUntil(const std::string& target, const std::string& want) {
    return ApiClient(port_, "w-secret", "r-secret").GetUntil(target, want, 200);
  }

  // `n` requests of model clf: x ~ N(mean, 1), region north or south, a 4-number embedding
  // around `shift`, a prediction with its score, and a response (every fifth a refusal).
  std::string Events(int n, double mean, float shift) {
    std::normal_distribution<double> normal(0, 1);
    std::string out;
    for (int i = 0; i < n; ++i, ++next_id_) {
      const std::string id = "req-" + std::to_string(next_id_);
      const bool yes = next_id_ % 3 != 0;
      out += "{\"model\":\"clf\",\"model_version\":\"v1\",\"request_id\":\"" + id +
             "\",\"prompt\":\"Is the invoice for March paid?\",\"response\":\"" +
             (next_id_ % 5 == 0 ? "I'm sorry, but I can't help with that." : "Yes, the March invoice was paid.") +
             "\",\"finish_reasons\":[\"stop\"],\"features\":{\"x\":" + std::to_string(mean + normal(rng_)) +
             ",\"region\":\"" + (next_id_ % 2 ? "north" : "south") + "\"},\"prediction\":{\"label\":\"" +
             (yes ? "yes" : "no") + "\",\"score\":0.8},\"embedding\":[";
      for (int d = 0; d < 4; ++d) out += (d ? "," : "") + std::to_string(shift + normal(rng_));
      out += "]}\n";
    }
    return out;
  }
  // Sends batches of `per_batch` events every 250 ms for `duration`.
  void Stream(std::chrono::milliseconds duration, double mean, float shift, int per_batch = 10) {
    const auto end = std::chrono::steady_clock::now() + duration;
    while (std::chrono::steady_clock::now() < end) {
      TestResponse r = Post("/api/v1/events", Events(per_batch, mean, shift));
      ASSERT_EQ(r.status, 200) << r.body;
      std::this_thread::sleep_for(250ms);
    }
  }

  testing::TempDir dir_;
  std::unique_ptr<Child> child_;
  uint16_t port_ = 0;
  std::mt19937_64 rng_{42};
  int next_id_ = 1;
};

TEST_F(QualityE2ETest, EvaluationsGroundTruthAndDrift) {
  // A baseline window, then an unchanged one: the drift monitor is tracking and quiet.
  Stream(7s, 0, 0);
  TestResponse r = GetUntil("/api/v1/drift", "\"state\":\"tracking\"");
  ASSERT_NE(r.body.find("\"state\":\"tracking\""), std::string::npos) << r.body;
  Stream(7s, 0, 0);
  r = GetUntil("/api/v1/query?query=tyto_drift_dataset_drift{model=\"clf\"}", "\"0\"]");
  EXPECT_NE(r.body.find("\"0\"]"), std::string::npos) << r.body;
  r = Get("/api/v1/drift?model=clf");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"feature\":\"x\",\"kind\":\"numeric\",\"test\":\"ks\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"histograms\":[{"), std::string::npos) << r.body;

  // Evaluations: the refusals show as refusal scores and as OpenTelemetry evaluation records.
  r = GetUntil("/api/v1/query?query=sum(tyto_quality_score_count{evaluator=\"refusal\"})", "\"value\"");
  EXPECT_NE(r.body.find("\"value\""), std::string::npos) << r.body;
  r = GetUntil("/api/v1/query?query=tyto_quality_score_count{evaluator=\"composite\",model=\"clf\",version=\"v1\"}",
               "\"value\"");
  EXPECT_NE(r.body.find("\"value\""), std::string::npos) << r.body;
  r = GetUntil("/api/v1/logs?attr=gen_ai.evaluation.name=refusal", "gen_ai.evaluation.result");
  EXPECT_NE(r.body.find("gen_ai.evaluation.score.value"), std::string::npos) << r.body;

  // Late ground truth: req-1..req-30 labelled "yes" (their predictions: yes unless the id is a
  // multiple of 3, so 20 right of 30), one unknown id, one bad line.
  std::string feedback;
  for (int i = 1; i <= 30; ++i)
    feedback += "{\"request_id\":\"req-" + std::to_string(i) + "\",\"label\":\"yes\",\"rating\":4}\n";
  feedback += "{\"request_id\":\"nobody\",\"label\":\"no\"}\n{\"label\":\"no\"}\n";
  r = Post("/api/v1/feedback", feedback);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"accepted\":31"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("{\"line\":32,\"message\":\"request_id: required\"}"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"matched\":30,\"unmatched\":1,\"duplicate\":0"), std::string::npos) << r.body;
  r = GetUntil("/api/v1/query?query=tyto_quality_accuracy{model=\"clf\"}", "0.666");
  EXPECT_NE(r.body.find("0.666"), std::string::npos) << r.body;
  r = Get("/api/v1/quality/ground_truth");
  EXPECT_NE(r.body.find("\"labelled\":30"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"mean_rating\":4"), std::string::npos) << r.body;
  r = Post("/api/v1/feedback", "not json\n");
  EXPECT_EQ(r.status, 400) << r.body;
  r = Post("/api/v1/feedback", "{\"request_id\":\"req-1\",\"label\":\"no\"}\n", "r-secret");
  EXPECT_EQ(r.status, 403) << r.body;

  // x moves by three standard deviations and the embeddings move: flagged within a window.
  Stream(7s, 3, 2);
  r = GetUntil("/api/v1/query?query=tyto_drift_detected{model=\"clf\",feature=\"x\"}", "\"1\"]");
  EXPECT_NE(r.body.find("\"1\"]"), std::string::npos) << r.body;
  r = GetUntil("/api/v1/query?query=tyto_drift_detected{model=\"clf\",feature=\"_embedding\"}", "\"1\"]");
  EXPECT_NE(r.body.find("\"1\"]"), std::string::npos) << r.body;
  // Two of its five columns (x, region, prediction.label, prediction.score, _embedding) drift.
  r = GetUntil("/api/v1/query?query=tyto_drift_share{model=\"clf\"}", "\"0.4\"]");
  EXPECT_NE(r.body.find("\"0.4\"]"), std::string::npos) << r.body;

  // The reference API.
  r = Post("/api/v1/events", Events(10, 0, 0));
  ASSERT_EQ(r.status, 200) << r.body;
  r = Post("/api/v1/drift/reference?model=clf&from=current", "");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"reference_source\":\"current\""), std::string::npos) << r.body;
  r = Post("/api/v1/drift/reference?model=clf", "{\"features\":{\"x\":1}}\n{\"model\":\"other\"}\n");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"reference_source\":\"upload\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("is not the reference's model"), std::string::npos) << r.body;
  r = Post("/api/v1/drift/reference?model=clf", "", "w-secret", "DELETE");
  EXPECT_EQ(r.status, 200) << r.body;
  r = Get("/api/v1/drift?model=clf");
  EXPECT_NE(r.body.find("\"state\":\"baseline\""), std::string::npos) << r.body;
  r = Post("/api/v1/drift/reference", "");
  EXPECT_EQ(r.status, 400) << r.body;
  r = Post("/api/v1/drift/reference?model=nobody&from=current", "");
  EXPECT_EQ(r.status, 404) << r.body;
  r = Get("/api/v1/quality/evaluators");
  EXPECT_NE(r.body.find("\"name\":\"llm_judge\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"in_use\":[{"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace tyto::e2e
