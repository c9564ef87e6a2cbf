// QueueForwarder: the agent's queue published to JetStream exactly once, across NATS restarts
// and agent restarts.
#include "nats/queue_forwarder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <mutex>
#include <random>

#include "ingest/snappy_codec.h"
#include "ingest/write_request.h"
#include "nats/consumer.h"
#include "nats/test_fixture.h"
#include "testing/temp_dir.h"

namespace tyto::nats {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using testing::NatsTest;

// A queue record as QueueStorage writes it: one series {__name__="m", record="<n>"} with
// `samples` samples.
std::string Record(int n, int samples = 3) {
  ingest::SeriesSamples s;
  s.labels = Labels::Of({"__name__", "m", "record", std::to_string(n)});
  for (int i = 0; i < samples; ++i) s.samples.push_back({1000 * (n + 1) + i, static_cast<double>(i)});
  std::string raw;
  ingest::EncodeWriteRequest(std::span<const ingest::SeriesSamples>(&s, 1), &raw);
  return ingest::SnappyCompress(raw);
}

// Every message of the stream, read by a consumer: record label -> times seen, and samples.
struct StreamContents {
  std::map<std::string, int> records;
  uint64_t samples = 0;
  uint64_t messages = 0;
  std::set<std::string> ids;
};

class QueueForwarderTest : public NatsTest {
 protected:
  std::unique_ptr<forward::DiskQueue> OpenQueue(const std::string& dir) {
    forward::DiskQueueOptions o;
    o.max_bytes = 64 << 20;
    o.segment_bytes = 64 << 10;  // several segments, so positions cross segment boundaries
    auto q = forward::DiskQueue::Open(Env::Default(), nullptr, dir, o);
    EXPECT_TRUE(q.ok()) << q.status().ToString();
    return q.ok() ? std::move(q).value() : nullptr;
  }

  QueueForwarderOptions Options(std::string id = "agent-1") {
    QueueForwarderOptions o;
    o.publisher_id = std::move(id);
    o.tenant = "edge";
    o.min_backoff = 10ms;
    o.max_backoff = 200ms;
    o.records_per_ack = 4;
    return o;
  }

  // Consumes the whole stream (every message is acknowledged once read).
  StreamContents ReadStream(Connection* conn, uint64_t want_messages) {
    StreamContents out;
    std::mutex mu;
    ConsumerOptions co;
    co.workers = 1;
    co.fetch_wait = 200ms;
    co.retry_wait = 100ms;
    auto consumer = Consumer::Create(
        conn,
        [&](const Message& m) -> Status {
          EXPECT_EQ(m.subject, "telemetry.edge.metrics");
          EXPECT_EQ(m.content_type, "application/x-protobuf");
          EXPECT_EQ(m.content_encoding, "snappy");
          std::string raw;
          ingest::WriteRequest req;
          TYTO_RETURN_IF_ERROR(ingest::SnappyUncompress(m.payload, 1 << 30, &raw));
          TYTO_RETURN_IF_ERROR(ingest::DecodeWriteRequest(raw, &req));
          std::lock_guard<std::mutex> l(mu);
          ++out.messages;
          out.ids.insert(std::string(m.id));
          out.samples += req.samples.size();
          for (const auto& s : req.series) {
            for (uint32_t i = s.labels_begin; i < s.labels_end; ++i) {
              if (req.labels[i].name == "record") ++out.records[std::string(req.labels[i].value)];
            }
          }
          return Status::Ok();
        },
        co);
    EXPECT_TRUE(consumer.ok());
    if (!consumer.ok()) return out;
    (*consumer)->Start();
    EXPECT_TRUE(WaitFor([&] { return (*consumer)->stats().acked >= want_messages; }));
    (*consumer)->Stop();
    return out;
  }
};

TEST(PublisherIdTest, MadeOnceThenKept) {
  tyto::testing::TempDir dir;
  const std::string path = dir.Path("nats-publisher-id");
  auto id = LoadOrCreatePublisherId(Env::Default(), path);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(id->size(), 16u);
  EXPECT_TRUE(IsValidName(*id));
  auto again = LoadOrCreatePublisherId(Env::Default(), path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *id);
  {
    auto f = Env::Default()->NewWritableFile(path);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->Append("not an id!\n").ok());
    ASSERT_TRUE((*f)->Close().ok());
  }
  auto bad = LoadOrCreatePublisherId(Env::Default(), path);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kCorruption);
  EXPECT_THAT(bad.status().message(), HasSubstr(path));
}

