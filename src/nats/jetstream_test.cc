// Publisher, Consumer and Connection against a real nats-server with JetStream.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "nats/consumer.h"
#include "nats/publisher.h"
#include "nats/test_fixture.h"

namespace tyto::nats {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using testing::NatsTest;

// What a sink saw, copied out of the message.
struct Seen {
  std::string subject, tenant, payload, content_type, content_encoding, id;
  Kind kind = Kind::kMetrics;
  uint64_t sequence = 0, deliveries = 0;
  std::map<std::string, std::string> headers;
};

class Recorder {
 public:
  Status Record(const Message& m, Status result = Status::Ok()) {
    Seen s;
    s.subject = m.subject;
    s.tenant = m.tenant;
    s.payload = m.payload;
    s.content_type = m.content_type;
    s.content_encoding = m.content_encoding;
    s.id = m.id;
    s.kind = m.kind;
    s.sequence = m.stream_sequence;
    s.deliveries = m.deliveries;
    for (const auto& [k, v] : m.headers) s.headers[std::string(k)] = std::string(v);
    std::lock_guard<std::mutex> l(mu_);
    seen_.push_back(std::move(s));
    return result;
  }
  std::vector<Seen> seen() const {
    std::lock_guard<std::mutex> l(mu_);
    return seen_;
  }
  size_t size() const {
    std::lock_guard<std::mutex> l(mu_);
    return seen_.size();
  }

 private:
  mutable std::mutex mu_;
  std::vector<Seen> seen_;
};

Batch MakeBatch(std::string tenant, Kind kind, std::string_view payload, std::string id) {
  Batch b;
  b.tenant = std::move(tenant);
  b.kind = kind;
  b.payload = payload;
  b.content_type = "application/x-protobuf";
  b.content_encoding = "snappy";
  b.id = std::move(id);
  return b;
}

ConsumerOptions FastOptions() {
  ConsumerOptions o;
  o.workers = 1;
  o.fetch_wait = 200ms;
  o.retry_wait = 100ms;
  o.min_redelivery_delay = 10ms;
  o.max_redelivery_delay = 100ms;
  return o;
}

TEST(NatsNamesTest, SubjectsAndKinds) {
  EXPECT_EQ(Subject("telemetry", "team-a", Kind::kMetrics), "telemetry.team-a.metrics");
  EXPECT_EQ(Subject("telemetry", "a.b c*>", Kind::kSpans), "telemetry.a_b_c__.spans");
  EXPECT_EQ(Subject("telemetry", "", Kind::kLogs), "telemetry.default.logs");
  EXPECT_EQ(SanitizeToken(std::string(100, 'x')).size(), 64u);
  for (Kind k : {Kind::kMetrics, Kind::kSpans, Kind::kLogs, Kind::kEvents}) EXPECT_EQ(ParseKind(KindName(k)), k);
  EXPECT_FALSE(ParseKind("traces").has_value());
}

TEST_F(NatsTest, PublishAndConsumeRoundTrip) {
  auto conn = Connect();
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(conn->EnsureStream().ok());
  ASSERT_TRUE(conn->EnsureStream().ok()) << "a second EnsureStream finds the stream as wanted";
  Publisher pub(conn.get());
  Batch b1 = MakeBatch("default", Kind::kMetrics, "metrics-1", "id-1");
  b1.headers.emplace_back("Tyto-Samples", "7");
  auto a1 = pub.Publish(b1);
  ASSERT_TRUE(a1.ok()) << a1.status().ToString();
  EXPECT_EQ(a1->sequence, 1u);
  EXPECT_FALSE(a1->duplicate);
  auto a2 = pub.Publish(MakeBatch("team a.b", Kind::kSpans, "spans-2", "id-2"));
  ASSERT_TRUE(a2.ok());
  auto a3 = pub.Publish(MakeBatch("x", Kind::kEvents, std::string_view("\0bin\xff", 5), "id-3"));
  ASSERT_TRUE(a3.ok());

  Recorder rec;
  auto consumer = Consumer::Create(conn.get(), [&](const Message& m) { return rec.Record(m); }, FastOptions());
  ASSERT_TRUE(consumer.ok()) << consumer.status().ToString();
  (*consumer)->Start();
  ASSERT_TRUE(WaitFor([&] { return (*consumer)->stats().acked == 3; }));
  (*consumer)->Stop();

  std::vector<Seen> seen = rec.seen();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].subject, "telemetry.default.metrics");
  EXPECT_EQ(seen[0].tenant, "default");
  EXPECT_EQ(seen[0].kind, Kind::kMetrics);
  EXPECT_EQ(seen[0].payload, "metrics-1");
  EXPECT_EQ(seen[0].content_type, "application/x-protobuf");
  EXPECT_EQ(seen[0].content_encoding, "snappy");
  EXPECT_EQ(seen[0].id, "id-1");
  EXPECT_EQ(seen[0].headers["Tyto-Samples"], "7");
  EXPECT_EQ(seen[0].sequence, 1u);
  EXPECT_EQ(seen[0].deliveries, 1u);
  EXPECT_EQ(seen[1].subject, "telemetry.team_a_b.spans");
  EXPECT_EQ(seen[1].tenant, "team_a_b");
  EXPECT_EQ(seen[1].kind, Kind::kSpans);
  EXPECT_EQ(seen[2].kind, Kind::kEvents);
  EXPECT_EQ(seen[2].payload, std::string("\0bin\xff", 5));

  // Acknowledged messages are not delivered again: a new consumer with the same durable name
  // starts after them.
  ASSERT_TRUE(pub.Publish(MakeBatch("default", Kind::kLogs, "logs-4", "id-4")).ok());
  Recorder rec2;
  auto again = Consumer::Create(conn.get(), [&](const Message& m) { return rec2.Record(m); }, FastOptions());
  ASSERT_TRUE(again.ok());
  (*again)->Start();
  ASSERT_TRUE(WaitFor([&] { return (*again)->stats().acked >= 1; }));
  (*again)->Stop();
  ASSERT_GE(rec2.size(), 1u);
  EXPECT_EQ(rec2.seen()[0].payload, "logs-4");
  EXPECT_EQ(rec2.seen()[0].sequence, 4u);
  EXPECT_EQ(rec2.size(), 1u);

  auto state = conn->GetStreamState();
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->messages, 4u);
  EXPECT_EQ(state->consumers, 1);
}

