// Grafana's Prometheus data source against a whole server: the requests Grafana 10 and 11 send
// (its health check, the query editor's label and metric lookups, panels' range and instant
// queries, exemplars, alerting's rule list), replayed over HTTP as Grafana's Go client sends
// them: form POSTs with Content-Type application/x-www-form-urlencoded, times in Unix seconds
// aligned to the step, gzip accepted, a Tyto token as Basic auth or a bearer header. Each must
// answer 200 with the shape Grafana parses.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <fstream>

#include "auth/auth.h"
#include "http/gzip.h"
#include "server/server.h"
#include "testing/fake_clock.h"
#include "testing/http_client.h"
#include "testing/temp_dir.h"

namespace tyto::server {
namespace {

// 2023-11-14T22:13:20Z.
constexpr int64_t kNow = 1'700'000'000'000;
constexpr const char* kSecret = "grafana-secret";

class GrafanaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(tmp_.Path("tyto.yml")) << "auth:\n  tokens:\n    - {name: grafana, secret_sha256: "
                                          << auth::HashSecret(kSecret) << ", scopes: [read]}\n";
    Overrides o;
    o.config_file = tmp_.Path("tyto.yml");
    o.data_dir = tmp_.Path("data");
    o.listen = "127.0.0.1:0";
    server_ = std::make_unique<Server>(o, Env::Default(), &clock_);
    ASSERT_TRUE(server_->Start().ok());
    auto app = server_->storage()->NewAppender();
    for (int i = 0; i <= 20; ++i) {
      const int64_t t = kNow - 300'000 + i * 15'000;
      ASSERT_TRUE(app->Append(0, Labels::Of({"__name__", "up", "instance", "gpu-1:9400", "job", "dcgm"}), t, 1).ok());
      ASSERT_TRUE(app->Append(0, Labels::Of({"__name__", "DCGM_FI_DEV_GPU_UTIL", "gpu", "0", "instance", "gpu-1:9400",
                                             "job", "dcgm"}),
                              t, 50 + i)
                      .ok());
    }
    ASSERT_TRUE(app->Commit().ok());
  }

  struct Answer {
    int status = 0;
    rapidjson::Document json;
    std::string body;
  };

  // One request as Grafana's Go client sends it; the body decompressed and parsed.
  Answer Send(const std::string& method, const std::string& target, const std::string& form = "",
              const std::string& authorization = "Basic " + BasicCredentials()) {
    std::vector<std::pair<std::string, std::string>> headers = {
        {"User-Agent", "Grafana/11.3.0"}, {"Accept-Encoding", "gzip"}, {"Authorization", authorization}};
    if (method == "POST") headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    auto c = testing::TestConnection::Connect(server_->port());
    EXPECT_TRUE(c.ok());
    Answer a;
    if (!c.ok() || !(*c)->Send(method, target, headers, form).ok()) return a;
    auto r = (*c)->Read();
    EXPECT_TRUE(r.ok()) << method << " " << target;
    if (!r.ok()) return a;
    a.status = r->status;
    a.body = r->body;
    if (r->Header("Content-Encoding") == "gzip") {
      auto plain = http::GzipDecompress(r->body, 64 << 20);
      EXPECT_TRUE(plain.ok());
      a.body = plain.ok() ? *plain : "";
    }
    EXPECT_EQ(r->Header("Content-Type").value_or("").rfind("application/json", 0), 0u) << target;
    a.json.Parse(a.body.c_str(), a.body.size());
    EXPECT_FALSE(a.json.HasParseError()) << a.body;
    return a;
  }

  // Grafana's basic auth: the token's name as user, its secret as password.
  static std::string BasicCredentials() {
    // base64("grafana:grafana-secret")
    return "Z3JhZmFuYTpncmFmYW5hLXNlY3JldA==";
  }

  // {"status":"success","data":...} with data of the given kind.
  static void ExpectSuccess(const Answer& a, rapidjson::Type data, const std::string& what) {
    EXPECT_EQ(a.status, 200) << what << ": " << a.body;
    ASSERT_TRUE(a.json.IsObject()) << what;
    ASSERT_TRUE(a.json.HasMember("status") && a.json["status"].IsString()) << what;
    EXPECT_STREQ(a.json["status"].GetString(), "success") << what;
    ASSERT_TRUE(a.json.HasMember("data")) << what;
    EXPECT_EQ(a.json["data"].GetType(), data) << what << ": " << a.body;
  }

