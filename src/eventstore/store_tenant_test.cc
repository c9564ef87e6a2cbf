// EventStore and tenants (issue 12): every span, log record and inference event belongs to an
// org; queries see only their org's; files written before orgs existed read as "default".
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "eventstore/partition.h"
#include "eventstore/sqlite.h"
#include "eventstore/store.h"
#include "eventstore/test_data.h"
#include "instrumentation/metrics.h"
#include "testing/fake_clock.h"
#include "testing/temp_dir.h"

namespace tyto::eventstore {
namespace {

using testdata::MakeLog;
using testdata::MakeSpan;
using testdata::TraceId;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr int64_t kNow = 1'700'000'000'000;

class TenantStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open(EventStoreOptions o = {}) {
    store_.reset();
    registry_ = std::make_unique<instrumentation::Registry>();
    auto s = EventStore::Open(Env::Default(), &clock_, dir_.Path("events"), o, registry_.get());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }

  // One trace, one log and one event of `org` (trace number n).
  void AppendFor(const std::string& org, uint64_t n, const std::string& service) {
    events::Span span = MakeSpan({.trace = n, .span = n * 10, .service = service, .start_ms = kNow - 1000});
    span.org = org;
    ASSERT_EQ(store_->AppendSpans(std::vector<events::Span>{span})->stored, 1u);
    events::LogRecord log = MakeLog({.time_ms = kNow - 900, .body = "hello from " + service, .service = service,
                                     .trace_id = TraceId(n)});
    log.org = org;
    ASSERT_EQ(store_->AppendLogs(std::vector<events::LogRecord>{log})->stored, 1u);
    events::InferenceEvent e;
    e.org = org;
    e.timestamp_ms = kNow - 800;
    e.request_id = "req-" + service;
    e.model = "llama";
    e.tenant = "customer-" + service;  // the model-serving customer: a dimension, not the owner
    e.user = "user-" + service;
    e.trace_id = TraceId(n);
    ASSERT_EQ(store_->AppendInferenceEvents(std::vector<events::InferenceEvent>{e})->stored, 1u);
  }

  std::vector<std::string> TraceServices(const std::string& org) {
    auto r = store_->FindTraces({.org = org});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::string> out;
    for (const TraceSummary& t : *r) out.push_back(t.root_service);
    return out;
  }
  std::vector<std::string> LogBodies(const std::string& org) {
    auto r = store_->SearchLogs({.org = org});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::string> out;
    for (const LogEntry& e : *r) out.push_back(e.record.body);
    return out;
  }
  std::vector<std::string> EventUsers(const std::string& org) {
    auto r = store_->QueryInferenceEvents({.org = org});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::string> out;
    for (const events::InferenceEvent& e : *r) out.push_back(e.user);
    return out;
  }

  testing::TempDir dir_;
  testing::FakeClock clock_{kNow};
  std::unique_ptr<instrumentation::Registry> registry_;
  std::unique_ptr<EventStore> store_;
};

TEST_F(TenantStoreTest, EachOrgSeesOnlyItsOwn) {
  AppendFor("team-a", 1, "svc-a");
  AppendFor("team-b", 2, "svc-b");
  AppendFor("", 3, "svc-default");

  EXPECT_THAT(TraceServices("team-a"), ElementsAre("svc-a"));
  EXPECT_THAT(TraceServices("team-b"), ElementsAre("svc-b"));
  EXPECT_THAT(TraceServices(""), ElementsAre("svc-default"));
  EXPECT_THAT(TraceServices("default"), ElementsAre("svc-default"));
  EXPECT_THAT(TraceServices("team-c"), IsEmpty());

  EXPECT_THAT(LogBodies("team-a"), ElementsAre("hello from svc-a"));
  EXPECT_THAT(LogBodies("team-b"), ElementsAre("hello from svc-b"));
  EXPECT_THAT(EventUsers("team-a"), ElementsAre("user-svc-a"));
  EXPECT_THAT(EventUsers("default"), ElementsAre("user-svc-default"));

  auto events = store_->QueryInferenceEvents({.org = "team-b"});
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].org, "team-b");
  EXPECT_EQ((*events)[0].tenant, "customer-svc-b");

  // Another org's trace is not found, exactly like a missing one.
  auto mine = store_->GetTrace(TraceId(1), {.org = "team-a"});
  ASSERT_TRUE(mine.ok());
  EXPECT_EQ((*mine)[0].org, "team-a");
  EXPECT_EQ(store_->GetTrace(TraceId(1), {.org = "team-b"}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetTrace(TraceId(99), {.org = "team-b"}).status().code(), StatusCode::kNotFound);
  auto several = store_->GetTraces(std::vector<std::string>{TraceId(1), TraceId(2)}, {.org = "team-b"});
  ASSERT_EQ(several->size(), 1u);
  EXPECT_EQ((*several)[0][0].service, "svc-b");

  EXPECT_THAT(*store_->Services("team-a"), ElementsAre("svc-a"));
  EXPECT_THAT(*store_->Services("team-c"), IsEmpty());
  EXPECT_EQ(store_->Operations("team-a", "svc-a")->size(), 1u);
  EXPECT_THAT(*store_->Operations("team-b", "svc-a"), IsEmpty());

  // Live tail: only the org's records.
  auto page = store_->LogsAfter(0, {.org = "team-b"}, 100);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->logs.size(), 1u);
  EXPECT_EQ(page->logs[0].record.body, "hello from svc-b");
  EXPECT_EQ(page->logs[0].record.org, "team-b");
}

