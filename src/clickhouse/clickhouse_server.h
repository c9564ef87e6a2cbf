// ClickHouseServer: a clickhouse-server (Debian package clickhouse-server) started by a test on
// 127.0.0.1 with free ports, its own config.xml and users.xml and its data in a temporary
// directory; stopped (SIGTERM, then SIGKILL) when destroyed. Tests only.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "tyto/status.h"

namespace tyto::clickhouse::testing {

inline constexpr const char* kServerBinary = "/usr/sbin/clickhouse-server";

class ClickHouseServer {
 public:
  // `dir` holds the config and data (created); `remote_servers` is the XML put inside
  // <remote_servers> (a cluster definition), or empty. A user `tyto` with password "s3cret"
  // exists besides `default`.
  ClickHouseServer(std::string dir, std::string remote_servers = "");
  ~ClickHouseServer();
  ClickHouseServer(const ClickHouseServer&) = delete;
  ClickHouseServer& operator=(const ClickHouseServer&) = delete;

  // Sets the XML put inside <remote_servers> (before Start).
  void SetRemoteServers(std::string xml) { remote_servers_ = std::move(xml); }

  // Starts it and waits (bounded) until `SELECT 1` answers. kFailedPrecondition naming the
  // package when the binary is missing.
  Status Start();
  // SIGTERM, then SIGKILL after 10 s; waits for the process.
  void Stop();
  // SIGKILL at once (a crash).
  void Kill();
  // Starts it again on the same ports and data.
  Status Restart();

  // Runs a statement through clickhouse's HTTP interface; the answer's body.
  Result<std::string> Query(const std::string& sql) const;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(http_port_); }
  uint16_t http_port() const { return http_port_; }
  uint16_t tcp_port() const { return tcp_port_; }
  // The server's process id (-1 when not running): for benchmarks that read its CPU time.
  pid_t pid() const { return pid_; }

  // The <remote_servers> entry of a cluster named `name` whose shards are these servers' TCP ports.
  static std::string ClusterXml(const std::string& name, const std::vector<uint16_t>& tcp_ports);
  // A free TCP port on 127.0.0.1 (bind port 0; another process may take it before use).
  static uint16_t FreePort();

 private:
  Status WriteConfig();
  Status Launch();
  Status WaitReady(std::chrono::milliseconds timeout);

  std::string dir_;
  std::string remote_servers_;
  uint16_t http_port_ = 0;
  uint16_t tcp_port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace tyto::clickhouse::testing
