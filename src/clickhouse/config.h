// The `clickhouse:` section (under `storage:` in tyto.yml): where the events, traces and logs go
// when `storage.events: clickhouse`, and how they are written there.
//
//   clickhouse:
//     urls: [http://ch-1:8123, http://ch-2:8123]   # every server (each shard's, each replica's)
//     database: tyto
//     user: tyto
//     password_file: /etc/tyto/clickhouse-password
//     tls: {ca_file: /etc/tyto/ca.pem}             # for https:// URLs
//     cluster: events          # remote_servers name: Distributed tables over its shards
//     replicated: true         # ReplicatedMergeTree (needs ZooKeeper and {shard}/{replica} macros)
//     retention: 7d            # whole days are dropped (ALTER TABLE ... DROP PARTITION)
//     batch_rows: 100000       # most rows in one INSERT
//     flush_interval: 100ms    # how long an insert waits for more rows to join it
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "tyto/status.h"

namespace tyto::config {
template <typename T>
class Section;
}

namespace tyto {
class Env;
}

namespace tyto::clickhouse {

struct ClickHouseTls {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  std::string server_name;
  bool insecure_skip_verify = false;
  friend bool operator==(const ClickHouseTls&, const ClickHouseTls&) = default;
};

struct ClickHouseConfig {
  // HTTP interface of every ClickHouse server Tyto talks to. Tables are created on each (each
  // shard's and replica's local tables, and the Distributed tables); inserts and queries go to
  // the first that answers, in turn. Without `cluster`, one server (or one load-balanced name).
  std::vector<std::string> urls{"http://127.0.0.1:8123"};
  std::string database = "tyto";
  std::string user = "default";
  std::string password;       // or password_file; never shown
  std::string password_file;  // read at Open, trailing line breaks removed
  ClickHouseTls tls;
  // Whole exchange of one INSERT or one query (connect, send, wait, read).
  std::chrono::milliseconds insert_timeout{std::chrono::seconds(30)};
  std::chrono::milliseconds query_timeout{std::chrono::seconds(30)};
  // How long a batch's insert is retried (connection errors, timeouts, a restarting server)
  // before its Append fails with kUnavailable.
  std::chrono::milliseconds retry_for{std::chrono::seconds(60)};
  std::string cluster;  // empty: plain MergeTree tables on one server
  bool replicated = false;
  std::chrono::milliseconds retention{std::chrono::hours(24 * 7)};
  std::chrono::milliseconds max_future{std::chrono::hours(1)};
  uint64_t batch_rows = 100'000;
  std::chrono::milliseconds flush_interval{std::chrono::milliseconds(100)};
  uint64_t max_queued_rows = 1'000'000;
  // Live tail: rows whose batch started less than tail_settle ago are not shown yet (another
  // server's insert may still be in flight with an older cursor); rows whose own time is more
  // than tail_lookback before the cursor are not looked at. 0s settle: this is the only writer.
  std::chrono::milliseconds tail_settle{std::chrono::seconds(2)};
  std::chrono::milliseconds tail_lookback{std::chrono::hours(1)};
  std::chrono::milliseconds tail_poll_interval{std::chrono::seconds(1)};
  std::chrono::milliseconds maintenance_interval{std::chrono::minutes(10)};
  // Low 10 bits of every batch id and cursor, telling writers apart; -1: random at start.
  int64_t writer_id = -1;
  friend bool operator==(const ClickHouseConfig&, const ClickHouseConfig&) = default;
};

// Every option checked: urls parse (http or https), database and cluster are plain identifiers,
// replicated needs cluster, retention at least a day, batch_rows 1 to 1,000,000, at most one of
// password and password_file.
const config::Section<ClickHouseConfig>& ClickHouseSchema();

// kInvalidArgument naming the option (what the schema checks, for configs built in code).
Status Validate(const ClickHouseConfig& config);

// The password: inline, or password_file's content without trailing line breaks.
Result<std::string> ReadPassword(Env* env, const ClickHouseConfig& config);

}  // namespace tyto::clickhouse
