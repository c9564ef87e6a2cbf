#include "forward/queue_storage.h"

#include <gtest/gtest.h>

#include "ingest/snappy_codec.h"
#include "ingest/write_request.h"
#include "testing/temp_dir.h"

namespace tyto::forward {
namespace {

class QueueStorageTest : public ::testing::Test {
 protected:
  QueueStorageTest() : metrics_(&registry_) {
    queue_ = std::move(DiskQueue::Open(Env::Default(), nullptr, dir_.Path("queue"), {}, &metrics_)).value();
  }

  // The next record, decoded: "name{labels}=t:v,t:v;" per series.
  std::string NextRecord(uint32_t* samples = nullptr) {
    QueueRecord r;
    auto got = queue_->Read(&r);
    if (!got.ok() || !*got) return "(none)";
    if (samples != nullptr) *samples = r.samples;
    std::string raw;
    EXPECT_TRUE(ingest::SnappyUncompress(r.payload, 1 << 20, &raw).ok());
    ingest::WriteRequest req;
    EXPECT_TRUE(ingest::DecodeWriteRequest(raw, &req).ok());
    std::string out;
    for (size_t i = 0; i < req.series.size(); ++i) {
      EXPECT_TRUE(ingest::CheckSeriesLabels(req, i).ok());
      const auto& s = req.series[i];
      for (uint32_t k = s.labels_begin; k < s.labels_end; ++k) {
        out += std::string(req.labels[k].name) + "=" + std::string(req.labels[k].value) + ",";
      }
      out += " ";
      for (uint32_t k = s.samples_begin; k < s.samples_end; ++k) {
        out += std::to_string(req.samples[k].t) + ":" + std::to_string(static_cast<int>(req.samples[k].v)) + " ";
      }
      out += ";";
    }
    return out;
  }

  testing::TempDir dir_;
  instrumentation::Registry registry_;
  Metrics metrics_;
  std::unique_ptr<DiskQueue> queue_;
};

TEST_F(QueueStorageTest, ACommitIsOneRecordWithItsSeriesGroupedAndSorted) {
  QueueStorage storage(queue_.get(), &metrics_);
  auto app = storage.NewAppender();
  const Labels up = Labels::Of({"job", "node", "__name__", "up"});
  const Labels load = Labels::Of({"__name__", "node_load1", "instance", "a"});
  auto ref = app->Append(0, up, 1000, 1);
  ASSERT_TRUE(ref.ok());
  EXPECT_NE(*ref, 0u);
  ASSERT_TRUE(app->Append(0, load, 1000, 3).ok());
  auto again = app->Append(*ref, up, 2000, 0);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *ref);  // stable
  ASSERT_TRUE(app->Commit().ok());

  uint32_t samples = 0;
  EXPECT_EQ(NextRecord(&samples), "__name__=up,job=node, 1000:1 2000:0 ;__name__=node_load1,instance=a, 1000:3 ;");
  EXPECT_EQ(samples, 3u);
  EXPECT_EQ(NextRecord(), "(none)");
  EXPECT_EQ(metrics_.samples_in.Value(), 3);
  EXPECT_EQ(metrics_.highest_timestamp_in.Value(), 2.0);

  // The appender is reusable; a commit with nothing appended writes nothing.
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_EQ(NextRecord(), "(none)");
  ASSERT_TRUE(app->Append(0, up, 3000, 1).ok());
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_EQ(NextRecord(), "__name__=up,job=node, 3000:1 ;");
}

TEST_F(QueueStorageTest, RollbackDiscardsAndBadLabelsAreRefused) {
  QueueStorage storage(queue_.get(), nullptr);
  auto app = storage.NewAppender();
  ASSERT_TRUE(app->Append(0, Labels::Of({"__name__", "up"}), 1000, 1).ok());
  app->Rollback();
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_EQ(NextRecord(), "(none)");

  EXPECT_EQ(app->Append(0, Labels(), 1000, 1).status().code(), StatusCode::kInvalidArgument);
  auto no_name = app->Append(0, Labels::Of({"job", "node"}), 1000, 1);
  EXPECT_EQ(no_name.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(no_name.status().message().find("no metric name"), std::string::npos);

  auto querier = storage.NewQuerier(0, 1);
  EXPECT_EQ(querier.status().code(), StatusCode::kUnimplemented);
}

TEST_F(QueueStorageTest, AFailedQueueAppendFailsTheCommit) {
  QueueStorage storage(queue_.get(), nullptr);
  auto app = storage.NewAppender();
  ASSERT_TRUE(queue_->Close().ok());
  ASSERT_TRUE(app->Append(0, Labels::Of({"__name__", "up"}), 1000, 1).ok());
  EXPECT_EQ(app->Commit().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace tyto::forward
