// End-to-end: `tyto serve --demo` as a first-time user runs it: the simulated fleet starts in
// the same process, its endpoints are scraped, and its series (each labelled simulated="true")
// answer PromQL over the HTTP API.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <signal.h>

#include <string>
#include <thread>

#include "e2e/process.h"
#include "testing/http_client.h"
#include "testing/temp_dir.h"

namespace tyto::e2e {
namespace {

using namespace std::chrono_literals;

// The value of a JSON string member, or "" when it is missing or not a string.
std::string StringMember(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return "";
  auto it = object.FindMember(name);
  return it != object.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

// Whether /api/v1/targets lists a target of the demo's `job` that is up.
bool DemoTargetUp(const std::string& body, const std::string& job) {
  rapidjson::Document doc;
  doc.Parse(body.c_str());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("data")) return false;
  const rapidjson::Value& data = doc["data"];
  if (!data.IsObject() || !data.HasMember("activeTargets") || !data["activeTargets"].IsArray()) return false;
  for (const auto& t : data["activeTargets"].GetArray()) {
    if (StringMember(t, "scrapePool") == "demo" && t.HasMember("labels") && StringMember(t["labels"], "job") == job &&
        StringMember(t, "health") == "up") {
      return true;
    }
  }
  return false;
}

TEST(DemoTest, ServeDemoScrapesTheSimulatedFleetAndLabelsItsSeries) {
  testing::TempDir tmp;
  const std::string log = tmp.Path("serve.log");
  Child child({TYTO_BINARY, "serve", "--demo", "--data-dir", tmp.Path("data"), "--listen", "127.0.0.1:0"}, log);
  const uint16_t port = WaitUntilServing(&child, log);
  ASSERT_NE(port, 0) << "tyto serve --demo did not become ready; log:\n" << ReadFile(log);
  EXPECT_NE(ReadFile(log).find("demo: serving a simulated AI fleet"), std::string::npos) << ReadFile(log);

  // The demo job scrapes every 5 s, each target at its own phase: the first dcgm scrape lands
  // within about 5 s. Bounded at 60 s so a slow machine does not flake, and a broken demo fails.
  std::string targets;
  bool up = false;
  for (int i = 0; i < 1200 && !up; ++i) {
    auto r = testing::HttpGet(port, "/api/v1/targets");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->status, 200) << r->body;
    targets = r->body;
    up = DemoTargetUp(targets, "dcgm");
    if (!up) std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(up) << "no dcgm target of the demo came up; targets:\n" << targets << "\nlog:\n" << ReadFile(log);

  // An up target has committed its scrape: its series answer an instant query now.
  auto q = testing::HttpGet(port, "/api/v1/query?query=DCGM_FI_DEV_GPU_UTIL");
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  ASSERT_EQ(q->status, 200) << q->body;
  rapidjson::Document doc;
  doc.Parse(q->body.c_str());
  ASSERT_FALSE(doc.HasParseError()) << q->body;
  ASSERT_EQ(StringMember(doc, "status"), "success") << q->body;
  ASSERT_TRUE(doc.HasMember("data")) << q->body;
  const rapidjson::Value& data = doc["data"];
  ASSERT_EQ(StringMember(data, "resultType"), "vector") << q->body;
  ASSERT_TRUE(data.HasMember("result") && data["result"].IsArray()) << q->body;
  const auto result = data["result"].GetArray();
  // One series per GPU; the demo's nodes have 8 GPUs each, and at least one node is scraped.
  ASSERT_GE(result.Size(), 8u) << q->body;
  for (const auto& series : result) {
    ASSERT_TRUE(series.IsObject() && series.HasMember("metric") && series.HasMember("value")) << q->body;
    const rapidjson::Value& metric = series["metric"];
    EXPECT_EQ(StringMember(metric, "__name__"), "DCGM_FI_DEV_GPU_UTIL") << q->body;
    EXPECT_EQ(StringMember(metric, "simulated"), "true") << q->body;
    EXPECT_EQ(StringMember(metric, "job"), "dcgm") << q->body;
    EXPECT_FALSE(StringMember(metric, "gpu").empty()) << q->body;
    EXPECT_FALSE(StringMember(metric, "instance").empty()) << q->body;
    ASSERT_TRUE(series["value"].IsArray() && series["value"].Size() == 2u && series["value"][1].IsString()) << q->body;
    const double utilisation = std::stod(series["value"][1].GetString());
    EXPECT_GE(utilisation, 0) << q->body;
    EXPECT_LE(utilisation, 100) << q->body;
  }

  // The fleet's inference traffic reaches the server: spans from its gateway and vLLM replicas
  // (Jaeger's services list) and the derived request counter (written every 10 s).
  bool services = false, derived = false;
  for (int i = 0; i < 300 && !(services && derived); ++i) {
    auto sv = testing::HttpGet(port, "/api/services");
    services = sv.ok() && sv->body.find("\"gateway\"") != std::string::npos && sv->body.find("\"vllm-") != std::string::npos;
    auto rq = testing::HttpGet(port, "/api/v1/query?query=sum(tyto_inference_requests_total)%3E0");
    derived = rq.ok() && rq->body.find("\"value\"") != std::string::npos;
    if (!(services && derived)) std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(services) << "no gateway or vLLM spans arrived\n" << ReadFile(log);
  EXPECT_TRUE(derived) << "no derived inference series\n" << ReadFile(log);

  // ... and the quality monitor: evaluated responses, and the classifiers tracked for drift.
  bool scored = false, tracked = false;
  for (int i = 0; i < 300 && !(scored && tracked); ++i) {
    auto qs = testing::HttpGet(port, "/api/v1/query?query=sum(tyto_quality_score_count%7Bevaluator=%22composite%22%7D)%3E0");
    scored = qs.ok() && qs->body.find("\"value\"") != std::string::npos;
    auto d = testing::HttpGet(port, "/api/v1/drift");
    tracked = d.ok() && d->body.find("\"model\":\"escalation-classifier\"") != std::string::npos;
    if (!(scored && tracked)) std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(scored) << "no quality scores\n" << ReadFile(log);
  EXPECT_TRUE(tracked) << "the classifiers are not tracked for drift\n" << ReadFile(log);

  child.Signal(SIGTERM);
  std::string why;
  EXPECT_EQ(child.Wait(30s, &why), 0) << why << "\n" << ReadFile(log);
}

}  // namespace
}  // namespace tyto::e2e