TEST_F(NatsTest, SameIdIsStoredOnce) {
  auto conn = Connect();
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(conn->EnsureStream().ok());
  Publisher pub(conn.get());
  auto first = pub.Publish(MakeBatch("t", Kind::kMetrics, "payload", "agent-1:0:100:abcd"));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(first->duplicate);
  // A retry after a lost acknowledgement: same id, same bytes.
  auto retry = pub.Publish(MakeBatch("t", Kind::kMetrics, "payload", "agent-1:0:100:abcd"));
  ASSERT_TRUE(retry.ok()) << retry.status().ToString();
  EXPECT_TRUE(retry->duplicate);
  EXPECT_EQ(retry->sequence, first->sequence);
  auto other = pub.Publish(MakeBatch("t", Kind::kMetrics, "payload", "agent-1:0:200:abcd"));
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->duplicate);
  auto state = conn->GetStreamState();
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->messages, 2u);
}

TEST_F(NatsTest, PublishRefusesBadInput) {
  auto conn = Connect();
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(conn->EnsureStream().ok());
  Publisher pub(conn.get());
  auto no_id = pub.Publish(MakeBatch("t", Kind::kMetrics, "x", ""));
  ASSERT_FALSE(no_id.ok());
  EXPECT_EQ(no_id.status().code(), StatusCode::kInvalidArgument);
  Batch bad_header = MakeBatch("t", Kind::kMetrics, "x", "id");
  bad_header.headers.emplace_back("Bad:Name", "v");
  EXPECT_EQ(pub.Publish(bad_header).status().code(), StatusCode::kInvalidArgument);
  std::string big(pub.MaxPayload() + 1, 'x');
  auto too_big = pub.Publish(MakeBatch("t", Kind::kMetrics, big, "big"));
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(too_big.status().message(), HasSubstr("over the server's limit"));
  std::string fits(pub.MaxPayload(), 'y');
  EXPECT_TRUE(pub.Publish(MakeBatch("t", Kind::kMetrics, fits, "fits")).ok());
}

