// Two dispatchers (two servers) sharing one notification log through a MemoryKeyValue.
#include "cluster/shared_notification_log.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <thread>

#include "alertmanager/dispatch.h"
#include "cluster/memory_kv.h"
#include "common/mutex.h"
#include "testing/fake_clock.h"

namespace tyto::cluster {
namespace {

using alertmanager::Alert;
using alertmanager::ClaimOutcome;
using alertmanager::DeliveryResult;
using alertmanager::Dispatcher;
using alertmanager::DispatcherOptions;
using alertmanager::Integration;
using alertmanager::Notification;
using alertmanager::NotificationClaimRequest;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

// The receiver both servers send to: counts what it got. A delivery can be held (the sending
// server "dies" inside it) until the test lets it go.
class Receiver {
 public:
  DeliveryResult Deliver(const std::string& node, const Notification& n) {
    MutexLock l(&mu_);
    if (hold_node_ == node) {
      held_ = true;
      cv_.notify_all();
      cv_.wait(mu_.native(), [this]() NO_THREAD_SAFETY_ANALYSIS { return !hold_node_.has_value(); });
      // The server died mid-send: nothing reached the receiver.
      return {Unavailable("connection reset"), true};
    }
    received_.push_back({node, n});
    return {};
  }
  void HoldDeliveriesOf(const std::string& node) {
    MutexLock l(&mu_);
    hold_node_ = node;
  }
  // Waits (bounded) until a held delivery is inside Deliver.
  bool WaitHeld() {
    MutexLock l(&mu_);
    return cv_.wait_for(mu_.native(), seconds(30), [this]() NO_THREAD_SAFETY_ANALYSIS { return held_; });
  }
  void Release() {
    MutexLock l(&mu_);
    hold_node_.reset();
    cv_.notify_all();
  }
  std::vector<std::pair<std::string, Notification>> Received() {
    MutexLock l(&mu_);
    return received_;
  }

 private:
  Mutex mu_;
  std::condition_variable_any cv_;
  std::optional<std::string> hold_node_ GUARDED_BY(mu_);
  bool held_ GUARDED_BY(mu_) = false;
  std::vector<std::pair<std::string, Notification>> received_ GUARDED_BY(mu_);
};

class Webhook final : public Integration {
 public:
  Webhook(Receiver* r, std::string node) : r_(r), node_(std::move(node)) {}
  std::string_view Kind() const override { return "webhook"; }
  int Index() const override { return 0; }
  bool SendResolved() const override { return true; }
  DeliveryResult Deliver(const Notification& n, int64_t) override { return r_->Deliver(node_, n); }

 private:
  Receiver* r_;
  std::string node_;
};

const char kConfig[] = R"(
route:
  receiver: team
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
receivers:
- name: team
)";

Alert MakeAlert(const std::string& name, const std::string& instance) {
  Alert a;
  a.labels = {{"alertname", name}, {"instance", instance}};
  return a;
}

class SharedNotificationLogTest : public ::testing::Test {
 protected:
  struct Server {
    std::unique_ptr<SharedNotificationLog> log;
    std::unique_ptr<Dispatcher> dispatcher;
  };
  Server Make(const std::string& node) {
    Server s;
    s.log = std::make_unique<SharedNotificationLog>(&kv_, &clock_, SharedNotificationLogOptions{node});
    DispatcherOptions o;
    o.clock = &clock_;
    o.shared_nflog = s.log.get();
    o.attempt_timeout_ms = 10'000;
    o.retry_initial_ms = 1000;
    o.retry_jitter = 0;
    o.sleep = [this](int64_t ms) {
      clock_.Advance(milliseconds(ms));
      return true;
    };
    auto config = alertmanager::ParseConfig(kConfig);
    EXPECT_TRUE(config.ok());
    Receiver* r = &receiver_;
    s.dispatcher = std::make_unique<Dispatcher>(
        std::move(config).value(),
        [r, node](const alertmanager::Receiver&) {
          std::vector<std::unique_ptr<Integration>> out;
          out.push_back(std::make_unique<Webhook>(r, node));
          return out;
        },
        std::move(o));
    return s;
  }

