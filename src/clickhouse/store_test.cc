// ClickHouseStore against a real clickhouse-server 18.16 (Debian package clickhouse-server),
// started by the suite on 127.0.0.1: the TelemetryStore contract with the embedded store's
// fixtures and expectations (eventstore/store_test.cc), retention, exact counts after forced
// retries and a server killed mid-load, then two shards behind Distributed tables.
#include "clickhouse/store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <set>
#include <thread>

#include "clickhouse/clickhouse_server.h"
#include "eventstore/test_data.h"
#include "eventstore/trace_tree.h"
#include "instrumentation/metrics.h"
#include "testing/fake_clock.h"
#include "testing/temp_dir.h"

namespace tyto::clickhouse {
namespace {

using namespace std::chrono_literals;
using eventstore::LogEntry;
using eventstore::LogQuery;
using eventstore::Operation;
using eventstore::TraceQuery;
using eventstore::TraceSummary;
using eventstore::testdata::LogSpec;
using eventstore::testdata::MakeLog;
using eventstore::testdata::MakeSpan;
using eventstore::testdata::SpanId;
using eventstore::testdata::TraceId;
using eventstore::testdata::ThreeSpanTrace;
using testing::ClickHouseServer;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kNow = 1'700'000'000'000;
constexpr int64_t kMs = eventstore::testdata::kNanosPerMilli;

class StoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new tyto::testing::TempDir();
    server_ = new ClickHouseServer(dir_->Path("ch"));
    start_ = server_->Start();
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
    server_ = nullptr;
    dir_ = nullptr;
  }

  void SetUp() override {
    ASSERT_TRUE(start_.ok()) << start_.ToString();
    // A database per test: tests do not see each other's rows.
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    database_ = std::string("t_") + info->name();
    std::replace_if(database_.begin(), database_.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
    ASSERT_TRUE(server_->Query("DROP DATABASE IF EXISTS " + database_).ok());
    Open();
  }

  ClickHouseConfig Config() const {
    ClickHouseConfig c;
    c.urls = {server_->url()};
    c.database = database_;
    c.user = "tyto";
    c.password = "s3cret";
    c.flush_interval = 0ms;
    c.tail_settle = 0ms;
    c.tail_lookback = 24h * 30;
    c.tail_poll_interval = 50ms;
    return c;
  }

  void Open(std::optional<ClickHouseConfig> config = std::nullopt) {
    store_.reset();
    registry_ = std::make_unique<instrumentation::Registry>();
    auto s = ClickHouseStore::Open(config ? *config : Config(), Env::Default(), &clock_, registry_.get());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }

  void Append(const std::vector<events::Span>& spans) {
    auto r = store_->AppendSpans(spans);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->stored, spans.size()) << r->first_rejection;
  }
  void AppendLogs(const std::vector<events::LogRecord>& logs) {
    auto r = store_->AppendLogs(logs);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->stored, logs.size()) << r->first_rejection;
  }
  std::vector<std::string> Find(TraceQuery q) {
    auto r = store_->FindTraces(q);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::string> ids;
    if (r.ok()) {
      for (const TraceSummary& t : *r) ids.push_back(t.trace_id);
    }
    return ids;
  }
  std::vector<std::string> Bodies(const LogQuery& q) {
    auto r = store_->SearchLogs(q);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::string> out;
    if (r.ok()) {
      for (const LogEntry& e : *r) out.push_back(e.record.body);
    }
    return out;
  }
  uint64_t Count(const std::string& table) {
    auto r = server_->Query("SELECT count() FROM " + database_ + "." + table);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::stoull(*r) : 0;
  }

  static tyto::testing::TempDir* dir_;
  static ClickHouseServer* server_;
  static Status start_;
  std::string database_;
  tyto::testing::FakeClock clock_{kNow};
  std::unique_ptr<instrumentation::Registry> registry_;
  std::unique_ptr<ClickHouseStore> store_;
};

tyto::testing::TempDir* StoreTest::dir_ = nullptr;
ClickHouseServer* StoreTest::server_ = nullptr;
Status StoreTest::start_;


