#include "clickhouse/schema.h"

#include "clickhouse/sql.h"

namespace tyto::clickhouse {

namespace {

// Columns every table starts with: the batch the row came in (dedup on retry, sharding key),
// its place in the batch, where its append came from (AppendOptions::source: a NATS message id,
// an Idempotency-Key; empty when none), the Tyto tenant that owns the row (its org; "default"
// for rows written before tenants), for logs the live tail's cursor, and the row's time in
// whole seconds (the partition key's input). The inserting leader writes the first ones.
std::vector<Column> With(std::vector<Column> own, bool cursor = false) {
  std::vector<Column> c = {
      {"batch_id", "UInt64"}, {"seq", "UInt32"}, {"source", "String"}, {"org", "String", "'default'"}};
  if (cursor) c.push_back({"cursor", "UInt64"});
  c.push_back({"time", "DateTime('UTC')"});
  c.insert(c.end(), own.begin(), own.end());
  return c;
}

std::vector<TableSpec> MakeSpecs() {
  std::vector<TableSpec> t;
  t.push_back({TableId::kSpans,
               "spans",
               "service, start_ns",
               With({{"start_ns", "Int64"},
                     {"duration_ns", "Int64"},
                     {"trace_id", "FixedString(16)"},
                     {"span_id", "FixedString(8)"},
                     {"parent_span_id", "FixedString(8)"},
                     {"service", "String"},
                     {"name", "String"},
                     {"kind", "UInt8"},
                     {"status", "UInt8"},
                     {"status_message", "String"},
                     {"scope_name", "String"},
                     {"model", "String"},
                     {"attribute_keys", "Array(String)"},
                     {"attribute_values", "Array(String)"},
                     {"resource_keys", "Array(String)"},
                     {"resource_values", "Array(String)"},
                     {"event_times", "Array(Int64)"},
                     {"event_names", "Array(String)"},
                     {"event_attribute_keys", "Array(Array(String))"},
                     {"event_attribute_values", "Array(Array(String))"}})});
  t.push_back({TableId::kTraceIndex,
               "trace_index",
               "trace_id",
               With({{"trace_id", "FixedString(16)"}, {"start_min_ns", "Int64"}, {"start_max_ns", "Int64"}})});
  t.push_back({TableId::kLogs,
               "logs",
               "service, time_ns",
               With({{"time_ns", "Int64"},
                     {"severity_number", "Int32"},
                     {"severity_text", "String"},
                     {"body", "String"},
                     {"trace_id", "FixedString(16)"},
                     {"span_id", "FixedString(8)"},
                     {"service", "String"},
                     {"attribute_keys", "Array(String)"},
                     {"attribute_values", "Array(String)"},
                     {"resource_keys", "Array(String)"},
                     {"resource_values", "Array(String)"}},
                    /*cursor=*/true)});
  t.push_back({TableId::kInferenceEvents,
               "inference_events",
               "model, timestamp_ms",
               With({{"timestamp_ms", "Int64"},
                     {"request_id", "String"},
                     {"model", "String"},
                     {"model_version", "String"},
                     {"endpoint", "String"},
                     {"tenant", "String"},
                     {"service", "String"},
                     {"provider", "String"},
                     {"operation", "String"},
                     {"node", "String"},
                     {"error", "UInt8"},
                     {"error_type", "String"},
                     {"latency_s", "Float64"},
                     {"queue_s", "Float64"},
                     {"ttft_s", "Float64"},
                     {"input_tokens", "Int64"},
                     {"output_tokens", "Int64"},
                     {"finish_reasons", "Array(String)"},
                     {"conversation_id", "String"},
                     {"prompt", "String"},
                     {"response", "String"},
                     {"feature_names", "Array(String)"},
                     {"feature_is_number", "Array(UInt8)"},
                     {"feature_numbers", "Array(Float64)"},
                     {"feature_texts", "Array(String)"},
                     {"prediction_names", "Array(String)"},
                     {"prediction_is_number", "Array(UInt8)"},
                     {"prediction_numbers", "Array(Float64)"},
                     {"prediction_texts", "Array(String)"},
                     {"trace_id", "FixedString(16)"},
                     {"span_id", "FixedString(8)"},
                     {"user", "String"}})});
  t.push_back({TableId::kPipelineStages,
               "pipeline_stages",
               "pipeline, stage, start_ms",
               With({{"start_ms", "Int64"},
                     {"end_ms", "Int64"},
                     {"pipeline", "String"},
                     {"stage", "String"},
                     {"run_id", "String"},
                     {"rows_in", "Int64"},
                     {"rows_out", "Int64"},
                     {"rows_rejected", "Int64"},
                     {"schema_fingerprint", "String"},
                     {"field_names", "Array(String)"},
                     {"field_types", "Array(String)"},
                     {"failed", "UInt8"},
                     {"error", "String"}})});
  t.push_back({TableId::kDeployments,
               "deployments",
               "model, timestamp_ms",
               With({{"timestamp_ms", "Int64"},
                     {"model", "String"},
                     {"version", "String"},
                     {"previous_version", "String"},
                     {"action", "String"},
                     {"who", "String"},
                     {"note", "String"}})});
  return t;
}

}  // namespace

const std::vector<TableSpec>& AllTables() {
  static const auto* specs = new std::vector<TableSpec>(MakeSpecs());
  return *specs;
}

const TableSpec& Spec(TableId id) { return AllTables()[static_cast<size_t>(id)]; }

std::string Layout::LocalName(TableId id) const {
  return std::string(Spec(id).name) + (cluster.empty() ? "" : "_local");
}

std::string Layout::Table(TableId id) const { return QuoteIdentifier(database) + "." + QuoteIdentifier(Spec(id).name); }

std::string Layout::LocalTable(TableId id) const {
  return QuoteIdentifier(database) + "." + QuoteIdentifier(LocalName(id));
}

std::vector<std::string> Layout::CreateStatements() const {
  std::vector<std::string> out = {"CREATE DATABASE IF NOT EXISTS " + QuoteIdentifier(database)};
  for (const TableSpec& t : AllTables()) {
    std::string sql = "CREATE TABLE IF NOT EXISTS " + LocalTable(t.id) + " (";
    for (size_t i = 0; i < t.columns.size(); ++i) {
      if (i > 0) sql += ", ";
      sql += QuoteIdentifier(t.columns[i].name) + " " + t.columns[i].type;
    }
    sql += ") ENGINE = ";
    if (replicated) {
      // {shard} and {replica} are the servers' macros; the path names the table once per shard.
      sql += "ReplicatedMergeTree('/clickhouse/tables/{shard}/" + database + "." + LocalName(t.id) + "', '{replica}')";
    } else {
      sql += "MergeTree()";
    }
    sql += " PARTITION BY toYYYYMMDD(time) ORDER BY (" + std::string(t.order_by) + ")";
    out.push_back(std::move(sql));
    if (!cluster.empty()) {
      // Sharded by a hash of the batch id: a batch lands whole on one shard (one part, atomic).
      out.push_back("CREATE TABLE IF NOT EXISTS " + Table(t.id) + " AS " + LocalTable(t.id) + " ENGINE = Distributed(" +
                    QuoteIdentifier(cluster) + ", " + QuoteIdentifier(database) + ", " +
                    QuoteIdentifier(LocalName(t.id)) + ", intHash64(batch_id))");
    }
  }
  return out;
}

std::vector<std::string> Layout::AddMissingColumns(TableId id, const std::string& table,
                                                   const std::vector<std::string>& existing) const {
  std::vector<std::string> out;
  const TableSpec& t = Spec(id);
  for (size_t i = 0; i < t.columns.size(); ++i) {
    const Column& c = t.columns[i];
    bool found = false;
    for (const std::string& e : existing) found = found || e == c.name;
    if (found) continue;
    std::string sql = "ALTER TABLE " + table + " ADD COLUMN " + QuoteIdentifier(c.name) + " " + c.type;
    if (c.added_default != nullptr) sql += " DEFAULT " + std::string(c.added_default);
    if (i > 0) sql += " AFTER " + QuoteIdentifier(t.columns[i - 1].name);
    out.push_back(std::move(sql));
  }
  return out;
}

namespace {

// The bytes of a value of `type` named by `v` (a column, or an array's element).
std::string ValueBytes(std::string_view type, const std::string& v, int depth) {
  if (type.starts_with("Array(") && type.ends_with(")")) {
    const std::string x = "x" + std::to_string(depth);
    return "arraySum(arrayMap(" + x + " -> " + ValueBytes(type.substr(6, type.size() - 7), x, depth + 1) + ", " + v +
           "))";
  }
  if (type == "String") return "length(" + v + ")";
  if (type.starts_with("FixedString(")) return std::string(type.substr(12, type.size() - 13));
  return "8";
}

}  // namespace

std::string Layout::StoredBytesQuery(std::string_view org) const {
  std::string rows;
  for (TableId id : {TableId::kSpans, TableId::kLogs, TableId::kInferenceEvents}) {
    std::string sum;
    for (const Column& c : Spec(id).columns) {
      const std::string_view name = c.name;
      if (name == "batch_id" || name == "seq" || name == "source" || name == "cursor" || name == "time") continue;
      if (!sum.empty()) sum += " + ";
      sum += ValueBytes(c.type, QuoteIdentifier(name), 0);
    }
    if (!rows.empty()) rows += " UNION ALL ";
    rows += "SELECT toUInt64(" + sum + ") AS b FROM " + Table(id) + " WHERE org = " + QuoteString(org);
  }
  return "SELECT toUInt64(sum(b)) FROM (" + rows + ") FORMAT RowBinary";
}

std::string Layout::InsertStatement(TableId id) const {
  const TableSpec& t = Spec(id);
  std::string sql = "INSERT INTO " + Table(id) + " (";
  for (size_t i = 0; i < t.columns.size(); ++i) {
    if (i > 0) sql += ", ";
    sql += QuoteIdentifier(t.columns[i].name);
  }
  return sql + ") FORMAT RowBinary";
}

}  // namespace tyto::clickhouse
