#include "clickhouse/clickhouse_server.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <thread>
#include <vector>

#include "clickhouse/connection.h"
#include "tyto/env.h"

namespace tyto::clickhouse::testing {

uint16_t ClickHouseServer::FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  uint16_t port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

std::string ClickHouseServer::ClusterXml(const std::string& name, const std::vector<uint16_t>& tcp_ports) {
  std::string xml = "<" + name + ">";
  for (uint16_t p : tcp_ports) {
    xml += "<shard><replica><host>127.0.0.1</host><port>" + std::to_string(p) + "</port></replica></shard>";
  }
  return xml + "</" + name + ">";
}

ClickHouseServer::ClickHouseServer(std::string dir, std::string remote_servers)
    : dir_(std::move(dir)), remote_servers_(std::move(remote_servers)), http_port_(FreePort()), tcp_port_(FreePort()) {}

ClickHouseServer::~ClickHouseServer() { Stop(); }

Status ClickHouseServer::WriteConfig() {
  TYTO_RETURN_IF_ERROR(Env::Default()->CreateDirs(dir_ + "/data"));
  std::ofstream config(dir_ + "/config.xml");
  config << "<?xml version=\"1.0\"?>\n<yandex>\n"
         << "  <logger><level>warning</level><log>" << dir_ << "/server.log</log><errorlog>" << dir_
         << "/error.log</errorlog><console>0</console></logger>\n"
         << "  <http_port>" << http_port_ << "</http_port>\n"
         << "  <tcp_port>" << tcp_port_ << "</tcp_port>\n"
         << "  <listen_host>127.0.0.1</listen_host>\n"
         << "  <path>" << dir_ << "/data/</path>\n"
         << "  <tmp_path>" << dir_ << "/tmp/</tmp_path>\n"
         << "  <user_files_path>" << dir_ << "/user_files/</user_files_path>\n"
         << "  <format_schema_path>" << dir_ << "/format_schemas/</format_schema_path>\n"
         << "  <users_config>" << dir_ << "/users.xml</users_config>\n"
         << "  <default_profile>default</default_profile>\n"
         << "  <default_database>default</default_database>\n"
         << "  <timezone>UTC</timezone>\n"
         << "  <mark_cache_size>268435456</mark_cache_size>\n"
         << "  <max_concurrent_queries>100</max_concurrent_queries>\n"
         << "  <remote_servers>" << remote_servers_ << "</remote_servers>\n"
         << "</yandex>\n";
  std::ofstream users(dir_ + "/users.xml");
  users << "<?xml version=\"1.0\"?>\n<yandex>\n"
        << "  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>\n"
        << "  <users>\n"
        << "    <default><password></password><networks><ip>127.0.0.1</ip></networks>"
        << "<profile>default</profile><quota>default</quota></default>\n"
        << "    <tyto><password>s3cret</password><networks><ip>127.0.0.1</ip></networks>"
        << "<profile>default</profile><quota>default</quota></tyto>\n"
        << "  </users>\n"
        << "  <quotas><default></default></quotas>\n"
        << "</yandex>\n";
  if (!config.good() || !users.good()) return IOError("could not write the ClickHouse config in " + dir_);
  return Status::Ok();
}

Status ClickHouseServer::Launch() {
  const std::string config_arg = "--config-file=" + dir_ + "/config.xml";
  const pid_t pid = ::fork();
  if (pid < 0) return Unavailable("fork failed");
  if (pid == 0) {
    const std::string out = dir_ + "/stdout.log";
    if (std::FILE* f = std::freopen(out.c_str(), "a", stdout)) (void)f;
    if (std::FILE* f = std::freopen(out.c_str(), "a", stderr)) (void)f;
    std::vector<char*> argv = {const_cast<char*>(kServerBinary), const_cast<char*>(config_arg.c_str()), nullptr};
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  pid_ = pid;
  return WaitReady(std::chrono::seconds(60));
}

Status ClickHouseServer::Start() {
  if (::access(kServerBinary, X_OK) != 0) {
    return FailedPrecondition(std::string(kServerBinary) +
                              " is missing: install the Debian package clickhouse-server (apt-get install "
                              "clickhouse-server clickhouse-client)");
  }
  TYTO_RETURN_IF_ERROR(WriteConfig());
  return Launch();
}

Status ClickHouseServer::Restart() {
  Stop();
  return Launch();
}

Status ClickHouseServer::WaitReady(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  Status last;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (pid_ > 0 && ::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return Unavailable("clickhouse-server exited at start; see " + dir_ + "/error.log and stdout.log");
    }
    Result<std::string> r = Query("SELECT 1");
    if (r.ok() && *r == "1\n") return Status::Ok();
    last = r.ok() ? Unavailable("answered " + *r) : r.status();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return DeadlineExceeded("clickhouse-server did not answer SELECT 1 within " +
                          std::to_string(timeout.count()) + " ms: " + last.ToString());
}

void ClickHouseServer::Stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 200; ++i) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  Kill();
}

void ClickHouseServer::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

Result<std::string> ClickHouseServer::Query(const std::string& sql) const {
  ClickHouseConfig c;
  c.urls = {url()};
  c.database = "default";
  Connection conn(c, "");
  return conn.Query(0, sql, std::chrono::seconds(30));
}

}  // namespace tyto::clickhouse::testing
