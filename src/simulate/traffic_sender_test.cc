// TrafficSender against a local HTTP server (port 0): what it posts where, with which headers, and
// how it counts and logs a receiver that refuses (404, as a Tyto without the receivers answers),
// one that is not there, and one too slow to keep up. Time is a FakeClock; SendDue is called by
// the test, so nothing depends on timing.
#include "simulate/traffic_sender.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <map>

#include "common/mutex.h"
#include "http/server.h"
#include "instrumentation/metrics.h"
#include "simulate/fleet.h"
#include "testing/fake_clock.h"
#include "testing/log_capture.h"

namespace tyto::simulate {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

struct Received {
  std::string path;
  std::string content_type;
  std::string authorization;
  std::string body;
};

// A receiver on 127.0.0.1:<kernel-picked port> that records every request and answers with
// `status` (after `gate`, when set, is released); feedback with feedback_status when set.
class Receiver {
 public:
  explicit Receiver(int status, std::shared_future<void> gate = {}) : status_(status), gate_(std::move(gate)) {
    server_ = std::make_unique<http::Server>(
        [this](http::Request& req) {
          if (gate_.valid()) gate_.wait();
          {
            MutexLock lock(&mu_);
            received_.push_back({req.path, std::string(req.Header("Content-Type").value_or("")),
                                 std::string(req.Header("Authorization").value_or("")), req.body});
          }
          const int answer =
              req.path == "/api/v1/feedback" && feedback_status_.load() != 0 ? feedback_status_.load() : status_;
          return http::Response::Text(answer, answer == 200   ? "{}"
                                              : answer == 404 ? "404 page not found\n"
                                                              : "unavailable\n");
        },
        &registry_, 2);
    EXPECT_TRUE(server_->Listen({"127.0.0.1", 0}).ok());
    server_->Start();
  }
  ~Receiver() { server_->Shutdown(milliseconds(500)); }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }
  void set_feedback_status(int status) { feedback_status_ = status; }
  std::vector<Received> received() {
    MutexLock lock(&mu_);
    return received_;
  }

 private:
  const int status_;
  std::atomic<int> feedback_status_{0};
  std::shared_future<void> gate_;
  instrumentation::Registry registry_;
  std::unique_ptr<http::Server> server_;
  Mutex mu_;
  std::vector<Received> received_ GUARDED_BY(mu_);
};

TrafficSenderOptions To(std::string base_url) {
  TrafficSenderOptions o;
  o.base_url = std::move(base_url);
  return o;
}

class TrafficSenderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FleetOptions o;
    o.scenario = DefaultScenario(o.nodes, o.gpus_per_node);
    auto f = Fleet::Create(o, &clock_);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    fleet_ = std::move(f).value();
  }
  std::unique_ptr<TrafficSender> MakeSender(TrafficSenderOptions options, const TrafficOptions& traffic = {}) {
    auto s = TrafficSender::Create(fleet_->NewTrafficGenerator(traffic), fleet_->start_unix_millis(), 1000, &clock_,
                                   std::move(options));
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  // Advances the clock by `d`, sends what is due and waits for the answers.
  void Round(TrafficSender& s, milliseconds d = seconds(1)) {
    clock_.Advance(d);
    s.SendDue();
    ASSERT_TRUE(s.WaitIdle(seconds(30)));
  }

  testing::FakeClock clock_{1'700'000'000'000};
  std::unique_ptr<Fleet> fleet_;
};

