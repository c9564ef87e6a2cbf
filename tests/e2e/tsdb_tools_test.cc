// `tyto tsdb analyze`, `dump` and `import` on data directories written through the storage API or
// imported, and `tyto serve` over an imported one.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>

#include "e2e/process.h"
#include "testing/http_client.h"
#include "testing/temp_dir.h"
#include "tsdb/db.h"
#include "tsdb/head.h"

namespace tyto::e2e {
namespace {

class TsdbToolsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto head = tsdb::Head::Open(Env::Default(), dir_.Path("data/wal"), {}, nullptr);
    ASSERT_TRUE(head.ok()) << head.status().ToString();
    auto app = (*head)->NewAppender();
    for (int gpu = 0; gpu < 4; ++gpu) {
      Labels l = Labels::Of({"__name__", "DCGM_FI_DEV_GPU_TEMP", "gpu", std::to_string(gpu), "Hostname", "h1"});
      for (int64_t t = 0; t < 10; ++t) ASSERT_TRUE(app->Append(0, l, t * 15000, 60 + gpu).ok());
    }
    ASSERT_TRUE(app->Append(0, Labels::Of({"__name__", "up", "job", "node"}), 0, 1).ok());
    ASSERT_TRUE(app->Append(0, Labels::Of({"__name__", "up", "job", "node"}), 15000, StaleMarker()).ok());
    ASSERT_TRUE(app->Commit().ok());
  }
  testing::TempDir dir_;
};