TEST_F(NatsTest, RetryableSinkErrorsAreDeliveredAgain) {
  auto conn = Connect();
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(conn->EnsureStream().ok());
  Publisher pub(conn.get());
  ASSERT_TRUE(pub.Publish(MakeBatch("t", Kind::kMetrics, "m", "id")).ok());
  Recorder rec;
  std::atomic<int> calls{0};
  auto consumer = Consumer::Create(
      conn.get(),
      [&](const Message& m) {
        return rec.Record(m, ++calls <= 2 ? Unavailable("store is restarting") : Status::Ok());
      },
      FastOptions());
  ASSERT_TRUE(consumer.ok());
  (*consumer)->Start();
  ASSERT_TRUE(WaitFor([&] { return (*consumer)->stats().acked == 1; }));
  (*consumer)->Stop();
  std::vector<Seen> seen = rec.seen();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].deliveries, 1u);
  EXPECT_EQ(seen[1].deliveries, 2u);
  EXPECT_EQ(seen[2].deliveries, 3u);
  ConsumerStats st = (*consumer)->stats();
  EXPECT_EQ(st.retried, 2u);
  EXPECT_EQ(st.redelivered, 2u);
}

TEST_F(NatsTest, PoisonIsTerminatedAndCountedNotRetried) {
  auto conn = Connect();
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(conn->EnsureStream().ok());
  Publisher pub(conn.get());
  ASSERT_TRUE(pub.Publish(MakeBatch("t", Kind::kMetrics, "poison", "id-1")).ok());
  ASSERT_TRUE(pub.Publish(MakeBatch("t", Kind::kMetrics, "good", "id-2")).ok());
  // A subject of another shape (a publisher with a longer prefix) is poison too.
  NatsConfig other = config_;
  other.subject_prefix = "telemetry.extra";
  auto conn2 = Connection::Connect(other, Env::Default(), nullptr);
  ASSERT_TRUE(conn2.ok());
  Publisher pub2(conn2->get());
  ASSERT_TRUE(pub2.Publish(MakeBatch("t", Kind::kMetrics, "odd-subject", "id-3")).ok());

  std::atomic<int> poison_calls{0};
  Recorder rec;
  auto consumer = Consumer::Create(
      conn.get(),
      [&](const Message& m) {
        if (m.payload == "poison") {
          ++poison_calls;
          return rec.Record(m, InvalidArgument("not a WriteRequest"));
        }
        return rec.Record(m);
      },
      FastOptions());
  ASSERT_TRUE(consumer.ok());
  (*consumer)->Start();
  ASSERT_TRUE(WaitFor([&] { return (*consumer)->stats().acked == 1 && (*consumer)->stats().invalid == 2; }));
  // Had the poison been put back, it would come before this later message.
  ASSERT_TRUE(pub.Publish(MakeBatch("t", Kind::kMetrics, "later", "id-4")).ok());
  ASSERT_TRUE(WaitFor([&] { return (*consumer)->stats().acked == 2; }));
  (*consumer)->Stop();
  EXPECT_EQ(poison_calls.load(), 1);
  EXPECT_EQ((*consumer)->stats().invalid, 2u);
  EXPECT_EQ(rec.size(), 3u) << "the odd subject never reaches the sink";
  EXPECT_EQ(conn->metrics()->messages.WithLabels({"metrics", "invalid"}).Value(), 1);
  EXPECT_EQ(conn->metrics()->messages.WithLabels({"unknown", "invalid"}).Value(), 1);
  EXPECT_EQ(conn->metrics()->messages.WithLabels({"metrics", "acked"}).Value(), 2);
}

