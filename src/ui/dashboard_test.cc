// The dashboard validator, Grafana variable replacement, the store's sources and precedence,
// and every built-in dashboard of dashboards/ (which must validate with no warnings).
#include "ui/dashboard.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <fstream>
#include <sstream>

#include "testing/fault_injection_env.h"
#include "testing/temp_dir.h"
#include "ui/dashboard_store.h"
#include "ui/embedded.h"

namespace tyto::ui {
namespace {

std::string Dash(const std::string& panels, const std::string& extra = "") {
  return R"({"title":"GPU fleet",)" + extra + R"("panels":)" + panels + "}";
}

TEST(DashboardTest, AcceptsGrafanasModelAndTytoPanels) {
  auto v = ValidateDashboard(R"j({
    "uid": "gpu-fleet", "title": "GPU fleet", "tags": ["gpu", "fleet"],
    "time": {"from": "now-1h", "to": "now"}, "refresh": "30s",
    "templating": {"list": [{"name": "node", "type": "query", "query": "label_values(up, instance)"}]},
    "annotations": {"list": [{"name": "deploys", "expr": "changes(tyto_deployment_info[$__interval])"}]},
    "panels": [
      {"id": 1, "type": "timeseries", "title": "Utilization", "gridPos": {"x": 0, "y": 0, "w": 12, "h": 8},
       "targets": [{"refId": "A", "expr": "avg by (Hostname) (rate(DCGM_FI_DEV_GPU_UTIL{Hostname=~\"$node\"}[$__rate_interval]))", "legendFormat": "{{Hostname}}"}]},
      {"id": 2, "type": "row", "title": "More", "panels": [
        {"id": 3, "type": "tyto-gpu-heatmap", "targets": [{"expr": "topk($n, up offset $shift)"}]},
        {"id": 4, "type": "some-plugin-panel"}]}
    ]})j");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_TRUE(v->warnings.empty()) << v->warnings[0];
  EXPECT_EQ(v->dashboard.uid, "gpu-fleet");
  EXPECT_EQ(v->dashboard.title, "GPU fleet");
  EXPECT_EQ(v->dashboard.tags, (std::vector<std::string>{"gpu", "fleet"}));
  EXPECT_FALSE(v->overwrite);
  EXPECT_EQ(v->dashboard.json.find('\n'), std::string::npos);  // compact
}

TEST(DashboardTest, ErrorsNameThePlace) {
  auto err = [](const std::string& text) {
    auto v = ValidateDashboard(text);
    EXPECT_FALSE(v.ok()) << text;
    return v.ok() ? std::string() : v.status().message();
  };
  EXPECT_EQ(err("{\n  \"title\": \"x\",\n  \"panels\": [}\n"), "invalid JSON at line 3, column 14 (byte 31): Invalid value.");
  EXPECT_NE(err("[1]").find("expected a dashboard object"), std::string::npos);
  EXPECT_EQ(err(R"({"panels":[]})"), "title: missing (a dashboard needs a title)");
  EXPECT_EQ(err(R"({"title":"  ","panels":[]})"), "title: must not be empty");
  EXPECT_EQ(err(R"({"title":"t"})"), "panels: missing (an array of panels)");
  EXPECT_EQ(err(Dash("{}")), "panels: expected an array of panels, got an object");
  EXPECT_EQ(err(Dash("[{\"type\":\"stat\"},{\"type\":\"stat\"},{\"type\":\"stat\"},{\"title\":\"x\"}]")),
            "panels[3].type: missing (every panel has a type: timeseries, stat, row, ...)");
  EXPECT_EQ(err(Dash(R"([{"type":"row","panels":[{"type":"stat","targets":[{"expr":5}]}]}])")),
            "panels[0].panels[0].targets[0].expr: expected a string, got a number");
  EXPECT_EQ(err(Dash(R"([{"type":"stat","targets":{"expr":"up"}}])")), "panels[0].targets: expected an array, got an object");
  EXPECT_EQ(err(Dash("[]", R"("uid":"../etc",)")),
            "uid: '../etc' is not a valid uid (1 to 64 letters, digits, '-' or '_')");
  EXPECT_EQ(err(Dash("[]", R"("tags":["a",1],)")), "tags[1]: expected a string, got a number");
  EXPECT_EQ(err(R"({"dashboard":{"title":"t","panels":[3]},"overwrite":true})"),
            "dashboard.panels[0]: expected a panel object, got a number");
  EXPECT_EQ(err(R"({"dashboard":{"title":"t","panels":[]},"overwrite":"yes"})"),
            "overwrite: expected true or false, got a string");
  EXPECT_NE(err(std::string(70, '[') + std::string(70, ']')).find("expected a dashboard object"), std::string::npos);
  EXPECT_NE(err("{\"a\":" + std::string(100, '[') + std::string(100, ']') + "}").find("nested deeper than 64"),
            std::string::npos);
  EXPECT_NE(err(std::string(kMaxDashboardBytes + 1, ' ')).find("more than the limit"), std::string::npos);
  EXPECT_NE(err("{\"title\":\"\xff\",\"panels\":[]}").find("invalid JSON"), std::string::npos);
}

TEST(DashboardTest, QueriesThatDoNotParseAreWarnings) {
  auto v = ValidateDashboard(Dash(R"j([
    {"type":"timeseries","title":"Latency","targets":[{"refId":"A","expr":"up"},{"refId":"B","expr":"rate(x[5m]"}]},
    {"type":"timeseries","datasource":{"type":"loki","uid":"l"},"targets":[{"expr":"{job=\"x\"} |= \"error\""}]},
    {"type":"timeseries","targets":[{"expr":"sum(rate(x[$__rate_interval])) by ($group)"}]}])j"));
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  ASSERT_EQ(v->warnings.size(), 1u);
  EXPECT_NE(v->warnings[0].find("panels[0].targets[1].expr (panel \"Latency\", refId B): does not parse as PromQL"),
            std::string::npos)
      << v->warnings[0];
}

TEST(DashboardTest, ImportWrapperIsUnwrapped) {
  auto v = ValidateDashboard(R"({"dashboard":{"title":"T","panels":[],"uid":"t1"},"overwrite":true,"folderId":0})");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_TRUE(v->overwrite);
  EXPECT_EQ(v->dashboard.uid, "t1");
  EXPECT_EQ(v->dashboard.json, R"({"title":"T","panels":[],"uid":"t1"})");
}

TEST(DashboardTest, ReplacesGrafanaVariables) {
  EXPECT_EQ(ReplaceGrafanaVariables("rate(x{a=\"$a\",b=~\"${b:regex}\"}[$__rate_interval])"),
            "rate(x{a=\"x\",b=~\"x\"}[5m])");
  EXPECT_EQ(ReplaceGrafanaVariables("x[$w] offset $o"), "x[5m] offset 5m");
  EXPECT_EQ(ReplaceGrafanaVariables("x[[[w]]]"), "x[5m]");
  EXPECT_EQ(ReplaceGrafanaVariables("topk($n, x) / $__range_s + $__interval_ms"), "topk(x, x) / 3600 + 60000");
  EXPECT_EQ(ReplaceGrafanaVariables("topk($n, x)", "1"), "topk(1, x)");
  EXPECT_EQ(ReplaceGrafanaVariables("x{a=\"\\\"$v\"}"), "x{a=\"\\\"x\"}");
  EXPECT_EQ(ReplaceGrafanaVariables("x[1m:$step]"), "x[1m:5m]");
  EXPECT_EQ(ReplaceGrafanaVariables("cost $ 5 ${unclosed"), "cost $ 5 ${unclosed");
}

TEST(DashboardTest, Slugs) {
  EXPECT_EQ(Slugify("GPU Fleet — Overview!"), "gpu-fleet-overview");
  EXPECT_EQ(Slugify("***"), "dashboard");
  EXPECT_EQ(Slugify(std::string(100, 'a')).size(), 40u);
  EXPECT_TRUE(ValidUid("gpu-fleet_2"));
  EXPECT_FALSE(ValidUid(""));
  EXPECT_FALSE(ValidUid("a/b"));
  EXPECT_FALSE(ValidUid("a.json"));
  EXPECT_FALSE(ValidUid(std::string(65, 'a')));
}

class StoreTest : public ::testing::Test {
 protected:
  Env* env_ = Env::Default();
  testing::TempDir tmp_;
  std::string dir_ = tmp_.path() + "/ui/dashboards";
};

TEST_F(StoreTest, ImportGivesUidsAndSurvivesReopening) {
  DashboardStore store(env_, dir_);
  ASSERT_TRUE(store.Open().ok());
  auto a = store.Import(Dash("[]"));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->uid, "gpu-fleet");
  auto b = store.Import(Dash("[]"));
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->uid, "gpu-fleet-2");
  // The same uid again: only with overwrite.
  auto again = store.Import(Dash("[]", R"("uid":"gpu-fleet",)"));
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(store.Import(R"({"dashboard":)" + Dash("[]", R"("uid":"gpu-fleet",)") + R"(,"overwrite":true})").ok());
  EXPECT_TRUE(env_->FileExists(dir_ + "/gpu-fleet.json"));

  DashboardStore reopened(env_, dir_);
  ASSERT_TRUE(reopened.Open().ok());
  auto list = reopened.List();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].uid, "gpu-fleet");
  EXPECT_EQ(list[0].source, DashboardSource::kImported);
  auto json = reopened.Get("gpu-fleet-2");
  ASSERT_TRUE(json.has_value());
  EXPECT_NE(json->find("\"uid\":\"gpu-fleet-2\""), std::string::npos) << *json;
  EXPECT_TRUE(reopened.Delete("gpu-fleet-2").ok());
  EXPECT_FALSE(env_->FileExists(dir_ + "/gpu-fleet-2.json"));
  EXPECT_EQ(reopened.Delete("gpu-fleet-2").code(), StatusCode::kNotFound);
}

