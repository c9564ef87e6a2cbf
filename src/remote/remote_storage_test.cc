// RemoteStorage against an in-process store (fake_remote_store.h): the requests it makes, how it
// reads answers and errors, and -- with the store answering from a local head as Prometheus
// would -- that the PromQL engine gives the same results over it as over the head itself.
#include "remote/remote_storage.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "instrumentation/metrics.h"
#include "promql/ast.h"
#include "promql/engine.h"
#include "promql/parser.h"
#include "remote/fake_remote_store.h"
#include "testing/temp_dir.h"
#include "tsdb/head.h"
#include "tyto/selector.h"

namespace tyto::remote {
namespace {

using test::FakeRemoteStore;

std::string Param(const FakeRemoteStore::Seen& s, const std::string& name) {
  for (const auto& [k, v] : s.params) {
    if (k == name) return v;
  }
  return "<none>";
}

http::Response Ok(const std::string& data) {
  return http::Response::Json(200, R"({"status":"success","data":)" + data + "}");
}

// Answers the query API from `storage` as Prometheus does for the requests RemoteStorage makes.
http::Response AnswerFrom(Storage* storage, const http::Request& r) {
  auto number = [&](std::string_view name) { return std::llround(std::stod(std::string(r.Param(name).value_or("0"))) * 1000); };
  if (r.path == "/api/v1/query") {
    Result<promql::ExprPtr> e = promql::Parse(r.Param("query").value_or(""));
    if (!e.ok()) return http::Response::Error(400, "bad_data", e.status().message());
    if ((*e)->kind() != promql::NodeKind::kMatrixSelector) return Ok(R"({"resultType":"scalar","result":[0,"1"]})");
    const auto& ms = (*e)->As<promql::MatrixSelector>();
    const int64_t t = number("time");
    auto q = storage->NewQuerier(t - ms.range.value.count() + 1, t);
    auto set = (*q)->Select(ms.selector->matchers);
    std::string out = R"({"resultType":"matrix","result":[)";
    bool first = true;
    while (set->Next()) {
      out += first ? "" : ",";
      first = false;
      out += R"({"metric":{)";
      bool f2 = true;
      for (const Label& l : set->labels()) {
        out += (f2 ? "\"" : ",\"") + l.name + "\":\"";
        AppendEscapedLabelValue(&out, l.value);
        out += "\"";
        f2 = false;
      }
      out += R"(},"values":[)";
      auto it = set->Iterator();
      bool f3 = true;
      while (it->Next()) {
        const Sample s = it->At();
        if (IsStaleMarker(s.v)) continue;  // as Prometheus's API
        char ts[64];
        std::snprintf(ts, sizeof(ts), "%.3f", static_cast<double>(s.t) / 1000.0);
        out += std::string(f3 ? "[" : ",[") + ts + ",\"" + instrumentation::FormatValue(s.v) + "\"]";
        f3 = false;
      }
      out += "]}";
    }
    return Ok(out + "]}");
  }
  std::vector<Matcher> ms;
  if (auto m = r.Param("match[]"); m.has_value()) ms = ParseSeriesSelector(*m).value();
  auto q = storage->NewQuerier(number("start"), number("end"));
  Result<std::vector<std::string>> list = Status::Ok();
  if (r.path == "/api/v1/labels") {
    list = (*q)->LabelNames(ms);
  } else if (r.path.rfind("/api/v1/label/", 0) == 0) {
    std::string name = r.path.substr(14);
    name = name.substr(0, name.find('/'));
    list = (*q)->LabelValues(name, ms);
  } else {
    return http::Response::Text(404, "not found");
  }
  std::string out = "[";
  for (size_t i = 0; i < list->size(); ++i) out += (i ? ",\"" : "\"") + (*list)[i] + "\"";
  return Ok(out + "]");
}

class RemoteStorageTest : public ::testing::Test {
 protected:
  // Its metrics go to registry_ for the first RemoteStorage of a test (a registry takes one).
  std::unique_ptr<RemoteStorage> Make(RemoteQueryConfig c = {}, Storage* writer = nullptr) {
    if (c.query_url.empty()) c.query_url = store_.base_url() + "/";
    auto s = RemoteStorage::Create(Env::Default(), c, writer, made_++ == 0 ? &registry_ : nullptr);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return std::move(s).value();
  }
  FakeRemoteStore store_;
  instrumentation::Registry registry_;
  int made_ = 0;
};

TEST_F(RemoteStorageTest, SelectAsksForTheRawSamplesOfTheRange) {
  store_.set_handler([](const http::Request&) {
    return Ok(R"({"resultType":"matrix","result":[
        {"metric":{"__name__":"up","job":"b"},"values":[[10,"1"],[20,"0"],[30,"1"]]},
        {"metric":{"__name__":"up","job":"a"},"values":[[15,"NaN"]]}]})");
  });
  auto rs = Make();
  auto q = rs->NewQuerier(10'000, 30'000);
  ASSERT_TRUE(q.ok());
  auto set = (*q)->Select({Matcher::Make(MatchType::kEqual, "__name__", "up").value(),
                           Matcher::Make(MatchType::kRegexMatch, "job", "a|\"b\"").value()});
  ASSERT_TRUE(set->Next());
  EXPECT_EQ(set->labels().ToString(), R"(up{job="a"})");
  auto it = set->Iterator();
  ASSERT_TRUE(it->Next());
  EXPECT_TRUE(std::isnan(it->At().v));
  EXPECT_FALSE(it->Next());
  ASSERT_TRUE(set->Next());
  EXPECT_EQ(set->labels().ToString(), R"(up{job="b"})");
  it = set->Iterator();
  ASSERT_TRUE(it->Seek(20'000));
  EXPECT_EQ(it->At().t, 20'000);
  ASSERT_TRUE(it->Seek(11'000));  // never backwards
  EXPECT_EQ(it->At().t, 20'000);
  ASSERT_TRUE(it->Next());
  EXPECT_EQ(it->At().t, 30'000);
  EXPECT_FALSE(it->Seek(31'000));
  EXPECT_FALSE(set->Next());
  EXPECT_TRUE(set->status().ok());

  const auto seen = store_.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "POST");
  EXPECT_EQ(seen[0].path, "/api/v1/query");
  EXPECT_EQ(Param(seen[0], "query"), R"({__name__="up",job=~"a|\"b\""}[20001ms])");
  EXPECT_EQ(Param(seen[0], "time"), "30.000");
}

TEST_F(RemoteStorageTest, LabelNamesAndValues) {
  store_.set_handler([](const http::Request& r) {
    if (r.path == "/api/v1/labels") return Ok(R"(["job","__name__"])");
    return Ok(R"(["x","a"])");
  });
  auto rs = Make();
  auto q = rs->NewQuerier(1000, 2000);
  auto names = (*q)->LabelNames({});
  ASSERT_TRUE(names.ok()) << names.status().ToString();
  EXPECT_EQ(*names, (std::vector<std::string>{"__name__", "job"}));
  auto values = (*q)->LabelValues("k8s.pod", {Matcher::Make(MatchType::kEqual, "__name__", "up").value()});
  ASSERT_TRUE(values.ok()) << values.status().ToString();
  EXPECT_EQ(*values, (std::vector<std::string>{"a", "x"}));
  const auto seen = store_.seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].path, "/api/v1/labels");
  EXPECT_EQ(Param(seen[0], "match[]"), "<none>");
  EXPECT_EQ(Param(seen[0], "start"), "1.000");
  EXPECT_EQ(Param(seen[0], "end"), "2.000");
  EXPECT_EQ(seen[1].method, "GET");
  EXPECT_EQ(seen[1].path, "/api/v1/label/U__k8s_2e_pod/values");
  EXPECT_EQ(Param(seen[1], "match[]"), R"({__name__="up"})");
}

TEST_F(RemoteStorageTest, ErrorsNameTheUrlAndKeepTheStoresMessage) {
  auto rs = Make();
  const std::vector<Matcher> up = {Matcher::Make(MatchType::kEqual, "__name__", "up").value()};
  auto select_error = [&] {
    auto set = (*rs->NewQuerier(0, 1000))->Select(up);
    EXPECT_FALSE(set->Next());
    return set->status();
  };
  store_.set_handler([](const http::Request&) {
    return http::Response::Json(422, R"({"status":"error","errorType":"execution","error":"too many samples"})");
  });
  Status s = select_error();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find(store_.base_url() + "/api/v1/query"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("HTTP 422: execution: too many samples"), std::string::npos) << s.ToString();

  store_.set_handler([](const http::Request&) { return http::Response::Text(503, "overloaded"); });
  s = select_error();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("HTTP 503: overloaded"), std::string::npos) << s.ToString();

  store_.set_handler([](const http::Request&) { return http::Response::Text(200, "<html>proxy</html>"); });
  s = select_error();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("not JSON"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find(store_.base_url()), std::string::npos) << s.ToString();

  store_.set_handler([](const http::Request&) { return Ok(R"({"resultType":"matrix","result":[)" + std::string(5000, ' ') + "]}"); });
  RemoteQueryConfig small;
  small.query_url = store_.base_url();
  small.max_response_size = 2048;
  auto limited = Make(small);
  auto set = (*limited->NewQuerier(0, 1000))->Select(up);
  EXPECT_FALSE(set->Next());
  EXPECT_EQ(set->status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(set->status().message().find("max_response_size"), std::string::npos) << set->status().ToString();

  RemoteQueryConfig gone;
  gone.query_url = "http://127.0.0.1:1";
  auto nowhere = Make(gone);
  auto names = (*nowhere->NewQuerier(0, 1))->LabelNames({});
  EXPECT_EQ(names.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(names.status().message().find("http://127.0.0.1:1/api/v1/labels"), std::string::npos) << names.status().ToString();
  Status health = nowhere->Health();
  EXPECT_FALSE(health.ok());
  EXPECT_NE(health.message().find("http://127.0.0.1:1"), std::string::npos) << health.ToString();

  EXPECT_NE(registry_.Expose().find("tyto_remote_query_requests_total{endpoint=\"query\",result=\"error\"}"),
            std::string::npos);
}

TEST_F(RemoteStorageTest, CompressedAnswersAreReadWithinTheBound) {
  // The fake server gzips bodies of 1 KiB and more for a client that accepts gzip.
  std::string result;
  for (int i = 0; i < 200; ++i) {
    result += std::string(i ? "," : "") + R"({"metric":{"__name__":"m","i":")" + std::to_string(i) + R"("},"values":[[1,"1"]]})";
  }
  store_.set_handler([&](const http::Request&) { return Ok(R"({"resultType":"matrix","result":[)" + result + "]}"); });
  auto rs = Make();
  auto set = (*rs->NewQuerier(0, 1000))->Select({Matcher::Make(MatchType::kEqual, "__name__", "m").value()});
  int n = 0;
  while (set->Next()) ++n;
  EXPECT_TRUE(set->status().ok()) << set->status().ToString();
  EXPECT_EQ(n, 200);
}

TEST_F(RemoteStorageTest, HealthAndCredentials) {
  tyto::testing::TempDir dir;
  const std::string token_file = dir.Path("token");
  std::ofstream(token_file) << "first\n";
  RemoteQueryConfig c;
  c.query_url = store_.base_url();
  c.authorization.credentials_file = token_file;
  c.headers = {{"X-Scope-OrgID", "t1"}};
  store_.set_handler([](const http::Request&) { return Ok(R"({"resultType":"scalar","result":[1,"1"]})"); });
  auto rs = Make(c);
  EXPECT_TRUE(rs->Health().ok());
  std::ofstream(token_file) << "second";  // rotated: read at each request
  EXPECT_TRUE(rs->Health().ok());
  const auto seen = store_.seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].authorization, "Bearer first");
  EXPECT_EQ(seen[1].authorization, "Bearer second");
  EXPECT_EQ(seen[1].tenant, "t1");
  EXPECT_EQ(Param(seen[0], "query"), "1");

  store_.set_handler([](const http::Request&) { return http::Response::Text(401, "who are you"); });
  Status s = rs->Health();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("HTTP 401"), std::string::npos) << s.ToString();

  RemoteQueryConfig basic;
  basic.query_url = store_.base_url();
  basic.basic_auth.username = "u";
  basic.basic_auth.password = "p";
  store_.set_handler([](const http::Request&) { return Ok("1"); });
  (void)Make(basic)->Health();
  EXPECT_EQ(store_.seen().back().authorization, "Basic dTpw");
}

TEST_F(RemoteStorageTest, AppendsGoToTheWriter) {
  class Counting final : public Storage {
   public:
    class App final : public Appender {
     public:
      explicit App(int* n) : n_(n) {}
      Result<SeriesRef> Append(SeriesRef, const Labels&, int64_t, double) override {
        ++*n_;
        return SeriesRef{1};
      }
      Status Commit() override { return Status::Ok(); }
      void Rollback() override {}
      int* n_;
    };
    std::unique_ptr<Appender> NewAppender() override { return std::make_unique<App>(&appended); }
    Result<std::unique_ptr<Querier>> NewQuerier(int64_t, int64_t) override { return Internal("none"); }
    int appended = 0;
  } writer;
  auto rs = Make({}, &writer);
  auto app = rs->NewAppender();
  ASSERT_TRUE(app->Append(0, Labels::Of({"__name__", "x"}), 1, 1).ok());
  EXPECT_EQ(writer.appended, 1);
  auto refusing = Make();
  EXPECT_EQ(refusing->NewAppender()->Append(0, Labels::Of({"__name__", "x"}), 1, 1).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(RemoteStorageTest, BadConfiguration) {
  RemoteQueryConfig c;
  c.query_url = "ftp://x";
  EXPECT_FALSE(RemoteStorage::Create(Env::Default(), c, nullptr, nullptr).ok());
  c.query_url = "http://x/?a=b";
  EXPECT_FALSE(RemoteStorage::Create(Env::Default(), c, nullptr, nullptr).ok());
}

// The engine over RemoteStorage (the store answering from a head as Prometheus would) gives what
// the engine over the head gives.
TEST_F(RemoteStorageTest, EngineResultsMatchTheLocalHead) {
  tyto::testing::TempDir dir;
  auto head = std::move(tsdb::Head::Open(Env::Default(), dir.Path("wal"), tsdb::HeadOptions{}, nullptr)).value();
  const int64_t t0 = 1'700'000'000'000;
  {
    auto app = head->NewAppender();
    for (int k = 0; k <= 120; ++k) {
      const int64_t t = t0 + k * 15'000;
      for (int g = 0; g < 4; ++g) {
        const std::string gpu = std::to_string(g);
        const std::string host = g < 2 ? "h1" : "h2";
        ASSERT_TRUE(app->Append(0, Labels::Of({"__name__", "requests_total", "gpu", gpu, "host", host}), t, k * (g + 1)).ok());
        double cumulative = 0;
        for (const char* le : {"0.1", "0.5", "1", "+Inf"}) {
          cumulative += k * (g + 1) * (le[0] == '0' ? 1 : 2);
          ASSERT_TRUE(app->Append(0, Labels::Of({"__name__", "latency_seconds_bucket", "gpu", gpu, "le", le}), t, cumulative).ok());
        }
      }
    }
    ASSERT_TRUE(app->Commit().ok());
  }
  store_.set_handler([&](const http::Request& r) { return AnswerFrom(head.get(), r); });
  auto remote = Make();
  promql::Engine local_engine(head.get());
  promql::Engine remote_engine(remote.get());
  const int64_t end = t0 + 30 * 60'000;
  for (const char* query : {"requests_total", "rate(requests_total[5m])", "sum by (host) (rate(requests_total[5m]))",
                            "histogram_quantile(0.9, sum by (le) (rate(latency_seconds_bucket[5m])))",
                            "max_over_time(requests_total{gpu=~\"1|2\"}[10m])", "count(requests_total offset 10m)"}) {
    auto want = local_engine.Range(query, t0, end, 60'000);
    auto got = remote_engine.Range(query, t0, end, 60'000);
    ASSERT_TRUE(want.ok()) << query << ": " << want.status().ToString();
    ASSERT_TRUE(got.ok()) << query << ": " << got.status().ToString();
    ASSERT_EQ(want->matrix.size(), got->matrix.size()) << query;
    ASSERT_FALSE(want->matrix.empty()) << query;
    for (size_t i = 0; i < want->matrix.size(); ++i) {
      EXPECT_EQ(want->matrix[i].metric, got->matrix[i].metric) << query;
      ASSERT_EQ(want->matrix[i].points.size(), got->matrix[i].points.size()) << query;
      for (size_t k = 0; k < want->matrix[i].points.size(); ++k) {
        EXPECT_EQ(want->matrix[i].points[k].t, got->matrix[i].points[k].t) << query;
        EXPECT_DOUBLE_EQ(want->matrix[i].points[k].v, got->matrix[i].points[k].v) << query;
      }
    }
    auto want_i = local_engine.Instant(query, end);
    auto got_i = remote_engine.Instant(query, end);
    ASSERT_TRUE(want_i.ok() && got_i.ok()) << query;
    ASSERT_EQ(want_i->vector.size(), got_i->vector.size()) << query;
    for (size_t i = 0; i < want_i->vector.size(); ++i) {
      EXPECT_EQ(want_i->vector[i].metric, got_i->vector[i].metric) << query;
      EXPECT_DOUBLE_EQ(want_i->vector[i].v, got_i->vector[i].v) << query;
    }
  }
  auto lq = head->NewQuerier(t0, end);
  auto rq = remote->NewQuerier(t0, end);
  const std::vector<Matcher> req = {Matcher::Make(MatchType::kEqual, "__name__", "requests_total").value()};
  EXPECT_EQ((*lq)->LabelValues("host", req).value(), (*rq)->LabelValues("host", req).value());
  EXPECT_EQ((*lq)->LabelNames({}).value(), (*rq)->LabelNames({}).value());
}

}  // namespace
}  // namespace tyto::remote