TEST_F(TrafficSenderTest, PostsTracesLogsAndEventsToTheReceiver) {
  Receiver receiver(200);
  TrafficSenderOptions options = To(receiver.url() + "/prefix/");
  options.bearer_token = "tyto_secret";
  auto sender = MakeSender(options);
  ASSERT_TRUE(sender);
  sender->SendDue();  // tick 0: nothing yet
  ASSERT_TRUE(sender->WaitIdle(seconds(30)));
  EXPECT_TRUE(receiver.received().empty());
  for (int i = 0; i < 5; ++i) Round(*sender);

  std::map<std::string, int> requests;
  size_t spans = 0, logs = 0, events = 0;
  for (const Received& r : receiver.received()) {
    ++requests[r.path];
    EXPECT_EQ(r.authorization, "Bearer tyto_secret");
    if (r.path == "/prefix/api/v1/events") {
      EXPECT_EQ(r.content_type, "application/x-ndjson");
      for (char c : r.body) events += c == '\n';
      continue;
    }
    EXPECT_EQ(r.content_type, "application/json") << r.path;
    rapidjson::Document doc;
    doc.Parse(r.body.c_str(), r.body.size());
    ASSERT_FALSE(doc.HasParseError()) << r.path;
    if (r.path == "/prefix/v1/traces") {
      for (const auto& rs : doc["resourceSpans"].GetArray()) spans += rs["scopeSpans"][0]["spans"].Size();
    } else {
      ASSERT_EQ(r.path, "/prefix/v1/logs");
      for (const auto& rl : doc["resourceLogs"].GetArray()) logs += rl["scopeLogs"][0]["logRecords"].Size();
    }
  }
  // One request of each kind per tick (the events: inference events every tick, at 20/s).
  EXPECT_EQ(requests["/prefix/v1/traces"], 5);
  EXPECT_EQ(requests["/prefix/v1/logs"], 5);
  EXPECT_EQ(requests["/prefix/api/v1/events"], 5);
  const TrafficStats st = sender->stats();
  EXPECT_EQ(st.requests_sent, 15u);
  EXPECT_EQ(st.requests_failed, 0u);
  EXPECT_EQ(st.requests_dropped, 0u);
  EXPECT_EQ(st.ticks_generated, 5u);
  EXPECT_EQ(st.spans_sent, spans);
  EXPECT_EQ(st.logs_sent, logs);
  EXPECT_EQ(st.events_sent, events);
  EXPECT_GT(spans, 50u);
  EXPECT_GT(events, 20u);
}

// A Tyto without the receivers answers 404: every request is counted as failed, and the failures
// are logged once, then not again within the interval.
TEST_F(TrafficSenderTest, RefusedRequestsAreCountedAndLoggedOncePerInterval) {
  Receiver receiver(404);
  testing::LogCapture logs;
  TrafficOptions no_feedback;
  no_feedback.feedback_share = 0;
  no_feedback.rating_share = 0;
  auto sender = MakeSender(To(receiver.url()), no_feedback);
  ASSERT_TRUE(sender);
  const std::vector<std::string> line = {"simulated inference traffic: requests to the receiver failed"};
  Round(*sender);  // 1 s: three requests refused
  EXPECT_EQ(logs.Count(line), 0);
  Round(*sender);  // 2 s: those three reported
  EXPECT_EQ(logs.Count(line), 1);
  EXPECT_EQ(logs.Count({line[0], "HTTP 404: 404 page not found", "\"failed\":3"}), 1);
  for (int i = 0; i < 59; ++i) Round(*sender);  // to 61 s
  EXPECT_EQ(logs.Count(line), 1);
  Round(*sender);  // 62 s: a minute after the first report
  EXPECT_EQ(logs.Count(line), 2);
  EXPECT_EQ(logs.Count({line[0], "\"failed\":180"}), 1);
  const TrafficStats st = sender->stats();
  EXPECT_EQ(st.requests_sent, 0u);
  EXPECT_EQ(st.requests_failed, 62u * 3);
  EXPECT_EQ(st.spans_sent, 0u);
  // The three requests of a round are answered in any order.
  EXPECT_EQ(st.last_error.rfind("POST /", 0), 0u) << st.last_error;
  EXPECT_NE(st.last_error.find(": HTTP 404: 404 page not found"), std::string::npos) << st.last_error;
}

TEST_F(TrafficSenderTest, NoReceiverListening) {
  uint16_t closed_port;
  {
    Receiver gone(200);  // a port that was just free, now closed again
    closed_port = static_cast<uint16_t>(std::stoi(gone.url().substr(gone.url().rfind(':') + 1)));
  }
  TrafficSenderOptions options = To("http://127.0.0.1:" + std::to_string(closed_port));
  options.timeout = seconds(5);
  auto sender = MakeSender(options);
  ASSERT_TRUE(sender);
  Round(*sender);
  const TrafficStats st = sender->stats();
  EXPECT_EQ(st.requests_failed, 3u);
  EXPECT_NE(st.last_error.find("POST /"), std::string::npos) << st.last_error;
}

