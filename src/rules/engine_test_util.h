// A rule manager over a real tsdb::DB in a temporary directory, with a FakeClock and a
// receiver that records what it is sent: the fixture of the rules_engine_test programs.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "alertmanager/alert.h"
#include "common/mutex.h"
#include "instrumentation/metrics.h"
#include "promql/engine.h"
#include "rules/manager.h"
#include "rules/rule_file.h"
#include "testing/fake_clock.h"
#include "testing/temp_dir.h"
#include "tsdb/db.h"
#include "tyto/env.h"

namespace tyto::rules {

class RecordingReceiver final : public alertmanager::AlertReceiver {
 public:
  void Put(const std::vector<alertmanager::Alert>& alerts) override {
    MutexLock l(&mu_);
    batches_.push_back(alerts);
  }
  std::vector<std::vector<alertmanager::Alert>> Take() {
    MutexLock l(&mu_);
    std::vector<std::vector<alertmanager::Alert>> out;
    out.swap(batches_);
    return out;
  }

 private:
  Mutex mu_;
  std::vector<std::vector<alertmanager::Alert>> batches_ GUARDED_BY(mu_);
};

class RulesFixture : public ::testing::Test {
 protected:
  static constexpr int64_t kMinute = 60'000;
  // Aligned to the minute, so times read plainly in tests.
  static constexpr int64_t kT0 = 1'700'000'040'000;

  void SetUp() override { OpenDB(); }
  void TearDown() override {
    if (manager_ != nullptr) manager_->Stop();
  }

  void OpenDB() {
    manager_.reset();
    engine_.reset();
    db_.reset();
    db_registry_ = std::make_unique<instrumentation::Registry>();
    auto db = tsdb::DB::Open(Env::Default(), dir_.Path("data"), tsdb::DBOptions{}, db_registry_.get());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    engine_ = std::make_unique<promql::Engine>(db_.get());
  }

  // A fresh manager (a restart) with `options`, loaded with `yaml` as rules.yml.
  void StartManager(const std::string& yaml, ManagerOptions options = {}) {
    manager_.reset();
    registry_ = std::make_unique<instrumentation::Registry>();
    manager_ = std::make_unique<Manager>(engine_.get(), db_.get(), &clock_, registry_.get(), &receiver_,
                                         std::move(options));
    ASSERT_TRUE(Load(yaml).ok());
  }

  Status Load(const std::string& yaml, const std::string& file = "rules.yml") {
    Result<RuleFile> f = ParseRuleFile(yaml, file);
    EXPECT_TRUE(f.ok()) << f.status().ToString();
    if (!f.ok()) return f.status();
    std::vector<RuleFile> files;
    files.push_back(std::move(f).value());
    return manager_->Update(std::move(files));
  }

  void Write(const Labels& l, int64_t t, double v) {
    auto app = db_->NewAppender();
    ASSERT_TRUE(app->Append(0, l, t, v).ok());
    ASSERT_TRUE(app->Commit().ok());
  }

  void Eval(int64_t t, const std::string& group = "g") {
    ASSERT_TRUE(manager_->EvaluateGroup("rules.yml", group, t).ok());
  }

  // Instant query results as "labels value" lines, sorted.
  std::vector<std::string> Query(const std::string& q, int64_t t) {
    auto r = engine_->Instant(q, t);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::string> out;
    if (!r.ok()) return out;
    for (const auto& e : r->vector) out.push_back(e.metric.ToString() + " " + instrumentation::FormatValue(e.v));
    std::sort(out.begin(), out.end());
    return out;
  }

  // Every stored sample of `series`, as "t=v" with t in seconds from kT0 and "stale" for a
  // staleness marker.
  std::vector<std::string> Raw(const Labels& series) {
    std::vector<std::string> out;
    for (const Sample& s : RawSamples(series)) {
      out.push_back(std::to_string((s.t - kT0) / 1000) + "=" +
                    (IsStaleMarker(s.v) ? std::string("stale") : instrumentation::FormatValue(s.v)));
    }
    return out;
  }

  std::vector<Sample> RawSamples(const Labels& series) {
    std::vector<Sample> out;
    auto q = db_->NewQuerier(0, INT64_MAX);
    EXPECT_TRUE(q.ok());
    if (!q.ok()) return out;
    std::vector<Matcher> matchers;
    for (const Label& l : series) matchers.push_back(Matcher::Make(MatchType::kEqual, l.name, l.value).value());
    auto set = (*q)->Select(matchers);
    while (set->Next()) {
      if (!(set->labels() == series)) continue;
      auto it = set->Iterator();
      while (it->Next()) out.push_back(it->At());
    }
    return out;
  }

  const api::Rule& RuleAt(const std::vector<api::RuleGroup>& groups, size_t g, size_t r) {
    static const api::Rule kNone;
    if (g >= groups.size() || r >= groups[g].rules.size()) {
      ADD_FAILURE() << "no rule " << g << "/" << r;
      return kNone;
    }
    return groups[g].rules[r];
  }

  testing::TempDir dir_;
  testing::FakeClock clock_{kT0};
  std::unique_ptr<instrumentation::Registry> db_registry_;
  std::unique_ptr<tsdb::DB> db_;
  std::unique_ptr<promql::Engine> engine_;
  std::unique_ptr<instrumentation::Registry> registry_;
  RecordingReceiver receiver_;
  std::unique_ptr<Manager> manager_;
};

}  // namespace tyto::rules