TEST_F(StoreTest, ImportedWinsOverFileOverBuiltin) {
  DashboardStore store(env_, dir_);
  store.SetBuiltin({{"d", "Builtin", {}, R"({"uid":"d","title":"Builtin","panels":[]})"},
                    {"b", "Only builtin", {}, R"({"uid":"b","title":"Only builtin","panels":[]})"}});
  store.SetFiles({{"d", "File", {}, R"({"uid":"d","title":"File","panels":[]})"}});
  auto list = store.List();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].title, "File");
  EXPECT_EQ(list[0].source, DashboardSource::kFile);
  EXPECT_EQ(list[1].source, DashboardSource::kBuiltin);
  EXPECT_EQ(store.Delete("d").code(), StatusCode::kInvalidArgument);
  auto imported = store.Import(R"({"uid":"d","title":"Mine","panels":[]})");
  ASSERT_TRUE(imported.ok());
  ASSERT_EQ(imported->warnings.size(), 1u);
  EXPECT_NE(imported->warnings[0].find("replaces the file dashboard"), std::string::npos);
  EXPECT_NE(store.Get("d")->find("Mine"), std::string::npos);
  EXPECT_EQ(store.List()[0].source, DashboardSource::kImported);
  ASSERT_TRUE(store.Delete("d").ok());
  EXPECT_NE(store.Get("d")->find("File"), std::string::npos);
  // A uid made from a title skips those of every source.
  auto slug = store.Import(R"({"title":"B","panels":[]})");
  ASSERT_TRUE(slug.ok());
  EXPECT_EQ(slug->uid, "b-2");
}

