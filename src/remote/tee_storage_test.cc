#include "remote/tee_storage.h"

#include <gtest/gtest.h>

#include <map>

#include "testing/temp_dir.h"
#include "tsdb/head.h"

namespace tyto::remote {
namespace {

// A secondary that keeps what is committed, and can be told to fail its commits.
class MemoryStorage final : public Storage {
 public:
  class App final : public Appender {
   public:
    explicit App(MemoryStorage* s) : s_(s) {}
    Result<SeriesRef> Append(SeriesRef, const Labels& l, int64_t t, double v) override {
      if (l.MetricName().empty()) return InvalidArgument("no metric name");
      pending_[l.ToString()].push_back({t, v});
      return SeriesRef{7};
    }
    Status Commit() override {
      if (s_->fail_commits) {
        pending_.clear();
        return IOError("disk full");
      }
      for (auto& [k, v] : pending_) s_->committed[k].insert(s_->committed[k].end(), v.begin(), v.end());
      pending_.clear();
      return Status::Ok();
    }
    void Rollback() override {
      pending_.clear();
      ++s_->rollbacks;
    }

   private:
    MemoryStorage* s_;
    std::map<std::string, std::vector<Sample>> pending_;
  };
  std::unique_ptr<Appender> NewAppender() override { return std::make_unique<App>(this); }
  Result<std::unique_ptr<Querier>> NewQuerier(int64_t, int64_t) override {
    return Status(StatusCode::kUnimplemented, "write-only");
  }
  std::map<std::string, std::vector<Sample>> committed;
  bool fail_commits = false;
  int rollbacks = 0;
};

// A primary whose commits fail.
class FailingStorage final : public Storage {
 public:
  class App final : public Appender {
   public:
    Result<SeriesRef> Append(SeriesRef, const Labels&, int64_t, double) override { return SeriesRef{1}; }
    Status Commit() override { return IOError("wal write failed"); }
    void Rollback() override {}
  };
  std::unique_ptr<Appender> NewAppender() override { return std::make_unique<App>(); }
  Result<std::unique_ptr<Querier>> NewQuerier(int64_t, int64_t) override { return Internal("unused"); }
};

class TeeStorageTest : public ::testing::Test {
 protected:
  TeeStorageTest() {
    tsdb::HeadOptions o;
    o.out_of_order_window = std::chrono::milliseconds(0);
    head_ = std::move(tsdb::Head::Open(Env::Default(), dir_.Path("wal"), o, nullptr)).value();
  }
  // The primary's samples of `selector`'s series, "t:v " each.
  std::string Read(const Labels& series) {
    auto q = head_->NewQuerier(0, 1'000'000);
    EXPECT_TRUE(q.ok());
    std::vector<Matcher> ms;
    for (const Label& l : series) ms.push_back(Matcher::Make(MatchType::kEqual, l.name, l.value).value());
    auto set = (*q)->Select(ms);
    std::string out;
    while (set->Next()) {
      auto it = set->Iterator();
      while (it->Next()) out += std::to_string(it->At().t) + ":" + std::to_string(static_cast<int>(it->At().v)) + " ";
    }
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<tsdb::Head> head_;
  MemoryStorage secondary_;
};

TEST_F(TeeStorageTest, CommittedSamplesReachBoth) {
  TeeStorage tee(head_.get(), &secondary_);
  const Labels up = Labels::Of({"__name__", "up", "job", "node"});
  auto app = tee.NewAppender();
  auto ref = app->Append(0, up, 1000, 1);
  ASSERT_TRUE(ref.ok());
  EXPECT_NE(*ref, 7u);  // the primary's ref
  ASSERT_TRUE(app->Append(*ref, up, 2000, 2).ok());
  EXPECT_TRUE(secondary_.committed.empty());  // nothing before Commit
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_EQ(Read(up), "1000:1 2000:2 ");
  ASSERT_EQ(secondary_.committed.count(up.ToString()), 1u);
  EXPECT_EQ(secondary_.committed[up.ToString()].size(), 2u);
  // Queries read the primary.
  auto q = tee.NewQuerier(0, 5000);
  ASSERT_TRUE(q.ok());
  auto names = (*q)->LabelValues("job", {});
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, std::vector<std::string>{"node"});
}

TEST_F(TeeStorageTest, SamplesThePrimaryRefusesAreNotForwarded) {
  TeeStorage tee(head_.get(), &secondary_);
  const Labels up = Labels::Of({"__name__", "up"});
  auto app = tee.NewAppender();
  ASSERT_TRUE(app->Append(0, up, 5000, 1).ok());
  ASSERT_TRUE(app->Commit().ok());
  auto old = app->Append(0, up, 1000, 9);  // out of order for the primary
  EXPECT_EQ(old.status().code(), StatusCode::kOutOfOrderSample);
  ASSERT_TRUE(app->Append(0, up, 6000, 2).ok());
  ASSERT_TRUE(app->Commit().ok());
  ASSERT_EQ(secondary_.committed[up.ToString()].size(), 2u);
  EXPECT_EQ(secondary_.committed[up.ToString()][0].t, 5000);
  EXPECT_EQ(secondary_.committed[up.ToString()][1].t, 6000);
}

TEST_F(TeeStorageTest, APrimaryCommitFailureDiscardsTheSecondarysSamples) {
  FailingStorage primary;
  TeeStorage tee(&primary, &secondary_);
  auto app = tee.NewAppender();
  ASSERT_TRUE(app->Append(0, Labels::Of({"__name__", "up"}), 1000, 1).ok());
  Status s = app->Commit();
  EXPECT_EQ(s.code(), StatusCode::kIOError);
  EXPECT_TRUE(secondary_.committed.empty());
  EXPECT_EQ(secondary_.rollbacks, 1);
}

TEST_F(TeeStorageTest, ASecondaryFailureDoesNotFailTheCommit) {
  secondary_.fail_commits = true;
  TeeStorage tee(head_.get(), &secondary_);
  auto app = tee.NewAppender();
  const Labels up = Labels::Of({"__name__", "up"});
  ASSERT_TRUE(app->Append(0, up, 1000, 1).ok());
  EXPECT_TRUE(app->Commit().ok());
  EXPECT_EQ(Read(up), "1000:1 ");
  EXPECT_TRUE(secondary_.committed.empty());
}

TEST_F(TeeStorageTest, RollbackDiscardsBoth) {
  TeeStorage tee(head_.get(), &secondary_);
  auto app = tee.NewAppender();
  const Labels up = Labels::Of({"__name__", "up"});
  ASSERT_TRUE(app->Append(0, up, 1000, 1).ok());
  app->Rollback();
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_EQ(Read(up), "");
  EXPECT_TRUE(secondary_.committed.empty());
}

}  // namespace
}  // namespace tyto::remote