// A partition written by format version 1 (no org columns) reads as tenant "default" and takes
// new rows of any org after the upgrade at open.
TEST_F(TenantStoreTest, VersionOneFilesReadAsDefault) {
  AppendFor("", 1, "svc-old");
  ASSERT_TRUE(store_->Close().ok());
  store_.reset();
  // Make the file what version 1 wrote: no org or user columns, operations without org.
  const std::string path = dir_.Path("events") + "/" + PartitionFileName(kNow - kNow % 3'600'000);
  {
    auto c = sqlite::Connection::Open(path, sqlite::Connection::Mode::kReadWrite);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    Status s = (*c)->Exec(
        "BEGIN; ALTER TABLE spans DROP COLUMN org; ALTER TABLE logs DROP COLUMN org; "
        "ALTER TABLE inference_events DROP COLUMN org; ALTER TABLE inference_events DROP COLUMN user; "
        "CREATE TABLE ops1(service TEXT NOT NULL, name TEXT NOT NULL, kind INTEGER NOT NULL, "
        "PRIMARY KEY(service, name, kind)) WITHOUT ROWID; "
        "INSERT INTO ops1 SELECT service, name, kind FROM operations; DROP TABLE operations; "
        "ALTER TABLE ops1 RENAME TO operations; DROP TABLE org_bytes; PRAGMA user_version=1; COMMIT;");
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_EQ(*(*c)->QueryInt("SELECT count(*) FROM pragma_table_info('spans') WHERE name = 'org'"), 0);
  }
  Open();
  EXPECT_THAT(TraceServices(""), ElementsAre("svc-old"));
  EXPECT_THAT(TraceServices("team-a"), IsEmpty());
  EXPECT_THAT(LogBodies("default"), ElementsAre("hello from svc-old"));
  EXPECT_THAT(EventUsers("default"), ElementsAre(""));
  EXPECT_THAT(*store_->Services("default"), ElementsAre("svc-old"));

  EXPECT_GT(*store_->StoredBytes("default"), 0u);  // counted by the upgrade

  AppendFor("team-a", 2, "svc-new");
  EXPECT_THAT(TraceServices("team-a"), ElementsAre("svc-new"));
  EXPECT_THAT(*store_->Services("team-a"), ElementsAre("svc-new"));
  EXPECT_THAT(TraceServices("default"), ElementsAre("svc-old"));
}


// Each org's stored bytes (its storage limit's measure) are kept as rows are written, survive a
// restart, and are what the upgrade from version 2 counts from the rows themselves.
TEST_F(TenantStoreTest, StoredBytesAreKeptPerOrgAsRowsAreWritten) {
  EXPECT_EQ(*store_->StoredBytes("team-a"), 0u);
  AppendFor("team-a", 1, "svc-a");
  AppendFor("team-b", 2, "svc-b");
  AppendFor("team-b", 3, "svc-c");
  const uint64_t a = *store_->StoredBytes("team-a");
  const uint64_t b = *store_->StoredBytes("team-b");
  EXPECT_GT(a, 100u);
  EXPECT_EQ(b, 2 * a);  // the same rows but for the trace ids and names of equal length
  EXPECT_EQ(*store_->StoredBytes("team-c"), 0u);
  // A prompt's bytes are counted.
  events::InferenceEvent e;
  e.org = "team-a";
  e.timestamp_ms = kNow - 700;
  e.request_id = "req-big";
  e.model = "llama";
  e.prompt = std::string(5000, 'p');
  ASSERT_EQ(store_->AppendInferenceEvents(std::vector<events::InferenceEvent>{e})->stored, 1u);
  const uint64_t a2 = *store_->StoredBytes("team-a");
  EXPECT_GE(a2, a + 5000);
  EXPECT_LT(a2, a + 5000 + 400);

  ASSERT_TRUE(store_->Close().ok());
  Open();
  EXPECT_EQ(*store_->StoredBytes("team-a"), a2);
  EXPECT_EQ(*store_->StoredBytes("team-b"), b);

  // Counted again from the rows, as when a version 2 file is upgraded: the same figures.
  ASSERT_TRUE(store_->Close().ok());
  store_.reset();
  const std::string path = dir_.Path("events") + "/" + PartitionFileName(kNow - kNow % 3'600'000);
  {
    auto c = sqlite::Connection::Open(path, sqlite::Connection::Mode::kReadWrite);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    ASSERT_TRUE((*c)->Exec("DROP TABLE org_bytes; PRAGMA user_version=2;").ok());
  }
  Open();
  EXPECT_EQ(*store_->StoredBytes("team-a"), a2);
  EXPECT_EQ(*store_->StoredBytes("team-b"), b);
  auto c = sqlite::Connection::Open(path, sqlite::Connection::Mode::kReadWrite);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*(*c)->QueryInt("PRAGMA user_version"), kFormatVersion);
}

