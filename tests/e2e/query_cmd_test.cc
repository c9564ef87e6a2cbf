// End-to-end: `tyto query` as a user runs it. Against the built `tyto serve` (port 0, its own
// data directory, read and write tokens), fed known samples by remote write: instant and range
// queries as tables and as JSON, tokens, a bad query, an unreachable server. Against a stand-in
// server (http::Server in this process, canned answers): what the command sends, and how it
// prints what Tyto does not answer yet (warnings, infos, native histograms, a proxy's HTML).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>

#include "e2e/process.h"
#include "e2e/serve_fixture.h"
#include "http/router.h"
#include "http/server.h"
#include "instrumentation/metrics.h"
#include "testing/http_client.h"
#include "testing/remote_write_builder.h"
#include "testing/temp_dir.h"

namespace tyto::e2e {
namespace {

using namespace std::chrono_literals;
using testing::RemoteWriteSeries;

class QueryCommandTest : public ::testing::Test {
 protected:
  // `tyto serve` with a write token and a read token, and six samples of two series stored.
  void SetUp() override {
    ServedTyto s = ServeWithTokens(dir_, {{"agent", "w-secret", "write"}, {"cli", "r-secret", "read"}});
    child_ = std::move(s.child);
    port_ = s.port;
    ASSERT_NE(port_, 0) << "tyto serve did not become ready; log:\n" << ReadFile(dir_.Path("serve.log"));
    server_ = "http://127.0.0.1:" + std::to_string(port_);

    // gpu_temp at 1000 s, 1015 s and 1030 s for two GPUs.
    auto gpu = [](std::string id, std::vector<std::pair<int64_t, double>> samples) {
      return RemoteWriteSeries{{{"__name__", "gpu_temp"}, {"gpu", std::move(id)}, {"job", "dcgm"}}, std::move(samples)};
    };
    auto pushed = PushRemoteWrite(port_,
                                  {gpu("0", {{1'000'000, 41}, {1'015'000, 42}, {1'030'000, 43.5}}),
                                   gpu("10", {{1'000'000, 55}, {1'015'000, 56}, {1'030'000, 57}})},
                                  "w-secret");
    ASSERT_TRUE(pushed.ok()) << pushed.status().ToString();
    ASSERT_EQ(pushed->status, 204) << pushed->body;
  }