  MemoryKeyValue kv_;
  testing::FakeClock clock_;
  Receiver receiver_;
};

TEST_F(SharedNotificationLogTest, TwoServersWithTheSameAlertsNotifyOnce) {
  Server a = Make("a");
  Server b = Make("b");
  const std::vector<Alert> alerts = {MakeAlert("Down", "x"), MakeAlert("Down", "y")};
  a.dispatcher->Put(alerts);
  b.dispatcher->Put(alerts);
  clock_.Advance(seconds(30));
  a.dispatcher->RunDueForTest();
  b.dispatcher->RunDueForTest();
  auto got = receiver_.Received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].first, "a");
  EXPECT_EQ(got[0].second.alerts.size(), 2u);
  // b logged what a sent: its deliveries list nothing, its log has the entry.
  EXPECT_TRUE(b.dispatcher->Deliveries().empty());
  EXPECT_EQ(b.dispatcher->NflogSize(), 1u);

  // Nothing changed: later flushes send nothing, on either server.
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(minutes(5));
    a.dispatcher->Put(alerts);
    b.dispatcher->Put(alerts);
    b.dispatcher->RunDueForTest();
    a.dispatcher->RunDueForTest();
  }
  EXPECT_EQ(receiver_.Received().size(), 1u);

  // A new alert in the group, seen first by b: b sends, a does not send it again.
  const std::vector<Alert> more = {MakeAlert("Down", "x"), MakeAlert("Down", "y"), MakeAlert("Down", "z")};
  clock_.Advance(minutes(5));
  a.dispatcher->Put(more);
  b.dispatcher->Put(more);
  b.dispatcher->RunDueForTest();
  a.dispatcher->RunDueForTest();
  got = receiver_.Received();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].first, "b");
  EXPECT_EQ(got[1].second.alerts.size(), 3u);

  // After repeat_interval (4h): once more, by whichever flushes first.
  for (int i = 0; i < 52; ++i) {
    clock_.Advance(minutes(5));
    a.dispatcher->Put(more);
    b.dispatcher->Put(more);
    a.dispatcher->RunDueForTest();
    b.dispatcher->RunDueForTest();
  }
  EXPECT_EQ(receiver_.Received().size(), 3u);
}

TEST_F(SharedNotificationLogTest, ServerDiesMidSendAndTheOtherSendsOnce) {
  Server a = Make("a");
  Server b = Make("b");
  const std::vector<Alert> alerts = {MakeAlert("Down", "x")};
  a.dispatcher->Put(alerts);
  b.dispatcher->Put(alerts);
  clock_.Advance(seconds(30));
  receiver_.HoldDeliveriesOf("a");
  std::thread a_flush([&] { a.dispatcher->RunDueForTest(); });
  ASSERT_TRUE(receiver_.WaitHeld());
  // a holds the claim and is inside its delivery: b waits.
  b.dispatcher->RunDueForTest();
  EXPECT_TRUE(receiver_.Received().empty());
  EXPECT_TRUE(b.dispatcher->Deliveries().empty());  // busy is no failure
  // a is dead. Its claim lapses (10 s attempt + 15 s grace); b's next flush takes it over.
  clock_.Advance(minutes(5));
  b.dispatcher->Put(alerts);
  b.dispatcher->RunDueForTest();
  auto got = receiver_.Received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].first, "b");
  // a's thread comes back from the dead with a failed attempt, past its flush deadline: it
  // gives up, and giving its claim up finds it taken over, so b's record stands.
  receiver_.Release();
  a_flush.join();
  for (int i = 0; i < 6; ++i) {
    clock_.Advance(minutes(5));
    a.dispatcher->Put(alerts);
    b.dispatcher->Put(alerts);
    a.dispatcher->RunDueForTest();
    b.dispatcher->RunDueForTest();
  }
  EXPECT_EQ(receiver_.Received().size(), 1u);
  auto rec = kv_.Get(SharedNotificationLog::Key("team/webhook/0", a.dispatcher->Groups()[0].group_key));
  ASSERT_TRUE(rec.ok() && rec->has_value());
  Result<NotificationRecord> r = DecodeNotificationRecord((*rec)->value);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->state, "sent");
  EXPECT_EQ(r->node, "b");
}