// A sink that holds each message it is given until Release: a server busy storing it.
class HoldingSink {
 public:
  Sink sink() {
    return [this](const Message&) {
      std::unique_lock<std::mutex> l(mu_);
      entered_ = true;
      cv_.notify_all();
      cv_.wait(l, [&] { return release_; });
      return Status::Ok();
    };
  }
  // Whether a message reached the sink within `timeout`.
  bool WaitEntered(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, timeout, [&] { return entered_; });
  }
  void Release() {
    {
      std::lock_guard<std::mutex> l(mu_);
      release_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool entered_ = false, release_ = false;
};

TEST_F(NatsTest, StopWaitsForTheMessageInTheSink) {
  auto conn = Connect();
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(conn->EnsureStream().ok());
  Publisher pub(conn.get());
  ASSERT_TRUE(pub.Publish(MakeBatch("t", Kind::kMetrics, "slow", "id")).ok());
  HoldingSink held;
  auto consumer = Consumer::Create(conn.get(), held.sink(), FastOptions());
  ASSERT_TRUE(consumer.ok());
  (*consumer)->Start();
  ASSERT_TRUE(held.WaitEntered(60s));
  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    (*consumer)->Stop();
    stopped = true;
  });
  std::this_thread::sleep_for(200ms);  // gives a wrong Stop the chance to return early
  EXPECT_FALSE(stopped.load()) << "Stop returned while the sink was still storing";
  held.Release();
  stopper.join();
  EXPECT_EQ((*consumer)->stats().acked, 1u) << "the message in the sink is acknowledged before Stop returns";
}

TEST_F(NatsTest, CrashedConsumerLosesNothing) {
  config_.ack_wait = 1s;  // redelivery after a crash comes this much later
  auto conn_a = Connect();
  ASSERT_NE(conn_a, nullptr);
  ASSERT_TRUE(conn_a->EnsureStream().ok());
  Publisher pub(conn_a.get());
  for (int i = 1; i <= 5; ++i) {
    ASSERT_TRUE(pub.Publish(MakeBatch("t", Kind::kMetrics, "m" + std::to_string(i), "id-" + std::to_string(i))).ok());
  }

  // Server A takes the first message and crashes (its connection goes away) while storing it.
  HoldingSink held;  // "stored" once released, but the acknowledgement cannot leave any more
  auto a = Consumer::Create(conn_a.get(), held.sink(), FastOptions());
  ASSERT_TRUE(a.ok());
  (*a)->Start();
  ASSERT_TRUE(held.WaitEntered(60s));
  conn_a->Close();
  held.Release();
  (*a)->Stop();
  EXPECT_EQ((*a)->stats().acked, 0u);
  EXPECT_GE((*a)->stats().ack_failed, 1u);

  // Server B, same durable name: every message arrives, the crashed one delivered again.
  auto conn_b = Connect();
  ASSERT_NE(conn_b, nullptr);
  Recorder rec;
  auto b = Consumer::Create(conn_b.get(), [&](const Message& m) { return rec.Record(m); }, FastOptions());
  ASSERT_TRUE(b.ok());
  (*b)->Start();
  ASSERT_TRUE(WaitFor([&] {
    std::set<std::string> got;
    for (const Seen& s : rec.seen()) got.insert(s.payload);
    return got.size() == 5;
  }));
  (*b)->Stop();
  std::set<std::string> got;
  uint64_t max_deliveries = 0;
  for (const Seen& s : rec.seen()) {
    got.insert(s.payload);
    if (s.payload == "m1") max_deliveries = std::max(max_deliveries, s.deliveries);
  }
  EXPECT_EQ(got, (std::set<std::string>{"m1", "m2", "m3", "m4", "m5"}));
  EXPECT_GE(max_deliveries, 2u) << "m1 was delivered to A first";
}