  // `tyto query ARGS... --server <the server> --token r-secret`.
  CommandResult Query(std::vector<std::string> args) {
    std::vector<std::string> argv = {TYTO_BINARY, "query"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--server", server_, "--token", "r-secret"});
    return RunCommand(argv);
  }

  testing::TempDir dir_;
  std::unique_ptr<Child> child_;
  uint16_t port_ = 0;
  std::string server_;
};

TEST_F(QueryCommandTest, InstantQueryPrintsOneAlignedRowPerSeries) {
  CommandResult r = Query({"gpu_temp", "--time", "1030"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "gpu_temp{gpu=\"0\", job=\"dcgm\"}   43.5\n"
            "gpu_temp{gpu=\"10\", job=\"dcgm\"}  57\n");
  EXPECT_EQ(r.err, "");

  // RFC 3339 as well as Unix seconds; series without a name print as {...}.
  r = Query({"max by (job) (gpu_temp)", "--time", "1970-01-01T00:16:55Z"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{job=\"dcgm\"}  56\n");

  r = Query({"1 + 1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "2\n");
  r = Query({"\"a string\""});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "a string\n");

  // Nothing matches: stdout stays empty, and stderr says so.
  r = Query({"no_such_metric", "--time", "1030"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "tyto query: empty result\n");
}

TEST_F(QueryCommandTest, RangeQueryPrintsEachSeriesWithItsPoints) {
  CommandResult r = Query({"gpu_temp", "--start", "1000", "--end", "1970-01-01T00:17:10Z", "--step", "15s"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "gpu_temp{gpu=\"0\", job=\"dcgm\"}\n"
            "  41 @1000\n"
            "  42 @1015\n"
            "  43.5 @1030\n"
            "gpu_temp{gpu=\"10\", job=\"dcgm\"}\n"
            "  55 @1000\n"
            "  56 @1015\n"
            "  57 @1030\n");
  // A step in seconds, with a fraction; timestamps as the server wrote them (as Prometheus does,
  // with three digits of milliseconds).
  r = Query({"sum(gpu_temp)", "--start", "1029", "--end", "1030", "--step", "0.5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{}\n  98 @1029\n  98 @1029.500\n  100.5 @1030\n");
  // A long answer comes gzipped (the server compresses 1 KiB and more).
  r = Query({"gpu_temp", "--start", "1000", "--end", "1030", "--step", "0.1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 2 + 2 * 301);
  EXPECT_NE(r.out.find("gpu_temp{gpu=\"0\", job=\"dcgm\"}\n  41 @1000\n  41 @1000.100\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  56 @1029.900\n  57 @1030\n"), std::string::npos) << r.out;
}

TEST_F(QueryCommandTest, JsonPrintsTheResponseBodyAsItCame) {
  CommandResult r = Query({"sum(gpu_temp)", "--time", "1030", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("{\"status\":\"success\",", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{},\"value\":[1030,\"100.5\"]}]}"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.back(), '\n');
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1);

  r = Query({"gpu_temp{gpu=\"0\"}", "--start", "1000", "--end", "1015", "--step", "15", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"resultType\":\"matrix\",\"result\":[{\"metric\":{\"__name__\":\"gpu_temp\",\"gpu\":\"0\","
                       "\"job\":\"dcgm\"},\"values\":[[1000,\"41\"],[1015,\"42\"]]}]"),
            std::string::npos)
      << r.out;
}

TEST_F(QueryCommandTest, ErrorsGoToStderrWithTheirExitCode) {
  // The server's bad_data: exit 2, its errorType and message on stderr, nothing on stdout.
  CommandResult r = Query({"sum(gpu_temp"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err.rfind("tyto query: bad_data: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("parse error"), std::string::npos) << r.err;
  r = Query({"gpu_temp", "--start", "1000", "--end", "900", "--step", "15s"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("end timestamp must not be before start time"), std::string::npos) << r.err;
  r = Query({"gpu_temp", "--time", "yesterday"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("\"time\""), std::string::npos) << r.err;

  // Flags the command itself refuses: exit 2 before anything is sent.
  r = Query({"gpu_temp", "--start", "1000", "--end", "1030"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "tyto query: a range query needs --start, --end and --step together\n");
  r = Query({"gpu_temp", "--time", "1", "--start", "1000", "--end", "1030", "--step", "15s"});
  EXPECT_EQ(r.exit_code, 2);
  r = RunCommand({TYTO_BINARY, "query", "up", "--server", "ftp://127.0.0.1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--server: invalid URL 'ftp://127.0.0.1'"), std::string::npos) << r.err;

  // Credentials: none (a hint names --token), a wrong one, and the right one from TYTO_TOKEN.
  r = RunCommand({TYTO_BINARY, "query", "gpu_temp", "--server", server_});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("tyto query: unauthorized: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--token or TYTO_TOKEN"), std::string::npos) << r.err;
  r = RunCommand({TYTO_BINARY, "query", "gpu_temp", "--server", server_, "--token", "w-secret"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("tyto query: forbidden: "), std::string::npos) << r.err;
  ASSERT_EQ(setenv("TYTO_TOKEN", "r-secret", 1), 0);
  r = RunCommand({TYTO_BINARY, "query", "count(gpu_temp)", "--time", "1030", "--server", server_ + "/"});
  unsetenv("TYTO_TOKEN");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{}  2\n");
}

TEST_F(QueryCommandTest, AnUnreachableServerIsNamed) {
  // A port nobody listens on: bind one, then close it.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  CommandResult r = RunCommand({TYTO_BINARY, "query", "up", "--server", url});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err.rfind("tyto query: cannot query " + url + "/api/v1/query: ", 0), 0u) << r.err;
}

// A stand-in for a Prometheus-compatible server behind a path prefix: records the request and
// answers what the test says.
class StandInServer {
 public:
  StandInServer() {
    router_.Add({"GET", "POST"}, "/prom/api/v1/query_range", "query_range", [this](http::Request& req) {
      std::lock_guard<std::mutex> l(mu_);
      last_ = req;
      return answer_;
    });
    server_ = std::make_unique<http::Server>([this](http::Request& r) { return router_.Dispatch(r); }, &registry_, 1);
    EXPECT_TRUE(server_->Listen({"127.0.0.1", 0}).ok());
    server_->Start();
  }
  ~StandInServer() { server_->Shutdown(1s); }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()) + "/prom/"; }
  void Answer(int status, std::string content_type, std::string body) {
    std::lock_guard<std::mutex> l(mu_);
    answer_.status = status;
    answer_.content_type = std::move(content_type);
    answer_.body = std::move(body);
  }
  http::Request last() {
    std::lock_guard<std::mutex> l(mu_);
    return last_;
  }

 private:
  instrumentation::Registry registry_;
  http::Router router_;
  std::unique_ptr<http::Server> server_;
  std::mutex mu_;
  http::Response answer_;
  http::Request last_;
};

TEST(QueryCommandStandInTest, SendsAFormPostAndPrintsWarningsInfosAndHistograms) {
  StandInServer server;
  server.Answer(200, "application/json",
                R"({"status":"success","data":{"resultType":"matrix","result":[)"
                R"({"metric":{"__name__":"latency","le_x":"a\"b"},"histograms":[[1.5,{"count":"3","sum":"0.25","buckets":[]}]]}]},)"
                R"("warnings":["results truncated"],"infos":["PromQL info: metric might not be a counter"]})");
  CommandResult r = RunCommand({TYTO_BINARY, "query", "rate(x{a=\"b c\"}[5m]) + 1", "--server", server.url(), "--start",
                                "2026-01-02T03:04:05.5+01:00", "--end", "1767323045.5", "--step", "1m", "--token", "t0k"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "latency{le_x=\"a\\\"b\"}\n  histogram{count=3, sum=0.25} @1.5\n");
  EXPECT_EQ(r.err,
            "tyto query: warning: results truncated\n"
            "tyto query: info: PromQL info: metric might not be a counter\n");
  const http::Request sent = server.last();
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(sent.path, "/prom/api/v1/query_range");
  EXPECT_EQ(sent.Header("Authorization"), "Bearer t0k");
  EXPECT_EQ(sent.Header("Content-Type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(sent.Param("query"), "rate(x{a=\"b c\"}[5m]) + 1");
  EXPECT_EQ(sent.Param("start"), "2026-01-02T03:04:05.5+01:00");
  EXPECT_EQ(sent.Param("end"), "1767323045.5");
  EXPECT_EQ(sent.Param("step"), "1m");

  // An execution error: exit 1.
  server.Answer(422, "application/json", R"({"status":"error","errorType":"execution","error":"too many samples"})");
  r = RunCommand({TYTO_BINARY, "query", "x", "--server", server.url(), "--start", "1", "--end", "2", "--step", "1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "tyto query: execution: too many samples\n");

  // Not the API's JSON (a proxy's error page): the status and an excerpt of what came.
  server.Answer(502, "text/html", "<html>\nBad Gateway</html>");
  r = RunCommand({TYTO_BINARY, "query", "x", "--server", server.url(), "--start", "1", "--end", "2", "--step", "1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "tyto query: " + server.url().substr(0, server.url().size() - 1) +
                       "/api/v1/query_range: HTTP 502, not the Prometheus API's JSON: <html> Bad Gateway</html>\n");
}

}  // namespace
}  // namespace tyto::e2e