TEST_F(QueueForwarderTest, ExactlyOnceAcrossNatsAndAgentRestarts) {
  tyto::testing::TempDir qdir;
  const std::string queue_dir = qdir.Path("queue");
  const std::string copy_dir = qdir.Path("queue-copy");
  constexpr int kFirst = 30, kSecond = 30;

  auto conn = Connect(/*background=*/true);
  ASSERT_NE(conn, nullptr);
  {
    auto queue = OpenQueue(queue_dir);
    ASSERT_NE(queue, nullptr);
    for (int i = 0; i < kFirst; ++i) ASSERT_TRUE(queue->Append(Record(i), 3).ok());
    ASSERT_TRUE(queue->Sync().ok());
  }
  // The same queue as an agent that crashed before acknowledging anything would find it.
  std::filesystem::copy(queue_dir, copy_dir, std::filesystem::copy_options::recursive);

  auto queue = OpenQueue(queue_dir);
  ASSERT_NE(queue, nullptr);
  auto fwd = QueueForwarder::Create(queue.get(), conn.get(), Options(), nullptr, nullptr);
  ASSERT_TRUE(fwd.ok()) << fwd.status().ToString();
  (*fwd)->Start();
  ASSERT_TRUE(WaitFor([&] { return (*fwd)->stats().messages >= 10; }));

  // NATS goes away mid-way; the agent keeps queueing; NATS comes back with its files.
  server_->Stop();
  for (int i = kFirst; i < kFirst + kSecond; ++i) ASSERT_TRUE(queue->Append(Record(i), 3).ok());
  ASSERT_TRUE(server_->Restart().ok());
  ASSERT_TRUE(WaitFor([&] { return (*fwd)->stats().records == kFirst + kSecond; }))
      << "records acknowledged: " << (*fwd)->stats().records;
  (*fwd)->Stop();
  EXPECT_EQ(queue->Stats().unread_records, 0u);
  EXPECT_EQ(queue->Stats().acked, queue->Stats().read);

  auto state = conn->GetStreamState();
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  EXPECT_EQ(state->messages, static_cast<uint64_t>(kFirst + kSecond)) << "each record stored once";

  // The restarted agent publishes its unacknowledged copy again: all deduplicated.
  {
    auto copy = OpenQueue(copy_dir);
    ASSERT_NE(copy, nullptr);
    auto again = QueueForwarder::Create(copy.get(), conn.get(), Options(), nullptr, nullptr);
    ASSERT_TRUE(again.ok());
    (*again)->Start();
    ASSERT_TRUE(WaitFor([&] { return (*again)->stats().records == kFirst; }));
    (*again)->Stop();
    EXPECT_EQ((*again)->stats().duplicates, static_cast<uint64_t>(kFirst));
  }
  state = conn->GetStreamState();
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->messages, static_cast<uint64_t>(kFirst + kSecond));

  StreamContents got = ReadStream(conn.get(), kFirst + kSecond);
  EXPECT_EQ(got.messages, static_cast<uint64_t>(kFirst + kSecond));
  EXPECT_EQ(got.ids.size(), static_cast<size_t>(kFirst + kSecond));
  EXPECT_EQ(got.samples, static_cast<uint64_t>(3 * (kFirst + kSecond)));
  ASSERT_EQ(got.records.size(), static_cast<size_t>(kFirst + kSecond));
  for (const auto& [record, times] : got.records) EXPECT_EQ(times, 1) << "record " << record;
  for (const std::string& id : got.ids) EXPECT_THAT(id, ::testing::StartsWith("agent-1:"));
}