TEST_F(StoreTest, BadImportedFileIsSkippedAtOpen) {
  ASSERT_TRUE(env_->CreateDirs(dir_).ok());
  ASSERT_TRUE(WriteFileAtomically(env_, dir_ + "/bad.json", "{nope").ok());
  ASSERT_TRUE(WriteFileAtomically(env_, dir_ + "/good.json", R"({"uid":"good","title":"G","panels":[]})").ok());
  DashboardStore store(env_, dir_);
  ASSERT_TRUE(store.Open().ok());
  ASSERT_EQ(store.List().size(), 1u);
  EXPECT_EQ(store.List()[0].uid, "good");
}

TEST_F(StoreTest, FailedWriteChangesNothing) {
  testing::FaultInjectionEnv faulty(env_);
  DashboardStore store(&faulty, dir_);
  ASSERT_TRUE(store.Open().ok());
  faulty.FailSyncs(true);
  EXPECT_FALSE(store.Import(Dash("[]")).ok());
  EXPECT_TRUE(store.List().empty());
}

TEST_F(StoreTest, FilesOfUiDashboards) {
  ASSERT_TRUE(env_->CreateDirs(tmp_.path() + "/d").ok());
  ASSERT_TRUE(WriteFileAtomically(env_, tmp_.path() + "/d/a.json", R"({"title":"A b","panels":[]})").ok());
  ASSERT_TRUE(WriteFileAtomically(env_, tmp_.path() + "/d/c.json", R"({"uid":"x","title":"C","panels":[]})").ok());
  auto loaded = LoadDashboardFiles({tmp_.path() + "/d/*.json"}, env_);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  ASSERT_EQ(loaded->size(), 2u);
  EXPECT_EQ((*loaded)[0].uid, "a-b");
  ASSERT_TRUE(WriteFileAtomically(env_, tmp_.path() + "/d/e.json", R"({"uid":"x","title":"E","panels":{}})").ok());
  auto bad = LoadDashboardFiles({tmp_.path() + "/d/*.json"}, env_);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("e.json: panels: expected an array"), std::string::npos) << bad.status().ToString();
}

// Every dashboard of the repository's dashboards/ folder validates with no warnings, and all of
// them are compiled in (the build embeds what the folder holds).
TEST(BuiltinDashboardsTest, EveryFileValidatesWithoutWarnings) {
  const std::filesystem::path dir = std::filesystem::path(TYTO_SOURCE_DIR) / "dashboards";
  size_t files = 0;
  std::set<std::string> uids;
  if (std::filesystem::exists(dir)) {
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      if (entry.path().extension() != ".json") continue;
      ++files;
      std::ifstream in(entry.path(), std::ios::binary);
      std::stringstream text;
      text << in.rdbuf();
      auto v = ValidateDashboard(text.str());
      ASSERT_TRUE(v.ok()) << entry.path() << ": " << v.status().ToString();
      for (const std::string& w : v->warnings) ADD_FAILURE() << entry.path() << ": " << w;
      EXPECT_FALSE(v->dashboard.uid.empty()) << entry.path() << ": built-in dashboards name their uid";
      EXPECT_TRUE(uids.insert(v->dashboard.uid).second) << entry.path() << ": uid used twice";
    }
  }
  EXPECT_EQ(EmbeddedDashboards().size(), files) << "rebuild: dashboards/ changed since the last build";
  EXPECT_EQ(BuiltinDashboards().size(), files);
}

}  // namespace
}  // namespace tyto::ui