  static std::vector<std::string> Strings(const rapidjson::Value& v) {
    std::vector<std::string> out;
    for (const auto& s : v.GetArray()) out.push_back(s.GetString());
    return out;
  }

  testing::TempDir tmp_;
  testing::FakeClock clock_{kNow};
  std::unique_ptr<Server> server_;
};

TEST_F(GrafanaTest, HealthCheckRunsOnePlusOne) {
  // Save & test: an instant query of 1+1 over the range [1s, 4s].
  Answer a = Send("POST", "/api/v1/query", "query=1%2B1&time=4");
  ExpectSuccess(a, rapidjson::kObjectType, "health check");
  EXPECT_STREQ(a.json["data"]["resultType"].GetString(), "scalar");
  EXPECT_EQ(a.json["data"]["result"][0].GetDouble(), 4);
  EXPECT_STREQ(a.json["data"]["result"][1].GetString(), "2");
}

TEST_F(GrafanaTest, BuildInfoTellsAPrometheusOfVersion3) {
  Answer a = Send("GET", "/api/v1/status/buildinfo");
  ExpectSuccess(a, rapidjson::kObjectType, "buildinfo");
  for (const char* field : {"version", "revision", "branch", "buildUser", "buildDate", "goVersion"}) {
    EXPECT_TRUE(a.json["data"].HasMember(field) && a.json["data"][field].IsString()) << field;
  }
  // No "features": Grafana's alerting takes it for Prometheus (rules read-only), not Mimir.
  EXPECT_FALSE(a.json["data"].HasMember("features"));
}

TEST_F(GrafanaTest, QueryEditorLooksUpLabelsMetricsAndSeries) {
  const std::string range = "start=1699999800&end=1700000000";
  // Label names, all and of the chosen metric (labels API client: limit first).
  Answer a = Send("GET", "/api/v1/labels?limit=40000&" + range);
  ExpectSuccess(a, rapidjson::kArrayType, "labels");
  EXPECT_EQ(Strings(a.json["data"]), (std::vector<std::string>{"__name__", "gpu", "instance", "job"}));
  a = Send("GET", "/api/v1/labels?limit=40000&" + range + "&match%5B%5D=up");
  ExpectSuccess(a, rapidjson::kArrayType, "labels of up");
  EXPECT_EQ(Strings(a.json["data"]), (std::vector<std::string>{"__name__", "instance", "job"}));
  a = Send("POST", "/api/v1/labels", range + "&match%5B%5D=%7Bjob%3D%22dcgm%22%7D");
  ExpectSuccess(a, rapidjson::kArrayType, "labels by POST");

  // The metric list, then values of a label for the chosen metric.
  a = Send("GET", "/api/v1/label/__name__/values?limit=40000&" + range);
  ExpectSuccess(a, rapidjson::kArrayType, "metric names");
  EXPECT_EQ(Strings(a.json["data"]), (std::vector<std::string>{"DCGM_FI_DEV_GPU_UTIL", "up"}));
  a = Send("GET", "/api/v1/label/gpu/values?limit=40000&" + range + "&match%5B%5D=DCGM_FI_DEV_GPU_UTIL");
  ExpectSuccess(a, rapidjson::kArrayType, "label values");
  EXPECT_EQ(Strings(a.json["data"]), (std::vector<std::string>{"0"}));
  a = Send("GET", "/api/v1/label/__name__/values?" + range + "&match%5B%5D=%7Bjob%3D%22dcgm%22%7D");
  ExpectSuccess(a, rapidjson::kArrayType, "metric names of a job");

  // The series API client (older Prometheus flavours): every named series, at most 40,000.
  a = Send("GET", "/api/v1/series?" + range + "&match%5B%5D=%7B__name__%21%3D%22%22%7D&limit=40000");
  ExpectSuccess(a, rapidjson::kArrayType, "series");
  ASSERT_EQ(a.json["data"].Size(), 2u);
  EXPECT_STREQ(a.json["data"][0]["__name__"].GetString(), "DCGM_FI_DEV_GPU_UTIL");
  a = Send("POST", "/api/v1/series", range + "&match%5B%5D=up%7Bjob%3D%22dcgm%22%7D");
  ExpectSuccess(a, rapidjson::kArrayType, "series by POST");

  // Metric metadata for the editor's hints: an object by metric name (empty: nothing scraped).
  a = Send("GET", "/api/v1/metadata");
  ExpectSuccess(a, rapidjson::kObjectType, "metadata");
  a = Send("GET", "/api/v1/metadata?metric=up");
  ExpectSuccess(a, rapidjson::kObjectType, "metadata of up");
}

