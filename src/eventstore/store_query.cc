// EventStore: queries fanned out over the partitions their time range overlaps, newest first,
// and merged. Partitions never overlap in time and each row lies in the partition of its own
// timestamp, so "newest first" across partitions is their concatenation.
#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "common/log.h"
#include "eventstore/codec.h"
#include "eventstore/checks.h"
#include "eventstore/store_impl.h"
#include "eventstore/text_query.h"
#include "eventstore/trace_tree.h"

namespace tyto::eventstore {

namespace {

}  // namespace

std::vector<std::shared_ptr<Partition>> EventStore::Impl::Overlapping(int64_t start_ms, int64_t end_ms) const {
  std::vector<std::shared_ptr<Partition>> out;
  MutexLock lock(&mu_);
  for (auto it = partitions_.rbegin(); it != partitions_.rend(); ++it) {
    if (it->second->start_ms() > end_ms) continue;
    if (it->second->end_ms() <= start_ms) break;
    out.push_back(it->second);
  }
  return out;
}

Status EventStore::Impl::Skip(Partition* p, const Status& s) {
  if (s.code() == StatusCode::kCorruption || s.code() == StatusCode::kIOError) {
    p->ReportQueryFailure(s);
    metrics_.partition_errors.WithLabels({"query"}).Inc();
    return Status::Ok();
  }
  return s;
}

Result<std::vector<TraceSummary>> EventStore::Impl::FindTraces(const TraceQuery& query) {
  TYTO_RETURN_IF_ERROR(CheckOpen());
  QueryTimer timer(find_traces_duration_);
  TYTO_ASSIGN_OR_RETURN(const size_t limit, QueryLimit(query.limit, 20));
  TYTO_RETURN_IF_ERROR(CheckRange(query.start_unix_nano, query.end_unix_nano, "ns"));
  TYTO_RETURN_IF_ERROR(CheckRange(query.min_duration_nano, query.max_duration_nano, "ns of duration"));
  TYTO_RETURN_IF_ERROR(CheckAttributes(query.attributes));

  std::vector<std::string> found;  // trace ids as bytes, by their newest matching span
  std::unordered_set<std::string> seen;
  for (const std::shared_ptr<Partition>& p :
       Overlapping(NanosToMillis(query.start_unix_nano), NanosToMillis(query.end_unix_nano))) {
    if (!p->readable()) continue;
    Status s = p->FindTraceCandidates(query, limit - found.size(), [&](std::string_view trace_id, int64_t) {
      if (seen.emplace(trace_id).second) found.emplace_back(trace_id);
      return found.size() < limit;
    });
    if (!s.ok()) TYTO_RETURN_IF_ERROR(Skip(p.get(), s));
    if (found.size() >= limit) break;
  }
  if (found.empty()) return std::vector<TraceSummary>();

  // Summaries count every stored span of each trace, in whichever partition it lies.
  std::vector<std::vector<events::Span>> spans(found.size());
  for (const std::shared_ptr<Partition>& p :
       Overlapping(std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max())) {
    if (!p->readable()) continue;
    if (Status s = p->ReadTraces(query.org, found, &spans); !s.ok()) TYTO_RETURN_IF_ERROR(Skip(p.get(), s));
  }
  std::vector<TraceSummary> out;
  for (std::vector<events::Span>& trace : spans) {
    if (trace.empty()) continue;  // its partition became unreadable in between
    SortAndDeduplicateSpans(&trace);
    out.push_back(SummarizeTrace(trace));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const TraceSummary& a, const TraceSummary& b) { return a.start_unix_nano > b.start_unix_nano; });
  return out;
}

