// Golden tests of the Prometheus HTTP API: every endpoint's exact response, status and body,
// over fixed data (a head with a few series, metadata, an exemplar, a scrape job, rule groups),
// at a fixed time. The cases are data: src/api/testdata/golden/*.golden, one file per area,
// each case a request and the response expected:
//
//   # What the case shows (comment lines start with '#'; a blank line ends a case).
//   POST /api/v1/query
//   Content-Type: application/x-www-form-urlencoded     <- headers, "Name: value"
//   body: query=up&time=1700000000                      <- the body, one line
//   => 200
//   {"status":"success","data":{...}}                   <- the exact body, one line
//
// A request without an Authorization header is sent with the read token. After a deliberate
// change of the API, rewrite the expectations with TYTO_UPDATE_GOLDEN=1 and review the diff.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "api/metastore_handlers.h"
#include "api/query_handlers.h"
#include "api/rules_handlers.h"
#include "api/series_handlers.h"
#include "api/status_handlers.h"
#include "api/syntax_handlers.h"
#include "api/targets_handler.h"
#include "metastore/metastore.h"
#include "promql/engine.h"
#include "tenant/tenancy.h"
#include "scrape/manager.h"
#include "testing/fake_clock.h"
#include "testing/temp_dir.h"
#include "tsdb/head.h"