// A receiver that does not answer: beyond max_in_flight, batches are dropped, never queued, and
// SendDue returns at once.
TEST_F(TrafficSenderTest, BatchesBeyondMaxInFlightAreDropped) {
  std::promise<void> release;
  Receiver receiver(200, release.get_future().share());
  TrafficSenderOptions options = To(receiver.url());
  options.max_in_flight = 2;
  auto sender = MakeSender(options);
  ASSERT_TRUE(sender);
  clock_.Advance(seconds(1));
  sender->SendDue();  // traces and logs in flight, the events dropped
  clock_.Advance(seconds(1));
  sender->SendDue();  // all three dropped
  EXPECT_EQ(sender->stats().requests_dropped, 4u);
  release.set_value();
  ASSERT_TRUE(sender->WaitIdle(seconds(30)));
  EXPECT_EQ(sender->stats().requests_sent, 2u);
}

// Far behind the clock (a suspended machine), the sender skips to the last max_catch_up_ticks.
TEST_F(TrafficSenderTest, SkipsTicksWhenFarBehind) {
  Receiver receiver(200);
  TrafficSenderOptions options = To(receiver.url());
  options.max_catch_up_ticks = 10;
  auto sender = MakeSender(options);
  ASSERT_TRUE(sender);
  Round(*sender);
  Round(*sender, seconds(100));
  const TrafficStats st = sender->stats();
  EXPECT_EQ(st.ticks_generated, 11u);
  EXPECT_EQ(st.ticks_skipped, 90u);
}

// Feedback goes to /api/v1/feedback as JSON lines once due (20 s to 2 minutes after its request),
// with the same token.
TEST_F(TrafficSenderTest, PostsFeedbackWhenItIsDue) {
  Receiver receiver(200);
  TrafficSenderOptions options = To(receiver.url());
  options.bearer_token = "tyto_secret";
  auto sender = MakeSender(options);
  ASSERT_TRUE(sender);
  for (int i = 0; i < 19; ++i) Round(*sender);
  EXPECT_EQ(sender->stats().feedback_sent, 0u);  // nothing due before 20 s
  for (int i = 0; i < 41; ++i) Round(*sender);
  size_t lines = 0;
  int requests = 0;
  for (const Received& r : receiver.received()) {
    if (r.path != "/api/v1/feedback") continue;
    ++requests;
    EXPECT_EQ(r.content_type, "application/x-ndjson");
    EXPECT_EQ(r.authorization, "Bearer tyto_secret");
    size_t start = 0;
    while (start < r.body.size()) {
      const size_t end = r.body.find('\n', start);
      ASSERT_NE(end, std::string::npos);
      rapidjson::Document doc;
      doc.Parse(r.body.c_str() + start, end - start);
      ASSERT_FALSE(doc.HasParseError());
      EXPECT_TRUE(doc["request_id"].IsString());
      EXPECT_TRUE(doc.HasMember("label") || doc.HasMember("rating"));
      ++lines;
      start = end + 1;
    }
  }
  EXPECT_GT(requests, 30);  // one per tick with any due
  const TrafficStats st = sender->stats();
  EXPECT_EQ(st.feedback_sent, lines);
  EXPECT_GT(lines, 50u);
  EXPECT_EQ(st.feedback_dropped, 0u);
  EXPECT_EQ(st.feedback_queued, 0u);
  EXPECT_EQ(st.requests_failed, 0u);
}

