// EventStore: appends and every query's filters, on a store in a temporary directory with a
// FakeClock (1,700,000,000,000 ms: 2023-11-14T22:13:20Z, in the partition starting 22:00).
#include "eventstore/store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <set>
#include <thread>

#include "eventstore/test_data.h"
#include "eventstore/trace_tree.h"
#include "instrumentation/metrics.h"
#include "testing/fake_clock.h"
#include "testing/temp_dir.h"

namespace tyto::eventstore {
namespace {

using namespace std::chrono_literals;
using testdata::LogSpec;
using testdata::MakeLog;
using testdata::MakeSpan;
using testdata::SpanId;
using testdata::SpanSpec;
using testdata::TraceId;
using testdata::ThreeSpanTrace;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kNow = 1'700'000'000'000;
constexpr int64_t kMs = testdata::kNanosPerMilli;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open(EventStoreOptions o = {}) {
    store_.reset();
    registry_ = std::make_unique<instrumentation::Registry>();
    auto s = EventStore::Open(Env::Default(), &clock_, dir_.Path("events"), o, registry_.get());
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

  std::string Metrics() const { return registry_->Expose(); }

  testing::TempDir dir_;
  testing::FakeClock clock_{kNow};
  std::unique_ptr<instrumentation::Registry> registry_;
  std::unique_ptr<EventStore> store_;
};

// A trace: a root server span and two client children.

TEST_F(StoreTest, GetTraceReturnsEverySpanAsStored) {
  const auto spans = ThreeSpanTrace(1, kNow - 60'000);
  Append(spans);
  Append(ThreeSpanTrace(2, kNow - 30'000));

  auto got = store_->GetTrace(TraceId(1));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), 3u);
  // Sorted by start: root (t), tool (t+5), llm (t+10).
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
  EXPECT_EQ(a.resource[1].key, "k8s.pod.name");
  EXPECT_EQ(a.resource[1].value, "chat-api-0");
  ASSERT_EQ(a.events.size(), 2u);
  EXPECT_EQ(a.events[0].name, "gen_ai.content.prompt");
  EXPECT_EQ(a.events[0].time_unix_nano, b.events[0].time_unix_nano);
  ASSERT_EQ(a.events[0].attributes.size(), 1u);
  EXPECT_EQ(a.events[0].attributes[0].value, "[redacted]");
  EXPECT_TRUE(a.events[1].attributes.empty());
  EXPECT_TRUE((*got)[0].parent_span_id.empty());

  // Upper-case ids are accepted; unknown ids are kNotFound; malformed ones kInvalidArgument.
  std::string upper = TraceId(1);
  std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
  auto again = store_->GetTrace(upper);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->size(), 3u);
  EXPECT_EQ(store_->GetTrace(TraceId(99)).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetTrace("xyz").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->GetTrace(std::string(32, '0')).status().code(), StatusCode::kInvalidArgument);

  // The tree helper over what the store returns.
  TraceTree tree = BuildTraceTree(std::move(got).value());
  ASSERT_EQ(tree.roots.size(), 1u);
  EXPECT_EQ(tree.spans[tree.roots[0]].name, "POST /chat");
  ASSERT_EQ(tree.children[tree.roots[0]].size(), 2u);
  EXPECT_EQ(tree.spans[tree.children[tree.roots[0]][0]].name, "vector search");
}

TEST_F(StoreTest, GetTracesReadsSeveralAndKeepsTheirOrder) {
  Append(ThreeSpanTrace(1, kNow - 60'000));
  Append(ThreeSpanTrace(2, kNow - 30'000));
  std::vector<std::string> ids = {TraceId(2), TraceId(77), TraceId(1)};
  auto got = store_->GetTraces(ids);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0][0].trace_id, TraceId(2));
  EXPECT_EQ((*got)[1][0].trace_id, TraceId(1));
}

TEST_F(StoreTest, DuplicateSpansAreReturnedOnce) {
  const auto spans = ThreeSpanTrace(1, kNow - 60'000);
  Append(spans);
  Append(spans);  // an exporter's retry
  auto got = store_->GetTrace(TraceId(1));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->size(), 3u);
  auto found = store_->FindTraces({});
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].span_count, 3u) << "a summary counts each span id once";
}

TEST_F(StoreTest, FindTracesSummarizesNewestFirst) {
  Append(ThreeSpanTrace(1, kNow - 60'000));
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
  EXPECT_EQ((*r)[1].trace_id, TraceId(1));
  EXPECT_EQ((*r)[1].error_count, 0u);
}

// Runs with attribute filters read through their index terms (the default for few matches),
// then with every attribute filter checked by scanning (max_rows_by_terms 0).
class FindTracesTest : public StoreTest, public ::testing::WithParamInterface<size_t> {
 protected:
  void SetUp() override {
    EventStoreOptions o;
    o.max_rows_by_terms = GetParam();
    Open(o);
  }
};
INSTANTIATE_TEST_SUITE_P(Plans, FindTracesTest, ::testing::Values(20'000, 0));

TEST_P(FindTracesTest, Filters) {
  // Trace n has one span with these properties (and a root without a model).
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
    spans.push_back(MakeSpan({.trace = t.trace,
                              .span = t.trace * 10,
                              .service = "edge",
                              .name = "POST",
                              .model = "",
                              .start_ms = kNow - t.ago_ms,
                              .duration_ms = t.duration_ms + 10}));
    spans.push_back(MakeSpan({.trace = t.trace,
                              .span = t.trace * 10 + 1,
                              .parent = static_cast<int64_t>(t.trace * 10),
                              .service = t.service,
                              .name = t.name,
                              .model = t.model,
                              .start_ms = kNow - t.ago_ms + 1,
                              .duration_ms = t.duration_ms,
                              .status = t.status,
                              .extra = {{"tenant", t.tenant}},
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
  EXPECT_EQ(Find({.service = "edge"}), ids({5, 4, 3, 2, 1}));
  EXPECT_EQ(Find({.service = "nope"}), ids({}));
  EXPECT_EQ(Find({.operation = "chat"}), ids({5, 4, 2, 1}));
  EXPECT_EQ(Find({.service = "rag", .operation = "chat"}), ids({5}));
  EXPECT_EQ(Find({.model = "llama-3.1-70b"}), ids({4, 2}));
  EXPECT_EQ(Find({.model = "llama-3.1-70b-2024-07-18"}), ids({})) << "the model column is the request model";
  EXPECT_EQ(Find({.status = events::StatusCode::kError}), ids({5, 2}));
  EXPECT_EQ(Find({.status = events::StatusCode::kOk}), ids({4, 1}));
  EXPECT_EQ(Find({.min_duration_nano = 700 * kMs}), ids({5, 4, 2})) << "the roots last their child's + 10 ms";
  EXPECT_EQ(Find({.service = "chat-api", .min_duration_nano = 3'000 * kMs}), ids({4, 2}));
  EXPECT_EQ(Find({.service = "chat-api", .min_duration_nano = 200 * kMs, .max_duration_nano = 3'000 * kMs}),
            ids({2, 1}));
  EXPECT_EQ(Find({.start_unix_nano = (kNow - 35'000) * kMs, .end_unix_nano = (kNow - 15'000) * kMs}), ids({4, 3}));
  // Bounds are inclusive: trace 3's root starts exactly at kNow - 30,000.
  EXPECT_EQ(Find({.start_unix_nano = (kNow - 30'000) * kMs, .end_unix_nano = (kNow - 30'000) * kMs}), ids({3}));
  EXPECT_EQ(Find({.attributes = {{"tenant", "acme"}}}), ids({2, 1}));
  EXPECT_EQ(Find({.attributes = {{"tenant", "acme"}, {"gen_ai.request.model", "llama-3.1-70b"}}}), ids({2}));
  EXPECT_EQ(Find({.attributes = {{"tenant", "acm"}}}), ids({})) << "values match exactly";
  EXPECT_EQ(Find({.attributes = {{"nope", "acme"}}}), ids({}));
  // Resource attributes match too.
  EXPECT_EQ(Find({.attributes = {{"k8s.pod.name", "rag-pod-3"}}}), ids({3}));
  EXPECT_EQ(Find({.attributes = {{"k8s.pod.name", "rag-pod-3"}, {"tenant", "globex"}}}), ids({3}));
  EXPECT_EQ(Find({.attributes = {{"k8s.pod.name", "rag-pod-3"}, {"tenant", "acme"}}}), ids({}))
      << "all filters must hold on the same span";
  EXPECT_EQ(
      Find({.model = "llama-3.1-8b", .status = events::StatusCode::kError, .attributes = {{"tenant", "initech"}}}),
      ids({5}));
  // Limit: the newest.
  EXPECT_EQ(Find({.limit = 2}), ids({5, 4}));
  EXPECT_EQ(Find({.service = "chat-api", .limit = 1}), ids({4}));

  EXPECT_EQ(store_->FindTraces({.limit = 10'001}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->FindTraces({.start_unix_nano = 5, .end_unix_nano = 4}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->FindTraces({.attributes = {{"", "x"}}}).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(StoreTest, RowsGoToThePartitionOfTheirTime) {
  // A trace that starts 2 s before 22:00 and has a child 2 s after: two partitions.
  const int64_t hour = kNow - kNow % 3'600'000;  // 22:00:00
  std::vector<events::Span> spans = {
      MakeSpan({.trace = 1, .span = 10, .start_ms = hour - 2'000, .duration_ms = 5'000}),
      MakeSpan({.trace = 1, .span = 11, .parent = 10, .start_ms = hour + 2'000, .duration_ms = 500}),
      MakeSpan({.trace = 2, .span = 20, .start_ms = hour - 3 * 3'600'000, .duration_ms = 5}),
  };
  Append(spans);
  EXPECT_TRUE(std::filesystem::exists(dir_.Path("events/20231114T220000Z.db")));
  EXPECT_TRUE(std::filesystem::exists(dir_.Path("events/20231114T210000Z.db")));
  EXPECT_TRUE(std::filesystem::exists(dir_.Path("events/20231114T190000Z.db")));
  EXPECT_EQ(store_->Stats().partitions, 3u);

  auto trace = store_->GetTrace(TraceId(1));
  ASSERT_TRUE(trace.ok());
  EXPECT_EQ(trace->size(), 2u);
  // Found by its child in the 22:00 partition, summarized over both.
  auto found = store_->FindTraces({.start_unix_nano = hour * kMs});
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].span_count, 2u);
  EXPECT_EQ((*found)[0].start_unix_nano, (hour - 2'000) * kMs);
  // A lookup limited to the 22:00 partition sees only the child.
  auto partial = store_->GetTrace(TraceId(1), {.start_unix_nano = hour * kMs});
  ASSERT_TRUE(partial.ok());
  EXPECT_EQ(partial->size(), 1u);
  EXPECT_EQ(Find({.start_unix_nano = (hour - 3'600'000) * kMs, .end_unix_nano = (hour - 1) * kMs}),
            std::vector<std::string>{TraceId(1)});
}

TEST_F(StoreTest, RefusesRowsItCannotKeep) {
  std::vector<events::Span> spans = {
      MakeSpan({.trace = 1, .span = 1, .start_ms = kNow - 1'000}),
      MakeSpan({.trace = 2, .span = 2, .start_ms = kNow - 8 * 24 * 3'600'000LL}),  // past the 7d retention
      MakeSpan({.trace = 3, .span = 3, .start_ms = kNow + 2 * 3'600'000LL}),       // past max_future (1h)
      MakeSpan({.trace = 4, .span = 4, .start_ms = kNow}),
      MakeSpan({.trace = 5, .span = 5, .start_ms = kNow}),
      MakeSpan({.trace = 6, .span = 6, .start_ms = kNow + 30 * 60'000}),  // within max_future
  };
  spans[3].trace_id = "not-a-trace-id";
  spans[4].parent_span_id = "12345";
  auto r = store_->AppendSpans(spans);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stored, 2u);
  EXPECT_EQ(r->rejected, 4u);
  EXPECT_THAT(r->first_rejection, HasSubstr("span 1"));
  EXPECT_THAT(r->first_rejection, HasSubstr("is older than the retention"));
  const std::string m = Metrics();
  EXPECT_THAT(m, HasSubstr("tyto_eventstore_rows_appended_total{table=\"spans\"} 2"));
  EXPECT_THAT(m, HasSubstr("tyto_eventstore_rows_rejected_total{table=\"spans\",reason=\"too_old\"} 1"));
  EXPECT_THAT(m, HasSubstr("tyto_eventstore_rows_rejected_total{table=\"spans\",reason=\"too_new\"} 1"));
  EXPECT_THAT(m, HasSubstr("tyto_eventstore_rows_rejected_total{table=\"spans\",reason=\"invalid_id\"} 2"));
  EXPECT_THAT(m, HasSubstr("tyto_eventstore_commit_duration_seconds_count 1"));

  // A zero parent id means a root; a log's malformed trace id is dropped, the record kept.
  events::Span zero_parent = MakeSpan({.trace = 7, .span = 7, .start_ms = kNow});
  zero_parent.parent_span_id = std::string(16, '0');
  Append({zero_parent});
  auto t7 = store_->GetTrace(TraceId(7));
  ASSERT_TRUE(t7.ok());
  EXPECT_TRUE((*t7)[0].parent_span_id.empty());
  events::LogRecord log = MakeLog({.time_ms = kNow, .body = "odd id"});
  log.trace_id = "zz";
  AppendLogs({log});
  auto logs = store_->SearchLogs({});
  ASSERT_TRUE(logs.ok());
  ASSERT_EQ(logs->size(), 1u);
  EXPECT_EQ((*logs)[0].record.trace_id, "");
}

TEST_F(StoreTest, ServicesAndOperations) {
  Append(ThreeSpanTrace(1, kNow - 60'000));
  events::Span other =
      MakeSpan({.trace = 9, .span = 90, .service = "gateway", .name = "GET /health", .start_ms = kNow});
  Append({other});
  auto services = store_->Services("");
  ASSERT_TRUE(services.ok());
  EXPECT_THAT(*services, ElementsAre("chat-api", "gateway", "retriever"));
  auto ops = store_->Operations("", "gateway");
  ASSERT_TRUE(ops.ok());
  EXPECT_THAT(*ops, ElementsAre(Operation{"GET /health", events::SpanKind::kServer},
                                Operation{"POST /chat", events::SpanKind::kServer}));
  auto none = store_->Services("", 0, (kNow - 24 * 3'600'000LL) * kMs);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(StoreTest, SearchLogsFilters) {
  const std::string trace = TraceId(42);
  AppendLogs({
      MakeLog({.time_ms = kNow - 6'000, .body = "connection timeout to upstream llm-1", .severity = 17}),
      MakeLog({.time_ms = kNow - 5'000, .body = "request served in 120 ms", .trace_id = trace}),
      MakeLog({.time_ms = kNow - 4'000, .body = "Café ouvert: retry scheduled", .severity = 13, .service = "rag"}),
      MakeLog({.time_ms = kNow - 3'000,
               .body = "timeout waiting for GPU",
               .severity = 13,
               .attributes = {{"gpu", "3"}, {"pool", "a100"}}}),
      MakeLog({.time_ms = kNow - 2'000,
               .body = "user-id 77 rate limited",
               .severity = 9,
               .service = "rag",
               .trace_id = trace}),
      MakeLog({.time_ms = kNow - 1'000, .body = "debug: cache warm", .severity = 5}),
  });
  EXPECT_THAT(Bodies({}), ElementsAre("debug: cache warm", "user-id 77 rate limited", "timeout waiting for GPU",
                                      "Café ouvert: retry scheduled", "request served in 120 ms",
                                      "connection timeout to upstream llm-1"));
  EXPECT_THAT(Bodies({.text = "timeout"}),
              ElementsAre("timeout waiting for GPU", "connection timeout to upstream llm-1"));
  EXPECT_THAT(Bodies({.text = "TIMEOUT gpu"}), ElementsAre("timeout waiting for GPU"));
  EXPECT_THAT(Bodies({.text = "\"timeout to\""}), ElementsAre("connection timeout to upstream llm-1"));
  EXPECT_THAT(Bodies({.text = "\"to timeout\""}), ElementsAre());
  EXPECT_THAT(Bodies({.text = "time*"}),
              ElementsAre("timeout waiting for GPU", "connection timeout to upstream llm-1"));
  EXPECT_THAT(Bodies({.text = "cafe"}), ElementsAre("Café ouvert: retry scheduled")) << "diacritics ignored";
  EXPECT_THAT(Bodies({.text = "served OR limited"}),
              ElementsAre("user-id 77 rate limited", "request served in 120 ms"));
  EXPECT_THAT(Bodies({.text = "timeout -gpu"}), ElementsAre("connection timeout to upstream llm-1"));
  EXPECT_THAT(Bodies({.text = "timeout NOT upstream"}), ElementsAre("timeout waiting for GPU"));
  EXPECT_THAT(Bodies({.text = "user-id"}), ElementsAre("user-id 77 rate limited"));
  EXPECT_THAT(Bodies({.text = "77"}), ElementsAre("user-id 77 rate limited"));
  EXPECT_THAT(Bodies({.min_severity = 13}), ElementsAre("timeout waiting for GPU", "Café ouvert: retry scheduled",
                                                        "connection timeout to upstream llm-1"));
  EXPECT_THAT(Bodies({.trace_id = trace}), ElementsAre("user-id 77 rate limited", "request served in 120 ms"));
  EXPECT_THAT(Bodies({.text = "served", .trace_id = trace}), ElementsAre("request served in 120 ms"));
  EXPECT_THAT(Bodies({.trace_id = TraceId(43)}), ElementsAre());
  EXPECT_THAT(Bodies({.service = "rag"}), ElementsAre("user-id 77 rate limited", "Café ouvert: retry scheduled"));
  EXPECT_THAT(Bodies({.attributes = {{"gpu", "3"}}}), ElementsAre("timeout waiting for GPU"));
  EXPECT_THAT(Bodies({.attributes = {{"gpu", "3"}, {"pool", "h100"}}}), ElementsAre());
  EXPECT_THAT(Bodies({.attributes = {{"k8s.pod.name", "rag-0"}}}),
              ElementsAre("user-id 77 rate limited", "Café ouvert: retry scheduled"))
      << "resource attributes match too";
  EXPECT_THAT(Bodies({.start_unix_nano = (kNow - 4'000) * kMs, .end_unix_nano = (kNow - 2'000) * kMs}),
              ElementsAre("user-id 77 rate limited", "timeout waiting for GPU", "Café ouvert: retry scheduled"));
  EXPECT_THAT(Bodies({.limit = 2}), ElementsAre("debug: cache warm", "user-id 77 rate limited"));
  EXPECT_THAT(Bodies({.text = "timeout", .min_severity = 17, .limit = 1}),
              ElementsAre("connection timeout to upstream llm-1"));

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

TEST_F(StoreTest, MalformedSearchTextIsAnInvalidArgument) {
  AppendLogs({MakeLog({.time_ms = kNow, .body = "body : NEAR(a b) \"quoted\" x*y"})});
  for (const char* text : {"\"unterminated", "OR", "a OR", "OR a", "a OR OR b", "-", "-x", "*", "!!!", "- * :", "NOT",
                           "a NOT", "a OR -b", "NOT NOT a"}) {
    auto r = store_->SearchLogs({.text = text});
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << text;
    auto tail = store_->LogsAfter(0, {.text = text}, 10);
    EXPECT_EQ(tail.status().code(), StatusCode::kInvalidArgument) << text;
  }
  // FTS5's own syntax in the text is only text.
  for (const char* text :
       {"body : NEAR(a b)", "body:", "NEAR(a", "{body}", "x*y", "^quoted", "a AND b", "a -\"\"", "quoted -> b"}) {
    auto r = store_->SearchLogs({.text = text});
    EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
  }
  EXPECT_THAT(Bodies({.text = "body : NEAR(a b)"}), ElementsAre("body : NEAR(a b) \"quoted\" x*y"));
  EXPECT_EQ(store_->SearchLogs({.trace_id = "12"}).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(StoreTest, LiveTailPagesThroughNewRecords) {
  EXPECT_EQ(store_->LastLogCursor(), 0u);
  AppendLogs({MakeLog({.time_ms = kNow, .body = "one"}), MakeLog({.time_ms = kNow - 7'200'000, .body = "two"})});
  const uint64_t start = store_->LastLogCursor();
  EXPECT_EQ(start, 2u);
  AppendLogs({MakeLog({.time_ms = kNow, .body = "three error"}),
              MakeLog({.time_ms = kNow - 7'200'000, .body = "four"}),  // another partition
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
  EXPECT_EQ(page->next_cursor, 5u);
  page = store_->LogsAfter(page->next_cursor, {}, 2);
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->logs.empty());
  EXPECT_EQ(page->next_cursor, 5u);

  auto filtered = store_->LogsAfter(0, {.text = "error"}, 10);
  ASSERT_TRUE(filtered.ok());
  ASSERT_EQ(filtered->logs.size(), 2u);
  EXPECT_EQ(filtered->logs[1].record.body, "five error");
  EXPECT_EQ(filtered->next_cursor, 5u) << "records that do not match are passed over";

  // WaitForLogs wakes when another thread commits; a listener hears of it.
  std::atomic<uint64_t> heard{0};
  auto sub = store_->SubscribeLogs([&](uint64_t c) { heard = c; });
  EXPECT_FALSE(store_->WaitForLogs(5, 1ms));
  std::thread writer([&] { AppendLogs({MakeLog({.time_ms = kNow, .body = "six"})}); });
  EXPECT_TRUE(store_->WaitForLogs(5, 10s));
  writer.join();
  EXPECT_EQ(heard.load(), 6u);
  sub.reset();
  AppendLogs({MakeLog({.time_ms = kNow, .body = "seven"})});
  EXPECT_EQ(heard.load(), 6u) << "unsubscribed";
}

TEST_F(StoreTest, InferenceEventsRoundTrip) {
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
  ASSERT_TRUE(r.ok());
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
  EXPECT_EQ(g.service, "chat-api");
  EXPECT_EQ(g.provider, "vllm");
  EXPECT_EQ(g.operation, "chat");
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
  EXPECT_EQ((*all)[0].trace_id, "") << "a malformed id is dropped";
  auto limited = store_->QueryInferenceEvents({.limit = 1});
  ASSERT_TRUE(limited.ok());
  EXPECT_EQ(limited->size(), 1u);
  auto range = store_->QueryInferenceEvents({.start_ms = kNow - 2'000, .end_ms = kNow - 1'000});
  ASSERT_TRUE(range.ok());
  ASSERT_EQ(range->size(), 1u);
  EXPECT_EQ((*range)[0].model, "llama-3.1-70b");
}

TEST_F(StoreTest, DeploymentsAndPipelineRuns) {
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
  EXPECT_EQ((*d)[0].who, "bob");
  EXPECT_EQ((*d)[0].previous_version, "v3");
  EXPECT_EQ((*d)[0].note, "latency");
  EXPECT_EQ((*d)[1].version, "v3");
  auto all = store_->Deployments({});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 3u);
  auto early = store_->Deployments({.end_ms = kNow - 2'500});
  ASSERT_TRUE(early.ok());
  ASSERT_EQ(early->size(), 1u);
  EXPECT_EQ((*early)[0].note, "canary 10%");

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
  EXPECT_EQ((*runs)[1].fields[1].name, "country");
  EXPECT_EQ((*runs)[1].fields[1].type, "string");
  auto stage = store_->PipelineRuns({.pipeline = "features", .stage = "extract"});
  ASSERT_TRUE(stage.ok());
  ASSERT_EQ(stage->size(), 1u);
  EXPECT_EQ((*stage)[0].run_id, "run-1");
  auto by_stage = store_->PipelineRuns({.stage = "extract"});
  ASSERT_TRUE(by_stage.ok());
  EXPECT_EQ(by_stage->size(), 2u);
}

TEST_F(StoreTest, ReopenKeepsEverything) {
  Append(ThreeSpanTrace(1, kNow - 60'000));
  AppendLogs({MakeLog({.time_ms = kNow, .body = "before restart"})});
  ASSERT_TRUE(
      store_->AppendDeployments(std::vector<events::DeploymentEvent>{{kNow, "m", "v1", "", "deploy", "", ""}}).ok());
  ASSERT_TRUE(store_->Close().ok());
  EXPECT_EQ(store_->FindTraces({}).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->AppendLogs(std::vector<events::LogRecord>{MakeLog({.time_ms = kNow})}).status().code(),
            StatusCode::kFailedPrecondition);
  Open();
  auto trace = store_->GetTrace(TraceId(1));
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  EXPECT_EQ(trace->size(), 3u);
  EXPECT_THAT(Bodies({.text = "restart"}), ElementsAre("before restart"));
  EXPECT_EQ(store_->LastLogCursor(), 1u);
  AppendLogs({MakeLog({.time_ms = kNow, .body = "after restart"})});
  EXPECT_EQ(store_->LastLogCursor(), 2u) << "cursors continue after a restart";
  auto d = store_->Deployments({});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->size(), 1u);
  // New attribute keys and resources after reopening are numbered after the old ones.
  Append({MakeSpan({.trace = 5, .span = 50, .start_ms = kNow, .extra = {{"brand.new", "key"}}, .pod = "new-pod"})});
  auto t5 = store_->GetTrace(TraceId(5));
  ASSERT_TRUE(t5.ok());
  EXPECT_EQ(events::FindAttribute((*t5)[0].attributes, "brand.new") != nullptr, true);
  EXPECT_EQ(*events::FindAttribute((*t5)[0].resource, "k8s.pod.name"), "new-pod");
  auto t1 = store_->GetTrace(TraceId(1));
  ASSERT_TRUE(t1.ok());
  EXPECT_EQ(*events::FindAttribute((*t1)[0].resource, "k8s.pod.name"), "chat-api-0");
}

TEST_F(StoreTest, SecondStoreOnTheSameDirectoryIsRefused) {
  auto second = EventStore::Open(Env::Default(), &clock_, dir_.Path("events"), {});
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(StoreTest, BadOptionsAreRefused) {
  EventStoreOptions o;
  o.partition = 30s;
  EXPECT_EQ(EventStore::Open(Env::Default(), &clock_, dir_.Path("x"), o).status().code(), StatusCode::kInvalidArgument);
  o.partition = 1h;
  o.retention = 30min;
  EXPECT_EQ(EventStore::Open(Env::Default(), &clock_, dir_.Path("x"), o).status().code(), StatusCode::kInvalidArgument);
  o.retention = 24h;
  o.partition = 1500ms * 60;
  EXPECT_EQ(EventStore::Open(Env::Default(), &clock_, dir_.Path("x"), o).status().code(), StatusCode::kOk);
}

// Many writers and readers at once (run under ThreadSanitizer by scripts/test.sh): every span
// and log committed is found afterwards, each once.
TEST_F(StoreTest, ConcurrentAppendsAndQueries) {
  constexpr int kThreads = 6;
  constexpr int kBatches = 25;
  constexpr int kTracesPerBatch = 8;
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kThreads; ++w) {
    threads.emplace_back([&, w] {
      for (int b = 0; b < kBatches; ++b) {
        std::vector<events::Span> spans;
        std::vector<events::LogRecord> logs;
        for (int t = 0; t < kTracesPerBatch; ++t) {
          const uint64_t trace = (static_cast<uint64_t>(w) * kBatches + b) * kTracesPerBatch + t + 1;
          // Spread over three partitions.
          const int64_t start = kNow - static_cast<int64_t>(trace % 3) * 3'600'000;
          spans.push_back(MakeSpan(
              {.trace = trace, .span = trace * 4, .start_ms = start, .extra = {{"writer", std::to_string(w)}}}));
          spans.push_back(MakeSpan({.trace = trace,
                                    .span = trace * 4 + 1,
                                    .parent = static_cast<int64_t>(trace * 4),
                                    .start_ms = start + 1}));
          logs.push_back(MakeLog({.time_ms = start,
                                  .body = "writer " + std::to_string(w) + " trace " + std::to_string(trace),
                                  .trace_id = TraceId(trace)}));
        }
        auto r = store_->AppendSpans(spans);
        if (!r.ok() || r->stored != spans.size()) ++failures;
        auto l = store_->AppendLogs(logs);
        if (!l.ok() || l->stored != logs.size()) ++failures;
      }
    });
  }
  std::thread reader([&] {
    uint64_t cursor = 0;
    while (!stop.load()) {
      if (!store_->FindTraces({.service = "chat-api", .limit = 50}).ok()) ++failures;
      if (!store_->SearchLogs({.text = "writer", .limit = 20}).ok()) ++failures;
      auto page = store_->LogsAfter(cursor, {}, 100);
      if (!page.ok()) {
        ++failures;
      } else {
        cursor = page->next_cursor;
      }
      (void)store_->WaitForLogs(cursor, 1ms);
    }
  });
  for (std::thread& t : threads) t.join();
  stop = true;
  reader.join();
  ASSERT_EQ(failures.load(), 0);

  const uint64_t traces = kThreads * kBatches * kTracesPerBatch;
  for (uint64_t trace = 1; trace <= traces; trace += 7) {
    auto got = store_->GetTrace(TraceId(trace));
    ASSERT_TRUE(got.ok()) << trace << ": " << got.status().ToString();
    EXPECT_EQ(got->size(), 2u);
  }
  auto all = store_->FindTraces({.limit = 10'000});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), traces);
  auto w3 = store_->FindTraces({.attributes = {{"writer", "3"}}, .limit = 10'000});
  ASSERT_TRUE(w3.ok());
  EXPECT_EQ(w3->size(), static_cast<size_t>(kBatches * kTracesPerBatch));
  // Every log once, in cursor order, through the tail.
  std::set<std::string> bodies;
  uint64_t cursor = 0;
  uint64_t last = 0;
  while (true) {
    auto page = store_->LogsAfter(cursor, {}, 500);
    ASSERT_TRUE(page.ok());
    if (page->logs.empty()) break;
    for (const LogEntry& e : page->logs) {
      EXPECT_GT(e.cursor, last);
      last = e.cursor;
      EXPECT_TRUE(bodies.insert(e.record.body).second) << e.record.body;
    }
    cursor = page->next_cursor;
  }
  EXPECT_EQ(bodies.size(), traces);
}

}  // namespace
}  // namespace tyto::eventstore
