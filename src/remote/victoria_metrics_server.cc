#include "remote/victoria_metrics_server.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "testing/http_client.h"
#include "tyto/labels.h"

extern char** environ;

namespace tyto::remote::testing {
namespace {

uint16_t FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof(a);
  uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

std::string UrlEncode(const std::string& s) {
  std::string out;
  for (char c : s) {
    char buf[4];
    std::snprintf(buf, sizeof(buf), "%%%02X", static_cast<unsigned char>(c));
    out += buf;
  }
  return out;
}

}  // namespace

VictoriaMetrics::VictoriaMetrics(std::string data_dir, std::string log_path)
    : data_dir_(std::move(data_dir)), log_path_(std::move(log_path)), port_(FreePort()) {}

VictoriaMetrics::~VictoriaMetrics() { Stop(); }

Status VictoriaMetrics::Start() {
  if (::access(kVictoriaMetricsBinary, X_OK) != 0) {
    return FailedPrecondition(std::string(kVictoriaMetricsBinary) +
                              " is missing: install Debian's package victoria-metrics (apt-get install victoria-metrics)");
  }
  const std::vector<std::string> args = {kVictoriaMetricsBinary,
                                         "-httpListenAddr=127.0.0.1:" + std::to_string(port_),
                                         "-storageDataPath=" + data_dir_,
                                         "-retentionPeriod=100y",
                                         "-search.latencyOffset=0s",
                                         "-search.disableCache",
                                         "-loggerLevel=ERROR"};
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  const int rc = posix_spawn(&pid_, kVictoriaMetricsBinary, &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    pid_ = -1;
    return Unavailable(std::string("cannot start ") + kVictoriaMetricsBinary + ": " + std::strerror(rc));
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return Unavailable("victoria-metrics exited at start; log:\n" + Log());
    }
    auto r = tyto::testing::HttpGet(port_, "/health");
    if (r.ok() && r->status == 200) return Status::Ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Unavailable("victoria-metrics did not answer /health within 60 s; log:\n" + Log());
}

void VictoriaMetrics::Stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  int status = 0;
  for (int i = 0; i < 3000; ++i) {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string VictoriaMetrics::Log() const {
  std::ifstream in(log_path_);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void VictoriaMetrics::Flush() const { (void)tyto::testing::HttpGet(port_, "/internal/force_flush"); }

Result<std::map<std::string, std::vector<int64_t>>> VictoriaMetrics::ExportTimestamps(
    const std::string& selector) const {
  auto r = tyto::testing::HttpGet(port_, "/api/v1/export?match[]=" + UrlEncode(selector));
  if (!r.ok()) return Unavailable("victoria-metrics /api/v1/export: " + r.status().ToString());
  if (r->status != 200) {
    return Unavailable("victoria-metrics /api/v1/export: HTTP " + std::to_string(r->status) + ": " + r->body);
  }
  std::map<std::string, std::vector<int64_t>> out;
  std::istringstream lines(r->body);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    rapidjson::Document d;
    d.Parse<rapidjson::kParseIterativeFlag>(line.c_str());
    if (d.HasParseError() || !d.IsObject() || !d.HasMember("metric") || !d["metric"].IsObject() ||
        !d.HasMember("timestamps") || !d["timestamps"].IsArray()) {
      return InvalidArgument("victoria-metrics /api/v1/export: not an export line: " + line.substr(0, 200));
    }
    std::vector<Label> pairs;
    const rapidjson::Value& metric = d["metric"];
    for (auto m = metric.MemberBegin(); m != metric.MemberEnd(); ++m) {
      if (!m->value.IsString()) return InvalidArgument("victoria-metrics /api/v1/export: a label value is not a string");
      pairs.push_back({m->name.GetString(), m->value.GetString()});
    }
    auto labels = Labels::FromPairs(pairs);
    if (!labels.ok()) return labels.status();
    std::vector<int64_t>& ts = out[labels->ToString()];
    const rapidjson::Value& stamps = d["timestamps"];
    for (rapidjson::SizeType i = 0; i < stamps.Size(); ++i) {
      if (!stamps[i].IsInt64()) return InvalidArgument("victoria-metrics /api/v1/export: a timestamp is not an integer");
      ts.push_back(stamps[i].GetInt64());
    }
  }
  return out;
}

std::map<std::string, size_t> VictoriaMetrics::Export(const std::string& selector, std::string* problems) const {
  std::map<std::string, size_t> out;
  auto series = ExportTimestamps(selector);
  if (!series.ok()) {
    *problems += "export failed: " + series.status().ToString() + "; ";
    return out;
  }
  for (const auto& [key, ts] : *series) {
    const std::set<int64_t> distinct(ts.begin(), ts.end());
    if (distinct.size() != ts.size()) *problems += key + " has a timestamp twice; ";
    out[key] += ts.size();
  }
  return out;
}

}  // namespace tyto::remote::testing
