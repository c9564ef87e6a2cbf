// The fan-out against in-process remote-write receivers (fake_remote_store.h): every committed
// sample reaches every destination once, after its relabeling, through outages and restarts.
#include "remote/fanout.h"

#include <gtest/gtest.h>

#include "config/schema.h"
#include "instrumentation/metrics.h"
#include "remote/fake_remote_store.h"
#include "remote/tee_storage.h"
#include "testing/fault_injection_env.h"
#include "testing/temp_dir.h"

namespace tyto::remote {
namespace {

using namespace std::chrono_literals;
using test::Eventually;
using test::FakeRemoteStore;

RemoteWriteConfig Destination(const std::string& url, const std::string& name = "") {
  RemoteWriteConfig c;
  c.url = url;
  c.name = name;
  c.queue_config.batch_send_deadline = 10ms;
  c.queue_config.min_backoff = 5ms;
  c.queue_config.max_backoff = 50ms;
  c.queue_config.max_samples_per_send = 50;
  return c;
}

// Appends `series` x `per_series` samples, `per_commit` samples a commit.
void Write(Storage* s, int series, int per_series, int64_t t0) {
  auto app = s->NewAppender();
  for (int k = 0; k < per_series; ++k) {
    for (int i = 0; i < series; ++i) {
      const Labels l = Labels::Of({"__name__", i % 2 == 0 ? "gpu_util" : "gpu_temp", "gpu", std::to_string(i)});
      ASSERT_TRUE(app->Append(0, l, t0 + k * 1000, k).ok());
    }
    ASSERT_TRUE(app->Commit().ok());
  }
}

class FanoutTest : public ::testing::Test {
 protected:
  FanoutTest() { env_.SkipSyncs(true); }
  // The registry takes one Fanout; a test that opens a second passes null (its own).
  Result<std::unique_ptr<Fanout>> Open(const std::vector<RemoteWriteConfig>& configs, bool own_registry = false) {
    return Fanout::Open(&env_, nullptr, dir_.path(), configs, own_registry ? nullptr : &registry_);
  }
  tyto::testing::FaultInjectionEnv env_{Env::Default()};
  tyto::testing::TempDir dir_;
  instrumentation::Registry registry_;
};

TEST_F(FanoutTest, EverySampleReachesEveryDestinationAfterItsRelabeling) {
  FakeRemoteStore a, b;
  RemoteWriteConfig ca = Destination(a.write_url(), "a");
  ca.headers = {{"X-Scope-OrgID", "fleet-1"}};
  ca.authorization.credentials = "s3cret";
  RemoteWriteConfig cb = Destination(b.write_url());
  relabel::Config drop_temp;
  drop_temp.source_labels = {"__name__"};
  drop_temp.regex = "gpu_temp";
  drop_temp.action = "drop";
  relabel::Config add;
  add.target_label = "cluster";
  add.replacement = "eu-1";
  cb.write_relabel_configs = {drop_temp, add};
  auto f = Open({ca, cb});
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  (*f)->Start();
  Write(f->get(), 10, 30, 1'000'000);

  ASSERT_TRUE(Eventually([&] { return a.accepted_samples() >= 300 && b.accepted_samples() >= 150; }));
  std::this_thread::sleep_for(50ms);  // nothing more arrives
  EXPECT_EQ(a.accepted_samples(), 300u);
  EXPECT_EQ(b.accepted_samples(), 150u);
  EXPECT_EQ(a.problems(), "");
  auto sa = a.series();
  ASSERT_EQ(sa.size(), 10u);
  for (const auto& [name, samples] : sa) {
    ASSERT_EQ(samples.size(), 30u) << name;
    for (size_t k = 0; k < samples.size(); ++k) EXPECT_EQ(samples[k].t, 1'000'000 + static_cast<int64_t>(k) * 1000);
  }
  auto sb = b.series();
  ASSERT_EQ(sb.size(), 5u);
  EXPECT_EQ(sb.count(R"(gpu_util{cluster="eu-1", gpu="0"})"), 1u);
  for (const auto& seen : a.seen()) {
    EXPECT_EQ(seen.authorization, "Bearer s3cret");
    EXPECT_EQ(seen.tenant, "fleet-1");
  }
  // The queues live in the data directory, one folder per destination.
  EXPECT_TRUE(env_.FileExists(dir_.Path("remote_write/a/cursor")) || env_.FileExists(dir_.Path("remote_write/a/lock")));
  EXPECT_TRUE(env_.FileExists(dir_.Path("remote_write/" + QueueName(cb) + "/lock")));
  const auto status = (*f)->Destinations();
  ASSERT_EQ(status.size(), 2u);
  EXPECT_EQ(status[0].name, "a");
  ASSERT_TRUE(Eventually([&] { return (*f)->Destinations()[0].sender.sent_samples == 300; }));
  const std::string exposed = registry_.Expose();
  EXPECT_NE(exposed.find("tyto_remote_storage_samples_sent_total{remote_name=\"a\",url=\"" + a.write_url() + "\"} 300"),
            std::string::npos)
      << exposed;
  EXPECT_NE(exposed.find("tyto_remote_storage_samples_in_total{remote_name=\"a\""), std::string::npos);
}

TEST_F(FanoutTest, BuffersOnDiskWhileTheReceiverIsDownAndAcrossARestart) {
  FakeRemoteStore store;
  store.set_write_status(503);
  const auto config = Destination(store.write_url(), "vm");
  {
    auto f = Open({config}, true);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    (*f)->Start();
    Write(f->get(), 4, 25, 5'000'000);
    ASSERT_TRUE(Eventually([&] { return (*f)->Destinations()[0].sender.retries >= 3; }));
    EXPECT_EQ(store.accepted_samples(), 0u);
  }  // the server stops with everything still queued
  store.set_write_status(204);
  {
    auto f = Open({config}, true);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    EXPECT_EQ((*f)->Destinations()[0].queue.unread_samples, 100u);
    (*f)->Start();
    Write(f->get(), 4, 5, 6'000'000);
    ASSERT_TRUE(Eventually([&] { return store.accepted_samples() >= 120; }));
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(store.accepted_samples(), 120u);
    for (const auto& [name, samples] : store.series()) EXPECT_EQ(samples.size(), 30u) << name;
  }
}

TEST_F(FanoutTest, RejectsLabelsNoReceiverTakes) {
  FakeRemoteStore store;
  auto f = Open({Destination(store.write_url())});
  ASSERT_TRUE(f.ok());
  auto app = (*f)->NewAppender();
  EXPECT_EQ(app->Append(0, Labels(), 1, 1).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(app->Append(0, Labels::Of({"job", "x"}), 1, 1).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*f)->NewQuerier(0, 1).status().code(), StatusCode::kUnimplemented);
}

TEST_F(FanoutTest, AQueueWriteFailureIsReturnedAndCounted) {
  FakeRemoteStore store;
  auto f = Open({Destination(store.write_url(), "d")});
  ASSERT_TRUE(f.ok());
  env_.FailAll(true);
  auto app = (*f)->NewAppender();
  ASSERT_TRUE(app->Append(0, Labels::Of({"__name__", "up"}), 1, 1).ok());
  Status s = app->Commit();
  env_.FailAll(false);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("remote_write d"), std::string::npos) << s.ToString();
  EXPECT_NE(registry_.Expose().find("tyto_remote_storage_samples_dropped_total{reason=\"write_failed\",remote_name=\"d\""),
            std::string::npos);
}

TEST_F(FanoutTest, TeeOverFanoutForwardsWhatTheServerKeeps) {
  FakeRemoteStore store;
  auto f = Open({Destination(store.write_url())});
  ASSERT_TRUE(f.ok());
  (*f)->Start();
  // A write-only primary that accepts everything stands in for the server's storage here; the
  // tee's own semantics are tested in tee_storage_test.cc.
  class Sink final : public Storage {
    class App final : public Appender {
      Result<SeriesRef> Append(SeriesRef, const Labels&, int64_t, double) override { return SeriesRef{1}; }
      Status Commit() override { return Status::Ok(); }
      void Rollback() override {}
    };
    std::unique_ptr<Appender> NewAppender() override { return std::make_unique<App>(); }
    Result<std::unique_ptr<Querier>> NewQuerier(int64_t, int64_t) override { return Internal("none"); }
  } sink;
  TeeStorage tee(&sink, f->get());
  Write(&tee, 3, 7, 1000);
  ASSERT_TRUE(Eventually([&] { return store.accepted_samples() >= 21; }));
  EXPECT_EQ(store.accepted_samples(), 21u);
}

TEST_F(FanoutTest, ConfigurationErrors) {
  EXPECT_FALSE(Open({Destination("http://127.0.0.1:1/w", "x"), Destination("http://127.0.0.1:2/w", "x")}, true).ok());
  EXPECT_FALSE(Open({Destination("ftp://127.0.0.1:1/w")}, true).ok());
  RemoteWriteConfig bad = Destination("http://127.0.0.1:1/w");
  bad.headers = {{"Content-Type", "text/plain"}};
  EXPECT_FALSE(Open({bad}, true).ok());
}

}  // namespace
}  // namespace tyto::remote
