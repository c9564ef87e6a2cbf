// The Sender against an in-process remote-write receiver on 127.0.0.1 (a free port), which
// decodes each request with the production decoder and records what it accepted.
#include "forward/sender.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <thread>

#include "forward/queue_storage.h"
#include "http/server.h"
#include "testing/fault_injection_env.h"
#include "testing/remote_write_receiver.h"
#include "testing/temp_dir.h"

namespace tyto::forward {
namespace {

using namespace std::chrono_literals;

// Polls `done` every few milliseconds, for at most 30 seconds; returns its last value.
bool Eventually(const std::function<bool()>& done) {
  for (int i = 0; i < 6000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return done();
}

class Receiver {
 public:
  // Decides the status of each request (numbered from 0) before it is decoded; 2xx records it.
  using Policy = std::function<int(int request)>;

  Receiver() {
    server_ = std::make_unique<http::Server>([this](http::Request& r) { return Handle(r); }, &registry_, 2);
    EXPECT_TRUE(server_->Listen({"127.0.0.1", 0}).ok());
    port_ = server_->port();
    server_->Start();
  }
  ~Receiver() { Shutdown(); }
  void Shutdown() {
    if (server_ != nullptr) server_->Shutdown(1s);
    server_.reset();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/api/v1/write"; }
  void set_policy(Policy p) {
    MutexLock lock(&mu_);
    policy_ = std::move(p);
  }
  // Samples accepted, per series ("up{job=node}" as Labels::ToString), in arrival order.
  std::map<std::string, std::vector<Sample>> series() {
    MutexLock lock(&mu_);
    return series_;
  }
  uint64_t accepted_samples() {
    MutexLock lock(&mu_);
    return accepted_;
  }
  int requests() {
    MutexLock lock(&mu_);
    return requests_;
  }
  std::string last_authorization() {
    MutexLock lock(&mu_);
    return authorization_;
  }
  std::string problems() {
    MutexLock lock(&mu_);
    return problems_;
  }

 private:
  http::Response Handle(http::Request& r) {
    Policy policy;
    int n = 0;
    {
      MutexLock lock(&mu_);
      n = requests_++;
      policy = policy_;
      authorization_ = std::string(r.Header("Authorization").value_or(""));
      if (r.method != "POST" || r.path != "/api/v1/write" || r.Header("Content-Encoding").value_or("") != "snappy" ||
          r.Header("Content-Type").value_or("") != "application/x-protobuf" ||
          r.Header("X-Prometheus-Remote-Write-Version").value_or("") != "0.1.0") {
        problems_ += "bad request line or headers; ";
      }
    }
    const int status = policy ? policy(n) : 204;
    if (status / 100 != 2) return http::Response::Text(status, "refused by the test policy");
    MutexLock lock(&mu_);
    if (Status s = tyto::testing::RecordRemoteWrite(r.body, &series_, &accepted_, &problems_); !s.ok()) {
      problems_ += s.ToString() + "; ";
      return http::Response::Text(400, s.ToString());
    }
    return http::Response::Text(status, "");
  }

  instrumentation::Registry registry_;
  std::unique_ptr<http::Server> server_;
  uint16_t port_ = 0;
  Mutex mu_;
  Policy policy_ GUARDED_BY(mu_);
  int requests_ GUARDED_BY(mu_) = 0;
  uint64_t accepted_ GUARDED_BY(mu_) = 0;
  std::map<std::string, std::vector<Sample>> series_ GUARDED_BY(mu_);
  std::string authorization_ GUARDED_BY(mu_);
  std::string problems_ GUARDED_BY(mu_);
};

class SenderTest : public ::testing::Test {
 protected:
  SenderTest() : metrics_(&registry_) {
    env_.SkipSyncs(true);
    OpenQueue();
    options_.shards = 4;
    options_.max_samples_per_send = 100;
    options_.batch_send_deadline = 0ms;
    options_.min_backoff = 1ms;
    options_.max_backoff = 20ms;
  }

  void OpenQueue() {
    DiskQueueOptions o;
    o.max_bytes = 64 << 20;
    o.segment_bytes = 64 << 10;
    queue_ = std::move(DiskQueue::Open(&env_, nullptr, dir_.Path("queue"), o, &metrics_)).value();
    storage_ = std::make_unique<QueueStorage>(queue_.get(), &metrics_);
  }

  std::unique_ptr<Sender> StartSender() {
    options_.url = receiver_.url();
    auto s = Sender::Create(queue_.get(), options_, nullptr, &metrics_);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    (*s)->Start();
    return std::move(s).value();
  }

  // Commits `commits` batches, each with `series` series of `per_series` samples; the
  // timestamps go on from `*t`. Returns the samples committed.
  uint64_t Commit(int commits, int series, int per_series, int64_t* t, const std::string& job = "node") {
    uint64_t n = 0;
    for (int c = 0; c < commits; ++c) {
      auto app = storage_->NewAppender();
      for (int k = 0; k < per_series; ++k, *t += 1000) {
        for (int s = 0; s < series; ++s) {
          EXPECT_TRUE(app->Append(0, Labels::Of({"__name__", "m", "job", job, "s", std::to_string(s)}), *t,
                                  static_cast<double>(*t))
                          .ok());
          ++n;
        }
      }
      EXPECT_TRUE(app->Commit().ok());
    }
    return n;
  }

  // Every series' samples arrived exactly once, in timestamp order.
  void ExpectEachSampleOnce(const std::string& job, uint64_t samples_of_job) {
    uint64_t total = 0;
    for (const auto& [name, samples] : receiver_.series()) {
      if (name.find("job=\"" + job + "\"") == std::string::npos) continue;
      for (size_t i = 1; i < samples.size(); ++i) {
        ASSERT_LT(samples[i - 1].t, samples[i].t) << name << " sample " << i;  // no duplicate, in order
      }
      total += samples.size();
    }
    EXPECT_EQ(total, samples_of_job) << job;
  }

  testing::TempDir dir_;
  testing::FaultInjectionEnv env_{Env::Default()};
  instrumentation::Registry registry_;
  Metrics metrics_;
  std::unique_ptr<DiskQueue> queue_;
  std::unique_ptr<QueueStorage> storage_;
  Receiver receiver_;
  SenderOptions options_;
};

TEST_F(SenderTest, EverySampleArrivesExactlyOnceInOrder) {
  int64_t t = 1'700'000'000'000;
  uint64_t committed = Commit(20, 37, 4, &t);  // 2960 samples, several batches of 400
  auto sender = StartSender();
  committed += Commit(10, 37, 4, &t);  // while it sends
  ASSERT_TRUE(Eventually([&] { return sender->stats().sent_samples == committed; }))
      << sender->stats().sent_samples << " of " << committed;
  ASSERT_TRUE(Eventually([&] { return queue_->Stats().acked == queue_->Stats().read; }));
  sender->Stop();
  ExpectEachSampleOnce("node", committed);
  EXPECT_EQ(receiver_.accepted_samples(), committed);
  EXPECT_EQ(receiver_.problems(), "");
  EXPECT_EQ(queue_->Stats().unread_samples, 0u);
  EXPECT_EQ(sender->stats().retries, 0u);
  EXPECT_GE(receiver_.requests(), static_cast<int>(committed / options_.max_samples_per_send));
  EXPECT_EQ(metrics_.samples_sent.Value(), static_cast<double>(committed));
  EXPECT_EQ(metrics_.highest_sent_timestamp.Value(), static_cast<double>(t - 1000) / 1000.0);
  const std::string exposed = registry_.Expose();
  EXPECT_NE(exposed.find("tyto_agent_samples_sent_total " + std::to_string(committed)), std::string::npos);
  EXPECT_NE(exposed.find("tyto_agent_shards 4"), std::string::npos);
}

TEST_F(SenderTest, ASeriesLongerThanOneRequestIsSplitInOrder) {
  int64_t t = 1000;
  const uint64_t committed = Commit(1, 1, 1050, &t);  // one series, one record, 11 requests
  auto sender = StartSender();
  ASSERT_TRUE(Eventually([&] { return sender->stats().sent_samples == committed; }));
  sender->Stop();
  ExpectEachSampleOnce("node", committed);
  EXPECT_EQ(sender->stats().requests, 11u);
}

TEST_F(SenderTest, RetryableFailuresAreRetriedUntilEverythingArrivesOnce) {
  // 503 and 429 for the first requests, then success.
  receiver_.set_policy([](int n) { return n < 6 ? (n % 2 == 0 ? 503 : 429) : 200; });
  int64_t t = 1000;
  const uint64_t committed = Commit(5, 30, 5, &t);
  auto sender = StartSender();
  ASSERT_TRUE(Eventually([&] { return sender->stats().sent_samples == committed; }));
  sender->Stop();
  ExpectEachSampleOnce("node", committed);
  EXPECT_EQ(sender->stats().retries, 6u);
  EXPECT_EQ(sender->stats().failed_samples, 0u);
  EXPECT_EQ(metrics_.send_retries.Value(), 6);
  EXPECT_GT(metrics_.samples_retried.Value(), 0);
  EXPECT_EQ(queue_->Stats().acked, queue_->Stats().read);
}

TEST_F(SenderTest, ANonRetryableResponseDropsThatRequestCountsItAndMovesOn) {
  std::atomic<bool> reject{true};
  receiver_.set_policy([&](int) { return reject ? 400 : 200; });
  int64_t t = 1000;
  const uint64_t refused = Commit(1, 10, 3, &t, "refused");
  auto sender = StartSender();
  ASSERT_TRUE(Eventually([&] { return sender->stats().failed_samples == refused; }));
  reject = false;
  const uint64_t accepted = Commit(2, 10, 3, &t, "accepted");
  ASSERT_TRUE(Eventually([&] { return sender->stats().sent_samples == accepted; }));
  sender->Stop();
  ExpectEachSampleOnce("refused", 0);
  ExpectEachSampleOnce("accepted", accepted);
  EXPECT_EQ(sender->stats().retries, 0u);
  EXPECT_EQ(metrics_.dropped_rejected.Value(), static_cast<double>(refused));
  EXPECT_NE(registry_.Expose().find("tyto_agent_samples_dropped_total{reason=\"rejected\"} " + std::to_string(refused)),
            std::string::npos);
  EXPECT_EQ(queue_->Stats().acked, queue_->Stats().read);  // the refused batch left the queue too
}

TEST_F(SenderTest, NothingIsSentTwiceAfterARestart) {
  int64_t t = 1000;
  const uint64_t first = Commit(10, 20, 2, &t);
  {
    auto sender = StartSender();
    ASSERT_TRUE(Eventually([&] { return sender->stats().sent_samples == first; }));
    ASSERT_TRUE(Eventually([&] { return queue_->Stats().acked == queue_->Stats().read; }));
  }
  storage_.reset();
  queue_.reset();  // the agent stops
  OpenQueue();     // and starts again
  const uint64_t second = Commit(10, 20, 2, &t);
  auto sender = StartSender();
  ASSERT_TRUE(Eventually([&] { return sender->stats().sent_samples == second; }));
  sender->Stop();
  ExpectEachSampleOnce("node", first + second);
  EXPECT_EQ(receiver_.accepted_samples(), first + second);
}

TEST_F(SenderTest, AnOutageLosesNothingThatFitsInTheQueue) {
  std::atomic<bool> down{true};
  receiver_.set_policy([&](int) { return down ? 503 : 204; });
  int64_t t = 1000;
  auto sender = StartSender();
  uint64_t committed = Commit(5, 20, 2, &t);
  ASSERT_TRUE(Eventually([&] { return sender->stats().retries >= 3; }));
  committed += Commit(20, 20, 2, &t);  // keeps coming during the outage
  down = false;
  ASSERT_TRUE(Eventually([&] { return sender->stats().sent_samples == committed; }));
  sender->Stop();
  ExpectEachSampleOnce("node", committed);
  EXPECT_EQ(queue_->Stats().dropped_samples, 0u);
}

TEST_F(SenderTest, StopIsPromptWhileTheReceiverIsDown) {
  receiver_.Shutdown();                          // connection refused from now on
  options_.min_backoff = std::chrono::hours(1);  // a retry would wait an hour: Stop must cut it short
  options_.max_backoff = std::chrono::hours(1);
  int64_t t = 1000;
  Commit(1, 5, 1, &t);
  auto sender = StartSender();
  ASSERT_TRUE(Eventually([&] { return sender->stats().retries >= 1; }));
  sender->Stop();  // returns (the test's timeout would catch it otherwise)
  EXPECT_EQ(sender->stats().sent_samples, 0u);
  EXPECT_EQ(queue_->Stats().acked, QueuePosition{});  // nothing acknowledged: it is sent after a restart
}

TEST_F(SenderTest, StopWaitsOnlyTheGraceForARequestThatHangs) {
  // Shared with the handlers: requests still queued in the receiver may reach it after the test.
  struct Gate {
    Mutex mu;
    bool open GUARDED_BY(mu) = false;
    std::condition_variable_any cv;
  };
  auto gate = std::make_shared<Gate>();
  receiver_.set_policy([gate](int) {
    MutexLock lock(&gate->mu);
    while (!gate->open) gate->cv.wait(gate->mu.native());
    return 204;
  });
  options_.stop_grace = 50ms;
  int64_t t = 1000;
  Commit(1, 5, 1, &t);
  auto sender = StartSender();
  ASSERT_TRUE(Eventually([&] { return receiver_.requests() >= 1; }));
  sender->Stop();
  EXPECT_EQ(sender->stats().batches_acked, 0u);
  {
    MutexLock lock(&gate->mu);
    gate->open = true;
  }
  gate->cv.notify_all();
}

TEST_F(SenderTest, SendsCredentials) {
  options_.bearer_token = "s3cret";
  int64_t t = 1000;
  Commit(1, 1, 1, &t);
  {
    auto sender = StartSender();
    ASSERT_TRUE(Eventually([&] { return sender->stats().sent_samples == 1; }));
  }
  EXPECT_EQ(receiver_.last_authorization(), "Bearer s3cret");
  options_.bearer_token.clear();
  options_.basic_auth_username = "agent";
  options_.basic_auth_password = "pw";
  Commit(1, 1, 1, &t);
  auto sender = StartSender();
  ASSERT_TRUE(Eventually([&] { return sender->stats().sent_samples == 1; }));
  EXPECT_EQ(receiver_.last_authorization(), "Basic YWdlbnQ6cHc=");  // base64("agent:pw")
}

TEST_F(SenderTest, CreateRefusesBadOptions) {
  SenderOptions o;
  o.url = "ftp://x/";
  EXPECT_EQ(Sender::Create(queue_.get(), o, nullptr, nullptr).status().code(), StatusCode::kInvalidArgument);
  o.url = "http://127.0.0.1:1/api/v1/write";
  o.shards = 0;
  EXPECT_EQ(Sender::Create(queue_.get(), o, nullptr, nullptr).status().code(), StatusCode::kInvalidArgument);
  o.shards = 4;
  o.bearer_token = "t";
  o.basic_auth_username = "u";
  EXPECT_EQ(Sender::Create(queue_.get(), o, nullptr, nullptr).status().code(), StatusCode::kInvalidArgument);
  o.basic_auth_username.clear();
  o.min_backoff = 10s;
  o.max_backoff = 1s;
  EXPECT_EQ(Sender::Create(queue_.get(), o, nullptr, nullptr).status().code(), StatusCode::kInvalidArgument);
  o.max_backoff = 10s;
  EXPECT_TRUE(Sender::Create(queue_.get(), o, nullptr, nullptr).ok());  // never started: destroyed at once
}

}  // namespace
}  // namespace tyto::forward