namespace tyto::api {
namespace {

// 2023-11-14T22:13:20Z: "now" for every query without a time.
constexpr int64_t kNow = 1'700'000'000'000;

// Two rule groups: an alerting rule firing one alert and a recording rule, then a group that
// has never been evaluated.
class FixedRules final : public RulesSource {
 public:
  std::vector<RuleGroup> Groups() const override {
    Rule alert;
    alert.kind = Rule::Kind::kAlerting;
    alert.name = "InstanceDown";
    alert.query = "up == 0";
    alert.labels = Labels::Of({"severity", "page"});
    alert.annotations = Labels::Of({"summary", "Instance {{ $labels.instance }} down"});
    alert.state = "firing";
    alert.duration_seconds = 300;
    alert.alerts.push_back({Labels::Of({"alertname", "InstanceDown", "instance", "b:9100", "job", "node", "severity", "page"}),
                            Labels::Of({"summary", "Instance b:9100 down"}), "firing", kNow - 600'000, 0, 0});
    alert.health = "ok";
    alert.evaluation_seconds = 0.0015;
    alert.last_evaluation_ms = kNow - 10'000;
    Rule record;
    record.kind = Rule::Kind::kRecording;
    record.name = "job:up:sum";
    record.query = "sum by (job) (up)";
    record.health = "err";
    record.last_error = "vector contains metrics with the same labelset after applying rule labels";
    record.evaluation_seconds = 0.0002;
    record.last_evaluation_ms = kNow - 10'000;
    RuleGroup node{"node", "/etc/tyto/rules/node.yml", {alert, record}, 60, 0, 0.002, kNow - 10'000};

    Rule latency;
    latency.kind = Rule::Kind::kAlerting;
    latency.name = "HighErrorRate";
    latency.query = "rate(http_requests_total{code=\"500\"}[5m]) > 0.1";
    latency.labels = Labels::Of({"severity", "ticket"});
    latency.duration_seconds = 600;
    latency.keep_firing_for_seconds = 120;
    RuleGroup api{"api", "/etc/tyto/rules/api.yml", {latency}, 30, 10, 0, 0};
    return {node, api};
  }
};

// Everything the API reads, filled with fixed data, and the router serving it.
class Api {
 public:
  Api() : clock_(kNow) {
    head_ = std::move(tsdb::Head::Open(Env::Default(), dir_.Path("wal"), {}, nullptr)).value();
    auto app = head_->NewAppender();
    for (int i = 0; i <= 4; ++i) {
      const int64_t t = kNow - 60'000 + i * 15'000;
      Append(*app, Labels::Of({"__name__", "up", "instance", "a:9100", "job", "node"}), t, 1);
      Append(*app, Labels::Of({"__name__", "up", "instance", "b:9100", "job", "node"}), t, i < 2 ? 1 : 0);
      Append(*app, Labels::Of({"__name__", "http_requests_total", "code", "200", "handler", "/api", "job", "api"}), t,
             10.0 * i);
      Append(*app, Labels::Of({"__name__", "http_requests_total", "code", "500", "handler", "/api", "job", "api"}), t,
             i / 2);
    }
    EXPECT_TRUE(app->Commit().ok());
    metadata_.Update("up", {"gauge", "1 if the target answered its last scrape, 0 if not.", ""});
    metadata_.Update("http_requests_total", {"counter", "Requests served, by status code.", ""});
    // Two exemplars of one series (returned oldest first) and one without labels of another,
    // exactly at the start of the range the golden cases ask for (inclusive); times with and
    // without milliseconds, and a value Go's 'f' format writes without an exponent.
    exemplars_.Add(Labels::Of({"__name__", "http_requests_total", "code", "200", "handler", "/api", "job", "api"}),
                   {Labels::Of({"span_id", "00f067aa0ba902b7", "trace_id", "0af7651916cd43dd"}), 0.25, kNow - 31'000});
    exemplars_.Add(Labels::Of({"__name__", "http_requests_total", "code", "200", "handler", "/api", "job", "api"}),
                   {Labels::Of({"trace_id", "4bf92f3577b34da6"}), 40, kNow - 1'500});
    exemplars_.Add(Labels::Of({"__name__", "http_requests_total", "code", "500", "handler", "/api", "job", "api"}),
                   {Labels(), 1234567, kNow - 60'000});
    engine_ = std::make_unique<promql::Engine>(head_.get());

    // A job whose target is never scraped: the clock stands still before its first scrape.
    scrape_ = std::make_unique<scrape::Manager>(head_.get(), &clock_, &registry_);
    scrape::ScrapeConfig job;
    job.job_name = "node";
    job.scrape_interval = std::chrono::hours(1);
    job.scrape_timeout = std::chrono::seconds(10);
    job.static_configs = {{{"127.0.0.1:1", "127.0.0.2:1"}, {{"rack", "r1"}}}};
    relabel::Config drop;
    drop.source_labels = {"__address__"};
    drop.regex = "127\\.0\\.0\\.2:1";
    drop.action = "drop";
    job.relabel_configs = {drop};
    EXPECT_TRUE(scrape_->ApplyConfig({}, {job}).ok());

    guard_.Set(std::make_shared<const auth::Authenticator>(std::vector<auth::Token>{
        {"grafana", auth::HashSecret("r"), auth::EffectiveScopes({auth::Scope::kRead})},
        {"agent", auth::HashSecret("w"), auth::EffectiveScopes({auth::Scope::kWrite})}}));
    tenancy_ = std::make_unique<tenant::Tenancy>(head_.get(), nullptr);
    AddQueryRoutes(&router_, &guard_, engine_.get(), tenancy_.get(), &clock_);
    AddSeriesRoutes(&router_, &guard_, tenancy_.get());
    AddMetastoreRoutes(&router_, &guard_, &metadata_, &exemplars_);
    AddTargetsRoutes(&router_, &guard_, scrape_.get());
    AddSyntaxRoutes(&router_, &guard_);
    AddRulesRoutes(&router_, &guard_, &rules_);
    AddStatusRoutes(&router_, &guard_, Status());
  }

  http::Response Serve(http::Request req) {
    if (!req.Header("Authorization")) req.headers.emplace_back("Authorization", "Bearer r");
    if (auto err = http::ParseTarget(&req)) return http::Response::Error(400, "bad_data", *err);
    return router_.Dispatch(req);
  }

 private:
  static void Append(Appender& app, const Labels& l, int64_t t, double v) { EXPECT_TRUE(app.Append(0, l, t, v).ok()); }

  StatusSources Status() {
    static const BuildInfo kBuild{"0.1.0", "0123456789ab", "g++ 12.2.0", "Release"};
    StatusSources s;
    s.build = &kBuild;
    s.runtime = [] {
      RuntimeInfo r;
      r.start_time_ms = kNow - 3'600'000;
      r.cwd = "/var/lib/tyto";
      r.hostname = "gpu-node-1";
      r.server_time_ms = kNow;
      r.reload_config_success = true;
      r.last_config_time_ms = kNow - 3'599'500;
      r.thread_count = 12;
      r.cpu_count = 8;
      r.storage_retention = "15d";
      return r;
    };
    s.flags = {{"config", "/etc/tyto/tyto.yml"}, {"data-dir", ""}, {"demo", "false"}, {"insecure-no-auth", "false"},
               {"listen", "0.0.0.0:9800"}, {"log-level", ""}};
    s.config_yaml = [] {
      return "http:\n  listen: 0.0.0.0:9800\nauth:\n  tokens:\n    - name: grafana\n      secret_sha256: <secret>\n"
             "      scopes:\n        - read\n";
    };
    s.head = [this]() -> Result<HeadCardinality> {
      // What the server computes from the head's statistics, here from the fixture's series.
      HeadCardinality c;
      c.num_series = head_->num_series();
      c.chunk_count = 4;
      c.min_time = head_->min_time();
      c.max_time = head_->max_time();
      auto q = head_->NewQuerier(INT64_MIN, INT64_MAX);
      if (!q.ok()) return q.status();
      std::map<std::pair<std::string, std::string>, uint64_t> pairs;
      auto set = (*q)->Select({*Matcher::Make(MatchType::kRegexMatch, "__name__", ".+")});
      while (set->Next()) {
        for (const Label& l : set->labels()) ++pairs[{l.name, l.value}];
      }
      for (const auto& [p, n] : pairs) c.pairs.push_back({p.first, p.second, n});
      return c;
    };
    return s;
  }

  testing::TempDir dir_;
  testing::FakeClock clock_;
  instrumentation::Registry registry_;
  std::unique_ptr<tsdb::Head> head_;
  metastore::MetadataStore metadata_;
  metastore::ExemplarStore exemplars_;
  std::unique_ptr<promql::Engine> engine_;
  std::unique_ptr<tenant::Tenancy> tenancy_;
  std::unique_ptr<scrape::Manager> scrape_;
  FixedRules rules_;
  auth::Guard guard_;
  http::Router router_;
};

struct Case {
  std::vector<std::string> lines;  // comments, request and headers, as written
  http::Request request;
  int status = 0;
  std::string body;
};

std::string GoldenDir() { return std::string(TYTO_SOURCE_DIR) + "/src/api/testdata/golden"; }

// Reads a golden file's cases; a malformed one fails the test, naming the line.
std::vector<Case> ReadCases(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  std::vector<Case> cases;
  std::string line;
  int n = 0;
  Case c;
  enum { kStart, kHeaders, kBody, kDone } state = kStart;
  auto finish = [&] {
    if (state == kDone) cases.push_back(std::move(c));
    else if (state != kStart || !c.lines.empty()) ADD_FAILURE() << path << ":" << n << ": incomplete case";
    c = Case{};
    state = kStart;
  };
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) {
      finish();
      continue;
    }
    switch (state) {
      case kStart:
        c.lines.push_back(line);
        if (line[0] == '#') break;
        if (size_t sp = line.find(' '); sp != std::string::npos) {
          c.request.method = line.substr(0, sp);
          c.request.target = line.substr(sp + 1);
          state = kHeaders;
        } else {
          ADD_FAILURE() << path << ":" << n << ": expected METHOD TARGET, got " << line;
        }
        break;
      case kHeaders:
        if (line.rfind("=> ", 0) == 0) {
          c.status = std::atoi(line.c_str() + 3);
          state = kBody;
          break;
        }
        c.lines.push_back(line);
        if (line.rfind("body: ", 0) == 0) {
          c.request.body = line.substr(6);
        } else if (size_t colon = line.find(": "); colon != std::string::npos) {
          c.request.headers.emplace_back(line.substr(0, colon), line.substr(colon + 2));
        } else {
          ADD_FAILURE() << path << ":" << n << ": expected a header, \"body: \" or \"=> STATUS\", got " << line;
        }
        break;
      case kBody:
        c.body = line;
        state = kDone;
        break;
      case kDone:
        ADD_FAILURE() << path << ":" << n << ": the expected body must be one line";
        break;
    }
  }
  finish();
  return cases;
}

class GoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenTest, EveryCaseAnswersExactly) {
  const std::string path = GoldenDir() + "/" + GetParam();
  std::vector<Case> cases = ReadCases(path);
  ASSERT_FALSE(cases.empty()) << path;
  Api api;
  const bool update = std::getenv("TYTO_UPDATE_GOLDEN") != nullptr;
  std::string rewritten;
  for (Case& c : cases) {
    const http::Response r = api.Serve(c.request);
    const std::string what = c.request.method + " " + c.request.target;
    if (update) {
      for (const std::string& l : c.lines) rewritten += l + "\n";
      rewritten += "=> " + std::to_string(r.status) + "\n" + r.body + "\n\n";
      continue;
    }
    EXPECT_EQ(r.status, c.status) << what << "\n" << r.body;
    EXPECT_EQ(r.body, c.body) << what;
    if (r.status < 300 || r.body.rfind("{\"status\":\"error\"", 0) == 0) {
      EXPECT_EQ(r.content_type.rfind("application/json", 0), 0u) << what;
    }
  }
  if (update) {
    rewritten.pop_back();  // one newline at the end
    std::ofstream(path) << rewritten;
  }
}

std::vector<std::string> GoldenFiles() {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(GoldenDir())) {
    if (e.path().extension() == ".golden") files.push_back(e.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

INSTANTIATE_TEST_SUITE_P(Api, GoldenTest, ::testing::ValuesIn(GoldenFiles()),
                         [](const ::testing::TestParamInfo<std::string>& file) {
                           std::string name = file.param.substr(0, file.param.find('.'));
                           for (char& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace tyto::api