TEST_F(QueueForwarderTest, RecordsOverMaxPayloadAreSplitAndStillDeduplicated) {
  tyto::testing::TempDir qdir;
  auto conn = Connect();
  ASSERT_NE(conn, nullptr);
  // About 3 MB of poorly compressible samples over 300 series in one record.
  std::vector<ingest::SeriesSamples> series(300);
  std::mt19937_64 rng(7);
  uint64_t total = 0;
  for (size_t s = 0; s < series.size(); ++s) {
    series[s].labels = Labels::Of({"__name__", "big", "record", "s" + std::to_string(s)});
    for (int i = 0; i < 600; ++i) series[s].samples.push_back({static_cast<int64_t>(rng() >> 20), static_cast<double>(rng())});
    total += series[s].samples.size();
  }
  // And one series alone larger than a message.
  ingest::SeriesSamples huge;
  huge.labels = Labels::Of({"__name__", "big", "record", "huge"});
  for (int i = 0; i < 120000; ++i) huge.samples.push_back({static_cast<int64_t>(rng() >> 20), static_cast<double>(rng())});
  total += huge.samples.size();
  series.push_back(huge);
  std::string raw;
  ingest::EncodeWriteRequest(series, &raw);
  const std::string record = ingest::SnappyCompress(raw);
  Publisher probe(conn.get());
  ASSERT_GT(record.size(), 2 * probe.MaxPayload()) << "the record must need splitting";

  const std::string queue_dir = qdir.Path("queue");
  {
    auto queue = OpenQueue(queue_dir);
    ASSERT_NE(queue, nullptr);
    ASSERT_TRUE(queue->Append(record, static_cast<uint32_t>(total)).ok());
  }
  std::filesystem::copy(queue_dir, qdir.Path("copy"), std::filesystem::copy_options::recursive);
  uint64_t parts = 0;
  for (const std::string& dir : {queue_dir, qdir.Path("copy")}) {
    auto queue = OpenQueue(dir);
    ASSERT_NE(queue, nullptr);
    auto fwd = QueueForwarder::Create(queue.get(), conn.get(), Options(), nullptr, nullptr);
    ASSERT_TRUE(fwd.ok());
    (*fwd)->Start();
    ASSERT_TRUE(WaitFor([&] { return (*fwd)->stats().records == 1; }));
    (*fwd)->Stop();
    if (parts == 0) {
      parts = (*fwd)->stats().messages;
      EXPECT_GT(parts, 3u);
      EXPECT_EQ((*fwd)->stats().duplicates, 0u);
    } else {
      EXPECT_EQ((*fwd)->stats().messages, parts);
      EXPECT_EQ((*fwd)->stats().duplicates, parts) << "the same parts with the same ids";
    }
  }
  auto state = conn->GetStreamState();
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->messages, parts);

  StreamContents got = ReadStream(conn.get(), parts);
  EXPECT_EQ(got.samples, total) << "every sample arrives once, over the parts";
  EXPECT_EQ(got.records.size(), 301u);
}

TEST_F(QueueForwarderTest, CorruptRecordsAreDroppedAndCounted) {
  tyto::testing::TempDir qdir;
  auto conn = Connect();
  ASSERT_NE(conn, nullptr);
  auto queue = OpenQueue(qdir.Path("queue"));
  ASSERT_NE(queue, nullptr);
  ASSERT_TRUE(queue->Append(Record(1), 3).ok());
  ASSERT_TRUE(queue->Append("not snappy at all", 5).ok());
  ASSERT_TRUE(queue->Append(Record(2), 3).ok());
  instrumentation::Registry registry;
  forward::Metrics metrics(&registry);
  auto fwd = QueueForwarder::Create(queue.get(), conn.get(), Options(), nullptr, &metrics);
  ASSERT_TRUE(fwd.ok());
  (*fwd)->Start();
  ASSERT_TRUE(WaitFor([&] { return (*fwd)->stats().records == 3; }));
  (*fwd)->Stop();
  EXPECT_EQ((*fwd)->stats().corrupt_records, 1u);
  EXPECT_EQ((*fwd)->stats().messages, 2u);
  EXPECT_EQ(metrics.dropped_corrupt.Value(), 5);
  EXPECT_EQ(metrics.samples_sent.Value(), 6);
  EXPECT_GT(metrics.highest_sent_timestamp.Value(), 0);
}

TEST(QueueForwarderOptionsTest, BadOptionsAreRefused) {
  tyto::testing::TempDir qdir;
  auto queue = forward::DiskQueue::Open(Env::Default(), nullptr, qdir.Path("q"), forward::DiskQueueOptions{});
  ASSERT_TRUE(queue.ok());
  NatsConfig c;
  c.urls = {"nats://127.0.0.1:1"};
  ConnectOptions bg;
  bg.connect_in_background = true;
  auto conn = Connection::Connect(c, Env::Default(), nullptr, bg);
  ASSERT_TRUE(conn.ok());
  QueueForwarderOptions o;
  o.publisher_id = "has:colon";
  EXPECT_EQ(QueueForwarder::Create(queue->get(), conn->get(), o, nullptr, nullptr).status().code(),
            StatusCode::kInvalidArgument);
  o.publisher_id = "ok";
  o.min_backoff = 0ms;
  EXPECT_EQ(QueueForwarder::Create(queue->get(), conn->get(), o, nullptr, nullptr).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tyto::nats