TEST_F(SharedNotificationLogTest, FailedSendGivesTheClaimUp) {
  SharedNotificationLog a(&kv_, &clock_, {"a"});
  SharedNotificationLog b(&kv_, &clock_, {"b"});
  NotificationClaimRequest req;
  req.group_key = "{}:{alertname=\"Down\"}";
  req.integration_key = "team/webhook/0";
  req.firing = {1, 2};
  req.repeat_interval_ms = 4 * 3600 * 1000;
  req.flush_ms = clock_.NowMillis();
  req.attempt_ms = 10'000;
  auto ca = a.Claim(req);
  ASSERT_EQ(ca.outcome, ClaimOutcome::kSend);
  EXPECT_EQ(b.Claim(req).outcome, ClaimOutcome::kBusy);
  a.Done(ca, req, false);  // not delivered
  auto cb = b.Claim(req);
  ASSERT_EQ(cb.outcome, ClaimOutcome::kSend);
  b.Done(cb, req, true);
  // Sent: the same set is not needed again, a subset neither; a new alert is.
  auto again = a.Claim(req);
  EXPECT_EQ(again.outcome, ClaimOutcome::kAlreadySent);
  EXPECT_EQ(again.sent.firing, (std::vector<uint64_t>{1, 2}));
  req.firing = {1};
  EXPECT_EQ(a.Claim(req).outcome, ClaimOutcome::kAlreadySent);
  req.firing = {1, 2, 3};
  auto bigger = a.Claim(req);
  EXPECT_EQ(bigger.outcome, ClaimOutcome::kSend);
  // A failed send of the bigger set puts the record back to what b sent.
  a.Done(bigger, req, false);
  req.firing = {1, 2};
  EXPECT_EQ(b.Claim(req).outcome, ClaimOutcome::kAlreadySent);
}

TEST_F(SharedNotificationLogTest, UnreachableStoreSendsAnyway) {
  SharedNotificationLog a(&kv_, &clock_, {"a"});
  kv_.SetUnavailable(true);
  NotificationClaimRequest req;
  req.group_key = "g";
  req.integration_key = "team/webhook/0";
  req.firing = {1};
  req.flush_ms = clock_.NowMillis();
  auto c = a.Claim(req);
  EXPECT_EQ(c.outcome, ClaimOutcome::kSend);
  EXPECT_TRUE(a.Renew(&c, 1000));
  a.Done(c, req, true);  // nothing to record it in: no crash, no error
}

TEST_F(SharedNotificationLogTest, RecordRoundTripsAndBadRecordsAreErrors) {
  NotificationRecord r;
  r.state = "sending";
  r.node = "a";
  r.expires_at_ms = 5;
  r.firing = {0xffffffffffffffffull, 1};
  r.resolved = {7};
  r.sent_at_ms = 3;
  r.has_previous = true;
  r.previous_firing = {9};
  r.previous_sent_at_ms = 2;
  Result<NotificationRecord> back = DecodeNotificationRecord(EncodeNotificationRecord(r));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->firing, r.firing);
  EXPECT_EQ(back->resolved, r.resolved);
  EXPECT_EQ(back->previous_firing, r.previous_firing);
  EXPECT_EQ(back->previous_sent_at_ms, 2);
  EXPECT_FALSE(DecodeNotificationRecord("{").ok());
  EXPECT_FALSE(DecodeNotificationRecord(R"({"state":"odd"})").ok());
  EXPECT_FALSE(DecodeNotificationRecord(R"({"state":"sent","firing":["xyz"]})").ok());
  EXPECT_FALSE(DecodeNotificationRecord(R"({"state":"sent","firing":[1]})").ok());
}

TEST_F(SharedNotificationLogTest, OldRecordsAreCollected) {
  SharedNotificationLog a(&kv_, &clock_, {"a", seconds(15), minutes(60), minutes(10)});
  NotificationClaimRequest req;
  req.group_key = "g";
  req.integration_key = "team/webhook/0";
  req.firing = {1};
  req.flush_ms = clock_.NowMillis();
  auto c = a.Claim(req);
  a.Done(c, req, true);
  EXPECT_EQ(a.GarbageCollect(), 0u);
  clock_.Advance(minutes(61));
  EXPECT_EQ(a.GarbageCollect(), 1u);
  EXPECT_TRUE(kv_.List("nflog.")->empty());
}

}  // namespace
}  // namespace tyto::cluster