Result<std::vector<std::vector<events::Span>>> EventStore::Impl::GetTraces(std::span<const std::string> trace_ids,
                                                                           const TraceLookup& lookup) {
  TYTO_RETURN_IF_ERROR(CheckOpen());
  QueryTimer timer(get_trace_duration_);
  TYTO_RETURN_IF_ERROR(CheckRange(lookup.start_unix_nano, lookup.end_unix_nano, "ns"));
  std::vector<std::string> ids;
  ids.reserve(trace_ids.size());
  for (const std::string& hex : trace_ids) {
    std::string bytes;
    if (!DecodeHexId(hex, 16, &bytes)) {
      return InvalidArgument("trace id '" + hex.substr(0, 40) + "' is not 32 hex digits (or is all zero)");
    }
    ids.push_back(std::move(bytes));
  }
  std::vector<std::vector<events::Span>> spans(ids.size());
  for (const std::shared_ptr<Partition>& p :
       Overlapping(NanosToMillis(lookup.start_unix_nano), NanosToMillis(lookup.end_unix_nano))) {
    if (!p->readable()) continue;
    if (Status s = p->ReadTraces(lookup.org, ids, &spans); !s.ok()) TYTO_RETURN_IF_ERROR(Skip(p.get(), s));
  }
  std::vector<std::vector<events::Span>> out;
  std::unordered_set<std::string_view> done;
  for (size_t i = 0; i < ids.size(); ++i) {
    std::vector<events::Span>& trace = spans[i];
    if (trace.empty() || !done.insert(ids[i]).second) continue;
    SortAndDeduplicateSpans(&trace);
    out.push_back(std::move(trace));
  }
  return out;
}

Result<std::vector<std::string>> EventStore::Impl::Services(std::string_view org, int64_t start_ns, int64_t end_ns) {
  TYTO_RETURN_IF_ERROR(CheckOpen());
  QueryTimer timer(services_duration_);
  TYTO_RETURN_IF_ERROR(CheckRange(start_ns, end_ns, "ns"));
  std::set<std::string> services;
  for (const std::shared_ptr<Partition>& p : Overlapping(NanosToMillis(start_ns), NanosToMillis(end_ns))) {
    if (!p->readable()) continue;
    if (Status s = p->Services(org, &services); !s.ok()) TYTO_RETURN_IF_ERROR(Skip(p.get(), s));
  }
  return std::vector<std::string>(services.begin(), services.end());
}

Result<std::vector<Operation>> EventStore::Impl::Operations(std::string_view org, std::string_view service,
                                                            int64_t start_ns, int64_t end_ns) {
  TYTO_RETURN_IF_ERROR(CheckOpen());
  QueryTimer timer(operations_duration_);
  TYTO_RETURN_IF_ERROR(CheckRange(start_ns, end_ns, "ns"));
  std::set<std::pair<std::string, int>> ops;
  for (const std::shared_ptr<Partition>& p : Overlapping(NanosToMillis(start_ns), NanosToMillis(end_ns))) {
    if (!p->readable()) continue;
    if (Status s = p->Operations(org, service, &ops); !s.ok()) TYTO_RETURN_IF_ERROR(Skip(p.get(), s));
  }
  std::vector<Operation> out;
  for (const auto& [name, kind] : ops) out.push_back({name, static_cast<events::SpanKind>(kind)});
  return out;
}

namespace {

Result<LogFilter> MakeLogFilter(const LogQuery& q) {
  TYTO_RETURN_IF_ERROR(CheckRange(q.start_unix_nano, q.end_unix_nano, "ns"));
  TYTO_RETURN_IF_ERROR(CheckAttributes(q.attributes));
  LogFilter f;
  f.query = &q;
  if (!q.text.empty()) {
    TYTO_ASSIGN_OR_RETURN(f.text_expression, TranslateSearchText(q.text));
  }
  if (!q.trace_id.empty() && !DecodeHexId(q.trace_id, 16, &f.trace_id)) {
    return InvalidArgument("trace id '" + q.trace_id.substr(0, 40) + "' is not 32 hex digits (or is all zero)");
  }
  return f;
}

}  // namespace

Result<std::vector<LogEntry>> EventStore::Impl::SearchLogs(const LogQuery& query) {
  TYTO_RETURN_IF_ERROR(CheckOpen());
  QueryTimer timer(search_logs_duration_);
  TYTO_ASSIGN_OR_RETURN(const size_t limit, QueryLimit(query.limit, 100));
  TYTO_ASSIGN_OR_RETURN(const LogFilter filter, MakeLogFilter(query));
  std::vector<LogEntry> out;
  for (const std::shared_ptr<Partition>& p :
       Overlapping(NanosToMillis(query.start_unix_nano), NanosToMillis(query.end_unix_nano))) {
    if (!p->readable()) continue;
    if (Status s = p->SearchLogs(filter, limit - out.size(), &out); !s.ok()) TYTO_RETURN_IF_ERROR(Skip(p.get(), s));
    if (out.size() >= limit) break;
  }
  return out;
}