TEST_F(TsdbToolsTest, AnalyzeCountsAndRanks) {
  CommandResult r = RunCommand({TYTO_BINARY, "tsdb", "analyze", dir_.Path("data"), "--top", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("series:           5\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("samples:          42\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("           4  DCGM_FI_DEV_GPU_TEMP\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("           4  gpu\n"), std::string::npos) << r.out;
}

// A series cut into blocks that goes on in the head is one series; the rankings add the series
// that only blocks hold to those of the head.
TEST(TsdbAnalyzeTest, CountsASeriesInBlocksAndTheHeadOnce) {
  testing::TempDir dir;
  {
    tsdb::DBOptions o;
    o.retention = std::chrono::milliseconds(0);
    auto db = tsdb::DB::Open(Env::Default(), dir.Path("data"), o, nullptr);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    auto app = (*db)->NewAppender();
    const Labels a = Labels::Of({"__name__", "temp", "gpu", "0"});
    const Labels b = Labels::Of({"__name__", "temp", "gpu", "1"});
    const Labels gone = Labels::Of({"__name__", "old", "gpu", "0"});  // only in blocks
    for (int64_t t = 0; t < 7 * 3600000; t += 60000) {
      ASSERT_TRUE(app->Append(0, a, t, 1).ok());
      ASSERT_TRUE(app->Append(0, b, t, 2).ok());
      if (t < 3600000) {
        ASSERT_TRUE(app->Append(0, gone, t, 3).ok());
      }
    }
    ASSERT_TRUE(app->Commit().ok());
    auto cut = (*db)->CutBlocks();
    ASSERT_TRUE(cut.ok()) << cut.status().ToString();
    ASSERT_EQ(*cut, 2);  // 0-2 h and 2-4 h; the head keeps 4-7 h
    ASSERT_TRUE((*db)->Close().ok());
  }
  CommandResult r = RunCommand({TYTO_BINARY, "tsdb", "analyze", dir.Path("data")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Blocks: 2\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Head (in-memory, from the WAL)\n  series:           2\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  series:           3\n  samples:          900 (raw blocks and head)\n"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("Metrics by series:\n           2  temp\n           1  old\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Label pairs by series:\n           2  __name__=temp\n           2  gpu=0\n"), std::string::npos)
      << r.out;
}

TEST_F(TsdbToolsTest, DumpSelectsAndPrintsStaleness) {
  CommandResult r = RunCommand({TYTO_BINARY, "tsdb", "dump", dir_.Path("data"), "DCGM_FI_DEV_GPU_TEMP{gpu=~\"1|2\"}",
                                "--min-time", "30000", "--max-time", "45000"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "DCGM_FI_DEV_GPU_TEMP{Hostname=\"h1\", gpu=\"1\"} 61 30000\n"
            "DCGM_FI_DEV_GPU_TEMP{Hostname=\"h1\", gpu=\"1\"} 61 45000\n"
            "DCGM_FI_DEV_GPU_TEMP{Hostname=\"h1\", gpu=\"2\"} 62 30000\n"
            "DCGM_FI_DEV_GPU_TEMP{Hostname=\"h1\", gpu=\"2\"} 62 45000\n");
  r = RunCommand({TYTO_BINARY, "tsdb", "dump", dir_.Path("data"), "up"});
  EXPECT_EQ(r.out, "up{job=\"node\"} 1 0\nup{job=\"node\"} stale 15000\n");
}

TEST_F(TsdbToolsTest, ToolsDoNotWriteToTheDataDirectory) {
  auto before = Env::Default()->ListDir(dir_.Path("data/wal"));
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(RunCommand({TYTO_BINARY, "tsdb", "analyze", dir_.Path("data")}).exit_code, 0);
  ASSERT_EQ(RunCommand({TYTO_BINARY, "tsdb", "dump", dir_.Path("data")}).exit_code, 0);
  auto after = Env::Default()->ListDir(dir_.Path("data/wal"));
  EXPECT_EQ(before->size(), after->size());
}

TEST_F(TsdbToolsTest, ErrorsAreClear) {
  CommandResult r = RunCommand({TYTO_BINARY, "tsdb", "dump", dir_.Path("data"), "up{"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unclosed '{'"), std::string::npos) << r.err;
  r = RunCommand({TYTO_BINARY, "tsdb", "analyze", dir_.Path("nothing")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no metrics data in"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace tyto::e2e

namespace tyto::e2e {
namespace {

// An OpenMetrics file with `hours` of 60 s samples for two series, starting at `start_ms`.
std::string Backfill(int64_t start_ms, int hours) {
  std::string out = "# TYPE gpu_temp_celsius gauge\n# UNIT gpu_temp_celsius celsius\n";
  for (int g = 0; g < 2; ++g) {
    for (int64_t t = start_ms; t < start_ms + hours * 3600000LL; t += 60000) {
      char line[128];
      snprintf(line, sizeof(line), "gpu_temp_celsius{gpu=\"%d\"} %d %.3f\n", g, 60 + g, t / 1000.0);
      out += line;
    }
  }
  return out + "# EOF\n";
}

TEST(TsdbImportTest, BackfillsIntoBlocksThatToolsAndTheServerRead) {
  testing::TempDir dir;
  std::string file = dir.Path("history.om");
  const int64_t start = 1735689600000;  // 2025-01-01T00:00:00Z
  std::ofstream(file) << Backfill(start, 5);
  CommandResult r = RunCommand({TYTO_BINARY, "tsdb", "import", file, "--data-dir", dir.Path("data")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "imported 600 samples of 2 series into 3 blocks, compacted into 1, in " + dir.Path("data") + "\n");
  // Progress on stderr for each step (one line per update when stderr is not a terminal; the
  // engine's log lines come between them).
  for (const std::string& line :
       {"reading " + file + ": 100% (600 samples)\n", std::string("writing blocks: 1/3 (33%)\n"),
        std::string("writing blocks: 3/3 (100%)\n"), std::string("compacting 3 blocks: merged blocks written: 0\n"),
        std::string("compacting 3 blocks: merged blocks written: 1\n"),
        std::string("compacting 3 blocks: merged blocks written: 1; blocks now: 1\n")}) {
    EXPECT_NE(r.err.find(line), std::string::npos) << line << " not in\n" << r.err;
  }

  r = RunCommand({TYTO_BINARY, "tsdb", "analyze", dir.Path("data")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Blocks: 1\n"), std::string::npos) << r.out;  // the three 2 h blocks merged
  // The head is empty; the counts and rankings come from the block's index.
  EXPECT_NE(r.out.find("All data (blocks and head; a series in several blocks counts once)\n"
                       "  series:           2\n"
                       "  samples:          600 (raw blocks and head)\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("Metrics by series:\n           2  gpu_temp_celsius\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Label pairs by series:\n"
                       "           2  __name__=gpu_temp_celsius\n"
                       "           1  gpu=0\n"
                       "           1  gpu=1\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("Label names by distinct values:\n           2  gpu\n           1  __name__\n"), std::string::npos)
      << r.out;

  r = RunCommand({TYTO_BINARY, "tsdb", "dump", dir.Path("data"), "gpu_temp_celsius{gpu=\"1\"}"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines;
  for (size_t p = 0, e; (e = r.out.find('\n', p)) != std::string::npos; p = e + 1) lines.push_back(r.out.substr(p, e - p));
  ASSERT_EQ(lines.size(), 300u);
  EXPECT_EQ(lines.front(), "gpu_temp_celsius{gpu=\"1\"} 61 " + std::to_string(start));
  EXPECT_EQ(lines.back(), "gpu_temp_celsius{gpu=\"1\"} 61 " + std::to_string(start + 299 * 60000));

  // The server serves the backfilled blocks: PromQL at the last imported minute returns its value.
  Child server({TYTO_BINARY, "serve", "--data-dir", dir.Path("data"), "--listen", "127.0.0.1:0"}, dir.Path("serve.log"));
  const uint16_t port = WaitUntilServing(&server, dir.Path("serve.log"));
  ASSERT_NE(port, 0) << ReadFile(dir.Path("serve.log"));
  const int64_t last_s = (start + 299 * 60000) / 1000;
  auto query = testing::HttpRequest(port, "GET",
                                    "/api/v1/query?query=gpu_temp_celsius%7Bgpu%3D%221%22%7D&time=" + std::to_string(last_s));
  ASSERT_TRUE(query.ok()) << query.status().ToString();
  EXPECT_EQ(query->status, 200) << query->body;
  EXPECT_EQ(query->body, "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{"
                         "\"__name__\":\"gpu_temp_celsius\",\"gpu\":\"1\"},\"value\":[" +
                             std::to_string(last_s) + ",\"61\"]}]}}");
  // While it runs, importing into the same directory is refused.
  r = RunCommand({TYTO_BINARY, "tsdb", "import", file, "--data-dir", dir.Path("data")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("stop the server before importing"), std::string::npos) << r.err;
  server.Signal(SIGTERM);
  EXPECT_EQ(server.Wait(std::chrono::seconds(30)), 0);

  // Importing the same hours again would shadow stored data: refused, nothing written.
  r = RunCommand({TYTO_BINARY, "tsdb", "import", file, "--data-dir", dir.Path("data")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("overlap block"), std::string::npos) << r.err;
}

TEST(TsdbImportTest, OneSeriesHoweverItsLabelsAreWritten) {
  testing::TempDir dir;
  std::string file = dir.Path("order.prom");
  std::ofstream(file) << "x{a=\"1\",b=\"2\"} 1 1735689600000\n"
                         "x{b=\"2\",a=\"1\"} 2 1735689660000\n"
                         "x{ a=\"1\", b=\"2\" , c=\"\"} 3 1735689720000\n";
  CommandResult r = RunCommand({TYTO_BINARY, "tsdb", "import", "--prometheus-text", file, "--data-dir", dir.Path("data")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "imported 3 samples of 1 series into 1 blocks, compacted into 1, in " + dir.Path("data") + "\n");
}

TEST(TsdbImportTest, BadInputNamesTheLine) {
  testing::TempDir dir;
  std::string file = dir.Path("bad.om");
  std::ofstream(file) << "# TYPE x gauge\nx 1 1735689600\nx 2\n# EOF\n";
  CommandResult r = RunCommand({TYTO_BINARY, "tsdb", "import", file, "--data-dir", dir.Path("data")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("line 3: sample without a timestamp"), std::string::npos) << r.err;
  std::ofstream(file, std::ios::trunc) << "# TYPE x gauge\nx{a=\"1} 1 1\n# EOF\n";
  r = RunCommand({TYTO_BINARY, "tsdb", "import", file, "--data-dir", dir.Path("data")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("line 2"), std::string::npos) << r.err;
  r = RunCommand({TYTO_BINARY, "tsdb", "import", dir.Path("missing.om"), "--data-dir", dir.Path("data")});
  EXPECT_EQ(r.exit_code, 1);
}

}  // namespace
}  // namespace tyto::e2e
