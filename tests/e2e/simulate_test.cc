// End-to-end: `tyto simulate` as a user (or `tyto serve`'s scraper) runs it: ports picked by
// the kernel, a file_sd targets file, every job's endpoint fetched over HTTP and parsed.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <signal.h>

#include <fstream>
#include <map>

#include "e2e/process.h"
#include "scrape/text_parser.h"
#include "testing/http_client.h"
#include "testing/temp_dir.h"

namespace tyto::e2e {
namespace {

using namespace std::chrono_literals;

uint16_t PortOf(const std::string& address) {
  return static_cast<uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
}

TEST(SimulateTest, ServesEveryJobListedInTheTargetsFile) {
  testing::TempDir tmp;
  const std::string targets = tmp.path() + "/targets.json";
  Child child({TYTO_BINARY, "simulate", "--nodes", "3", "--gpus-per-node", "4", "--listen-base", "127.0.0.1:0",
               "--seed", "7", "--targets-file", targets},
              tmp.path() + "/simulate.log");
  std::string text;
  for (int i = 0; i < 3000 && text.empty(); ++i) {
    text = ReadFile(targets);
    if (text.empty()) {
      ASSERT_EQ(child.Wait(10ms), -1) << "exited early; log:\n" << ReadFile(tmp.path() + "/simulate.log");
    }
  }
  ASSERT_FALSE(text.empty()) << ReadFile(tmp.path() + "/simulate.log");

  rapidjson::Document doc;
  doc.Parse(text.c_str());
  ASSERT_FALSE(doc.HasParseError()) << text;
  ASSERT_TRUE(doc.IsArray());
  std::map<std::string, std::vector<std::string>> by_job;
  for (const auto& group : doc.GetArray()) {
    ASSERT_TRUE(group.HasMember("targets") && group.HasMember("labels")) << text;
    std::string job = group["labels"]["job"].GetString();
    for (const auto& t : group["targets"].GetArray()) by_job[job].push_back(t.GetString());
  }
  EXPECT_EQ(by_job["dcgm"].size(), 3u);
  EXPECT_EQ(by_job["node"].size(), 3u);
  EXPECT_EQ(by_job["vllm"].size(), 1u);    // node 0: 4 GPUs, tensor parallel 4
  EXPECT_EQ(by_job["tgi"].size(), 2u);     // node 1: tensor parallel 2
  EXPECT_EQ(by_job["triton"].size(), 1u);  // node 2

  const std::map<std::string, std::string> expect = {{"dcgm", "DCGM_FI_DEV_GPU_UTIL{gpu=\"0\""},
                                                     {"node", "node_cpu_seconds_total{cpu=\"0\",mode=\"idle\""},
                                                     {"vllm", "vllm:num_requests_running{model_name="},
                                                     {"tgi", "tgi_queue_size{"},
                                                     {"triton", "nv_inference_request_success{model="}};
  for (const auto& [job, needle] : expect) {
    ASSERT_FALSE(by_job[job].empty()) << job;
    auto r = testing::HttpGet(PortOf(by_job[job][0]), "/metrics");
    ASSERT_TRUE(r.ok()) << job << ": " << r.status().ToString();
    EXPECT_EQ(r->status, 200) << job;
    EXPECT_EQ(r->Header("Content-Type").value_or(""), "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_NE(r->body.find(needle), std::string::npos) << job << "\n" << r->body.substr(0, 2000);
    EXPECT_NE(r->body.find("tyto_simulator_info{"), std::string::npos) << job;
    scrape::TextParser p(r->body, scrape::Format::kPrometheusText);
    size_t samples = 0;
    for (;;) {
      auto e = p.Next();
      ASSERT_TRUE(e.ok()) << job << ": " << e.status().ToString();
      if (*e == scrape::Entry::kEOF) break;
      if (*e == scrape::Entry::kSeries) {
        ++samples;
        EXPECT_EQ(p.labels().Get("simulated"), "true") << p.series();
      }
    }
    EXPECT_GT(samples, 5u) << job;
  }

  child.Signal(SIGTERM);
  std::string why;
  EXPECT_EQ(child.Wait(30s, &why), 0) << why;
}

TEST(SimulateTest, ABadScenarioFileIsRefusedWithItsPosition) {
  testing::TempDir tmp;
  const std::string file = tmp.path() + "/bad.yml";
  std::ofstream(file) << "incidents:\n  - kind: gpu_overheat\n    at: 1m\n    node: 9\n    gpu: 0\n";
  CommandResult r = RunCommand({TYTO_BINARY, "simulate", "--scenario", file});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(file + ":2:5: incident 'gpu_overheat': node 9 does not exist"), std::string::npos) << r.err;

  std::ofstream(file) << "incidents:\n  - kind: gpu_overheat\n    at: soon\n";
  r = RunCommand({TYTO_BINARY, "simulate", "--scenario", file});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(file + ":3:9: incidents[].at: invalid duration 'soon'"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace tyto::e2e