TEST_F(GrafanaTest, PanelsRunRangeAndInstantQueriesByPost) {
  // A time series panel: the range aligned to the step (15 s), keys in Go's sorted order.
  Answer a = Send("POST", "/api/v1/query_range",
                  "end=1700000000&query=avg+by+%28job%29+%28DCGM_FI_DEV_GPU_UTIL%29&start=1699999800&step=15");
  ExpectSuccess(a, rapidjson::kObjectType, "query_range");
  EXPECT_STREQ(a.json["data"]["resultType"].GetString(), "matrix");
  const auto& series = a.json["data"]["result"];
  ASSERT_EQ(series.Size(), 1u);
  EXPECT_STREQ(series[0]["metric"]["job"].GetString(), "dcgm");
  const auto& values = series[0]["values"];
  ASSERT_EQ(values.Size(), 14u);  // 1699999800 .. 1700000000 every 15 s
  EXPECT_EQ(values[0][0].GetDouble(), 1699999800);
  EXPECT_STREQ(values[0][1].GetString(), "56");  // the sample at 1699999790
  EXPECT_EQ(values[13][0].GetDouble(), 1699999995);

  // A stat panel or table: an instant query at the range's end.
  a = Send("POST", "/api/v1/query", "query=DCGM_FI_DEV_GPU_UTIL&time=1700000000");
  ExpectSuccess(a, rapidjson::kObjectType, "query");
  EXPECT_STREQ(a.json["data"]["resultType"].GetString(), "vector");
  ASSERT_EQ(a.json["data"]["result"].Size(), 1u);
  EXPECT_STREQ(a.json["data"]["result"][0]["value"][1].GetString(), "70");

  // Fractional times, as Grafana formats sub-second ranges.
  a = Send("POST", "/api/v1/query_range", "end=1700000000.5&query=up&start=1699999999.5&step=0.5");
  ExpectSuccess(a, rapidjson::kObjectType, "fractional range");

  // Exemplars for the panel's query (empty: nothing scraped).
  a = Send("POST", "/api/v1/query_exemplars",
           "end=1700000000&query=avg+by+%28job%29+%28DCGM_FI_DEV_GPU_UTIL%29&start=1699999800");
  ExpectSuccess(a, rapidjson::kArrayType, "exemplars");

  // A bad query comes back as Prometheus's error, which Grafana shows under the panel.
  a = Send("POST", "/api/v1/query_range", "end=1700000000&query=sum%28&start=1699999800&step=15");
  EXPECT_EQ(a.status, 400);
  EXPECT_STREQ(a.json["status"].GetString(), "error");
  EXPECT_STREQ(a.json["errorType"].GetString(), "bad_data");
  EXPECT_TRUE(a.json["error"].IsString());
}

TEST_F(GrafanaTest, AlertingReadsRulesAndAlerts) {
  // The stock rules are loaded by default: Grafana lists their groups, with Prometheus's fields.
  Answer a = Send("GET", "/api/v1/rules");
  ExpectSuccess(a, rapidjson::kObjectType, "rules");
  ASSERT_TRUE(a.json["data"]["groups"].IsArray());
  ASSERT_GT(a.json["data"]["groups"].Size(), 0u);
  const auto& group = a.json["data"]["groups"][0];
  EXPECT_STREQ(group["file"].GetString(), "stock/gpu.yml");
  EXPECT_STREQ(group["rules"][0]["type"].GetString(), "alerting");
  EXPECT_STREQ(group["rules"][0]["state"].GetString(), "inactive");
  EXPECT_TRUE(group["rules"][0]["labels"].HasMember("severity"));
  a = Send("GET", "/api/v1/rules?type=record");
  ExpectSuccess(a, rapidjson::kObjectType, "recording rules");
  for (const auto& g : a.json["data"]["groups"].GetArray()) {
    for (const auto& r : g["rules"].GetArray()) EXPECT_STREQ(r["type"].GetString(), "recording");
  }
  a = Send("GET", "/api/v1/rules?type=alert&exclude_alerts=true");
  ExpectSuccess(a, rapidjson::kObjectType, "alerting rules");
  a = Send("GET", "/api/v1/alerts");
  ExpectSuccess(a, rapidjson::kObjectType, "alerts");
  EXPECT_EQ(a.body, R"({"status":"success","data":{"alerts":[]}})");
}