TEST_F(StoreTest, GetTraceReturnsEverySpanAsStored) {
  const auto spans = ThreeSpanTrace(1, kNow - 60'000);
  Append(spans);
  Append(ThreeSpanTrace(2, kNow - 30'000));
  auto got = store_->GetTrace(TraceId(1));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), 3u);
  EXPECT_EQ((*got)[0].span_id, spans[0].span_id);
  EXPECT_EQ((*got)[1].span_id, spans[2].span_id);
  EXPECT_EQ((*got)[2].span_id, spans[1].span_id);
  const events::Span& a = (*got)[2];
  const events::Span& b = spans[1];
  EXPECT_EQ(a.trace_id, b.trace_id);
  EXPECT_EQ(a.parent_span_id, b.parent_span_id);
  EXPECT_EQ(a.service, b.service);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.start_unix_nano, b.start_unix_nano);
  EXPECT_EQ(a.end_unix_nano, b.end_unix_nano);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.scope_name, b.scope_name);
  ASSERT_EQ(a.attributes.size(), b.attributes.size());
  for (size_t i = 0; i < a.attributes.size(); ++i) {
    EXPECT_EQ(a.attributes[i].key, b.attributes[i].key);
    EXPECT_EQ(a.attributes[i].value, b.attributes[i].value);
  }
  ASSERT_EQ(a.resource.size(), b.resource.size());
  EXPECT_EQ(a.resource[1].value, "chat-api-0");
  ASSERT_EQ(a.events.size(), 2u);
  EXPECT_EQ(a.events[0].name, "gen_ai.content.prompt");
  EXPECT_EQ(a.events[0].time_unix_nano, b.events[0].time_unix_nano);
  ASSERT_EQ(a.events[0].attributes.size(), 1u);
  EXPECT_EQ(a.events[0].attributes[0].value, "[redacted]");
  EXPECT_TRUE(a.events[1].attributes.empty());
  EXPECT_TRUE((*got)[0].parent_span_id.empty());

  std::string upper = TraceId(1);
  std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
  auto again = store_->GetTrace(upper);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->size(), 3u);
  EXPECT_EQ(store_->GetTrace(TraceId(99)).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetTrace("xyz").status().code(), StatusCode::kInvalidArgument);
  eventstore::TraceTree tree = eventstore::BuildTraceTree(std::move(got).value());
  ASSERT_EQ(tree.roots.size(), 1u);
  EXPECT_EQ(tree.spans[tree.roots[0]].name, "POST /chat");

  std::vector<std::string> ids = {TraceId(2), TraceId(77), TraceId(1)};
  auto several = store_->GetTraces(ids);
  ASSERT_TRUE(several.ok()) << several.status().ToString();
  ASSERT_EQ(several->size(), 2u);
  EXPECT_EQ((*several)[0][0].trace_id, TraceId(2));
  EXPECT_EQ((*several)[1][0].trace_id, TraceId(1));
  // A lookup limited in time sees only the spans starting in it.
  auto partial = store_->GetTrace(TraceId(1), {.start_unix_nano = (kNow - 60'000 + 6) * kMs});
  ASSERT_TRUE(partial.ok());
  EXPECT_EQ(partial->size(), 1u);
}

TEST_F(StoreTest, DuplicateSpansAreReturnedOnceAndSummariesNewestFirst) {
  const auto spans = ThreeSpanTrace(1, kNow - 60'000);
  Append(spans);
  Append(spans);
  auto got = store_->GetTrace(TraceId(1));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->size(), 3u);
  auto t2 = ThreeSpanTrace(2, kNow - 30'000);
  t2[1].status = events::StatusCode::kError;
  Append(t2);
  auto r = store_->FindTraces({});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  const TraceSummary& s = (*r)[0];
  EXPECT_EQ(s.trace_id, TraceId(2));
  EXPECT_EQ(s.root_service, "gateway");
  EXPECT_EQ(s.root_name, "POST /chat");
  EXPECT_EQ(s.start_unix_nano, (kNow - 30'000) * kMs);
  EXPECT_EQ(s.end_unix_nano, (kNow - 30'000 + 900) * kMs);
  EXPECT_EQ(s.span_count, 3u);
  EXPECT_EQ(s.error_count, 1u);
  EXPECT_THAT(s.services, ElementsAre("chat-api", "gateway", "retriever"));
  EXPECT_THAT(s.models, ElementsAre("llama-3.1-8b"));
  EXPECT_EQ((*r)[1].span_count, 3u) << "a summary counts each span id once";
}

TEST_F(StoreTest, FindTracesFilters) {
  struct T {
    uint64_t trace;
    std::string service, name, model;
    int64_t ago_ms, duration_ms;
    events::StatusCode status;
    std::string tenant;
  };
  const std::vector<T> traces = {
      {1, "chat-api", "chat", "llama-3.1-8b", 50'000, 200, events::StatusCode::kOk, "acme"},
      {2, "chat-api", "chat", "llama-3.1-70b", 40'000, 3'000, events::StatusCode::kError, "acme"},
      {3, "rag", "embed", "bge-large", 30'000, 20, events::StatusCode::kUnset, "globex"},
      {4, "chat-api", "chat", "llama-3.1-70b", 20'000, 9'000, events::StatusCode::kOk, "globex"},
      {5, "rag", "chat", "llama-3.1-8b", 10'000, 700, events::StatusCode::kError, "initech"},
  };
  std::vector<events::Span> spans;
  for (const T& t : traces) {
    spans.push_back(MakeSpan({.trace = t.trace, .span = t.trace * 10, .service = "edge", .name = "POST", .model = "",
                              .start_ms = kNow - t.ago_ms, .duration_ms = t.duration_ms + 10}));
    spans.push_back(MakeSpan({.trace = t.trace, .span = t.trace * 10 + 1, .parent = static_cast<int64_t>(t.trace * 10),
                              .service = t.service, .name = t.name, .model = t.model, .start_ms = kNow - t.ago_ms + 1,
                              .duration_ms = t.duration_ms, .status = t.status, .extra = {{"tenant", t.tenant}},
                              .pod = t.service + "-pod-" + std::to_string(t.trace)}));
  }
  Append(spans);
  auto ids = [](std::initializer_list<uint64_t> ns) {
    std::vector<std::string> out;
    for (uint64_t n : ns) out.push_back(TraceId(n));
    return out;
  };
  EXPECT_EQ(Find({}), ids({5, 4, 3, 2, 1}));
  EXPECT_EQ(Find({.service = "chat-api"}), ids({4, 2, 1}));
  EXPECT_EQ(Find({.service = "nope"}), ids({}));
  EXPECT_EQ(Find({.operation = "chat"}), ids({5, 4, 2, 1}));
  EXPECT_EQ(Find({.service = "rag", .operation = "chat"}), ids({5}));
  EXPECT_EQ(Find({.model = "llama-3.1-70b"}), ids({4, 2}));
  EXPECT_EQ(Find({.model = "llama-3.1-70b-2024-07-18"}), ids({}));
  EXPECT_EQ(Find({.status = events::StatusCode::kError}), ids({5, 2}));
  EXPECT_EQ(Find({.min_duration_nano = 700 * kMs}), ids({5, 4, 2}));
  EXPECT_EQ(Find({.service = "chat-api", .min_duration_nano = 200 * kMs, .max_duration_nano = 3'000 * kMs}),
            ids({2, 1}));
  EXPECT_EQ(Find({.start_unix_nano = (kNow - 35'000) * kMs, .end_unix_nano = (kNow - 15'000) * kMs}), ids({4, 3}));
  EXPECT_EQ(Find({.start_unix_nano = (kNow - 30'000) * kMs, .end_unix_nano = (kNow - 30'000) * kMs}), ids({3}));
  EXPECT_EQ(Find({.attributes = {{"tenant", "acme"}}}), ids({2, 1}));
  EXPECT_EQ(Find({.attributes = {{"tenant", "acme"}, {"gen_ai.request.model", "llama-3.1-70b"}}}), ids({2}));
  EXPECT_EQ(Find({.attributes = {{"tenant", "acm"}}}), ids({}));
  EXPECT_EQ(Find({.attributes = {{"k8s.pod.name", "rag-pod-3"}}}), ids({3}));
  EXPECT_EQ(Find({.attributes = {{"k8s.pod.name", "rag-pod-3"}, {"tenant", "acme"}}}), ids({}));
  EXPECT_EQ(Find({.attributes = {{"tenant", "x' OR '1'='1"}}}), ids({})) << "quoted, not SQL";
  EXPECT_EQ(Find({.limit = 2}), ids({5, 4}));
  EXPECT_EQ(store_->FindTraces({.limit = 10'001}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->FindTraces({.start_unix_nano = 5, .end_unix_nano = 4}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->FindTraces({.attributes = {{"", "x"}}}).status().code(), StatusCode::kInvalidArgument);

  auto services = store_->Services("");
  ASSERT_TRUE(services.ok()) << services.status().ToString();
  EXPECT_THAT(*services, ElementsAre("chat-api", "edge", "rag"));
  auto ops = store_->Operations("", "rag");
  ASSERT_TRUE(ops.ok());
  EXPECT_THAT(*ops, ElementsAre(Operation{"chat", events::SpanKind::kClient}, Operation{"embed", events::SpanKind::kClient}));
  auto none = store_->Services("", 0, (kNow - 24 * 3'600'000LL) * kMs);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(StoreTest, RefusesRowsItCannotKeep) {
  std::vector<events::Span> spans = {
      MakeSpan({.trace = 1, .span = 1, .start_ms = kNow - 1'000}),
      MakeSpan({.trace = 2, .span = 2, .start_ms = kNow - 8 * 24 * 3'600'000LL}),
      MakeSpan({.trace = 3, .span = 3, .start_ms = kNow + 2 * 3'600'000LL}),
      MakeSpan({.trace = 4, .span = 4, .start_ms = kNow}),
      MakeSpan({.trace = 5, .span = 5, .start_ms = kNow}),
      MakeSpan({.trace = 6, .span = 6, .start_ms = kNow + 30 * 60'000}),
  };
  spans[3].trace_id = "not-a-trace-id";
  spans[4].parent_span_id = "12345";
  auto r = store_->AppendSpans(spans);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stored, 2u);
  EXPECT_EQ(r->rejected, 4u);
  EXPECT_THAT(r->first_rejection, HasSubstr("span 1"));
  EXPECT_THAT(r->first_rejection, HasSubstr("is older than the retention"));
  const std::string m = registry_->Expose();
  EXPECT_THAT(m, HasSubstr("tyto_clickhouse_rows_inserted_total{table=\"spans\"} 2"));
  EXPECT_THAT(m, HasSubstr("tyto_clickhouse_rows_rejected_total{table=\"spans\",reason=\"invalid_id\"} 2"));
  EXPECT_THAT(m, HasSubstr("tyto_clickhouse_insert_batches_total{table=\"spans\"} 1"));
  EXPECT_THAT(m, HasSubstr("tyto_clickhouse_insert_duration_seconds_count{table=\"spans\"} 1"));
  events::LogRecord log = MakeLog({.time_ms = kNow, .body = "odd id"});
  log.trace_id = "zz";
  AppendLogs({log});
  auto logs = store_->SearchLogs({});
  ASSERT_TRUE(logs.ok());
  ASSERT_EQ(logs->size(), 1u);
  EXPECT_EQ((*logs)[0].record.trace_id, "");
}

// The group commit's wait: an append into an idle table is inserted at once, not after
// flush_interval; the next insert into that table starts no sooner than flush_interval after the
// previous one began (inserts stay few at light load).
TEST_F(StoreTest, GroupCommitInsertsAnIdleTableAtOnceAndPacesTheNext) {
  ClickHouseConfig slow = Config();
  slow.flush_interval = 120s;
  Open(slow);
  const auto t0 = std::chrono::steady_clock::now();
  Append({MakeSpan({.trace = 1, .span = 1, .start_ms = kNow})});
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 60s) << "the first insert waited for flush_interval";
  store_.reset();

  ClickHouseConfig paced = Config();
  paced.flush_interval = 2s;
  Open(paced);
  const auto t1 = std::chrono::steady_clock::now();
  Append({MakeSpan({.trace = 2, .span = 2, .start_ms = kNow})});
  Append({MakeSpan({.trace = 3, .span = 3, .start_ms = kNow})});
  EXPECT_GE(std::chrono::steady_clock::now() - t1, 2s) << "the second insert did not wait for flush_interval";
  EXPECT_EQ(Count("spans"), 3u);
  EXPECT_THAT(registry_->Expose(), HasSubstr("tyto_clickhouse_insert_batches_total{table=\"spans\"} 2"));
}

TEST_F(StoreTest, SearchLogsFilters) {
  const std::string trace = TraceId(42);
  AppendLogs({
      MakeLog({.time_ms = kNow - 6'000, .body = "connection timeout to upstream llm-1", .severity = 17}),
      MakeLog({.time_ms = kNow - 5'000, .body = "request served in 120 ms", .trace_id = trace}),
      MakeLog({.time_ms = kNow - 4'000, .body = "Café ouvert: retry scheduled", .severity = 13, .service = "rag"}),
      MakeLog({.time_ms = kNow - 3'000, .body = "timeout waiting for GPU", .severity = 13,
               .attributes = {{"gpu", "3"}, {"pool", "a100"}}}),
      MakeLog({.time_ms = kNow - 2'000, .body = "user-id 77 rate limited", .severity = 9, .service = "rag",
               .trace_id = trace}),
      MakeLog({.time_ms = kNow - 1'000, .body = "debug: cache warm", .severity = 5}),
  });
  EXPECT_THAT(Bodies({}), ElementsAre("debug: cache warm", "user-id 77 rate limited", "timeout waiting for GPU",
                                      "Café ouvert: retry scheduled", "request served in 120 ms",
                                      "connection timeout to upstream llm-1"));
  EXPECT_THAT(Bodies({.text = "timeout"}), ElementsAre("timeout waiting for GPU", "connection timeout to upstream llm-1"));
  EXPECT_THAT(Bodies({.text = "TIMEOUT gpu"}), ElementsAre("timeout waiting for GPU"));
  EXPECT_THAT(Bodies({.text = "\"timeout to\""}), ElementsAre("connection timeout to upstream llm-1"));
  EXPECT_THAT(Bodies({.text = "\"to timeout\""}), ElementsAre());
  EXPECT_THAT(Bodies({.text = "time*"}), ElementsAre("timeout waiting for GPU", "connection timeout to upstream llm-1"));
  EXPECT_THAT(Bodies({.text = "cafe"}), ElementsAre("Café ouvert: retry scheduled")) << "diacritics ignored";
  EXPECT_THAT(Bodies({.text = "served OR limited"}), ElementsAre("user-id 77 rate limited", "request served in 120 ms"));
  EXPECT_THAT(Bodies({.text = "timeout -gpu"}), ElementsAre("connection timeout to upstream llm-1"));
  EXPECT_THAT(Bodies({.text = "timeout NOT upstream"}), ElementsAre("timeout waiting for GPU"));
  EXPECT_THAT(Bodies({.text = "user-id"}), ElementsAre("user-id 77 rate limited"));
  EXPECT_THAT(Bodies({.text = "77"}), ElementsAre("user-id 77 rate limited"));
  EXPECT_THAT(Bodies({.min_severity = 13}), ElementsAre("timeout waiting for GPU", "Café ouvert: retry scheduled",
                                                        "connection timeout to upstream llm-1"));
  EXPECT_THAT(Bodies({.trace_id = trace}), ElementsAre("user-id 77 rate limited", "request served in 120 ms"));
  EXPECT_THAT(Bodies({.text = "served", .trace_id = trace}), ElementsAre("request served in 120 ms"));
  EXPECT_THAT(Bodies({.service = "rag"}), ElementsAre("user-id 77 rate limited", "Café ouvert: retry scheduled"));
  EXPECT_THAT(Bodies({.attributes = {{"gpu", "3"}}}), ElementsAre("timeout waiting for GPU"));
  EXPECT_THAT(Bodies({.attributes = {{"gpu", "3"}, {"pool", "h100"}}}), ElementsAre());
  EXPECT_THAT(Bodies({.attributes = {{"k8s.pod.name", "rag-0"}}}),
              ElementsAre("user-id 77 rate limited", "Café ouvert: retry scheduled"));
  EXPECT_THAT(Bodies({.start_unix_nano = (kNow - 4'000) * kMs, .end_unix_nano = (kNow - 2'000) * kMs}),
              ElementsAre("user-id 77 rate limited", "timeout waiting for GPU", "Café ouvert: retry scheduled"));
  EXPECT_THAT(Bodies({.limit = 2}), ElementsAre("debug: cache warm", "user-id 77 rate limited"));
  auto full = store_->SearchLogs({.trace_id = trace});
  ASSERT_TRUE(full.ok());
  ASSERT_EQ(full->size(), 2u);
  const events::LogRecord& r = (*full)[0].record;
  EXPECT_EQ(r.time_unix_nano, (kNow - 2'000) * kMs);
  EXPECT_EQ(r.severity_number, 9);
  EXPECT_EQ(r.severity_text, "INFO");
  EXPECT_EQ(r.trace_id, trace);
  EXPECT_EQ(r.span_id, SpanId(7));
  EXPECT_EQ(r.service, "rag");
  ASSERT_EQ(r.resource.size(), 2u);
  EXPECT_EQ(r.resource[1].value, "rag-0");
}

TEST_F(StoreTest, MalformedSearchTextIsAnInvalidArgumentAndSyntaxIsOnlyText) {
  AppendLogs({MakeLog({.time_ms = kNow, .body = "body : NEAR(a b) \"quoted\" x*y it's \\ fine"})});
  for (const char* text : {"\"unterminated", "OR", "a OR", "OR a", "a OR OR b", "-", "-x", "*", "!!!", "NOT", "a NOT"}) {
    EXPECT_EQ(store_->SearchLogs({.text = text}).status().code(), StatusCode::kInvalidArgument) << text;
    EXPECT_EQ(store_->LogsAfter(0, {.text = text}, 10).status().code(), StatusCode::kInvalidArgument) << text;
  }
  for (const char* text : {"body : NEAR(a b)", "NEAR(a", "{body}", "x*y", "^quoted", "a AND b", "quoted -> b",
                           "it's", "\\ fine", "x') OR 1=1 --", "[a-z]+", "(?i).*"}) {
    auto r = store_->SearchLogs({.text = text});
    EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
  }
  EXPECT_THAT(Bodies({.text = "body : NEAR(a b)"}), ElementsAre("body : NEAR(a b) \"quoted\" x*y it's \\ fine"));
  EXPECT_THAT(Bodies({.text = "it's"}), ElementsAre("body : NEAR(a b) \"quoted\" x*y it's \\ fine"));
  EXPECT_THAT(Bodies({.service = "x' OR '1'='1"}), ElementsAre());
  EXPECT_EQ(store_->SearchLogs({.trace_id = "12"}).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(StoreTest, LiveTailPagesThroughNewRecords) {
  AppendLogs({MakeLog({.time_ms = kNow, .body = "one"}), MakeLog({.time_ms = kNow - 7'200'000, .body = "two"})});
  const uint64_t start = store_->LastLogCursor();
  EXPECT_GT(start, 0u);
  AppendLogs({MakeLog({.time_ms = kNow, .body = "three error"}), MakeLog({.time_ms = kNow - 7'200'000, .body = "four"}),
              MakeLog({.time_ms = kNow, .body = "five error"})});
  auto page = store_->LogsAfter(start, {}, 2);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->logs.size(), 2u);
  EXPECT_EQ(page->logs[0].record.body, "three error");
  EXPECT_EQ(page->logs[1].record.body, "four");
  page = store_->LogsAfter(page->next_cursor, {}, 2);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->logs.size(), 1u);
  EXPECT_EQ(page->logs[0].record.body, "five error");
  const uint64_t after_five = page->next_cursor;
  page = store_->LogsAfter(after_five, {}, 2);
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->logs.empty());
  auto filtered = store_->LogsAfter(0, {.text = "error"}, 10);
  ASSERT_TRUE(filtered.ok());
  ASSERT_EQ(filtered->logs.size(), 2u);
  EXPECT_EQ(filtered->logs[1].record.body, "five error");

  std::atomic<uint64_t> heard{0};
  auto sub = store_->SubscribeLogs([&](uint64_t c) { heard = c; });
  const uint64_t before = store_->LastLogCursor();
  EXPECT_FALSE(store_->WaitForLogs(before, 1ms));
  std::thread writer([&] { AppendLogs({MakeLog({.time_ms = kNow, .body = "six"})}); });
  EXPECT_TRUE(store_->WaitForLogs(before, 30s));
  writer.join();
  EXPECT_GT(heard.load(), before);
  page = store_->LogsAfter(before, {}, 10);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->logs.size(), 1u);
  EXPECT_EQ(page->logs[0].record.body, "six");
  sub.reset();
  const uint64_t heard_before = heard.load();
  AppendLogs({MakeLog({.time_ms = kNow, .body = "seven"})});
  EXPECT_EQ(heard.load(), heard_before) << "unsubscribed";

  // Another server's rows (a second store on the same tables) are found by polling.
  ClickHouseConfig other = Config();
  other.writer_id = 999;
  auto second = ClickHouseStore::Open(other, Env::Default(), &clock_);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  const uint64_t now_cursor = store_->LastLogCursor();
  std::thread remote([&] {
    std::this_thread::sleep_for(100ms);
    EXPECT_TRUE((*second)->AppendLogs(std::vector<events::LogRecord>{MakeLog({.time_ms = kNow, .body = "eight"})}).ok());
  });
  EXPECT_TRUE(store_->WaitForLogs(now_cursor, 30s));
  remote.join();
  page = store_->LogsAfter(now_cursor, {}, 10);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->logs.size(), 1u);
  EXPECT_EQ(page->logs[0].record.body, "eight");
}

TEST_F(StoreTest, InferenceEventsDeploymentsAndPipelineRunsRoundTrip) {
  events::InferenceEvent e;
  e.timestamp_ms = kNow - 1'000;
  e.request_id = "req-1";
  e.model = "llama-3.1-70b";
  e.model_version = "v3";
  e.endpoint = "/v1/chat/completions";
  e.tenant = "acme";
  e.service = "chat-api";
  e.provider = "vllm";
  e.operation = "chat";
  e.node = "gpu-node-3";
  e.error = true;
  e.error_type = "timeout";
  e.latency_s = 1.25;
  e.ttft_s = 0.125;
  e.input_tokens = 512;
  e.output_tokens = -1;
  e.finish_reasons = {"length", "stop"};
  e.conversation_id = "conv-9";
  e.prompt = "[redacted] hello";
  e.response = "hi";
  e.features = {{"temperature", true, 0.7, ""}, {"locale", false, events::kUnknown, "fr-FR"}};
  e.prediction = {{"label", false, events::kUnknown, "positive"}};
  e.trace_id = TraceId(3);
  e.span_id = SpanId(3);
  events::InferenceEvent other = e;
  other.timestamp_ms = kNow - 500;
  other.model = "bge-large";
  other.trace_id = "bad";
  auto r = store_->AppendInferenceEvents(std::vector<events::InferenceEvent>{e, other});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stored, 2u);
  auto got = store_->QueryInferenceEvents({.model = "llama-3.1-70b"});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), 1u);
  const events::InferenceEvent& g = (*got)[0];
  EXPECT_EQ(g.timestamp_ms, e.timestamp_ms);
  EXPECT_EQ(g.request_id, "req-1");
  EXPECT_EQ(g.model_version, "v3");
  EXPECT_EQ(g.endpoint, e.endpoint);
  EXPECT_EQ(g.tenant, "acme");
  EXPECT_EQ(g.node, "gpu-node-3");
  EXPECT_TRUE(g.error);
  EXPECT_EQ(g.error_type, "timeout");
  EXPECT_EQ(g.latency_s, 1.25);
  EXPECT_TRUE(std::isnan(g.queue_s));
  EXPECT_EQ(g.ttft_s, 0.125);
  EXPECT_EQ(g.input_tokens, 512);
  EXPECT_EQ(g.output_tokens, -1);
  EXPECT_THAT(g.finish_reasons, ElementsAre("length", "stop"));
  EXPECT_EQ(g.conversation_id, "conv-9");
  EXPECT_EQ(g.prompt, "[redacted] hello");
  EXPECT_EQ(g.response, "hi");
  ASSERT_EQ(g.features.size(), 2u);
  EXPECT_TRUE(g.features[0].is_number);
  EXPECT_EQ(g.features[0].number, 0.7);
  EXPECT_FALSE(g.features[1].is_number);
  EXPECT_EQ(g.features[1].text, "fr-FR");
  ASSERT_EQ(g.prediction.size(), 1u);
  EXPECT_EQ(g.prediction[0].text, "positive");
  EXPECT_EQ(g.trace_id, TraceId(3));
  EXPECT_EQ(g.span_id, SpanId(3));
  auto all = store_->QueryInferenceEvents({});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].model, "bge-large") << "newest first";
  EXPECT_EQ((*all)[0].trace_id, "");
  auto range = store_->QueryInferenceEvents({.start_ms = kNow - 2'000, .end_ms = kNow - 1'000});
  ASSERT_TRUE(range.ok());
  ASSERT_EQ(range->size(), 1u);

  std::vector<events::DeploymentEvent> deploys = {
      {kNow - 3'000, "llama-3.1-70b", "v3", "v2", "deploy", "ci", "canary 10%"},
      {kNow - 2'000, "bge-large", "v9", "v8", "deploy", "alice", ""},
      {kNow - 1'000, "llama-3.1-70b", "v2", "v3", "rollback", "bob", "latency"},
  };
  ASSERT_TRUE(store_->AppendDeployments(deploys).ok());
  auto d = store_->Deployments({.model = "llama-3.1-70b"});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_EQ(d->size(), 2u);
  EXPECT_EQ((*d)[0].action, "rollback");
  EXPECT_EQ((*d)[0].previous_version, "v3");
  EXPECT_EQ((*d)[1].note, "canary 10%");
  auto early = store_->Deployments({.end_ms = kNow - 2'500});
  ASSERT_TRUE(early.ok());
  ASSERT_EQ(early->size(), 1u);

  events::PipelineStageEvent a;
  a.pipeline = "features";
  a.stage = "extract";
  a.run_id = "run-1";
  a.start_ms = kNow - 60'000;
  a.end_ms = kNow - 50'000;
  a.rows_in = 1000;
  a.rows_out = 990;
  a.rows_rejected = 10;
  a.schema_fingerprint = "abc";
  a.fields = {{"user_id", "int64"}, {"country", "string"}};
  events::PipelineStageEvent b = a;
  b.stage = "load";
  b.start_ms = kNow - 40'000;
  b.failed = true;
  b.error = "disk full";
  b.fields.clear();
  events::PipelineStageEvent c = a;
  c.pipeline = "labels";
  c.start_ms = kNow - 30'000;
  ASSERT_TRUE(store_->AppendPipelineStageEvents(std::vector<events::PipelineStageEvent>{a, b, c}).ok());
  auto runs = store_->PipelineRuns({.pipeline = "features"});
  ASSERT_TRUE(runs.ok()) << runs.status().ToString();
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_EQ((*runs)[0].stage, "load");
  EXPECT_TRUE((*runs)[0].failed);
  EXPECT_EQ((*runs)[0].error, "disk full");
  EXPECT_EQ((*runs)[1].rows_rejected, 10);
  ASSERT_EQ((*runs)[1].fields.size(), 2u);
  EXPECT_EQ((*runs)[1].fields[1].type, "string");
  auto by_stage = store_->PipelineRuns({.stage = "extract"});
  ASSERT_TRUE(by_stage.ok());
  EXPECT_EQ(by_stage->size(), 2u);
}

TEST_F(StoreTest, RetentionDropsWholeDays) {
  // Rows 6 days and 1 hour ago; with 7 days of retention, after 2 more days only the newer stay.
  const int64_t old_ms = kNow - 6 * 86'400'000LL;
  AppendLogs({MakeLog({.time_ms = old_ms, .body = "old"}), MakeLog({.time_ms = kNow - 3'600'000, .body = "new"})});
  ASSERT_TRUE(store_->AppendDeployments(std::vector<events::DeploymentEvent>{{old_ms, "m", "v1", "", "deploy", "", ""}}).ok());
  ASSERT_TRUE(store_->DropExpired().ok());
  EXPECT_EQ(Count("logs"), 2u) << "nothing expired yet";
  clock_.Advance(std::chrono::hours(48));
  ASSERT_TRUE(store_->DropExpired().ok());
  EXPECT_THAT(Bodies({}), ElementsAre("new"));
  EXPECT_EQ(Count("deployments"), 0u);
  EXPECT_THAT(registry_->Expose(), HasSubstr("tyto_clickhouse_partitions_dropped_total{table=\"logs\"} 1"));
  // Rows older than the retention are refused, not stored into a day that would be dropped.
  auto r = store_->AppendLogs(std::vector<events::LogRecord>{MakeLog({.time_ms = old_ms, .body = "late"})});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rejected, 1u);
}

TEST_F(StoreTest, HealthNamesTheServerThatDoesNotAnswer) {
  EXPECT_TRUE(store_->Health().ok());
  ClickHouseConfig c = Config();
  c.urls.push_back("http://127.0.0.1:" + std::to_string(ClickHouseServer::FreePort()));
  auto bad = ClickHouseStore::Open(c, Env::Default(), &clock_);
  EXPECT_EQ(bad.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(bad.status().message(), HasSubstr(c.urls[1]));
  c = Config();
  c.password = "wrong";
  auto denied = ClickHouseStore::Open(c, Env::Default(), &clock_);
  EXPECT_FALSE(denied.ok());
  EXPECT_THAT(denied.status().message(), HasSubstr("password"));
}

// Inserts that time out after ClickHouse committed them are found by the count before the retry
// and not inserted again; every row is stored exactly once.
TEST_F(StoreTest, RetriesAfterTimeoutsLeaveExactCounts) {
  ClickHouseConfig c = Config();
  c.insert_timeout = 40ms;  // shorter than a 20,000-row insert takes here
  c.retry_for = 120s;
  Open(c);
  constexpr int kBatches = 6;
  constexpr int kRows = 20'000;
  uint64_t appended = 0;
  for (int b = 0; b < kBatches; ++b) {
    std::vector<events::LogRecord> logs;
    for (int i = 0; i < kRows; ++i) {
      logs.push_back(MakeLog({.time_ms = kNow - i, .body = "batch " + std::to_string(b) + " row " + std::to_string(i) +
                                                              " with some text to make the insert take a while"}));
    }
    auto r = store_->AppendLogs(logs);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    appended += r->stored;
  }
  EXPECT_EQ(Count("logs"), appended);
  EXPECT_EQ(appended, static_cast<uint64_t>(kBatches * kRows));
  const std::string m = registry_->Expose();
  EXPECT_THAT(m, HasSubstr("tyto_clickhouse_insert_retries_total{table=\"logs\"}"));
  std::cout << "retries and deduplicated batches:\n";
  for (const char* name : {"tyto_clickhouse_insert_retries_total", "tyto_clickhouse_insert_deduplicated_total"}) {
    const size_t at = m.find(std::string(name) + "{");
    if (at != std::string::npos) std::cout << m.substr(at, m.find('\n', at) - at) << "\n";
  }
}

// A batch appended again with its source (a redelivered NATS message, a client's retry with the
// same Idempotency-Key) is found and not stored twice; other sources, and appends that do not say
// they may repeat, are stored.
TEST_F(StoreTest, RepeatedSourcesAreStoredOnce) {
  Open(Config());
  std::vector<events::LogRecord> logs;
  for (int i = 0; i < 10; ++i) logs.push_back(MakeLog({.time_ms = kNow - i, .body = "line " + std::to_string(i)}));
  auto first = store_->AppendLogs(logs, {.source = "nats:agent-1:0:100:abc", .maybe_repeated = false});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->stored, 10u);
  auto again = store_->AppendLogs(logs, {.source = "nats:agent-1:0:100:abc", .maybe_repeated = true});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->stored, 10u);  // answered as stored: it is
  EXPECT_EQ(Count("logs"), 10u);
  auto other = store_->AppendLogs(logs, {.source = "nats:agent-1:0:200:def", .maybe_repeated = true});
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(Count("logs"), 20u);
  auto unkeyed = store_->AppendLogs(logs);
  ASSERT_TRUE(unkeyed.ok());
  EXPECT_EQ(Count("logs"), 30u);
  // Per table: the same source on another table is its own batch.
  events::InferenceEvent e;
  e.timestamp_ms = kNow;
  e.request_id = "r-1";
  e.model = "m";
  std::vector<events::InferenceEvent> events = {e};
  ASSERT_TRUE(store_->AppendInferenceEvents(events, {.source = "nats:agent-1:0:100:abc", .maybe_repeated = true}).ok());
  ASSERT_TRUE(store_->AppendInferenceEvents(events, {.source = "nats:agent-1:0:100:abc", .maybe_repeated = true}).ok());
  EXPECT_EQ(Count("inference_events"), 1u);
  EXPECT_THAT(registry_->Expose(), HasSubstr("tyto_clickhouse_repeated_batches_total{table=\"logs\"} 1"));
}

// ClickHouse commits the rows it parsed when an insert's body ends early (its sender died, or
// the connection broke): an earlier copy of a batch holds its first rows only. A batch appended
// again with its source stores the rest, so every row is there once.
TEST_F(StoreTest, ARepeatedSourceStoresOnlyTheRowsAnEarlierCutCopyLacks) {
  Open(Config());
  std::vector<events::LogRecord> logs;
  for (int i = 0; i < 5; ++i) logs.push_back(MakeLog({.time_ms = kNow - 5 + i, .body = "line " + std::to_string(i)}));
  const std::vector<events::LogRecord> first_three(logs.begin(), logs.begin() + 3);
  auto cut = store_->AppendLogs(first_three, {.source = "nats:cut", .maybe_repeated = false});
  ASSERT_TRUE(cut.ok()) << cut.status().ToString();
  auto again = store_->AppendLogs(logs, {.source = "nats:cut", .maybe_repeated = true});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->stored, 5u);
  auto rows = server_->Query("SELECT count(), uniqExact(body) FROM " + database_ + ".logs");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(*rows, "5\t5\n");

  // Spans: the rest is stored, and the trace is whole.
  const std::vector<events::Span> trace = ThreeSpanTrace(9, kNow - 60'000);
  ASSERT_TRUE(store_->AppendSpans(std::vector<events::Span>{trace[0]}, {.source = "nats:cut-spans"}).ok());
  auto spans = store_->AppendSpans(trace, {.source = "nats:cut-spans", .maybe_repeated = true});
  ASSERT_TRUE(spans.ok()) << spans.status().ToString();
  EXPECT_EQ(spans->stored, 3u);
  EXPECT_EQ(Count("spans"), 3u);
  auto got = store_->GetTrace(TraceId(9));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->size(), 3u);
}

// A TCP proxy to ClickHouse's HTTP port that cuts the first INSERT it sees: it forwards the
// request with its body up to the start of row `cut_row` (RowBinary rows begin with the batch id
// and their seq), then closes both connections, as a sender dying mid-body would. Everything
// else passes through.
class CuttingProxy {
 public:
  CuttingProxy(uint16_t target, uint32_t cut_row) : target_(target), cut_row_(cut_row) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(listener_, 16) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      return;
    }
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { Accept(); });
  }
  ~CuttingProxy() {
    stop_ = true;
    ::shutdown(listener_, SHUT_RDWR);
    ::close(listener_);
    acceptor_.join();
    for (std::thread& t : pipes_) t.join();
  }
  uint16_t port() const { return port_; }
  bool cut() const { return cut_.load(); }

 private:
  void Accept() {
    while (!stop_) {
      pollfd p{listener_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const int client = ::accept(listener_, nullptr, nullptr);
      if (client < 0) continue;
      pipes_.emplace_back([this, client] { Pipe(client); });
    }
  }
  void Pipe(int client) {
    const int server = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(target_);
    if (::connect(server, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
      ::close(client);
      ::close(server);
      return;
    }
    std::string request;  // what the client sent and is held back (one INSERT to cut)
    bool passing = false;
    char buf[65536];
    for (int rounds = 0; rounds < 600'000 && !stop_; ++rounds) {
      pollfd p[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
      if (::poll(p, 2, 100) <= 0) continue;
      if (p[1].revents != 0) {
        const ssize_t n = ::recv(server, buf, sizeof(buf), 0);
        if (n <= 0 || ::send(client, buf, static_cast<size_t>(n), MSG_NOSIGNAL) != n) break;
      }
      if (p[0].revents == 0) continue;
      const ssize_t n = ::recv(client, buf, sizeof(buf), 0);
      if (n <= 0) break;
      if (passing || cut_.load()) {
        if (::send(server, buf, static_cast<size_t>(n), MSG_NOSIGNAL) != n) break;
        continue;
      }
      request.append(buf, static_cast<size_t>(n));
      const size_t head_end = request.find("\r\n\r\n");
      if (head_end == std::string::npos) continue;
      const std::string head = request.substr(0, head_end);
      if (head.substr(0, head.find('\r')).find("INSERT") == std::string::npos) {
        passing = true;  // not an insert: this connection passes through from here on
        if (::send(server, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) break;
        request.clear();
        continue;
      }
      std::string lower = head;
      std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
      const size_t cl = lower.find("content-length:");
      if (cl == std::string::npos) break;
      const size_t length = std::stoul(head.substr(cl + 15));
      const size_t body_at = head_end + 4;
      if (request.size() < body_at + length) continue;
      const std::string body = request.substr(body_at, length);
      if (body.size() < 8) break;
      std::string row = body.substr(0, 8);  // the batch id, then the seq (UInt32, little-endian)
      for (int i = 0; i < 4; ++i) row.push_back(static_cast<char>((cut_row_ >> (8 * i)) & 0xff));
      const size_t at = body.find(row);
      if (at == std::string::npos) break;
      const size_t keep = body_at + at;
      (void)::send(server, request.data(), keep, MSG_NOSIGNAL);
      cut_ = true;
      std::this_thread::sleep_for(200ms);  // the bytes reach ClickHouse before the close
      break;
    }
    ::close(client);
    ::close(server);
  }

  const uint16_t target_;
  const uint32_t cut_row_;
  int listener_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> cut_{false};
  std::thread acceptor_;
  std::vector<std::thread> pipes_;  // only the acceptor adds, joined after it
};

// An insert cut mid-body stores its first rows (ClickHouse 18.16 commits what it parsed); the
// store finds them by the batch id and sends only the rest: every row once, none lost.
TEST_F(StoreTest, AnInsertCutMidBodyIsCompletedNotRepeated) {
  CuttingProxy proxy(server_->http_port(), 40);
  ASSERT_NE(proxy.port(), 0);
  ClickHouseConfig c = Config();
  c.urls = {"http://127.0.0.1:" + std::to_string(proxy.port())};
  c.retry_for = 60s;
  Open(c);
  std::vector<events::LogRecord> logs;
  for (int i = 0; i < 100; ++i) logs.push_back(MakeLog({.time_ms = kNow - 100 + i, .body = "row " + std::to_string(i)}));
  auto r = store_->AppendLogs(logs);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stored, 100u);
  EXPECT_TRUE(proxy.cut());
  auto rows = server_->Query("SELECT count(), uniqExact(body) FROM " + database_ + ".logs");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(*rows, "100\t100\n");
  EXPECT_THAT(registry_->Expose(), HasSubstr("tyto_clickhouse_insert_retries_total{table=\"logs\"}"));
}

// Issue 12: every row belongs to an org (the Tyto tenant that sent it); queries see only theirs,
// and another org's trace is not found, exactly like a missing one.
TEST_F(StoreTest, EachOrgSeesOnlyItsOwn) {
  for (const auto& [org, n] : std::vector<std::pair<std::string, uint64_t>>{{"team-a", 1}, {"team-b", 2}, {"", 3}}) {
    const std::string service = "svc-" + (org.empty() ? std::string("default") : org);
    events::Span span = MakeSpan({.trace = n, .span = n * 10, .service = service, .start_ms = kNow - 1000});
    span.org = org;
    Append({span});
    events::LogRecord log = MakeLog({.time_ms = kNow - 900, .body = "hello from " + service, .service = service});
    log.org = org;
    AppendLogs({log});
    events::InferenceEvent e;
    e.org = org;
    e.timestamp_ms = kNow - 800;
    e.request_id = "req-" + service;
    e.tenant = "customer";
    e.user = "user-" + service;
    ASSERT_EQ(store_->AppendInferenceEvents(std::vector<events::InferenceEvent>{e})->stored, 1u);
  }
  EXPECT_THAT(Find({.org = "team-a"}), ElementsAre(TraceId(1)));
  EXPECT_THAT(Find({.org = "team-b"}), ElementsAre(TraceId(2)));
  EXPECT_THAT(Find({.org = "default"}), ElementsAre(TraceId(3)));
  EXPECT_THAT(Find({.org = "team-c"}), ElementsAre());
  EXPECT_EQ(store_->GetTrace(TraceId(1), {.org = "team-b"}).status().code(), StatusCode::kNotFound);
  auto mine = store_->GetTrace(TraceId(1), {.org = "team-a"});
  ASSERT_TRUE(mine.ok()) << mine.status().ToString();
  EXPECT_EQ((*mine)[0].org, "team-a");
  EXPECT_THAT(Bodies({.org = "team-b"}), ElementsAre("hello from svc-team-b"));
  EXPECT_THAT(Bodies({}), ElementsAre("hello from svc-default"));
  auto tail = store_->LogsAfter(0, {.org = "team-a"}, 100);
  ASSERT_TRUE(tail.ok()) << tail.status().ToString();
  ASSERT_EQ(tail->logs.size(), 1u);
  EXPECT_EQ(tail->logs[0].record.body, "hello from svc-team-a");
  auto events = store_->QueryInferenceEvents({.org = "team-a"});
  ASSERT_TRUE(events.ok()) << events.status().ToString();
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].user, "user-svc-team-a");
  EXPECT_EQ((*events)[0].tenant, "customer");
  EXPECT_THAT(*store_->Services("team-b"), ElementsAre("svc-team-b"));
  EXPECT_THAT(*store_->Operations("team-b", "svc-team-a"), ElementsAre());
  auto orgs = server_->Query("SELECT groupArray(org) FROM (SELECT org FROM " + database_ + ".spans ORDER BY org)");
  ASSERT_TRUE(orgs.ok());
  EXPECT_EQ(*orgs, "['default','team-a','team-b']\n");
}

// Tables an older Tyto made have no org column: it is added at open, and their rows read as
// tenant "default".
TEST_F(StoreTest, TablesWithoutOrgGainItAndReadAsDefault) {
  Append(ThreeSpanTrace(1, kNow - 1000));
  store_.reset();
  for (const char* table : {"spans", "trace_index", "logs", "inference_events"}) {
    ASSERT_TRUE(server_->Query("ALTER TABLE " + database_ + "." + table + " DROP COLUMN org").ok());
  }
  ASSERT_TRUE(server_->Query("ALTER TABLE " + database_ + ".inference_events DROP COLUMN user").ok());
  Open();
  EXPECT_THAT(Find({}), ElementsAre(TraceId(1)));
  EXPECT_THAT(Find({.org = "team-a"}), ElementsAre());
  events::InferenceEvent e;
  e.org = "team-a";
  e.timestamp_ms = kNow;
  e.user = "u1";
  ASSERT_EQ(store_->AppendInferenceEvents(std::vector<events::InferenceEvent>{e})->stored, 1u);
  EXPECT_EQ(store_->QueryInferenceEvents({.org = "team-a"})->size(), 1u);
}

// Erasure (issue 12): the user's event, the spans of its trace and the user's log records go;
// SELECT finds none of the planted string or the user's id; the rest stays.
TEST_F(StoreTest, EraseRemovesAUsersRecords) {
  const std::string kSecret = "zq7planted4411secret";
  const std::string kUser = "user-9c1e77d2";
  for (const auto& [user, n, org] : std::vector<std::tuple<std::string, uint64_t, std::string>>{
           {kUser, 1, "team-a"}, {"user-other", 2, "team-a"}, {kUser, 3, "team-b"}}) {
    events::InferenceEvent e;
    e.org = org;
    e.timestamp_ms = kNow - 800;
    e.request_id = "req-" + std::to_string(n);
    e.user = user;
    e.prompt = "my card is " + kSecret;
    e.trace_id = TraceId(n);
    ASSERT_EQ(store_->AppendInferenceEvents(std::vector<events::InferenceEvent>{e})->stored, 1u);
    events::Span span = MakeSpan({.trace = n, .span = n * 10, .start_ms = kNow - 1000,
                                  .extra = {{"gen_ai.input.messages", "my card is " + kSecret}}});
    span.org = org;
    Append({span});
    events::LogRecord log = MakeLog({.time_ms = kNow - 900, .body = "payment by " + kSecret,
                                     .attributes = {{"enduser.id", user}}});
    log.org = org;
    AppendLogs({log});
  }
  auto count = [&](const std::string& table, const std::string& where) {
    auto r = server_->Query("SELECT count() FROM " + database_ + "." + table + " WHERE " + where);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::stoull(*r) : 0;
  };
  const std::string planted = "org = 'team-a' AND position(prompt, '" + kSecret + "') > 0";
  ASSERT_EQ(count("inference_events", planted), 2u);

  auto r = store_->Erase({.org = "team-a", .user = kUser});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->inference_events, 1u);
  EXPECT_THAT(r->request_ids, ElementsAre("req-1"));  // for the quality monitor to forget
  EXPECT_EQ(r->spans, 1u);
  EXPECT_EQ(r->logs, 1u);
  EXPECT_EQ(count("inference_events", "org = 'team-a' AND user = '" + kUser + "'"), 0u);
  EXPECT_EQ(count("spans", "org = 'team-a' AND trace_id = unhex('" + TraceId(1) + "')"), 0u);
  EXPECT_EQ(count("logs", "org = 'team-a' AND has(attribute_values, '" + kUser + "')"), 0u);
  EXPECT_EQ(count("trace_index", "org = 'team-a' AND trace_id = unhex('" + TraceId(1) + "')"), 0u);
  // The other user's, and team-b's, stay.
  EXPECT_EQ(count("inference_events", planted), 1u);
  EXPECT_EQ(count("inference_events", "org = 'team-b'"), 1u);
  EXPECT_EQ(store_->GetTrace(TraceId(2), {.org = "team-a"})->size(), 1u);
  EXPECT_EQ(store_->GetTrace(TraceId(1), {.org = "team-a"}).status().code(), StatusCode::kNotFound);

  auto all = store_->Erase({.org = "team-b"});
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->inference_events + all->spans + all->logs, 3u);
  EXPECT_EQ(count("inference_events", "position(prompt, '" + kSecret + "') > 0"), 1u);
}

// Retention per tenant: DropExpired erases a tenant's rows older than its retention.
TEST_F(StoreTest, RetentionPerTenant) {
  for (const auto& [org, age_h, n] : std::vector<std::tuple<std::string, int64_t, uint64_t>>{
           {"team-a", 3, 1}, {"team-a", 0, 2}, {"team-b", 3, 3}}) {
    const int64_t t = kNow - age_h * 3'600'000 - 1000;
    events::InferenceEvent e;
    e.org = org;
    e.timestamp_ms = t;
    e.request_id = "req-" + std::to_string(n);
    ASSERT_EQ(store_->AppendInferenceEvents(std::vector<events::InferenceEvent>{e})->stored, 1u);
    events::Span span = MakeSpan({.trace = n, .span = n * 10, .start_ms = t});
    span.org = org;
    Append({span});
    events::LogRecord log = MakeLog({.time_ms = t, .body = "log " + std::to_string(n)});
    log.org = org;
    AppendLogs({log});
  }
  // Each tenant's stored bytes (its storage limit's measure): the same rows but for numbers of
  // one digit, so team-a's two sets are twice team-b's one.
  const Result<uint64_t> a_bytes = store_->StoredBytes("team-a");
  const Result<uint64_t> b_bytes = store_->StoredBytes("team-b");
  ASSERT_TRUE(a_bytes.ok()) << a_bytes.status().ToString();
  ASSERT_TRUE(b_bytes.ok()) << b_bytes.status().ToString();
  EXPECT_GT(*b_bytes, 50u);
  EXPECT_EQ(*a_bytes, 2 * *b_bytes);
  EXPECT_EQ(*store_->StoredBytes("team-c"), 0u);
  store_->SetOrgRetention({{"team-a", std::chrono::hours(2)}});
  ASSERT_TRUE(store_->DropExpired().ok());
  EXPECT_EQ(*store_->StoredBytes("team-a"), *b_bytes) << "the erased set's bytes are given back";
  auto a = store_->QueryInferenceEvents({.org = "team-a"});
  ASSERT_EQ(a->size(), 1u);
  EXPECT_EQ((*a)[0].request_id, "req-2");
  EXPECT_THAT(Find({.org = "team-a"}), ElementsAre(TraceId(2)));
  EXPECT_THAT(Bodies({.org = "team-a"}), ElementsAre("log 2"));
  EXPECT_EQ(store_->QueryInferenceEvents({.org = "team-b"})->size(), 1u);
  EXPECT_THAT(Bodies({.org = "team-b"}), ElementsAre("log 3"));
}

// kill -9 of the server under load, then a restart: appends wait (retrying) and every row they
// acknowledged is stored once.
TEST_F(StoreTest, ServerKilledMidLoadLosesAndDuplicatesNothing) {
  ClickHouseConfig c = Config();
  c.retry_for = 120s;
  c.insert_timeout = 10s;
  Open(c);
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> acknowledged{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 2; ++w) {
    writers.emplace_back([&, w] {
      for (int b = 0; !stop.load() && b < 10'000; ++b) {
        std::vector<events::InferenceEvent> events(500);
        for (size_t i = 0; i < events.size(); ++i) {
          events[i].timestamp_ms = kNow - static_cast<int64_t>(i);
          events[i].model = "m" + std::to_string(w);
          events[i].request_id = std::to_string(w) + "-" + std::to_string(b) + "-" + std::to_string(i);
        }
        auto r = store_->AppendInferenceEvents(events);
        if (r.ok()) {
          acknowledged += r->stored;
        } else {
          ++failures;
        }
      }
    });
  }
  std::this_thread::sleep_for(1500ms);
  server_->Kill();
  std::this_thread::sleep_for(1500ms);
  ASSERT_TRUE(server_->Restart().ok());
  std::this_thread::sleep_for(1500ms);
  stop = true;
  for (std::thread& t : writers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(acknowledged.load(), 0u);
  EXPECT_EQ(Count("inference_events"), acknowledged.load());
  auto dupes = server_->Query("SELECT count() FROM (SELECT request_id, count() AS n FROM " + database_ +
                              ".inference_events GROUP BY request_id HAVING n > 1)");
  ASSERT_TRUE(dupes.ok());
  EXPECT_EQ(*dupes, "0\n");
  std::cout << "acknowledged " << acknowledged.load() << " rows around a kill -9 and restart\n";
}

// Two shards, each a clickhouse-server, with a remote_servers cluster and Distributed tables:
// batches land whole on one shard or the other, and queries see both.
TEST(TwoShardsTest, RowsSplitAcrossShardsAndQueriesSeeAll) {
  tyto::testing::TempDir dir;
  ClickHouseServer a(dir.Path("a"));
  ClickHouseServer b(dir.Path("b"));
  const std::string xml = ClickHouseServer::ClusterXml("tyto_shards", {a.tcp_port(), b.tcp_port()});
  a.SetRemoteServers(xml);
  b.SetRemoteServers(xml);
  ASSERT_TRUE(a.Start().ok());
  ASSERT_TRUE(b.Start().ok());
  tyto::testing::FakeClock clock{kNow};
  ClickHouseConfig c;
  c.urls = {a.url(), b.url()};
  c.database = "sharded";
  c.cluster = "tyto_shards";
  c.flush_interval = 0ms;
  c.tail_settle = 0ms;
  c.tail_lookback = 24h * 30;
  instrumentation::Registry registry;
  auto opened = ClickHouseStore::Open(c, Env::Default(), &clock, &registry);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  ClickHouseStore& store = **opened;
  constexpr int kTraces = 40;
  for (int t = 1; t <= kTraces; ++t) {
    ASSERT_TRUE(store.AppendSpans(ThreeSpanTrace(static_cast<uint64_t>(t), kNow - 60'000 + t)).ok());
    ASSERT_TRUE(store.AppendLogs(std::vector<events::LogRecord>{MakeLog(
                                     {.time_ms = kNow - t, .body = "trace " + std::to_string(t), .trace_id = TraceId(t)})})
                    .ok());
  }
  auto local = [](ClickHouseServer& s, const std::string& table) {
    auto r = s.Query("SELECT count() FROM sharded." + table + "_local");
    return r.ok() ? std::stoull(*r) : ~0ull;
  };
  const uint64_t spans_a = local(a, "spans");
  const uint64_t spans_b = local(b, "spans");
  EXPECT_EQ(spans_a + spans_b, 3u * kTraces);
  EXPECT_GT(spans_a, 0u) << "batches land on both shards";
  EXPECT_GT(spans_b, 0u);
  EXPECT_EQ(spans_a % 3, 0u) << "a batch (one trace here) lands whole on one shard";
  EXPECT_EQ(local(a, "logs") + local(b, "logs"), static_cast<uint64_t>(kTraces));
  // Queries through either server see every shard.
  auto all = store.FindTraces({.limit = 1000});
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->size(), static_cast<size_t>(kTraces));
  for (const TraceSummary& s : *all) EXPECT_EQ(s.span_count, 3u);
  for (int t = 1; t <= kTraces; t += 7) {
    auto trace = store.GetTrace(TraceId(t));
    ASSERT_TRUE(trace.ok()) << trace.status().ToString();
    EXPECT_EQ(trace->size(), 3u);
  }
  auto logs = store.SearchLogs({.limit = 1000});
  ASSERT_TRUE(logs.ok());
  EXPECT_EQ(logs->size(), static_cast<size_t>(kTraces));
  auto tail = store.LogsAfter(0, {}, 1000);
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(tail->logs.size(), static_cast<size_t>(kTraces));
  EXPECT_TRUE(store.Health().ok());
  b.Stop();
  Status h = store.Health();
  EXPECT_EQ(h.code(), StatusCode::kUnavailable);
  EXPECT_THAT(h.message(), HasSubstr(b.url()));
}

}  // namespace
}  // namespace tyto::clickhouse