TEST_F(NatsTest, ConsumerWaitsForNatsAndHealthNamesTheServer) {
  auto conn = Connect();
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(conn->EnsureStream().ok());
  EXPECT_TRUE(conn->Health().ok()) << conn->Health().ToString();
  Recorder rec;
  auto consumer = Consumer::Create(conn.get(), [&](const Message& m) { return rec.Record(m); }, FastOptions());
  ASSERT_TRUE(consumer.ok());
  (*consumer)->Start();

  server_->Stop();
  ASSERT_TRUE(WaitFor([&] { return !conn->connected(); }));
  Status down = conn->Health();
  EXPECT_EQ(down.code(), StatusCode::kUnavailable);
  EXPECT_THAT(down.message(), HasSubstr("127.0.0.1:" + std::to_string(server_->port())));
  Publisher pub(conn.get());
  auto failed = pub.Publish(MakeBatch("t", Kind::kMetrics, "x", "while-down"));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kUnavailable) << failed.status().ToString();

  ASSERT_TRUE(server_->Restart().ok());
  ASSERT_TRUE(WaitFor([&] { return conn->Health().ok(); })) << conn->Health().ToString();
  // The stream and the durable consumer survived the restart (file storage).
  ASSERT_TRUE(WaitFor([&] { return pub.Publish(MakeBatch("t", Kind::kMetrics, "after", "after-restart")).ok(); }));
  ASSERT_TRUE(WaitFor([&] { return (*consumer)->stats().acked == 1; }));
  (*consumer)->Stop();
  ASSERT_EQ(rec.size(), 1u);
  EXPECT_EQ(rec.seen()[0].payload, "after");
}

TEST_F(NatsTest, ServersSetTheStreamsLimitsAgentsDoNot) {
  config_.max_age = std::chrono::hours(24);
  auto server = Connect();
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(server->EnsureStream().ok());
  auto st = server->GetStreamState();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->max_age, std::chrono::hours(24));
  EXPECT_EQ(st->duplicate_window, std::chrono::minutes(10));

  NatsConfig agent_config = config_;
  agent_config.max_age = std::chrono::hours(1);
  auto agent = Connection::Connect(agent_config, Env::Default(), nullptr);
  ASSERT_TRUE(agent.ok());
  EXPECT_TRUE((*agent)->EnsureStream(/*update_limits=*/false).ok());
  EXPECT_EQ(server->GetStreamState()->max_age, std::chrono::hours(24)) << "an agent leaves the limits alone";

  config_.max_age = std::chrono::hours(48);
  config_.duplicate_window = std::chrono::minutes(30);
  auto server2 = Connect();
  ASSERT_NE(server2, nullptr);
  ASSERT_TRUE(server2->EnsureStream().ok());
  st = server->GetStreamState();
  EXPECT_EQ(st->max_age, std::chrono::hours(48));
  EXPECT_EQ(st->duplicate_window, std::chrono::minutes(30));

  NatsConfig memory = config_;
  memory.storage = "memory";
  auto other = Connection::Connect(memory, Env::Default(), nullptr);
  ASSERT_TRUE(other.ok());
  Status refused = (*other)->EnsureStream();
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition) << refused.ToString();
  EXPECT_THAT(refused.message(), HasSubstr("storage"));
}

TEST_F(NatsTest, SeveralWorkersAckEachMessageOnce) {
  auto conn = Connect();
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(conn->EnsureStream().ok());
  Publisher pub(conn.get());
  constexpr int kMessages = 200;
  for (int i = 0; i < kMessages; ++i) {
    ASSERT_TRUE(pub.Publish(MakeBatch("t" + std::to_string(i % 3), Kind::kLogs, std::to_string(i), "id-" + std::to_string(i))).ok());
  }
  Recorder rec;
  ConsumerOptions o = FastOptions();
  o.workers = 4;
  o.fetch_batch = 8;
  auto consumer = Consumer::Create(conn.get(), [&](const Message& m) { return rec.Record(m); }, o);
  ASSERT_TRUE(consumer.ok());
  (*consumer)->Start();
  ASSERT_TRUE(WaitFor([&] { return (*consumer)->stats().acked == kMessages; }));
  (*consumer)->Stop();
  std::map<std::string, int> times;
  for (const Seen& s : rec.seen()) ++times[s.payload];
  EXPECT_EQ(times.size(), static_cast<size_t>(kMessages));
  for (const auto& [payload, n] : times) EXPECT_EQ(n, 1) << payload;
  EXPECT_EQ((*consumer)->stats().redelivered, 0u);
}

