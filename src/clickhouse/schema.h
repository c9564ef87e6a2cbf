// Tyto's tables in ClickHouse: their columns, sort and partition keys, and the statements that
// create them (docs/format/clickhouse.md describes each). Only SQL that ClickHouse 18.16 and
// current releases both run: no Map, JSON or DateTime64 types, no TTL, CODEC or skip indexes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tyto::clickhouse {

enum class TableId { kSpans = 0, kTraceIndex, kLogs, kInferenceEvents, kPipelineStages, kDeployments };
inline constexpr int kTableCount = 6;

struct Column {
  const char* name;
  const char* type;
  // What rows written before the column existed read (ALTER TABLE ... ADD COLUMN ... DEFAULT);
  // null: the type's zero value.
  const char* added_default = nullptr;
};

struct TableSpec {
  TableId id;
  const char* name;       // of the table queries and inserts use
  const char* order_by;   // the sort key (the primary key)
  std::vector<Column> columns;
};

const TableSpec& Spec(TableId id);
const std::vector<TableSpec>& AllTables();

// Where the tables are: the database, and when a cluster is set, local tables (<name>_local,
// MergeTree or ReplicatedMergeTree) on every server and Distributed tables (<name>) over them.
struct Layout {
  std::string database;
  std::string cluster;  // empty: one server, plain MergeTree tables named <name>
  bool replicated = false;

  // `database`.`name`: what inserts and queries name.
  std::string Table(TableId id) const;
  // `database`.`name_local` with a cluster, else Table(id): what DDL and retention name.
  std::string LocalTable(TableId id) const;
  // The bare name of the local table (system.parts' `table`).
  std::string LocalName(TableId id) const;
  // CREATE DATABASE, then each table: local, and with a cluster the Distributed one, all IF
  // NOT EXISTS. Run on every server.
  std::vector<std::string> CreateStatements() const;
  // For a table made by an older Tyto (`existing`: the names of its columns, from system.columns),
  // ALTER TABLE <table> ADD COLUMN for each column it lacks, in place (AFTER the one before it).
  // `table` is a name from Table or LocalTable. Run on every server, local tables first.
  std::vector<std::string> AddMissingColumns(TableId id, const std::string& table,
                                             const std::vector<std::string>& existing) const;
  // INSERT INTO <table> (<columns>) FORMAT RowBinary
  std::string InsertStatement(TableId id) const;
  // SELECT one UInt64 (FORMAT RowBinary): the bytes of the org's spans, log records and
  // inference events: each value's (a string's length, a FixedString's size, 8 per number,
  // summed over arrays), the bookkeeping columns (batch_id, seq, source, cursor, time) left out.
  std::string StoredBytesQuery(std::string_view org) const;
};

}  // namespace tyto::clickhouse
