// ClickHouseStore: erasure (issue 12) by ALTER TABLE ... DELETE (a mutation, which rewrites the
// parts holding the rows without them; ClickHouse 18.16 runs it), waited for until done.
#include <chrono>
#include <limits>
#include <set>
#include <thread>

#include "clickhouse/row_binary.h"
#include "clickhouse/sql.h"
#include "clickhouse/store_impl.h"
#include "common/log.h"
#include "eventstore/codec.h"

namespace tyto::clickhouse {

namespace {

const log::Logger kLog("clickhouse");

// How long Erase waits for its mutations.
constexpr auto kMutationWait = std::chrono::minutes(5);

}  // namespace

Result<uint64_t> ClickHouseStore::Impl::CountWhere(TableId table, const std::string& where) const {
  TYTO_ASSIGN_OR_RETURN(std::string rows,
                        Select("SELECT count() FROM " + layout_.Table(table) + " WHERE " + where, "counting rows"));
  RowBinaryReader in(rows);
  return in.UInt64();
}

Status ClickHouseStore::Impl::DeleteWhere(TableId table, const std::string& where) const {
  for (size_t server = 0; server < conn_.servers(); ++server) {
    Result<std::string> r =
        conn_.Query(server, "ALTER TABLE " + layout_.LocalTable(table) + " DELETE WHERE " + where, config_.query_timeout);
    if (!r.ok()) return r.status().WithContext("deleting from " + layout_.LocalTable(table));
  }
  // Mutations run in the background: wait until none of this table is left to do.
  const auto deadline = std::chrono::steady_clock::now() + kMutationWait;
  for (size_t server = 0; server < conn_.servers(); ++server) {
    while (true) {
      Result<std::string> r = conn_.Query(
          server,
          "SELECT count() FROM system.mutations WHERE database = " + QuoteString(layout_.database) +
              " AND table = " + QuoteString(layout_.LocalName(table)) + " AND is_done = 0 FORMAT RowBinary",
          config_.query_timeout);
      if (!r.ok()) return r.status().WithContext("waiting for the deletion from " + layout_.LocalTable(table));
      RowBinaryReader in(*r);
      TYTO_ASSIGN_OR_RETURN(uint64_t pending, in.UInt64());
      if (pending == 0) break;
      if (std::chrono::steady_clock::now() > deadline) {
        return DeadlineExceeded("the deletion from " + layout_.LocalTable(table) + " is still running on server " +
                                std::to_string(server) + "; it completes in the background");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  return Status::Ok();
}

Result<eventstore::EraseResult> ClickHouseStore::Erase(const eventstore::EraseRequest& request) {
  Impl& m = *impl_;
  TYTO_RETURN_IF_ERROR(m.CheckOpen());
  if (request.org.empty()) return InvalidArgument("erasure needs the tenant whose records go");
  const std::string org = "org = " + QuoteString(eventstore::OrgOf(request.org));
  // Retention: only rows older than before_ms.
  const bool aged = request.before_ms < std::numeric_limits<int64_t>::max();
  const std::string before_ns = std::to_string(
      request.before_ms >= std::numeric_limits<int64_t>::max() / 1'000'000 ? std::numeric_limits<int64_t>::max()
                                                                            : request.before_ms * 1'000'000);
  std::string events = org;
  if (aged) events += " AND timestamp_ms < " + std::to_string(request.before_ms);
  if (!request.user.empty()) events += " AND user = " + QuoteString(request.user);
  if (!request.request_id.empty()) events += " AND request_id = " + QuoteString(request.request_id);

  // The traces of the erased events: their spans and log records go too.
  const std::string zero(16, '\0');
  std::set<std::string> traces;
  {
    TYTO_ASSIGN_OR_RETURN(std::string rows, m.Select("SELECT DISTINCT trace_id FROM " +
                                                         m.layout_.Table(TableId::kInferenceEvents) + " WHERE " +
                                                         events + " AND trace_id != " + HexLiteral(zero),
                                                     "reading the traces of erased events"));
    RowBinaryReader in(rows);
    while (!in.done()) {
      TYTO_ASSIGN_OR_RETURN(std::string id, in.FixedString(16));
      traces.insert(std::move(id));
    }
  }
  std::string records = org;
  if (!request.user.empty() || !request.request_id.empty()) {
    std::string match = "1";
    if (!request.user.empty()) {
      const std::string u = QuoteString(request.user);
      match += " AND (attribute_values[indexOf(attribute_keys, 'enduser.id')] = " + u +
               " OR attribute_values[indexOf(attribute_keys, 'user.id')] = " + u + ")";
    }
    if (!request.request_id.empty()) {
      std::string bytes;
      match += eventstore::DecodeHexId(request.request_id, 16, &bytes) ? " AND trace_id = " + HexLiteral(bytes)
                                                                         : std::string(" AND 0");
    }
    std::string in_list;
    for (const std::string& t : traces) in_list += (in_list.empty() ? "" : ", ") + HexLiteral(t);
    records += " AND ((" + match + ")" + (in_list.empty() ? "" : " OR trace_id IN (" + in_list + ")") + ")";
  }

  const std::string logs = aged ? records + " AND time_ns < " + before_ns : records;
  if (aged) records += " AND start_ns < " + before_ns;
  eventstore::EraseResult out;
  TYTO_ASSIGN_OR_RETURN(out.inference_events, m.CountWhere(TableId::kInferenceEvents, events));
  if (out.inference_events > 0 && (!request.user.empty() || !request.request_id.empty())) {
    TYTO_ASSIGN_OR_RETURN(std::string rows, m.Select("SELECT DISTINCT request_id FROM " +
                                                         m.layout_.Table(TableId::kInferenceEvents) + " WHERE " +
                                                         events + " AND request_id != ''",
                                                     "reading the request ids of erased events"));
    RowBinaryReader in(rows);
    while (!in.done()) {
      TYTO_ASSIGN_OR_RETURN(std::string id, in.String());
      out.request_ids.push_back(std::move(id));
    }
  }
  TYTO_ASSIGN_OR_RETURN(out.spans, m.CountWhere(TableId::kSpans, records));
  TYTO_ASSIGN_OR_RETURN(out.logs, m.CountWhere(TableId::kLogs, logs));
  // trace_index rows of traces left with no span of the org.
  std::string index = aged ? org + " AND start_max_ns < " + before_ns : org;
  if (!request.user.empty() || !request.request_id.empty()) {
    std::set<std::string> erased;
    TYTO_ASSIGN_OR_RETURN(std::string rows,
                          m.Select("SELECT DISTINCT trace_id FROM " + m.layout_.Table(TableId::kSpans) + " WHERE " +
                                       records,
                                   "reading the traces of erased spans"));
    RowBinaryReader in(rows);
    while (!in.done()) {
      TYTO_ASSIGN_OR_RETURN(std::string id, in.FixedString(16));
      erased.insert(std::move(id));
    }
    std::string in_list;
    for (const std::string& t : erased) in_list += (in_list.empty() ? "" : ", ") + HexLiteral(t);
    index = in_list.empty() ? std::string() : org + " AND trace_id IN (" + in_list + ")";
  }
  if (out.inference_events > 0) TYTO_RETURN_IF_ERROR(m.DeleteWhere(TableId::kInferenceEvents, events));
  if (out.spans > 0) TYTO_RETURN_IF_ERROR(m.DeleteWhere(TableId::kSpans, records));
  if (out.logs > 0) TYTO_RETURN_IF_ERROR(m.DeleteWhere(TableId::kLogs, logs));
  if (out.spans > 0 && !index.empty()) TYTO_RETURN_IF_ERROR(m.DeleteWhere(TableId::kTraceIndex, index));
  kLog.Info("clickhouse: erased rows", {{"org", request.org},
                                        {"spans", out.spans},
                                        {"logs", out.logs},
                                        {"inference_events", out.inference_events}});
  return out;
}

void ClickHouseStore::SetOrgRetention(eventstore::OrgRetention retention) {
  MutexLock lock(&impl_->retention_mu_);
  impl_->org_retention_ = std::move(retention);
}

Result<uint64_t> ClickHouseStore::StoredBytes(std::string_view org) const {
  const std::string sql = impl_->layout_.StoredBytesQuery(eventstore::OrgOf(org));
  const size_t server = impl_->next_server_.fetch_add(1) % impl_->conn_.servers();
  Result<std::string> summed = impl_->conn_.Query(server, sql, impl_->config_.query_timeout);
  if (!summed.ok()) {
    impl_->metrics_.errors.WithLabels({"query"}).Inc();
    return Unavailable("summing tenant '" + std::string(eventstore::OrgOf(org)) +
                       "'s stored bytes: " + summed.status().message());
  }
  RowBinaryReader in(*summed);
  return in.UInt64();
}

Status ClickHouseStore::SweepOrgRetention() {
  Impl& m = *impl_;
  eventstore::OrgRetention retention;
  {
    MutexLock lock(&m.retention_mu_);
    retention = m.org_retention_;
  }
  const int64_t now_ms = m.clock_->NowMillis();
  Status first;
  for (const auto& [org, keep] : retention) {
    if (keep.count() <= 0 || keep >= m.config_.retention) continue;  // the store's own applies
    Result<eventstore::EraseResult> r = Erase({.org = org, .before_ms = now_ms - keep.count()});
    if (!r.ok() && first.ok()) first = r.status();
  }
  return first;
}

}  // namespace tyto::clickhouse