// A receiver that fails feedback (503) gets it again later, with backoff, until it takes it: no
// label is lost. Meanwhile the queue stays within max_queued_feedback lines.
TEST_F(TrafficSenderTest, FailedFeedbackIsSentAgainLater) {
  Receiver receiver(200);
  receiver.set_feedback_status(503);
  auto sender = MakeSender(To(receiver.url()));
  ASSERT_TRUE(sender);
  for (int i = 0; i < 40; ++i) Round(*sender);
  TrafficStats st = sender->stats();
  EXPECT_EQ(st.feedback_sent, 0u);
  EXPECT_GT(st.feedback_retries, 0u);
  EXPECT_GT(st.feedback_queued, 0u);
  EXPECT_EQ(st.feedback_dropped, 0u);
  receiver.set_feedback_status(0);              // answered 200 from now on
  for (int i = 0; i < 70; ++i) Round(*sender);  // past the longest backoff (60 s)
  st = sender->stats();
  EXPECT_EQ(st.feedback_queued, 0u);
  EXPECT_EQ(st.feedback_dropped, 0u);
  // Everything that fell due by now was sent, once accepted.
  size_t accepted_lines = 0, offered_lines = 0;
  for (const Received& r : receiver.received()) {
    if (r.path != "/api/v1/feedback") continue;
    const size_t n = static_cast<size_t>(std::count(r.body.begin(), r.body.end(), '\n'));
    offered_lines += n;
  }
  accepted_lines = st.feedback_sent;
  EXPECT_GT(accepted_lines, 100u);
  EXPECT_GT(offered_lines, accepted_lines);  // the failed sends offered some lines more than once
}

// Feedback the receiver refuses (404: a Tyto without the receiver) is dropped, not retried; and
// while the receiver fails, at most max_queued_feedback lines wait.
TEST_F(TrafficSenderTest, FeedbackQueueIsBounded) {
  Receiver refusing(200);
  refusing.set_feedback_status(404);
  auto sender = MakeSender(To(refusing.url()));
  ASSERT_TRUE(sender);
  for (int i = 0; i < 40; ++i) Round(*sender);
  TrafficStats st = sender->stats();
  EXPECT_EQ(st.feedback_retries, 0u);
  EXPECT_GT(st.feedback_dropped, 0u);
  EXPECT_EQ(st.feedback_queued, 0u);

  Receiver failing(200);
  failing.set_feedback_status(503);
  TrafficSenderOptions options = To(failing.url());
  options.max_queued_feedback = 30;
  options.feedback_max_attempts = 1000;
  auto bounded = MakeSender(options);
  ASSERT_TRUE(bounded);
  for (int i = 0; i < 60; ++i) {
    Round(*bounded);
    ASSERT_LE(bounded->stats().feedback_queued, 30u);
  }
  st = bounded->stats();
  EXPECT_GT(st.feedback_dropped, 0u);
  EXPECT_EQ(st.feedback_sent, 0u);
}

TEST_F(TrafficSenderTest, BadOptionsAreRefused) {
  EXPECT_FALSE(TrafficSender::Create(fleet_->NewTrafficGenerator({}), 0, 1000, &clock_, To("ftp://x")).ok());
  TrafficSenderOptions none_in_flight = To("http://127.0.0.1:9800");
  none_in_flight.max_in_flight = 0;
  EXPECT_FALSE(TrafficSender::Create(fleet_->NewTrafficGenerator({}), 0, 1000, &clock_, none_in_flight).ok());
  TrafficOptions zero;
  zero.requests_per_second = 0;
  Status s = fleet_->StartTraffic(zero, To("http://127.0.0.1:9800"));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("--inference-rate"), std::string::npos) << s.ToString();
  EXPECT_EQ(fleet_->StartTraffic({}, To("127.0.0.1:9800")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(fleet_->traffic_stats().requests_sent, 0u);
}

// Through the Fleet: StartTraffic runs the sender's own thread; Stop ends it.
TEST_F(TrafficSenderTest, TheFleetSendsOnItsOwnThread) {
  Receiver receiver(200);
  ASSERT_TRUE(fleet_->StartTraffic({}, To(receiver.url())).ok());
  EXPECT_EQ(fleet_->StartTraffic({}, To(receiver.url())).code(), StatusCode::kFailedPrecondition);
  clock_.Advance(seconds(3));
  // The thread wakes at least once a second; wait (bounded) for its first batch to arrive.
  for (int i = 0; i < 600 && fleet_->traffic_stats().requests_sent == 0; ++i) {
    std::this_thread::sleep_for(milliseconds(50));
  }
  fleet_->Stop();
  EXPECT_GT(fleet_->traffic_stats().requests_sent, 0u);
  EXPECT_GT(receiver.received().size(), 0u);
}

}  // namespace
}  // namespace tyto::simulate
