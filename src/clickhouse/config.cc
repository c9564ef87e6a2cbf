#include "clickhouse/config.h"

#include "clickhouse/sql.h"
#include "config/schema.h"
#include "http/url.h"
#include "tyto/env.h"

namespace tyto::clickhouse {

Status Validate(const ClickHouseConfig& c) {
  if (c.urls.empty()) return InvalidArgument("clickhouse.urls: at least one URL is needed");
  for (const std::string& u : c.urls) {
    Result<http::Url> url = http::ParseUrl(u);
    if (!url.ok()) return InvalidArgument("clickhouse.urls: " + url.status().message());
  }
  if (!IsPlainIdentifier(c.database)) {
    return InvalidArgument("clickhouse.database '" + c.database +
                           "' must be letters, digits and '_' (not starting with a digit), at most 64");
  }
  if (!c.cluster.empty() && !IsPlainIdentifier(c.cluster)) {
    return InvalidArgument("clickhouse.cluster '" + c.cluster +
                           "' must be letters, digits and '_' (not starting with a digit), at most 64");
  }
  if (c.replicated && c.cluster.empty()) return InvalidArgument("clickhouse.replicated needs clickhouse.cluster");
  if (!c.password.empty() && !c.password_file.empty()) {
    return InvalidArgument("clickhouse: at most one of password and password_file may be set");
  }
  if (c.tls.cert_file.empty() != c.tls.key_file.empty()) {
    return InvalidArgument("clickhouse.tls: cert_file and key_file must be given together");
  }
  if (c.retention < std::chrono::hours(24)) {
    return InvalidArgument("clickhouse.retention must be at least 1d (whole days are dropped)");
  }
  if (c.batch_rows < 1 || c.batch_rows > 1'000'000) {
    return InvalidArgument("clickhouse.batch_rows must be between 1 and 1000000 (one insert is one part)");
  }
  if (c.max_queued_rows < c.batch_rows) return InvalidArgument("clickhouse.max_queued_rows must be at least batch_rows");
  if (c.insert_timeout.count() <= 0 || c.query_timeout.count() <= 0) {
    return InvalidArgument("clickhouse: insert_timeout and query_timeout must be positive");
  }
  if (c.writer_id < -1 || c.writer_id > 1023) return InvalidArgument("clickhouse.writer_id must be -1 or 0 to 1023");
  return Status::Ok();
}

const config::Section<ClickHouseConfig>& ClickHouseSchema() {
  static const auto* s = [] {
    // On the stack: Nested copies it (a heap copy would leak).
    config::Section<ClickHouseTls> tls("tls", "TLS for https:// URLs (the server is verified by default).");
    tls.String("ca_file", &ClickHouseTls::ca_file, "CA certificates (PEM) to verify the server with.")
        .String("cert_file", &ClickHouseTls::cert_file, "Client certificate (PEM).")
        .String("key_file", &ClickHouseTls::key_file, "Client key (PEM).")
        .String("server_name", &ClickHouseTls::server_name, "Server name to ask for and verify.")
        .Bool("insecure_skip_verify", &ClickHouseTls::insecure_skip_verify,
              "Do not verify the server's certificate (tests only).");
    auto* sec = new config::Section<ClickHouseConfig>(
        "clickhouse", "Events, traces and logs in ClickHouse (storage.events: clickhouse), over its HTTP interface.");
    sec->StringList("urls", &ClickHouseConfig::urls,
                    "HTTP interface of every ClickHouse server (each shard's and replica's); tables are created on "
                    "each, inserts and queries go to the first that answers.")
        .String("database", &ClickHouseConfig::database, "Database of Tyto's tables (created if missing).")
        .String("user", &ClickHouseConfig::user, "ClickHouse user.")
        .Secret("password", &ClickHouseConfig::password, "Password (prefer password_file).")
        .String("password_file", &ClickHouseConfig::password_file, "A file holding the password.")
        .Nested("tls", &ClickHouseConfig::tls, tls)
        .Duration("insert_timeout", &ClickHouseConfig::insert_timeout, "Longest one INSERT may take.",
                  std::chrono::milliseconds(1))
        .Duration("query_timeout", &ClickHouseConfig::query_timeout, "Longest one query may take.",
                  std::chrono::milliseconds(1))
        .Duration("retry_for", &ClickHouseConfig::retry_for,
                  "How long a failed insert is retried (without ever storing its rows twice) before the append "
                  "fails with 503.")
        .String("cluster", &ClickHouseConfig::cluster,
                "A cluster of the servers' remote_servers: local tables on each shard and Distributed tables over "
                "them; empty: plain tables on one server.")
        .Bool("replicated", &ClickHouseConfig::replicated,
              "ReplicatedMergeTree local tables (needs ZooKeeper and the {shard} and {replica} macros).")
        .Duration("retention", &ClickHouseConfig::retention,
                  "Days wholly older than this are dropped (ALTER TABLE ... DROP PARTITION); older rows are refused.",
                  std::chrono::hours(24))
        .Duration("max_future", &ClickHouseConfig::max_future, "Rows stamped further than this after now are refused.")
        .Int("batch_rows", &ClickHouseConfig::batch_rows, "Most rows in one INSERT.", 1, 1'000'000)
        .Duration("flush_interval", &ClickHouseConfig::flush_interval,
                  "How long an insert waits for other appends to join it (fewer, larger parts); 0: none.")
        .Int("max_queued_rows", &ClickHouseConfig::max_queued_rows,
             "Rows waiting to be inserted past which appends fail at once with 503.", 1, INT64_MAX)
        .Duration("tail_settle", &ClickHouseConfig::tail_settle,
                  "Live tail: rows of batches started less than this ago are shown later (another server's insert "
                  "may still be in flight); 0s when this is the only Tyto server.")
        .Duration("tail_lookback", &ClickHouseConfig::tail_lookback,
                  "Live tail: records stamped more than this before now are not shown.")
        .Duration("tail_poll_interval", &ClickHouseConfig::tail_poll_interval,
                  "Live tail: how often a waiting tail asks ClickHouse for other servers' rows.",
                  std::chrono::milliseconds(10))
        .Duration("maintenance_interval", &ClickHouseConfig::maintenance_interval,
                  "How often expired days are dropped.", std::chrono::seconds(1))
        .Int("writer_id", &ClickHouseConfig::writer_id,
             "0 to 1023: the low bits of this server's batch ids and cursors (-1: random at start).", -1, 1023)
        .Validate([](const ClickHouseConfig& c, const config::Node& n, config::Diagnostics& d) {
          if (Status st = Validate(c); !st.ok()) d.Add(n.position(), st.message());
        });
    return sec;
  }();
  return *s;
}

Result<std::string> ReadPassword(Env* env, const ClickHouseConfig& c) {
  if (c.password_file.empty()) return c.password;
  Result<std::string> s = env->ReadFile(c.password_file);
  if (!s.ok()) return s.status().WithContext("clickhouse password_file");
  std::string v = std::move(s).value();
  while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.pop_back();
  return v;
}

}  // namespace tyto::clickhouse