TEST_F(NatsTest, ASlowSinkKeepsItsMessage) {
  config_.ack_wait = 2s;
  auto conn_a = Connect();
  auto conn_b = Connect();
  ASSERT_NE(conn_a, nullptr);
  ASSERT_NE(conn_b, nullptr);
  ASSERT_TRUE(conn_a->EnsureStream().ok());
  Publisher pub(conn_a.get());
  ASSERT_TRUE(pub.Publish(MakeBatch("t", Kind::kMetrics, "slow", "id")).ok());
  std::atomic<bool> a_has_it{false};
  std::atomic<int> deliveries{0};
  auto a = Consumer::Create(
      conn_a.get(),
      [&](const Message&) {
        ++deliveries;
        a_has_it = true;
        std::this_thread::sleep_for(5s);  // longer than ack_wait: only progress notes keep it
        return Status::Ok();
      },
      FastOptions());
  ASSERT_TRUE(a.ok());
  (*a)->Start();
  ASSERT_TRUE(WaitFor([&] { return a_has_it.load(); }));
  // Another server on the same durable would get the message if it were given up.
  auto b = Consumer::Create(
      conn_b.get(),
      [&](const Message&) {
        ++deliveries;
        return Status::Ok();
      },
      FastOptions());
  ASSERT_TRUE(b.ok());
  (*b)->Start();
  ASSERT_TRUE(WaitFor([&] { return (*a)->stats().acked == 1; }));
  (*b)->Stop();
  (*a)->Stop();
  EXPECT_EQ(deliveries.load(), 1) << "the message went to a second server while the first was storing it";
}

// The messages fetched with the one at the sink wait their turn longer than ack_wait: the
// progress notes keep them too (before, the third went to the other server while still waiting
// here, and both stored it: a duplicate the e2e scale-out test caught).
TEST_F(NatsTest, MessagesWaitingBehindASlowSinkAreKeptToo) {
  config_.ack_wait = 2s;
  auto conn_a = Connect();
  auto conn_b = Connect();
  ASSERT_NE(conn_a, nullptr);
  ASSERT_NE(conn_b, nullptr);
  ASSERT_TRUE(conn_a->EnsureStream().ok());
  Publisher pub(conn_a.get());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(pub.Publish(MakeBatch("t", Kind::kLogs, "m" + std::to_string(i), "id-" + std::to_string(i))).ok());
  }
  Recorder rec;
  std::atomic<bool> a_started{false};
  ConsumerOptions one = FastOptions();
  one.workers = 1;
  one.fetch_batch = 3;
  auto a = Consumer::Create(
      conn_a.get(),
      [&](const Message& m) {
        a_started = true;
        std::this_thread::sleep_for(1500ms);  // the third waits 3 s behind the first two
        return rec.Record(m);
      },
      one);
  ASSERT_TRUE(a.ok());
  (*a)->Start();
  ASSERT_TRUE(WaitFor([&] { return a_started.load(); }));
  auto b = Consumer::Create(conn_b.get(), [&](const Message& m) { return rec.Record(m); }, one);
  ASSERT_TRUE(b.ok());
  (*b)->Start();
  ASSERT_TRUE(WaitFor([&] { return (*a)->stats().acked + (*b)->stats().acked >= 3; }));
  std::this_thread::sleep_for(2500ms);  // a wrongful second delivery would come within ack_wait
  (*b)->Stop();
  (*a)->Stop();
  std::map<std::string, int> times;
  for (const Seen& s : rec.seen()) ++times[s.payload];
  EXPECT_EQ(times.size(), 3u);
  for (const auto& [payload, n] : times) EXPECT_EQ(n, 1) << payload << " was given to a sink " << n << " times";
  EXPECT_EQ((*b)->stats().acked, 0u);
}