class EraseTest : public TenantStoreTest {
 protected:
  // A request of `user` in team-a (trace n): an event with the planted prompt, its span, a log.
  void Request(const std::string& org, const std::string& user, uint64_t n, const std::string& secret) {
    const int64_t now = clock_.NowMillis();
    events::InferenceEvent e;
    e.org = org;
    e.timestamp_ms = now - 800;
    e.request_id = "req-" + std::to_string(n);
    e.model = "llama";
    e.user = user;
    e.prompt = "my card is " + secret;
    e.trace_id = TraceId(n);
    ASSERT_EQ(store_->AppendInferenceEvents(std::vector<events::InferenceEvent>{e})->stored, 1u);
    events::Span span = MakeSpan({.trace = n, .span = n * 10, .service = "chat", .start_ms = now - 1000,
                                  .extra = {{"gen_ai.input.messages", "my card is " + secret}}});
    span.org = org;
    events::Span tool = MakeSpan({.trace = n, .span = n * 10 + 1, .parent = static_cast<int64_t>(n * 10),
                                  .service = "tool", .start_ms = now - 990, .extra = {{"enduser.id", user}}});
    tool.org = org;
    ASSERT_EQ(store_->AppendSpans(std::vector<events::Span>{span, tool})->stored, 2u);
    // A log record of the user outside any trace.
    events::LogRecord log = MakeLog({.time_ms = now - 900, .body = "payment by " + secret, .service = "chat",
                                     .attributes = {{"enduser.id", user}}});
    log.org = org;
    ASSERT_EQ(store_->AppendLogs(std::vector<events::LogRecord>{log})->stored, 1u);
  }
};

TEST_F(EraseTest, ErasingAUserLeavesNoByteOfItOnDisk) {
  const std::string kSecret = "zq7planted4411secret";
  const std::string kUser = "user-9c1e77d2";
  Request("team-a", kUser, 1, kSecret);
  Request("team-a", "user-other", 2, "otherstays");
  // A second partition (an hour earlier) with the user too.
  clock_.Advance(std::chrono::hours(-1));
  Request("team-a", kUser, 3, kSecret);
  clock_.Advance(std::chrono::hours(1));
  // Closed and reopened: the rows are in the database files (checkpointed), not only in WALs.
  ASSERT_TRUE(store_->Close().ok());
  Open();
  const std::string dir = dir_.Path("events");
  ASSERT_NE(testing::AllFileBytes(dir).find(kSecret), std::string::npos);  // the check below can fail
  ASSERT_NE(testing::AllFileBytes(dir).find(kUser), std::string::npos);

  // Another tenant cannot erase team-a's records.
  auto none = store_->Erase({.org = "team-b", .user = kUser});
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(none->inference_events + none->spans + none->logs, 0u);

  auto r = store_->Erase({.org = "team-a", .user = kUser});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->inference_events, 2u);
  EXPECT_EQ(r->spans, 4u);  // the traces of the user's events, the planted span included
  EXPECT_EQ(r->logs, 2u);
  const std::string all = testing::AllFileBytes(dir);
  EXPECT_EQ(all.find(kSecret), std::string::npos);
  EXPECT_EQ(all.find(kUser), std::string::npos);

  // The rest is there and its indexes work.
  EXPECT_THAT(EventUsers("team-a"), ElementsAre("user-other"));
  EXPECT_EQ(store_->FindTraces({.org = "team-a"})->size(), 1u);
  auto by_attr = store_->FindTraces({.org = "team-a", .attributes = {{"enduser.id", "user-other"}}});
  ASSERT_EQ(by_attr->size(), 1u);
  EXPECT_EQ((*by_attr)[0].trace_id, TraceId(2));
  auto words = store_->SearchLogs({.org = "team-a", .text = "otherstays"});
  EXPECT_EQ(words->size(), 1u);
  EXPECT_TRUE(store_->SearchLogs({.org = "team-a", .text = kSecret})->empty());
  EXPECT_EQ(store_->GetTrace(TraceId(1), {.org = "team-a"}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetTrace(TraceId(2), {.org = "team-a"})->size(), 2u);

  // Reopening finds the same.
  ASSERT_TRUE(store_->Close().ok());
  Open();
  EXPECT_THAT(EventUsers("team-a"), ElementsAre("user-other"));
  EXPECT_EQ(testing::AllFileBytes(dir).find(kSecret), std::string::npos);
}