Result<LogPage> EventStore::Impl::LogsAfter(uint64_t cursor, const LogQuery& filter_query, size_t limit) {
  TYTO_RETURN_IF_ERROR(CheckOpen());
  QueryTimer timer(logs_after_duration_);
  TYTO_ASSIGN_OR_RETURN(limit, QueryLimit(limit, 100));
  TYTO_ASSIGN_OR_RETURN(const LogFilter filter, MakeLogFilter(filter_query));
  LogPage page;
  const uint64_t upto = LastLogCursor();  // every record up to it is committed (or failed for good)
  if (cursor >= upto) {
    page.next_cursor = cursor;
    return page;
  }
  bool truncated = false;
  for (const std::shared_ptr<Partition>& p :
       Overlapping(NanosToMillis(filter_query.start_unix_nano), NanosToMillis(filter_query.end_unix_nano))) {
    if (!p->readable() || p->max_log_cursor() <= cursor) continue;
    const size_t before = page.logs.size();
    if (Status s = p->LogsAfter(filter, cursor, upto, limit, &page.logs); !s.ok()) {
      TYTO_RETURN_IF_ERROR(Skip(p.get(), s));
    }
    truncated |= page.logs.size() - before >= limit;
  }
  std::sort(page.logs.begin(), page.logs.end(),
            [](const LogEntry& a, const LogEntry& b) { return a.cursor < b.cursor; });
  if (truncated || page.logs.size() > limit) {
    // Every partition returned its oldest records, so the first `limit` overall are complete.
    page.logs.resize(std::min(page.logs.size(), limit));
    page.next_cursor = page.logs.back().cursor;
  } else {
    page.next_cursor = upto;
  }
  return page;
}

Result<std::vector<events::InferenceEvent>> EventStore::Impl::QueryInferenceEvents(const InferenceEventQuery& query) {
  TYTO_RETURN_IF_ERROR(CheckOpen());
  QueryTimer timer(inference_duration_);
  TYTO_ASSIGN_OR_RETURN(const size_t limit, QueryLimit(query.limit, 100));
  TYTO_RETURN_IF_ERROR(CheckRange(query.start_ms, query.end_ms, "ms"));
  std::vector<events::InferenceEvent> out;
  for (const std::shared_ptr<Partition>& p : Overlapping(query.start_ms, query.end_ms)) {
    if (!p->readable()) continue;
    if (Status s = p->QueryInferenceEvents(query, limit - out.size(), &out); !s.ok()) {
      TYTO_RETURN_IF_ERROR(Skip(p.get(), s));
    }
    if (out.size() >= limit) break;
  }
  return out;
}

Result<std::vector<events::DeploymentEvent>> EventStore::Impl::Deployments(const DeploymentQuery& query) {
  TYTO_RETURN_IF_ERROR(CheckOpen());
  QueryTimer timer(deployments_duration_);
  TYTO_ASSIGN_OR_RETURN(const size_t limit, QueryLimit(query.limit, 100));
  TYTO_RETURN_IF_ERROR(CheckRange(query.start_ms, query.end_ms, "ms"));
  std::vector<events::DeploymentEvent> out;
  for (const std::shared_ptr<Partition>& p : Overlapping(query.start_ms, query.end_ms)) {
    if (!p->readable()) continue;
    if (Status s = p->QueryDeployments(query, limit - out.size(), &out); !s.ok()) {
      TYTO_RETURN_IF_ERROR(Skip(p.get(), s));
    }
    if (out.size() >= limit) break;
  }
  return out;
}

Result<std::vector<events::PipelineStageEvent>> EventStore::Impl::PipelineRuns(const PipelineRunQuery& query) {
  TYTO_RETURN_IF_ERROR(CheckOpen());
  QueryTimer timer(pipeline_duration_);
  TYTO_ASSIGN_OR_RETURN(const size_t limit, QueryLimit(query.limit, 100));
  TYTO_RETURN_IF_ERROR(CheckRange(query.start_ms, query.end_ms, "ms"));
  std::vector<events::PipelineStageEvent> out;
  for (const std::shared_ptr<Partition>& p : Overlapping(query.start_ms, query.end_ms)) {
    if (!p->readable()) continue;
    if (Status s = p->QueryPipelineRuns(query, limit - out.size(), &out); !s.ok()) {
      TYTO_RETURN_IF_ERROR(Skip(p.get(), s));
    }
    if (out.size() >= limit) break;
  }
  return out;
}

}  // namespace tyto::eventstore