TEST(NatsAuthTest, TokensAndUsersAreSentAndRefusalsNamed) {
  tyto::testing::TempDir dir;
  auto server = testing::NatsServer::Start(dir.path(), {"--auth", "s3cret-token"});
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  NatsConfig c;
  c.urls = {(*server)->url()};
  c.connect_timeout = 2s;
  c.token = "wrong";
  auto refused = Connection::Connect(c, Env::Default(), nullptr);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnauthenticated) << refused.status().ToString();
  c.token = "s3cret-token";
  auto ok = Connection::Connect(c, Env::Default(), nullptr);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_TRUE((*ok)->EnsureStream().ok());
  ok->reset();
  (*server)->Stop();

  tyto::testing::TempDir dir2;
  auto users = testing::NatsServer::Start(dir2.path(), {"--user", "tyto", "--pass", "pw"});
  ASSERT_TRUE(users.ok()) << users.status().ToString();
  NatsConfig u;
  u.urls = {(*users)->url()};
  u.user = "tyto";
  u.password = "nope";
  EXPECT_EQ(Connection::Connect(u, Env::Default(), nullptr).status().code(), StatusCode::kUnauthenticated);
  u.password = "pw";
  auto in = Connection::Connect(u, Env::Default(), nullptr);
  EXPECT_TRUE(in.ok()) << in.status().ToString();
}

TEST(NatsTlsTest, VerifiesTheServerByDefault) {
  tyto::testing::TempDir dir;
  const std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
                          "-subj /CN=nats.test -addext subjectAltName=DNS:nats.test -keyout " +
                          dir.Path("server.key") + " -out " + dir.Path("server.crt") + " 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd << " (the openssl command is needed)";
  auto server = testing::NatsServer::Start(
      dir.path(), {"--tls", "--tlscert", dir.Path("server.crt"), "--tlskey", dir.Path("server.key")});
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  NatsConfig c;
  c.urls = {"tls://127.0.0.1:" + std::to_string((*server)->port())};
  c.connect_timeout = 2s;

  // A self-signed certificate is refused unless its CA is given.
  auto untrusted = Connection::Connect(c, Env::Default(), nullptr);
  ASSERT_FALSE(untrusted.ok());
  EXPECT_EQ(untrusted.status().code(), StatusCode::kUnavailable) << untrusted.status().ToString();

  c.tls.ca_file = dir.Path("server.crt");
  c.tls.server_name = "nats.test";
  auto trusted = Connection::Connect(c, Env::Default(), nullptr);
  ASSERT_TRUE(trusted.ok()) << trusted.status().ToString();
  EXPECT_TRUE((*trusted)->EnsureStream().ok());
  trusted->reset();

  c.tls.server_name = "someone-else";
  EXPECT_FALSE(Connection::Connect(c, Env::Default(), nullptr).ok()) << "the name must match";

  // Without server_name the URL's host is the name checked: the certificate names nats.test,
  // not 127.0.0.1, so the right CA alone is not enough.
  NatsConfig by_url = c;
  by_url.tls.server_name.clear();
  EXPECT_FALSE(Connection::Connect(by_url, Env::Default(), nullptr).ok()) << "the URL's host must match";

  NatsConfig skip;
  skip.urls = c.urls;
  skip.tls.insecure_skip_verify = true;
  EXPECT_TRUE(Connection::Connect(skip, Env::Default(), nullptr).ok());

  NatsConfig missing = c;
  missing.tls.ca_file = dir.Path("nope.pem");
  auto bad = Connection::Connect(missing, Env::Default(), nullptr);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("nats.tls.ca_file"));
}

TEST(NatsConnectTest, UnreachableServerIsUnavailableNamingIt) {
  NatsConfig c;
  c.urls = {"nats://127.0.0.1:1"};
  c.connect_timeout = 500ms;
  auto conn = Connection::Connect(c, Env::Default(), nullptr);
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.status().code(), StatusCode::kUnavailable) << conn.status().ToString();
  EXPECT_THAT(conn.status().message(), HasSubstr("nats://127.0.0.1:1"));

  ConnectOptions bg;
  bg.connect_in_background = true;
  auto later = Connection::Connect(c, Env::Default(), nullptr, bg);
  ASSERT_TRUE(later.ok()) << later.status().ToString();
  EXPECT_FALSE((*later)->connected());
  EXPECT_EQ((*later)->Health().code(), StatusCode::kUnavailable);

  NatsConfig bad = c;
  bad.stream = "no.dots";
  EXPECT_EQ(Connection::Connect(bad, Env::Default(), nullptr).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tyto::nats