TEST_F(EraseTest, ByRequestIdAndByTenant) {
  Request("team-a", "u1", 1, "alpha");
  Request("team-a", "u2", 2, "beta");
  Request("team-b", "u1", 3, "gamma");
  auto r = store_->Erase({.org = "team-a", .request_id = "req-1"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->inference_events, 1u);
  EXPECT_THAT(r->request_ids, ElementsAre("req-1"));  // for the quality monitor to forget
  EXPECT_EQ(r->spans, 2u);
  EXPECT_EQ(r->logs, 0u);  // its log record is not part of the trace
  EXPECT_THAT(EventUsers("team-a"), ElementsAre("u2"));
  // A trace id as request id: the trace's spans.
  r = store_->Erase({.org = "team-a", .request_id = TraceId(2)});
  EXPECT_EQ(r->spans, 2u);
  EXPECT_EQ(r->inference_events, 0u);

  auto all = store_->Erase({.org = "team-b"});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->inference_events, 1u);
  EXPECT_THAT(all->request_ids, IsEmpty()) << "not listed for a whole tenant";
  EXPECT_EQ(all->spans, 2u);
  EXPECT_EQ(all->logs, 1u);
  EXPECT_THAT(EventUsers("team-b"), IsEmpty());
  EXPECT_THAT(LogBodies("team-a"), ::testing::SizeIs(2));
  EXPECT_EQ(store_->Erase({}).status().code(), StatusCode::kInvalidArgument);
}

// Erasure gives a tenant's bytes back (its storage limit counts what is left), and only its.
TEST_F(EraseTest, ErasureGivesTheTenantsBytesBack) {
  Request("team-a", "u1", 1, "alpha");
  Request("team-a", "u2", 2, "beta");
  Request("team-b", "u1", 3, "gamma");
  const uint64_t a = *store_->StoredBytes("team-a");
  const uint64_t b = *store_->StoredBytes("team-b");
  ASSERT_GT(a, 0u);
  ASSERT_TRUE(store_->Erase({.org = "team-a", .user = "u1"}).ok());
  const uint64_t a_left = *store_->StoredBytes("team-a");
  EXPECT_GT(a_left, 0u);
  EXPECT_LT(a_left, a);
  EXPECT_EQ(*store_->StoredBytes("team-b"), b);
  ASSERT_TRUE(store_->Erase({.org = "team-a"}).ok());
  EXPECT_EQ(*store_->StoredBytes("team-a"), 0u);
  ASSERT_TRUE(store_->Close().ok());
  Open();
  EXPECT_EQ(*store_->StoredBytes("team-a"), 0u);
  EXPECT_EQ(*store_->StoredBytes("team-b"), b);
}

// Retention per tenant: Maintain erases a tenant's rows older than its retention (their bytes
// too), and leaves other tenants' and newer rows.
TEST_F(EraseTest, RetentionPerTenant) {
  clock_.Advance(std::chrono::hours(-3));
  Request("team-a", "old-a", 1, "oldplantedalpha");
  Request("team-b", "old-b", 2, "oldplantedbeta");
  clock_.Advance(std::chrono::hours(3));
  Request("team-a", "new-a", 3, "newalpha");
  store_->SetOrgRetention({{"team-a", std::chrono::hours(2)}, {"team-b", std::chrono::hours(24 * 30)}});
  const std::string dir = dir_.Path("events");
  ASSERT_NE(testing::AllFileBytes(dir).find("oldplantedalpha"), std::string::npos);
  ASSERT_TRUE(store_->Maintain().ok());
  EXPECT_THAT(EventUsers("team-a"), ElementsAre("new-a"));
  EXPECT_THAT(EventUsers("team-b"), ElementsAre("old-b"));
  EXPECT_EQ(store_->FindTraces({.org = "team-a", .start_unix_nano = 0})->size(), 1u);
  EXPECT_THAT(LogBodies("team-a"), ElementsAre("payment by newalpha"));
  EXPECT_EQ(testing::AllFileBytes(dir).find("oldplantedalpha"), std::string::npos);
  EXPECT_NE(testing::AllFileBytes(dir).find("oldplantedbeta"), std::string::npos);
  // A second run finds nothing more to do.
  ASSERT_TRUE(store_->Maintain().ok());
  EXPECT_THAT(EventUsers("team-a"), ElementsAre("new-a"));
}

}  // namespace
}  // namespace tyto::eventstore