TEST_F(GrafanaTest, ATokenAsABearerHeaderWorksTooAndNoneIsRefused) {
  Answer a = Send("GET", "/api/v1/status/buildinfo", "", std::string("Bearer ") + kSecret);
  ExpectSuccess(a, rapidjson::kObjectType, "bearer");
  a = Send("GET", "/api/v1/status/buildinfo", "", "Bearer wrong");
  EXPECT_EQ(a.status, 401);
  EXPECT_STREQ(a.json["errorType"].GetString(), "unauthorized");
}

TEST_F(GrafanaTest, StatusPagesDescribeThisServer) {
  Answer a = Send("GET", "/api/v1/status/runtimeinfo");
  ExpectSuccess(a, rapidjson::kObjectType, "runtimeinfo");
  const auto& r = a.json["data"];
  EXPECT_STREQ(r["startTime"].GetString(), "2023-11-14T22:13:20Z");
  EXPECT_STREQ(r["serverTime"].GetString(), "2023-11-14T22:13:20Z");
  EXPECT_TRUE(r["reloadConfigSuccess"].GetBool());
  EXPECT_STREQ(r["lastConfigTime"].GetString(), "2023-11-14T22:13:20Z");
  EXPECT_GT(r["goroutineCount"].GetInt64(), 1);
  EXPECT_GT(r["GOMAXPROCS"].GetInt64(), 0);
  EXPECT_STREQ(r["storageRetention"].GetString(), "15d");
  EXPECT_FALSE(std::string(r["CWD"].GetString()).empty());

  a = Send("GET", "/api/v1/status/flags");
  EXPECT_EQ(a.body, R"({"status":"success","data":{"config":")" + tmp_.Path("tyto.yml") + R"(","data-dir":")" +
                        tmp_.Path("data") +
                        R"(","demo":"false","insecure-no-auth":"false","listen":"127.0.0.1:0","log-level":""}})");

  a = Send("GET", "/api/v1/status/config");
  ExpectSuccess(a, rapidjson::kObjectType, "config");
  const std::string yaml = a.json["data"]["yaml"].GetString();
  EXPECT_NE(yaml.find("  tokens:\n    - name: grafana\n      secret_sha256: <secret>\n"), std::string::npos) << yaml;
  EXPECT_EQ(yaml.find(auth::HashSecret(kSecret)), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("  listen: 127.0.0.1:0\n"), std::string::npos) << yaml;

  a = Send("GET", "/api/v1/status/tsdb?limit=3");
  EXPECT_EQ(a.body,
            R"({"status":"success","data":{"headStats":{"numSeries":2,"numLabelPairs":5,"chunkCount":0,)"
            R"("minTime":1699999700000,"maxTime":1700000000000},)"
            R"("seriesCountByMetricName":[{"name":"DCGM_FI_DEV_GPU_UTIL","value":1},{"name":"up","value":1}],)"
            R"("labelValueCountByLabelName":[{"name":"__name__","value":2},{"name":"gpu","value":1},)"
            R"({"name":"instance","value":1}],)"
            R"("memoryInBytesByLabelName":[{"name":"__name__","value":38},{"name":"instance","value":36},)"
            R"({"name":"job","value":14}],)"
            R"("seriesCountByLabelValuePair":[{"name":"instance=gpu-1:9400","value":2},{"name":"job=dcgm","value":2},)"
            R"({"name":"__name__=DCGM_FI_DEV_GPU_UTIL","value":1}]}})");
}

}  // namespace
}  // namespace tyto::server
